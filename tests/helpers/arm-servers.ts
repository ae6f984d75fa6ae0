/**
 * Local HTTPS stand-ins for Azure Resource Manager and its identity provider, for tests (throwaway CA from
 * tests/helpers/tls.ts; 127.0.0.1, port 0):
 *
 * - {@link startLoginServer}: an identity provider in the ADFS flavour (`/adfs/.well-known/openid-configuration`,
 *   `/adfs/oauth2/token`, with `scope` — or only `resource` when `msis9605` is on) or the Azure AD flavour
 *   (`/<tenant>/v2.0/.well-known/openid-configuration`, `/<tenant>/oauth2/v2.0/token`). Client secrets are compared,
 *   certificate assertions verified as a real IdP does (tests/helpers/client-assertion.ts: x5t/x5c, signature, aud, iss, exp; ADFS RS256 only), federated tokens (workload identity) compared with
 *   the registered ones. Scopes must be `<audience>/.default` of a known audience (plus MSAL's `openid offline_access profile`).
 * - {@link startArmServer}: checks the bearer token against the login server's tokens, injects faults (statuses,
 *   dropped connections) and hands every other request to the test's `handle` (resource semantics), optionally
 *   answering `GET /metadata/endpoints` like an Azure Stack Hub.
 *
 * Every request is recorded (method, path, query, headers of interest, form or JSON body) for exact assertions.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { clientAuthError, OIDC_SCOPES, verifyAssertion } from './client-assertion';
import { startHttpServer, type TestServer } from './servers';
import type { ServerCert } from './tls';

/** A request to the login server. */
export interface LoginRequest {
  method: string;
  path: string;
  form?: Record<string, string>;
}

/** A registered client. */
export interface TestClient {
  secret?: string;
  /** Certificate PEM: client assertions must be signed by its key. */
  certificatePem?: string;
  /** Federated tokens accepted as client assertions (workload identity). */
  federatedTokens?: string[];
}

/** A running login server. */
export interface LoginServer extends TestServer {
  flavour: 'adfs' | 'azure_ad';
  tenantId: string;
  /** What a client passes as authority host: `https://127.0.0.1:port/` (ADFS: `…/adfs/`). */
  authorityHost: string;
  requests: LoginRequest[];
  tokens: string[];
  /** Registered clients (editable by tests). */
  clients: Record<string, TestClient>;
  /** Audiences whose `/.default` scope (or `resource`) is accepted. */
  audiences: string[];
  msis9605: boolean;
  /** Client credentials refused, with the server's own reason (the answer carries only the IdP's error). */
  rejections: { clientId: string; why: string }[];
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (b += d));
    req.on('end', () => resolve(b));
  });
}

