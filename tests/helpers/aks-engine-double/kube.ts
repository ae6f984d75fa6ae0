/**
 * A local HTTP (or, with `tls`, HTTPS) stand-in for the Kubernetes API calls `credentials` and `reboot` make
 * (documented REST shapes of core/v1, apps/v1 and rbac.authorization.k8s.io/v1): namespaces, serviceaccounts,
 * secrets, configmaps, roles, rolebindings, daemonsets, clusterroles and clusterrolebindings — GET, POST (409 when
 * the object exists), PUT (409 on a stale resourceVersion), DELETE; a token controller that fills
 * `kubernetes.io/service-account-token` Secrets; nodes, pods and evictions from kube-nodes.ts. Records every
 * request; 127.0.0.1, port 0. With `token`, requests without `Authorization: Bearer <token>` get 401.
 */
import * as crypto from 'node:crypto';
import { startHttpServer, type TestServer } from '../servers';
import { handleNodes, nodeWorld, type NodeWorld } from './kube-nodes';

export interface KubeStandInOptions {
  tls?: { key: string; cert: string };
  /** The bearer token every request must carry. */
  token?: string;
  /** Namespaces that exist from the start. */
  namespaces?: string[];
}

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

export interface KubeStandIn {
  server: TestServer;
  url: string;
  /** `METHOD path` of every request. */
  requests: string[];
  /** Authorization header of every request. */
  authorizations: (string | undefined)[];
  /** kind/namespace/name → object. */
  objects: Map<string, Obj>;
  /** The token the controller put into each token Secret. */
  tokens: Map<string, string>;
  /** Nodes, pods, PodDisruptionBudgets (and the reboot helper's simulation). */
  world: NodeWorld;
  close(): Promise<void>;
}

export async function startKubeStandIn(opts: KubeStandInOptions = {}): Promise<KubeStandIn> {
  const objects = new Map<string, Obj>();
  const tokens = new Map<string, string>();
  const requests: string[] = [];
  const authorizations: (string | undefined)[] = [];
  let rv = 100;
  const world = nodeWorld();
  world.helperRunning = () => [...objects.keys()].some((k) => k.startsWith('daemonsets/'));
  for (const ns of opts.namespaces ?? []) objects.set(`namespaces//${ns}`, { metadata: { name: ns, resourceVersion: '1' } });
  const send = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
    const t = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(t) });
    res.end(t);
  };
  const statusBody = (code: number, reason: string, message: string): unknown => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
  const server = await startHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${u.pathname}`);
      authorizations.push(req.headers.authorization);
      if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
      if (handleNodes(world, req, u, body, (st, b) => send(res, st, b))) return;
      const cluster = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/(clusterroles|clusterrolebindings)(?:\/([^/]+))?$/.exec(u.pathname);
      const m =
        /^\/api\/v1\/(namespaces)(?:\/([^/]+))?$/.exec(u.pathname) ??
        /^\/api\/v1\/namespaces\/([^/]+)\/(serviceaccounts|secrets|configmaps)(?:\/([^/]+))?$/.exec(u.pathname) ??
        /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(daemonsets)(?:\/([^/]+))?$/.exec(u.pathname) ??
        /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/namespaces\/([^/]+)\/(roles|rolebindings)(?:\/([^/]+))?$/.exec(u.pathname);
      if (!m && !cluster) return send(res, 404, statusBody(404, 'NotFound', `no route ${u.pathname}`));
      let kind: string;
      let ns: string | undefined;
      let name: string | undefined;
      if (cluster) {
        kind = cluster[1];
        name = cluster[2];
      } else if (m![1] === 'namespaces') {
        kind = 'namespaces';
        name = m![2];
      } else {
        if (!m) return;
        ns = m[1];
        kind = m[2];
        name = m[3];
        if (!objects.has(`namespaces//${ns}`)) return send(res, 404, statusBody(404, 'NotFound', `namespaces "${ns}" not found`));
      }
      const key = (n: string): string => `${kind}/${ns ?? ''}/${n}`;
      const parsed = body ? (JSON.parse(body) as Obj) : undefined;
      if (req.method === 'GET' && name) {
        const o = objects.get(key(name));
        return o ? send(res, 200, o) : send(res, 404, statusBody(404, 'NotFound', `${kind} "${name}" not found`));
      }
      if (req.method === 'POST' && !name && parsed) {
        const n = parsed.metadata.name;
        if (objects.has(key(n))) return send(res, 409, statusBody(409, 'AlreadyExists', `${kind} "${n}" already exists`));
        const o: Obj = { ...parsed, metadata: { ...parsed.metadata, namespace: ns, resourceVersion: String(++rv), uid: crypto.randomUUID() } };
        if (kind === 'secrets' && o.type === 'kubernetes.io/service-account-token') {
          // the token controller fills it a moment later: first read sees it empty
          setTimeout(() => {
            const token = `sa-token-${crypto.randomBytes(16).toString('hex')}`;
            tokens.set(`${ns}/${n}`, token);
            o.data = { token: Buffer.from(token).toString('base64'), 'ca.crt': Buffer.from('ca').toString('base64'), namespace: Buffer.from(ns!).toString('base64') };
          }, 20);
        }
        objects.set(key(n), o);
        return send(res, 201, o);
      }
      if (req.method === 'PUT' && name && parsed) {
        const cur = objects.get(key(name));
        if (!cur) return send(res, 404, statusBody(404, 'NotFound', `${kind} "${name}" not found`));
        if (parsed.metadata.resourceVersion && parsed.metadata.resourceVersion !== cur.metadata.resourceVersion) {
          return send(res, 409, statusBody(409, 'Conflict', 'the object has been modified'));
        }
        const o: Obj = { ...parsed, metadata: { ...parsed.metadata, namespace: ns, resourceVersion: String(++rv) } };
        objects.set(key(name), o);
        return send(res, 200, o);
      }
      if (req.method === 'DELETE' && name) {
        if (!objects.delete(key(name))) return send(res, 404, statusBody(404, 'NotFound', `${kind} "${name}" not found`));
        return send(res, 200, { kind: 'Status', status: 'Success' });
      }
      send(res, 405, statusBody(405, 'MethodNotAllowed', `${req.method} ${u.pathname}`));
    });
  }, opts.tls ? { tls: opts.tls } : {});
  return { server, url: server.url, requests, authorizations, objects, tokens, world, close: () => server.close() };
}
