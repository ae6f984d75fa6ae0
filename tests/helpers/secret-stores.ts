/**
 * Stand-ins for the secret stores that secret references read, speaking the documented REST shapes:
 * - a Hub Key Vault (HTTPS, one server for every vault, chosen by the Host header `<vault>.vault.<region>.<fqdn>`):
 *   `GET /secrets/<name>[/<version>]?api-version=2016-10-01`; 401 with the `WWW-Authenticate: Bearer authorization=…,
 *   resource=…` challenge without a valid token; 400 for another api-version; 404 SecretNotFound; 403 for a disabled
 *   secret ("Operation get is not allowed on a disabled secret.") and for a principal without access;
 * - HashiCorp Vault KV v2 (HTTPS): `POST /v1/auth/approle/login`, `GET /v1/<mount>/data/<path>[?version=n]` with
 *   X-Vault-Token; `{"errors": [...]}` bodies for 400/403/404.
 * Both bind 127.0.0.1, port 0, and record every request.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { startHttpServer, type TestServer } from './servers';
import type { ServerCert } from './tls';

const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const t = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(t), ...headers }).end(t);
};
const readBody = async (req: http.IncomingMessage): Promise<string> => {
  let b = '';
  for await (const c of req) b += c;
  return b;
};

export interface KvSecret {
  versions: { id: string; value: string; enabled?: boolean }[];
}

export interface FakeKeyVault extends TestServer {
  /** `<vault>` → secret name → versions (last = current). */
  vaults: Map<string, Map<string, KvSecret>>;
  /** `<vault>/<secret>` pairs the principal may not get (403 access denied). */
  denied: Set<string>;
  requests: { host: string; path: string; apiVersion?: string; token?: string }[];
  /** `host:443` → `127.0.0.1:port`, for a proxy's map. */
  proxyMap(): Record<string, string>;
}

