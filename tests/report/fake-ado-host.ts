/**
 * A minimal Azure DevOps host for the results tab: a host page that frames the tab (served from another origin, as
 * ADO serves extension content) and answers the SDK's XDM protocol exactly as azure-devops-extension-sdk 4.x
 * speaks it (node_modules/azure-devops-extension-sdk/XDM.js): JSON strings over postMessage, `{id, methodName,
 * instanceId, params, handshakeToken}` requests and `{id, result | error, handshakeToken}` replies; functions travel
 * as `{__proxyFunctionId}` and are called back through the `__proxyFunctions` instance. The host answers
 * `DevOps.HostControl` (initialHandshake, getAccessToken, notifyLoadSucceeded/Failed, resize) and
 * `DevOps.ServiceManager.getService` (the location service, the build page data service), and hands the tab the
 * build through `initialConfig.onBuildChanged` as the build results view does.
 *
 * The host's origin also serves the Build REST API's attachment routes from a fixed list, with CORS as ADO answers
 * an extension frame, and records every request.
 */
import type * as http from 'node:http';
import { startHttpServer, type TestServer } from '../helpers/servers';

/** One attachment the fake REST API serves. */
export interface FakeAttachment {
  type: string;
  name: string;
  timelineId: string;
  recordId: string;
  body: string;
}

export const PROJECT_ID = '5b1a1c2e-0000-4000-8000-00000000a11a';
export const BUILD_ID = 4711;
export const ACCESS_TOKEN = 'fake-access-token-0123';

/** A REST request the host saw. */
export interface SeenRequest {
  method: string;
  path: string;
  apiVersion?: string;
  accept?: string;
  authorization?: string;
  origin?: string;
}

