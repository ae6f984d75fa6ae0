/**
 * A local stand-in for an Azure Stack Hub: two HTTPS servers (throwaway CA from tests/helpers/tls.ts) on 127.0.0.1,
 * port 0 —
 * - `arm`: `GET /metadata/endpoints?api-version=2015-01-01` (the documented answer shape) and the Compute marketplace
 *   listings aks-engine needs (VM image versions, VM extension versions), checking the bearer token;
 * - `login`: an identity provider in the ADFS flavour (`/adfs/.well-known/openid-configuration`,
 *   `/adfs/oauth2/token` with `scope` — or only `resource` when `msis9605` is on, like Hub builds that reject
 *   MSAL-style requests) or the Azure AD flavour (`/<tenant>/v2.0/.well-known/openid-configuration`,
 *   `/<tenant>/oauth2/v2.0/token`). Client secrets are compared; client assertions are verified against the
 *   registered certificate (signature, aud, iss, exp).
 * Every request is recorded (method, path, query, selected headers, form fields) for exact assertions.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as http from 'node:http';
import { clientAuthError, OIDC_SCOPES, verifyAssertion } from '../client-assertion';
import { startHttpServer, type TestServer } from '../servers';
import type { ServerCert, TestCa } from '../tls';

export interface RecordedRequest {
  server: 'arm' | 'login';
  method: string;
  path: string;
  query: Record<string, string>;
  authorization?: string;
  form?: Record<string, string>;
}

export interface FakeHubOptions {
  ca: TestCa;
  cert: ServerCert;
  identity: 'adfs' | 'azure_ad';
  /** Azure AD tenant id (default a fixed GUID). */
  tenantId?: string;
  /** Service principals: clientId → secret, or clientId → certificate PEM. */
  clients: Record<string, { secret?: string; certificatePem?: string }>;
  /** ADFS refuses `scope` requests with MSIS9605 (accepts only the v1 `resource` form). */
  msis9605?: boolean;
  /** The Hub's region and FQDN (portal.<region>.<fqdn>). */
  region?: string;
  fqdn?: string;
}

/** A VM as Compute 2020-06-01 lists it (only the fields the capability reads, in their documented places). */
export interface FakeVm {
  name: string;
  tags?: Record<string, string>;
  imageReference: { publisher: string; offer: string; sku: string; version: string; exactVersion?: string };
}

export interface FakeHub {
  arm: TestServer;
  login: TestServer;
  /** ARM endpoint (https://127.0.0.1:port/). */
  armEndpoint: string;
  loginEndpoint: string;
  audience: string;
  tenantId: string;
  region: string;
  fqdn: string;
  requests: RecordedRequest[];
  /** Tokens issued, in order. */
  tokens: string[];
  /** The audience (resource) each token was issued for. */
  tokenAudiences: Map<string, string>;
  /** Marketplace: `publisher:offer:sku` → versions. */
  images: Map<string, string[]>;
  /** VM extensions: `publisher:type` → versions. */
  extensions: Map<string, string[]>;
  /** VMs per resource group (lower case): what `GET …/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines` lists. */
  vms: Map<string, FakeVm[]>;
  /** Replaces the metadata answer (status, body) for a test; undefined restores the real one. */
  metadataOverride?: { status: number; body: string };
  /** Statuses to answer ARM listing requests with before the real answer (e.g. [429, 503]). */
  armFailures: number[];
  /** Client credentials refused, in order, with the fake's reason (the IdP answers only its generic error). */
  rejections: { clientId: string; why: string }[];
  /** Client assertions accepted, in order (to inspect what a client sent). */
  assertions: string[];
  /** Subscriptions the token may access. */
  subscriptions: Set<string>;
  close(): Promise<void>;
}

