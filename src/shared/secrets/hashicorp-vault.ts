/**
 * A thin HashiCorp Vault client for KV v2 reads (`GET /v1/<mount>/data/<path>`) with a token or an AppRole login
 * (`POST /v1/auth/<approle mount>/login`), on src/shared/http.ts (CA, proxy).
 *
 * Where Vault is and how to sign in follows the Vault CLI's own environment conventions, so a pipeline maps the same
 * variables it would map for `vault kv get`:
 * - `VAULT_ADDR` (required; https://, or http:// for a loopback address only), `VAULT_NAMESPACE` (Enterprise),
 *   `VAULT_CACERT` (a PEM file of extra trusted CAs);
 * - `VAULT_TOKEN`, or AppRole: `VAULT_ROLE_ID` + `VAULT_SECRET_ID` (a secret), `VAULT_APPROLE_PATH` (default `approle`).
 * `VAULT_SKIP_VERIFY` is not honoured: trust the server's CA with VAULT_CACERT instead.
 */
import type { ProxySettings } from '../../types';
import { StackHubError, oneLine } from '../errors';
import { request } from '../http';
import { readCaFile } from '../ca';

/** Why a Vault read failed (the message never holds the secret). */
export class VaultError extends StackHubError {}

/** How to reach and sign in to Vault. */
export interface VaultConfig {
  address: string;
  namespace?: string;
  ca?: string[];
  auth: { kind: 'token'; token: string } | { kind: 'approle'; roleId: string; secretId: string; path: string };
}

/**
 * Reads the Vault settings from the environment (see the module comment).
 * @throws VaultError naming the variable that is missing or malformed
 */
export function vaultConfigFromEnv(env: NodeJS.ProcessEnv): VaultConfig {
  const get = (n: string): string | undefined => (env[n]?.trim() ? env[n]!.trim() : undefined);
  const address = get('VAULT_ADDR');
  if (!address) throw new VaultError('VAULT_ADDR is not set (the address of the Vault server, e.g. https://vault.example.local:8200)');
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new VaultError(`VAULT_ADDR is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new VaultError(`VAULT_ADDR must be https:// (a token must not travel in clear), got ${u.protocol}//${u.host}`);
  if (u.username || u.password || u.search || u.hash) throw new VaultError('VAULT_ADDR must be a plain URL without credentials, query or fragment');
  const caFile = get('VAULT_CACERT');
  const ca = caFile ? readCaFile(caFile, 'VAULT_CACERT') : undefined;
  const token = get('VAULT_TOKEN');
  const roleId = get('VAULT_ROLE_ID');
  const secretId = get('VAULT_SECRET_ID');
  let auth: VaultConfig['auth'];
  if (roleId || secretId) {
    if (!roleId || !secretId) throw new VaultError('AppRole sign-in needs both VAULT_ROLE_ID and VAULT_SECRET_ID');
    const p = get('VAULT_APPROLE_PATH') ?? 'approle';
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(p)) throw new VaultError(`VAULT_APPROLE_PATH '${p}' is not an auth mount path`);
    auth = { kind: 'approle', roleId, secretId, path: p };
  } else if (token) auth = { kind: 'token', token };
  else throw new VaultError('neither VAULT_TOKEN nor VAULT_ROLE_ID/VAULT_SECRET_ID is set');
  return { address: address.replace(/\/+$/, ''), namespace: get('VAULT_NAMESPACE'), ca, auth };
}

/** Vault's error body `{"errors": [...]}` as one line. */
function errorsOf(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: unknown[] };
    const list = (doc.errors ?? []).filter((e) => typeof e === 'string' && e !== '') as string[];
    return list.length ? `: ${oneLine(list.join('; '))}` : '';
  } catch {
    return '';
  }
}

/** One Vault server; signs in once and caches each secret version it read. */
export class VaultClient {
  private token?: Promise<string>;
  private readonly cache = new Map<string, Promise<Record<string, unknown>>>();