/** Starts the Key Vault stand-in; `tokenAudience(token)` says which audience the Hub issued a token for. */
export async function startFakeKeyVault(opts: {
  cert: ServerCert;
  domain: string;
  loginEndpoint: string;
  tokenAudience: (token: string) => string | undefined;
}): Promise<FakeKeyVault> {
  const resource = `https://vault.${opts.domain}`;
  const vaults = new Map<string, Map<string, KvSecret>>();
  const denied = new Set<string>();
  const requests: FakeKeyVault['requests'] = [];
  const server = await startHttpServer(
    (req, res) => {
      const u = new URL(req.url ?? '/', 'https://x');
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
      requests.push({ host, path: u.pathname, apiVersion: u.searchParams.get('api-version') ?? undefined, token });
      const vaultName = host.endsWith(`.vault.${opts.domain}`) ? host.slice(0, -`.vault.${opts.domain}`.length) : '';
      const vault = vaults.get(vaultName);
      if (!vault) return send(res, 404, { error: { code: 'VaultNotFound', message: `no vault at ${host}` } });
      if (!token || opts.tokenAudience(token) !== resource) {
        return send(res, 401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, {
          'www-authenticate': `Bearer authorization="${opts.loginEndpoint.replace(/\/$/, '')}", resource="${resource}"`,
        });
      }
      if (u.searchParams.get('api-version') !== '2016-10-01') {
        return send(res, 400, { error: { code: 'BadParameter', message: `The specified version (${u.searchParams.get('api-version')}) is not recognized. Consider using the latest supported version (2016-10-01).` } });
      }
      const m = /^\/secrets\/([A-Za-z0-9-]+)(?:\/([0-9a-f]{32}))?\/?$/.exec(u.pathname);
      if (!m || req.method !== 'GET') return send(res, 400, { error: { code: 'BadParameter', message: 'unsupported request' } });
      const s = vault.get(m[1]);
      const v = s && (m[2] ? s.versions.find((x) => x.id === m[2]) : s.versions[s.versions.length - 1]);
      if (!v) return send(res, 404, { error: { code: 'SecretNotFound', message: `A secret with (name/id) ${m[1]}${m[2] ? `/${m[2]}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.` } });
      if (denied.has(`${vaultName}/${m[1]}`)) return send(res, 403, { error: { code: 'Forbidden', message: `Access denied. Caller was not found on any access policy.`, innererror: { code: 'AccessDenied' } } });
      if (v.enabled === false) return send(res, 403, { error: { code: 'Forbidden', message: 'Operation get is not allowed on a disabled secret.', innererror: { code: 'SecretDisabled' } } });
      send(res, 200, { value: v.value, id: `https://${host}/secrets/${m[1]}/${v.id}`, attributes: { enabled: true, created: 1700000000, updated: 1700000000, recoveryLevel: 'Purgeable' } });
    },
    { tls: { key: opts.cert.keyPem, cert: opts.cert.certPem } },
  );
  return Object.assign(server, {
    vaults,
    denied,
    requests,
    proxyMap: () => Object.fromEntries([...vaults.keys()].map((v) => [`${v}.vault.${opts.domain}:443`, `127.0.0.1:${server.port}`])),
  });
}

/** Adds a secret version (returns its 32-hex id). */
export function putKvSecret(kv: FakeKeyVault, vault: string, name: string, value: string, enabled = true): string {
  if (!kv.vaults.has(vault)) kv.vaults.set(vault, new Map());
  const v = kv.vaults.get(vault)!;
  if (!v.has(name)) v.set(name, { versions: [] });
  const id = crypto.randomBytes(16).toString('hex');
  v.get(name)!.versions.push({ id, value, enabled });
  return id;
}

export interface FakeVault extends TestServer {
  /** `<mount>/<path>` → versions of the data (last = current). */
  kv: Map<string, Record<string, unknown>[]>;
  /** token → the `<mount>/<path>` prefixes its policy may read. */
  tokens: Map<string, string[]>;
  /** role_id → { secretId, policies } */
  roles: Map<string, { secretId: string; paths: string[] }>;
  requests: { method: string; path: string; token?: string; namespace?: string }[];
}

export async function startFakeVault(cert: ServerCert): Promise<FakeVault> {
  const kv = new Map<string, Record<string, unknown>[]>();
  const tokens = new Map<string, string[]>();
  const roles = new Map<string, { secretId: string; paths: string[] }>();
  const requests: FakeVault['requests'] = [];
  const server = await startHttpServer(
    (req, res) => {
      void (async () => {
        const u = new URL(req.url ?? '/', 'https://x');
        const token = req.headers['x-vault-token'] as string | undefined;
        requests.push({ method: req.method ?? '', path: u.pathname, token, namespace: req.headers['x-vault-namespace'] as string | undefined });
        const body = await readBody(req);
        if (req.method === 'POST' && u.pathname === '/v1/auth/approle/login') {
          let doc: { role_id?: string; secret_id?: string };
          try {
            doc = JSON.parse(body);
          } catch {
            return send(res, 400, { errors: ['failed to parse JSON input'] });
          }
          const role = roles.get(doc.role_id ?? '');
          if (!role || role.secretId !== doc.secret_id) return send(res, 400, { errors: ['invalid role or secret ID'] });
          const t = `hvs.${crypto.randomBytes(12).toString('hex')}`;
          tokens.set(t, role.paths);
          return send(res, 200, { auth: { client_token: t, accessor: 'x', policies: ['default'], lease_duration: 2764800, renewable: true } });
        }
        const m = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(u.pathname);
        if (req.method !== 'GET' || !m) return send(res, 404, { errors: [] });
        const paths = token ? tokens.get(token) : undefined;
        const id = `${m[1]}/${decodeURIComponent(m[2])}`;
        if (!paths || !paths.some((p) => id.startsWith(p))) return send(res, 403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
        const versions = kv.get(id);
        const want = u.searchParams.get('version');
        const n = want ? Number(want) : versions?.length;
        const data = versions && n ? versions[n - 1] : undefined;
        if (!data) return send(res, 404, { errors: [] });
        send(res, 200, { request_id: crypto.randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data: { data, metadata: { created_time: '2026-01-01T00:00:00Z', deletion_time: '', destroyed: false, version: n } } });
      })();
    },
    { tls: { key: cert.keyPem, cert: cert.certPem } },
  );
  return Object.assign(server, { kv, tokens, roles, requests });
}

export interface FakeKubeSecrets extends TestServer {
  /** `<namespace>/<name>` → the Secret's data, plain (served base64-encoded, as the API does). */
  secrets: Map<string, Record<string, string>>;
  /** Namespaces whose Secrets the kubeconfig's user may not get (403 Forbidden Status). */
  forbidden: Set<string>;
  token: string;
  requests: { method: string; path: string; auth: boolean }[];
  /** A kubeconfig for this server (CA pinned, bearer token), with the given context name. */
  kubeconfig(context?: string, token?: string): string;
}

/**
 * A Kubernetes API stand-in for Secret reads: `GET /api/v1/namespaces/<ns>/secrets/<name>` → a v1 Secret with
 * base64 `data`; `Status` bodies (kind Status, reason, code, message as the API server words them) for 401, 403 and
 * 404. HTTPS with the given certificate, bearer-token auth.
 */
export async function startFakeKubeSecrets(cert: ServerCert, caPem: string): Promise<FakeKubeSecrets> {
  const token = `kube-${crypto.randomBytes(8).toString('hex')}-token`;
  const secrets = new Map<string, Record<string, string>>();
  const forbidden = new Set<string>();
  const requests: FakeKubeSecrets['requests'] = [];
  const status = (code: number, reason: string, message: string, details?: Record<string, string>) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  const server = await startHttpServer(
    (req, res) => {
      const u = new URL(req.url ?? '/', 'https://x');
      const auth = req.headers.authorization === `Bearer ${token}`;
      requests.push({ method: req.method ?? '', path: u.pathname, auth });
      if (!auth) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      const m = /^\/api\/v1\/namespaces\/([a-z0-9-]+)\/secrets\/([a-z0-9.-]+)$/.exec(u.pathname);
      if (!m || req.method !== 'GET') return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      const [, ns, name] = m;
      if (forbidden.has(ns)) {
        return send(res, 403, status(403, 'Forbidden', `secrets "${name}" is forbidden: User "system:serviceaccount:ci:deployer" cannot get resource "secrets" in API group "" in the namespace "${ns}"`, { name, kind: 'secrets' }));
      }
      const data = secrets.get(`${ns}/${name}`);
      if (!data) return send(res, 404, status(404, 'NotFound', `secrets "${name}" not found`, { name, kind: 'secrets' }));
      send(res, 200, {
        kind: 'Secret',
        apiVersion: 'v1',
        metadata: { name, namespace: ns, uid: crypto.randomUUID(), resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' },
        type: 'Opaque',
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      });
    },
    { tls: { key: cert.keyPem, cert: cert.certPem } },
  );
  return Object.assign(server, {
    secrets,
    forbidden,
    token,
    requests,
    kubeconfig: (context = 'site', tok = token) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: c1`,
        `  cluster: { server: "${server.url}", certificate-authority-data: ${Buffer.from(caPem).toString('base64')} }`,
        'users:',
        `- name: u1`,
        `  user: { token: "${tok}" }`,
        'contexts:',
        `- name: ${context}`,
        '  context: { cluster: c1, user: u1 }',
        `current-context: ${context}`,
        '',
      ].join('\n'),
  });
}