const AUDIENCE_GUID = '5b5e4e8c-2cf4-4b44-9f5a-c3a7a7b4b0a1';

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (b += d));
    req.on('end', () => resolve(b));
  });
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Starts the fake Hub. */
export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const region = opts.region ?? 'local';
  const fqdn = opts.fqdn ?? 'azurestack.external';
  const tenantId = opts.tenantId ?? '8a1c8f3e-0b6e-4f1a-9d2b-7f6c5e4d3c2b';
  const audience =
    opts.identity === 'adfs' ? `https://management.adfs.${fqdn}/${AUDIENCE_GUID}` : `https://management.contoso.onmicrosoft.com/${AUDIENCE_GUID}`;
  const tls = { key: opts.cert.keyPem, cert: opts.cert.certPem };
  // ARM, and the Hub's Key Vault data plane (https://vault.<region>.<fqdn>, as the Hub's PowerShell environment names it)
  const audiences = [audience, `https://vault.${region}.${fqdn}`];
  const hub = {
    tokenAudiences: new Map<string, string>(),
    requests: [] as RecordedRequest[],
    tokens: [] as string[],
    images: new Map<string, string[]>(),
    extensions: new Map<string, string[]>(),
    vms: new Map<string, FakeVm[]>(),
    armFailures: [] as number[],
    rejections: [] as { clientId: string; why: string }[],
    assertions: [] as string[],
    subscriptions: new Set<string>(),
    metadataOverride: undefined as { status: number; body: string } | undefined,
  } as Partial<FakeHub> & { requests: RecordedRequest[]; tokens: string[] };

  const login = await startHttpServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'https://x');
      const body = await readBody(req);
      const form = req.method === 'POST' ? Object.fromEntries(new URLSearchParams(body)) : undefined;
      hub.requests.push({ server: 'login', method: req.method ?? '', path: u.pathname, query: Object.fromEntries(u.searchParams), form });
      const base = login.url;
      const prefix = opts.identity === 'adfs' ? '/adfs' : `/${tenantId}`;
      if (req.method === 'GET' && u.pathname === (opts.identity === 'adfs' ? '/adfs/.well-known/openid-configuration' : `/${tenantId}/v2.0/.well-known/openid-configuration`)) {
        const tokenPath = opts.identity === 'adfs' ? '/adfs/oauth2/token' : `/${tenantId}/oauth2/v2.0/token`;
        return json(res, 200, {
          issuer: opts.identity === 'adfs' ? `${base}/adfs` : `${base}/${tenantId}/v2.0`,
          authorization_endpoint: `${base}${prefix}/oauth2/authorize`,
          token_endpoint: `${base}${tokenPath}`,
          end_session_endpoint: `${base}${prefix}/oauth2/logout`,
          jwks_uri: `${base}${prefix}/discovery/keys`,
          response_types_supported: ['code', 'id_token', 'token'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
          token_endpoint_auth_signing_alg_values_supported: opts.identity === 'adfs' ? ['RS256'] : ['RS256', 'PS256', 'ES256'],
        });
      }
      const tokenPaths = opts.identity === 'adfs' ? ['/adfs/oauth2/token'] : [`/${tenantId}/oauth2/v2.0/token`];
      if (req.method === 'POST' && tokenPaths.includes(u.pathname) && form) {
        const tokenUrl = `${base}${u.pathname}`;
        const client = opts.clients[form.client_id ?? ''];
        const refuse = (why: Parameters<typeof clientAuthError>[1]): void => {
          hub.rejections!.push({ clientId: form.client_id ?? '', why });
          const e = clientAuthError(opts.identity, why, form.client_id ?? '');
          json(res, e.status, e.body);
        };
        if (form.grant_type !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type' });
        if (!client) return refuse('unknown client');
        if (form.client_secret !== undefined) {
          if (client.secret === undefined || form.client_secret !== client.secret) return refuse('bad secret');
        } else if (form.client_assertion !== undefined) {
          if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return json(res, 400, { error: 'invalid_request' });
          const why = client.certificatePem ? verifyAssertion(form.client_assertion, client.certificatePem, form.client_id!, tokenUrl, opts.identity) : 'no certificate registered';
          if (why) return refuse(why);
          hub.assertions!.push(form.client_assertion);
        } else return json(res, 401, { error: 'invalid_client', error_description: 'no client credential' });
        let granted: string;
        if (form.scope !== undefined) {
          if (opts.identity === 'adfs' && opts.msis9605) {
            return json(res, 400, { error: 'invalid_client', error_description: 'MSIS9605: The client is not allowed to access the requested resource.' });
          }
          const resources = form.scope.split(' ').filter((x) => x && !OIDC_SCOPES.has(x));
          if (resources.length !== 1 || !audiences.some((a) => resources[0] === `${a}/.default`)) return json(res, 400, { error: 'invalid_scope', error_description: `unknown scope ${form.scope}` });
          granted = resources[0].replace(/\/\.default$/, '');
        } else if (form.resource !== undefined) {
          if (opts.identity !== 'adfs') return json(res, 400, { error: 'invalid_request', error_description: 'AADSTS901002: resource is not supported on v2.0' });
          if (!audiences.includes(form.resource)) return json(res, 400, { error: 'invalid_resource', error_description: `MSIS9602: unknown resource ${form.resource}` });
          granted = form.resource;
        } else return json(res, 400, { error: 'invalid_request', error_description: 'scope or resource is required' });
        const token = `tok-${crypto.randomBytes(12).toString('hex')}`;
        hub.tokens.push(token);
        hub.tokenAudiences!.set(token, granted);
        return json(res, 200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
      }
      json(res, 404, { error: 'not_found', error_description: `${req.method} ${u.pathname}` });
    })();
  }, { tls });

  const arm = await startHttpServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'https://x');
      await readBody(req);
      hub.requests.push({ server: 'arm', method: req.method ?? '', path: u.pathname, query: Object.fromEntries(u.searchParams), authorization: req.headers.authorization });
      if (u.pathname === '/metadata/endpoints') {
        if (hub.metadataOverride) {
          res.writeHead(hub.metadataOverride.status, { 'content-type': 'application/json' });
          return res.end(hub.metadataOverride.body);
        }
        if (u.searchParams.get('api-version') !== '2015-01-01') return json(res, 400, { error: { code: 'InvalidApiVersion' } });
        return json(res, 200, {
          galleryEndpoint: `https://providers.${region}.${fqdn}:30016/`,
          graphEndpoint: opts.identity === 'adfs' ? `https://graph.${region}.${fqdn}/` : 'https://graph.windows.net/',
          portalEndpoint: `https://portal.${region}.${fqdn}/`,
          authentication: {
            loginEndpoint: opts.identity === 'adfs' ? `${login.url}/adfs/` : `${login.url}/`,
            audiences: [audience],
          },
        });
      }
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !hub.tokens.includes(auth.slice(7))) {
        return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } });
      }
      const sub = /^\/subscriptions\/([^/]+)\//i.exec(u.pathname)?.[1];
      if (sub && hub.subscriptions!.size > 0 && !hub.subscriptions!.has(sub)) {
        return json(res, 404, { error: { code: 'SubscriptionNotFound', message: `The subscription '${sub}' could not be found.` } });
      }
      const fail = hub.armFailures!.shift();
      if (fail) return json(res, fail, { error: { code: fail === 429 ? 'TooManyRequests' : 'InternalServerError', message: 'try again' } }, fail === 429 ? { 'retry-after': '1' } : {});
      // the resource providers list aks-engine reads first (EnsureProvidersRegistered) with the token it got
      if (req.method === 'GET' && /^\/subscriptions\/[^/]+\/providers$/i.test(u.pathname)) {
        const ns = ['Microsoft.Compute', 'Microsoft.Network', 'Microsoft.Storage', 'Microsoft.KeyVault'];
        return json(res, 200, { value: ns.map((n) => ({ id: `${u.pathname}/${n}`, namespace: n, registrationState: 'Registered' })) });
      }
      const img = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/locations\/([^/]+)\/publishers\/([^/]+)\/artifacttypes\/vmimage\/offers\/([^/]+)\/skus\/([^/]+)\/versions$/i.exec(u.pathname);
      if (req.method === 'GET' && img) {
        const versions = hub.images!.get(`${img[2]}:${img[3]}:${img[4]}`.toLowerCase());
        if (!versions) return json(res, 404, { error: { code: 'NotFound', message: `Artifact: VMImage was not found.` } });
        return json(res, 200, versions.map((v) => ({ name: v, location: img[1], id: `${u.pathname}/${v}` })));
      }
      const ext = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Compute\/locations\/([^/]+)\/publishers\/([^/]+)\/artifacttypes\/vmextension\/types\/([^/]+)\/versions$/i.exec(u.pathname);
      if (req.method === 'GET' && ext) {
        const versions = hub.extensions!.get(`${ext[2]}:${ext[3]}`.toLowerCase());
        if (!versions) return json(res, 404, { error: { code: 'NotFound', message: 'Artifact: VMExtension was not found.' } });
        return json(res, 200, versions.map((v) => ({ name: v, location: ext[1], id: `${u.pathname}/${v}` })));
      }
      const vmList = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines$/i.exec(u.pathname);
      if (req.method === 'GET' && vmList) {
        if (u.searchParams.get('api-version') !== '2020-06-01') return json(res, 400, { error: { code: 'NoRegisteredProviderFound', message: `No registered resource provider found for API version '${u.searchParams.get('api-version')}'` } });
        const list = hub.vms!.get(vmList[2].toLowerCase());
        if (!list) return json(res, 404, { error: { code: 'ResourceGroupNotFound', message: `Resource group '${vmList[2]}' could not be found.` } });
        return json(res, 200, {
          value: list.map((v) => ({
            name: v.name,
            id: `/subscriptions/${vmList[1]}/resourceGroups/${vmList[2]}/providers/Microsoft.Compute/virtualMachines/${v.name}`,
            type: 'Microsoft.Compute/virtualMachines',
            location: region,
            tags: v.tags ?? {},
            properties: { vmId: crypto.randomUUID(), hardwareProfile: { vmSize: 'Standard_D2_v2' }, storageProfile: { imageReference: v.imageReference, osDisk: { osType: 'Linux' } }, provisioningState: 'Succeeded' },
          })),
        });
      }
      json(res, 404, { error: { code: 'ResourceNotFound', message: `no route ${req.method} ${u.pathname}` } });
    })();
  }, { tls });

  return Object.assign(hub, {
    arm,
    login,
    armEndpoint: `${arm.url}/`,
    loginEndpoint: opts.identity === 'adfs' ? `${login.url}/adfs/` : `${login.url}/`,
    audience,
    tenantId,
    region,
    fqdn,
    async close() {
      await Promise.all([arm.close(), login.close()]);
    },
  }) as FakeHub;
}