export interface FakeHost {
  /** The host page: frames the tab. */
  hostUrl: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

function hostPage(cfg: Record<string, unknown>): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>fake ADO host</title></head><body style="margin:0">
<script id="cfg" type="application/json">${JSON.stringify(cfg).replace(/</g, '\\u003c')}</script>
<iframe id="ext" title="Multi-site release" src="${cfg.tabUrl}" style="width:1100px;height:900px;border:0"></iframe>
<script>
(function () {
  var cfg = JSON.parse(document.getElementById('cfg').textContent);
  var frame = document.getElementById('ext');
  var calls = window.__xdmCalls = [];
  window.__loaded = false;
  var proxies = {};
  var nextProxy = 1, nextId = 1;
  function fn(f) { var id = nextProxy++; proxies['proxy' + id] = f; return { __proxyFunctionId: id, _channelId: 1 }; }
  function send(win, msg) { win.postMessage(JSON.stringify(msg), '*'); }
  // functions the frame hands us arrive as {__proxyFunctionId}: calling one invokes it in the frame
  function revive(win, v) {
    if (Array.isArray(v)) return v.map(function (x) { return revive(win, x); });
    if (v && typeof v === 'object') {
      if (v.__proxyFunctionId) {
        return function () {
          send(win, { id: nextId++, methodName: 'proxy' + v.__proxyFunctionId, instanceId: '__proxyFunctions', instanceContext: {},
            params: Array.prototype.slice.call(arguments), serializationSettings: { includeUnderscoreProperties: true } });
        };
      }
      var o = {}; for (var k in v) o[k] = revive(win, v[k]); return o;
    }
    return v;
  }
  var services = {
    'ms.vss-features.location-service': {
      getResourceAreaLocation: fn(function (areaId) { calls.push('location:' + areaId); return cfg.restRoot; }),
      getServiceLocation: fn(function () { return cfg.restRoot; })
    },
    'ms.vss-build-web.build-page-data-service': { getBuildPageData: fn(function () { return { build: cfg.build }; }) }
  };
  var hostControl = {
    initialHandshake: function (options) {
      window.__initOptions = options;
      var initialConfig = cfg.withOnBuildChanged ? { onBuildChanged: fn(function (cb) { cb(cfg.build); }) } : {};
      return {
        contributionId: 'stackhub-ha.stackhub-ha.release-results-tab',
        context: {
          pageContext: { webContext: { project: { id: cfg.build.project.id, name: cfg.build.project.name }, collection: { id: 'c0', name: 'DefaultCollection' }, team: { id: 't0', name: 'ratings Team' } } },
          extension: { publisherId: 'stackhub-ha', extensionId: 'stackhub-ha', version: '0.1.0' },
          user: { id: 'u0', name: 'operator', displayName: 'Operator', descriptor: 'aad.x', imageUrl: '' },
          host: { id: 'h0', name: 'DefaultCollection', serviceVersion: '19.0', type: 4, isHosted: false }
        },
        initialConfig: initialConfig,
        themeData: cfg.themeData
      };
    },
    getAccessToken: function () { return { token: cfg.token }; },
    getAppToken: function () { return { token: 'app-token' }; },
    notifyLoadSucceeded: function () { window.__loaded = true; },
    notifyLoadFailed: function (e) { window.__loadFailed = String(e && e.message || e); },
    resize: function (w, h) { window.__size = [w, h]; }
  };
  window.addEventListener('message', function (ev) {
    if (ev.source !== frame.contentWindow || typeof ev.data !== 'string') return;
    var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (!m.instanceId) return; // a reply to our call of one of the frame's functions
    calls.push(m.instanceId + '.' + m.methodName);
    var target = m.instanceId === 'DevOps.HostControl' ? hostControl
      : m.instanceId === 'DevOps.ServiceManager' ? { getService: function (id) { return services[id]; } }
      : m.instanceId === '__proxyFunctions' ? proxies : undefined;
    var f = target && target[m.methodName];
    var reply = function (body) { body.id = m.id; body.handshakeToken = m.handshakeToken; send(ev.source, body); };
    if (typeof f !== 'function') return reply({ error: { message: 'no ' + m.instanceId + '.' + m.methodName } });
    Promise.resolve().then(function () { return f.apply(target, revive(ev.source, m.params || [])); })
      .then(function (r) { reply({ result: r }); }, function (e) { reply({ error: { message: String(e && e.message || e) } }); });
  });
})();
</script></body></html>`;
}

/** Starts the extension's origin (the tab's files) and the host's origin (the page and the REST API). */
export async function startFakeHost(opts: {
  tabFiles: Map<string, { type: string; body: Buffer | string }>;
  attachments: FakeAttachment[];
  themeData?: Record<string, string>;
  withOnBuildChanged?: boolean;
}): Promise<FakeHost> {
  const ext: TestServer = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    const f = opts.tabFiles.get((req.url ?? '/').split('?')[0]);
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f.type }).end(f.body);
  });
  const requests: SeenRequest[] = [];
  let hostUrl = '';
  const host: TestServer = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname === '/host.html') {
      const cfg = {
        tabUrl: `${ext.url}/dist/web/results-tab.html`,
        restRoot: `${hostUrl}/DefaultCollection/`,
        token: ACCESS_TOKEN,
        themeData: opts.themeData ?? {},
        withOnBuildChanged: opts.withOnBuildChanged !== false,
        build: { id: BUILD_ID, buildNumber: '20261207.3', project: { id: PROJECT_ID, name: 'ratings' } },
      };
      return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage(cfg));
    }
    const origin = req.headers.origin;
    const cors: Record<string, string> = origin === ext.url ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
    if (req.method === 'OPTIONS') {
      return void res
        .writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'authorization, accept, content-type, x-vss-reauthenticationaction, x-tfs-fedauthredirect, x-tfs-session', 'access-control-max-age': '0' })
        .end();
    }
    const accept = req.headers.accept;
    requests.push({ method: req.method ?? '', path: u.pathname, apiVersion: /api-version=([^;]+)/.exec(accept ?? '')?.[1], accept, authorization: req.headers.authorization, origin });
    if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) return void res.writeHead(401, cors).end();
    const base = `/DefaultCollection/${PROJECT_ID}/_apis/build/builds/${BUILD_ID}/`;
    if (!u.pathname.startsWith(base)) return void res.writeHead(404, cors).end();
    const rest = u.pathname.slice(base.length).split('/').map(decodeURIComponent);
    if (rest.length === 2 && rest[0] === 'attachments') {
      const list = opts.attachments
        .filter((a) => a.type === rest[1])
        .map((a) => ({ name: a.name, _links: { self: { href: `${hostUrl}${base}${a.timelineId}/${a.recordId}/attachments/${encodeURIComponent(a.type)}/${encodeURIComponent(a.name)}` } } }));
      // `noArrayWrap=true` in Accept: a bare array, as ADO answers the extension API's clients
      const body = /noArrayWrap=true/.test(accept ?? '') ? list : { count: list.length, value: list };
      return void res.writeHead(200, { ...cors, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    }
    if (rest.length === 5 && rest[2] === 'attachments') {
      const a = opts.attachments.find((x) => x.timelineId === rest[0] && x.recordId === rest[1] && x.type === rest[3] && x.name === rest[4]);
      if (!a) return void res.writeHead(404, cors).end();
      return void res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream' }).end(a.body);
    }
    res.writeHead(404, cors).end();
  });
  hostUrl = host.url;
  return {
    hostUrl: `${host.url}/host.html`,
    requests,
    async close() {
      await host.close();
      await ext.close();
    },
  };
}