  constructor(
    private readonly cfg: VaultConfig,
    private readonly opts: { proxyFor?: (u: URL) => ProxySettings | undefined; mask: (s: string) => void; sleep?: (ms: number) => Promise<void> },
  ) {
    if (cfg.auth.kind === 'token') opts.mask(cfg.auth.token);
    else opts.mask(cfg.auth.secretId);
  }

  private async send(method: string, p: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Buffer }> {
    try {
      return await request({
        method,
        url: `${this.cfg.address}${p}`,
        headers: { accept: 'application/json', ...(this.cfg.namespace ? { 'x-vault-namespace': this.cfg.namespace } : {}), ...headers },
        body,
        ca: this.cfg.ca,
        proxyFor: this.opts.proxyFor,
        sleep: this.opts.sleep,
        retries: 2,
      });
    } catch (e) {
      throw new VaultError(`cannot reach Vault at ${this.cfg.address}: ${oneLine(e)}`);
    }
  }

  private login(): Promise<string> {
    const auth = this.cfg.auth;
    if (auth.kind === 'token') return Promise.resolve(auth.token);
    return (this.token ??= (async () => {
      const res = await this.send('POST', `/v1/auth/${auth.path}/login`, { 'content-type': 'application/json' }, JSON.stringify({ role_id: auth.roleId, secret_id: auth.secretId }));
      if (res.status !== 200) throw new VaultError(`AppRole sign-in at ${this.cfg.address}/v1/auth/${auth.path}/login failed (${res.status})${errorsOf(res.body)}`);
      let token: unknown;
      try {
        token = (JSON.parse(res.body.toString('utf8')) as { auth?: { client_token?: unknown } }).auth?.client_token;
      } catch {
        /* below */
      }
      if (typeof token !== 'string' || token === '') throw new VaultError(`AppRole sign-in at ${this.cfg.address} answered without auth.client_token`);
      this.opts.mask(token);
      return token;
    })());
  }

  /** The data of a KV v2 secret. */
  private read(mount: string, p: string, version?: number): Promise<Record<string, unknown>> {
    const key = `${mount}\n${p}\n${version ?? ''}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = (async () => {
        const token = await this.login();
        const url = `/v1/${mount}/data/${p.split('/').map(encodeURIComponent).join('/')}${version !== undefined ? `?version=${version}` : ''}`;
        const res = await this.send('GET', url, { 'x-vault-token': token });
        const where = `secret ${mount}/${p}${version !== undefined ? ` version ${version}` : ''}`;
        if (res.status === 404) throw new VaultError(`${where} not found (or deleted) in the KV v2 engine at ${mount}/`);
        if (res.status === 403) throw new VaultError(`access to ${where} denied (403)${errorsOf(res.body)}: the token's policy needs read on ${mount}/data/${p}`);
        if (res.status !== 200) throw new VaultError(`reading ${where} failed with ${res.status}${errorsOf(res.body)}`);
        let data: unknown;
        try {
          data = (JSON.parse(res.body.toString('utf8')) as { data?: { data?: unknown } }).data?.data;
        } catch {
          /* below */
        }
        if (!data || typeof data !== 'object') throw new VaultError(`${where}: the answer has no data.data (is ${mount}/ a KV version 2 engine?)`);
        return data as Record<string, unknown>;
      })();
      this.cache.set(key, hit);
    }
    return hit;
  }

  /** One key of a KV v2 secret, as a string (non-string values as JSON). */
  async get(mount: string, p: string, key: string, version?: number): Promise<string> {
    const data = await this.read(mount, p, version);
    if (!(key in data)) throw new VaultError(`secret ${mount}/${p} has no key '${key}' (keys: ${Object.keys(data).join(', ') || 'none'})`);
    const v = data[key];
    return typeof v === 'string' ? v : JSON.stringify(v);
  }
}