/** Adds an image listing (`publisher:offer:sku` → versions) in the case-insensitive form the fake ARM looks up. */
export function addImage(hub: FakeHub, publisher: string, offer: string, sku: string, versions: string[]): void {
  hub.images.set(`${publisher}:${offer}:${sku}`.toLowerCase(), versions);
}

/** Adds a VM extension listing. */
export function addExtension(hub: FakeHub, publisher: string, type: string, versions: string[]): void {
  hub.extensions.set(`${publisher}:${type}`.toLowerCase(), versions);
}

/** An RSA client certificate for a service principal (MSAL signs client assertions with RSA keys). */
export function makeClientCert(dir: string, name = 'sp'): { certPem: string; keyPem: string; certFile: string; keyFile: string; combinedFile: string } {
  fs.mkdirSync(dir, { recursive: true });
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  execFileSync(process.env.OPENSSL || 'openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${name}`, '-days', '2'], { stdio: 'ignore' });
  fs.chmodSync(keyFile, 0o600);
  const certPem = fs.readFileSync(certFile, 'utf8');
  const keyPem = fs.readFileSync(keyFile, 'utf8');
  const combinedFile = path.join(dir, `${name}.pem`);
  fs.writeFileSync(combinedFile, certPem + keyPem, { mode: 0o600 });
  return { certPem, keyPem, certFile, keyFile, combinedFile };
}

/** Registers the VMs of an aks-engine cluster in a resource group: `masters` control plane VMs and `workers` pool VMs, all on one image. */
export function addClusterVms(hub: FakeHub, resourceGroup: string, o: { pool: string; masters: number; workers: number; image: FakeVm['imageReference']; version?: string }): void {
  const suffix = '12345678';
  const tags = (pool: string): Record<string, string> => ({ orchestrator: `Kubernetes:${o.version ?? '1.33.10'}`, poolName: pool, resourceNameSuffix: suffix, aksEngineVersion: 'v0.85.0', creationSource: `aksengine-k8s-${pool}-${suffix}` });
  const vms: FakeVm[] = [];
  for (let i = 0; i < o.masters; i++) vms.push({ name: `k8s-master-${suffix}-${i}`, tags: tags('master'), imageReference: { ...o.image } });
  for (let i = 0; i < o.workers; i++) vms.push({ name: `k8s-${o.pool}-${suffix}-${i}`, tags: tags(o.pool), imageReference: { ...o.image } });
  // a VM of something else in the same group is not a node
  vms.push({ name: 'jumpbox', imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts', version: '22.04.202401010' } });
  hub.vms.set(resourceGroup.toLowerCase(), vms);
}
