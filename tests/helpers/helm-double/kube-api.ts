/**
 * A fake Kubernetes API server for the preflight's cluster reads, used with the REAL kubectl (`kubectl get --raw`):
 * HTTPS on 127.0.0.1 with a throwaway CA and a bearer token, one path prefix per site (`/sites/<site>`), answering
 * `GET /api/v1/namespaces/<ns>` (Namespace or a NotFound Status) and `GET /api/v1/services` (ServiceList) in the
 * documented shapes; 401 without the token, and a scriptable 403 per site.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import YAML from 'yaml';
import { startHttpServer, type TestServer } from '../servers';
import { makeCa, makeServerCert, type TestCa } from '../tls';

/** One site's cluster. */
export interface FakeCluster {
  namespaces: Set<string>;
  /** LoadBalancer (or other) services: namespace/name, type, and the helm release that owns it. */
  services: { namespace: string; name: string; type: string; release?: string }[];
  /** answer 403 to this path prefix (e.g. '/api/v1/services') */
  forbid?: string[];
}

/** The running fake API server. */
export interface FakeKubeApi {
  url: string;
  ca: TestCa;
  token: string;
  clusters: Map<string, FakeCluster>;
  /** Every request path, with the site. */
  requests: { site: string; path: string; auth: boolean }[];
  /** A kubeconfig for a site (context named like the site unless given). */
  kubeconfig(site: string, context?: string): string;
  close(): Promise<void>;
}

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

/** Starts the fake API server; `dir` holds the TLS material. */
export async function startFakeKubeApi(dir: string, token = `tok-${Math.random().toString(36).slice(2)}-secret`): Promise<FakeKubeApi> {
  fs.mkdirSync(dir, { recursive: true });
  const ca = makeCa(dir, { name: 'kube-ca' });
  const cert = makeServerCert(ca, dir, ['127.0.0.1', 'localhost'], { name: 'kube-server' });
  const clusters = new Map<string, FakeCluster>();
  const requests: FakeKubeApi['requests'] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const m = /^\/sites\/([^/]+)(\/.*)$/.exec((req.url ?? '').split('?')[0]);
    const auth = req.headers.authorization === `Bearer ${token}`;
    requests.push({ site: m?.[1] ?? '', path: m?.[2] ?? req.url ?? '', auth });
    const send = (code: number, body: string): void => {
      res.writeHead(code, { 'content-type': 'application/json' }).end(body);
    };
    if (!auth) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    const c = m && clusters.get(m[1]);
    if (!m || !c) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const p = m[2];
    if (c.forbid?.some((f) => p.startsWith(f))) {
      const resource = p.split('/').filter(Boolean).pop() ?? 'resource';
      return send(403, status(403, 'Forbidden', `${resource} is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "${resource}" in API group ""`));
    }
    // discovery (legacy shapes): kubectl maps resource names through it
    if (req.method === 'GET' && p === '/api') {
      return send(200, JSON.stringify({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] }));
    }
    if (req.method === 'GET' && p === '/apis') return send(200, JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: [] }));
    if (req.method === 'GET' && p === '/api/v1') {
      return send(
        200,
        JSON.stringify({
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [
            { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
            { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['svc'], categories: ['all'] },
          ],
        }),
      );
    }
    if (req.method === 'GET' && p === '/version') {
      return send(200, JSON.stringify({ major: '1', minor: '31', gitVersion: 'v1.31.9', platform: 'linux/amd64' }));
    }
    // helm's storage driver lists the release's Secrets (owner=helm,name=<release>): none here → "release: not found"
    const secrets = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(p);
    if (req.method === 'GET' && secrets) return send(200, JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] }));
    const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(p);
    if (req.method === 'GET' && ns) {
      if (!c.namespaces.has(ns[1])) return send(404, status(404, 'NotFound', `namespaces "${ns[1]}" not found`));
      return send(200, JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: ns[1] }, status: { phase: 'Active' } }));
    }
    if (req.method === 'GET' && p === '/api/v1/services') {
      return send(
        200,
        JSON.stringify({
          kind: 'ServiceList',
          apiVersion: 'v1',
          metadata: { resourceVersion: '1' },
          items: c.services.map((s) => ({
            metadata: {
              name: s.name,
              namespace: s.namespace,
              ...(s.release ? { annotations: { 'meta.helm.sh/release-name': s.release, 'meta.helm.sh/release-namespace': s.namespace }, labels: { 'app.kubernetes.io/managed-by': 'Helm' } } : {}),
            },
            spec: { type: s.type, ports: [{ port: 80 }] },
          })),
        }),
      );
    }
    return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
  };
  const server: TestServer = await startHttpServer(handler, { tls: { key: cert.keyPem, cert: cert.certPem } });
  return {
    url: server.url,
    ca,
    token,
    clusters,
    requests,
    kubeconfig(site, context = site) {
      return YAML.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: `${site}-cluster`, cluster: { server: `${server.url}/sites/${site}`, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64') } }],
        users: [{ name: `${site}-user`, user: { token } }],
        contexts: [{ name: context, context: { cluster: `${site}-cluster`, user: `${site}-user` } }],
        'current-context': context,
      });
    },
    close: () => server.close(),
  };
}