/** Writes a JSON answer. */
export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Starts an identity provider. */
export async function startLoginServer(opts: {
  cert: ServerCert;
  flavour: 'adfs' | 'azure_ad';
  tenantId?: string;
  clients: Record<string, TestClient>;
  audiences: string[];
  msis9605?: boolean;
}): Promise<LoginServer> {
  const tenantId = opts.flavour === 'adfs' ? 'adfs' : (opts.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47');
  // eslint-disable-next-line prefer-const -- assigned after the handler that closes over it is created
  let srv: LoginServer;
  const server = await startHttpServer(
    (req, res) => {
      void (async () => {
        const u = new URL(req.url ?? '/', 'https://x');
        const body = await readBody(req);
        const form = req.method === 'POST' ? Object.fromEntries(new URLSearchParams(body)) : undefined;
        srv.requests.push({ method: req.method ?? '', path: u.pathname, form });
        const base = server.url;
        const prefix = srv.flavour === 'adfs' ? '/adfs' : `/${tenantId}`;
        const metaPath = srv.flavour === 'adfs' ? '/adfs/.well-known/openid-configuration' : `/${tenantId}/v2.0/.well-known/openid-configuration`;
        const tokenPath = srv.flavour === 'adfs' ? '/adfs/oauth2/token' : `/${tenantId}/oauth2/v2.0/token`;
        if (req.method === 'GET' && u.pathname === metaPath) {
          return json(res, 200, {
            issuer: srv.flavour === 'adfs' ? `${base}/adfs` : `${base}/${tenantId}/v2.0`,
            authorization_endpoint: `${base}${prefix}/oauth2/authorize`,
            token_endpoint: `${base}${tokenPath}`,
            end_session_endpoint: `${base}${prefix}/oauth2/logout`,
            jwks_uri: `${base}${prefix}/discovery/keys`,
            response_types_supported: ['code', 'id_token', 'token'],
            subject_types_supported: ['pairwise'],
            id_token_signing_alg_values_supported: ['RS256'],
            token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
            token_endpoint_auth_signing_alg_values_supported: srv.flavour === 'adfs' ? ['RS256'] : ['RS256', 'PS256', 'ES256'],
          });
        }
        if (req.method === 'POST' && u.pathname === tokenPath && form) {
          const tokenUrl = `${base}${u.pathname}`;
          const client = srv.clients[form.client_id ?? ''];
          if (form.grant_type !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
          const refuse = (why: Parameters<typeof clientAuthError>[1]): void => {
            srv.rejections.push({ clientId: form.client_id ?? '', why });
            const e = clientAuthError(srv.flavour, why, form.client_id ?? '');
            json(res, e.status, e.body);
          };
          if (!client) return refuse('unknown client');
          if (form.client_secret !== undefined) {
            if (client.secret === undefined || form.client_secret !== client.secret) return refuse('bad secret');
          } else if (form.client_assertion !== undefined) {
            if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return json(res, 400, { error: 'invalid_request' });
            if (client.federatedTokens) {
              if (!client.federatedTokens.includes(form.client_assertion)) return json(res, 401, { error: 'invalid_client', error_description: 'AADSTS700213: No matching federated identity record found.' });
            } else {
              const why = client.certificatePem ? verifyAssertion(form.client_assertion, client.certificatePem, form.client_id!, tokenUrl, srv.flavour) : 'no certificate registered';
              if (why) return refuse(why);
            }
          } else return json(res, 401, { error: 'invalid_client', error_description: 'no client credential' });
          if (form.scope !== undefined) {
            if (srv.flavour === 'adfs' && srv.msis9605) return json(res, 400, { error: 'invalid_client', error_description: 'MSIS9605: The client is not allowed to access the requested resource.' });
            const resources = form.scope.split(' ').filter((x) => x && !OIDC_SCOPES.has(x));
            if (resources.length !== 1 || !srv.audiences.some((a) => resources[0] === `${a.replace(/\/+$/, '')}/.default`)) return json(res, 400, { error: 'invalid_scope', error_description: `AADSTS70011: unknown scope ${form.scope}` });
          } else if (form.resource !== undefined) {
            if (srv.flavour !== 'adfs') return json(res, 400, { error: 'invalid_request', error_description: 'AADSTS901002: resource is not supported on v2.0' });
            if (!srv.audiences.includes(form.resource)) return json(res, 400, { error: 'invalid_resource', error_description: `MSIS9602: unknown resource ${form.resource}` });
          } else return json(res, 400, { error: 'invalid_request', error_description: 'scope or resource is required' });
          const token = `tok-${crypto.randomBytes(12).toString('hex')}`;
          srv.tokens.push(token);
          return json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
        }
        json(res, 404, { error: 'not_found', error_description: `${req.method} ${u.pathname}` });
      })();
    },
    { tls: { key: opts.cert.keyPem, cert: opts.cert.certPem } },
  );
  srv = Object.assign(server, {
    flavour: opts.flavour,
    tenantId,
    authorityHost: opts.flavour === 'adfs' ? `${server.url}/adfs/` : `${server.url}/`,
    requests: [] as LoginRequest[],
    tokens: [] as string[],
    clients: opts.clients,
    audiences: opts.audiences,
    msis9605: opts.msis9605 ?? false,
    rejections: [] as { clientId: string; why: string }[],
  });
  return srv;
}

/** A request to the ARM server. */
export interface ArmRequest {
  method: string;
  /** Path without query. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  /** Parsed JSON body (or the text). */
  body?: unknown;
}

/** What the test's handler answers. */
export interface ArmAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A fault the ARM server injects before handling (consumed in order). */
export type ArmFault = { status: number; retryAfter?: string; match?: (r: ArmRequest) => boolean } | { drop: true; match?: (r: ArmRequest) => boolean };

/** A running ARM server. */
export interface ArmServer extends TestServer {
  /** `https://127.0.0.1:port/` */
  endpoint: string;
  requests: ArmRequest[];
  /** Faults injected before the handler, each used once. */
  faults: ArmFault[];
  /** When true, every request's connection is destroyed without an answer (a network cut). */
  cut: boolean;
  /** Called after a request was handled with a 2xx (e.g. to cut the network after a write). */
  afterAnswer?: (r: ArmRequest, a: ArmAnswer) => void;
}

/**
 * Starts an ARM server. `handle` gets every authenticated, fault-free request. With `hub`, `GET /metadata/endpoints`
 * answers like an Azure Stack Hub whose identity provider is `hub.login`.
 */
export async function startArmServer(opts: {
  cert: ServerCert;
  login: LoginServer;
  handle: (r: ArmRequest) => ArmAnswer | Promise<ArmAnswer>;
  hub?: { audience: string; region?: string; fqdn?: string };
}): Promise<ArmServer> {
  // eslint-disable-next-line prefer-const -- assigned after the handler that closes over it is created
  let srv: ArmServer;
  const server = await startHttpServer(
    (req, res) => {
      void (async () => {
        const u = new URL(req.url ?? '/', 'https://x');
        const text = await readBody(req);
        let body: unknown;
        if (text) {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        const headers: Record<string, string | undefined> = {};
        for (const h of ['authorization', 'if-match', 'if-none-match', 'content-type', 'accept']) headers[h] = req.headers[h] as string | undefined;
        const r: ArmRequest = { method: req.method ?? '', path: u.pathname, query: Object.fromEntries(u.searchParams), headers, body };
        srv.requests.push(r);
        if (srv.cut) return req.socket.destroy();
        if (opts.hub && u.pathname === '/metadata/endpoints') {
          if (u.searchParams.get('api-version') !== '2015-01-01') return json(res, 400, { error: { code: 'InvalidApiVersion', message: 'api-version' } });
          const region = opts.hub.region ?? 'local';
          const fqdn = opts.hub.fqdn ?? 'azurestack.external';
          return json(res, 200, {
            galleryEndpoint: `https://providers.${region}.${fqdn}:30016/`,
            graphEndpoint: `https://graph.${region}.${fqdn}/`,
            portalEndpoint: `https://portal.${region}.${fqdn}/`,
            authentication: { loginEndpoint: opts.login.authorityHost, audiences: [opts.hub.audience] },
          });
        }
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ') || !opts.login.tokens.includes(auth.slice(7))) {
          return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } });
        }
        const i = srv.faults.findIndex((f) => !f.match || f.match(r));
        if (i >= 0) {
          const f = srv.faults.splice(i, 1)[0];
          if ('drop' in f) return req.socket.destroy();
          return json(res, f.status, { error: { code: f.status === 429 ? 'TooManyRequests' : 'InternalServerError', message: 'try again later' } }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
        }
        const a = await opts.handle(r);
        json(res, a.status, a.body, a.headers);
        if (a.status >= 200 && a.status < 300) srv.afterAnswer?.(r, a);
      })();
    },
    { tls: { key: opts.cert.keyPem, cert: opts.cert.certPem } },
  );
  srv = Object.assign(server, { endpoint: `${server.url}/`, requests: [] as ArmRequest[], faults: [] as ArmFault[], cut: false, afterAnswer: undefined });
  return srv;
}
