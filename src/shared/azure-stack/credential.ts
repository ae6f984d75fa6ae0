/**
 * Service-principal credentials for an Azure Stack Hub (ADFS or Azure AD) or for public/sovereign Azure.
 *
 * Tokens come from `@azure/identity` (ClientSecretCredential / ClientCertificateCredential) with
 * `disableInstanceDiscovery: true` and an HTTP client of our own (src/shared/http.ts): it trusts the Hub's root CA,
 * uses the configured proxy, and refuses every origin except the login endpoint — so no instance discovery, no IMDS,
 * no login.microsoftonline.com for an ADFS Hub, whatever the environment says (AZURE_REGIONAL_AUTHORITY_NAME ...).
 * When an ADFS Hub rejects the MSAL-style request with MSIS9605 (Azure/azure-cli#20177), the credential falls back to
 * the ADFS v1 `POST {loginEndpoint}oauth2/token` with `resource=<audience>` and keeps using it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { HttpClient, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import type { AzureRmConnection } from '../../types';
import { InputError, StackHubError, oneLine } from '../errors';
import type { HubEndpoints, IdentitySystem } from './discovery';
import { assertAllowed, originOf, send, withSlash, type HubHttpOptions } from './net';

/** A service principal's secret material. Exactly one kind. */
export type ClientAuth =
  | { kind: 'client_secret'; clientId: string; clientSecret: string }
  | {
      kind: 'client_certificate';
      clientId: string;
      /** The certificate, PEM (leaf first; more certificates may follow). */
      certificatePem: string;
      /** Its private key, PEM (PKCS#8, PKCS#1 or SEC1; unencrypted). */
      privateKeyPem: string;
    };

/** A credential failed: rejected by the identity provider, or the provider could not be reached. */
export class AuthenticationFailedError extends StackHubError {}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/**
 * Parses a client certificate and its key from PEM text (both in one text, or the key separately) and checks that
 * the key belongs to the certificate. Errors name `input` and never print key material.
 */
export function parseClientCertificate(certText: string, keyText: string | undefined, input: string): { certificatePem: string; privateKeyPem: string } {
  const certs: string[] = certText.match(PEM_CERT) ?? [];
  if (certs.length === 0) throw new InputError(input, 'expected a PEM CERTIFICATE, found none');
  let leaf: crypto.X509Certificate;
  try {
    leaf = new crypto.X509Certificate(certs[0]);
  } catch {
    throw new InputError(input, 'the certificate is not valid X.509');
  }
  const keyPem = (keyText ?? certText).match(PEM_KEY)?.[0];
  if (!keyPem) throw new InputError(input, 'expected an unencrypted PEM PRIVATE KEY with the certificate, found none');
  if (keyPem.includes('ENCRYPTED')) throw new InputError(input, 'the private key is encrypted: provide it unencrypted (it is kept in a 0600 file)');
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(keyPem);
  } catch {
    throw new InputError(input, 'the private key cannot be read as PEM');
  }
  if (!leaf.checkPrivateKey(key)) throw new InputError(input, 'the private key does not belong to the certificate');
  return { certificatePem: certs.map((c) => c.trim()).join('\n') + '\n', privateKeyPem: keyPem.trim() + '\n' };
}

/**
 * Reads a client certificate (+ key) from files. `keyFile` may be omitted when the certificate file holds both.
 * @throws InputError naming `certInput` (or `keyInput` for the key file) when a file is unreadable or not valid
 */
export function readClientCertificate(
  certFile: string,
  keyFile: string | undefined,
  certInput: string,
  keyInput = certInput,
): { certificatePem: string; privateKeyPem: string } {
  const read = (f: string, input: string): string => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      throw new InputError(input, `cannot read ${f}`);
    }
  };
  const cert = read(certFile, certInput);
  const key = keyFile ? read(keyFile, keyInput) : undefined;
  try {
    return parseClientCertificate(cert, key, certInput);
  } catch (e) {
    if (keyFile && e instanceof InputError && /private key/.test(e.expected)) throw new InputError(keyInput, e.expected);
    throw e;
  }
}

/** Where and how a credential gets tokens. */
export interface CredentialTarget {
  /** The identity provider: a Hub's `loginEndpoint` (ADFS `https://adfs.<region>.<fqdn>/adfs/`), or e.g. `https://login.microsoftonline.us/`. */
  authorityHost: string;
  /** `adfs` for ADFS; the directory (tenant) id or domain for Azure AD. */
  tenantId: string;
  /** The resource whose token is wanted (a Hub: `audiences[0]`; public ARM: `https://management.azure.com/`). */
  audience: string;
  identitySystem: IdentitySystem;
}

/** Options of the credentials. */
export interface CredentialOptions {
  http?: HubHttpOptions;
  /** Called with every token obtained, e.g. `ctx.mask`, so no log can show it. */
  onToken?: (token: string) => void;
  /** Diagnostic lines (which flow was used). Never receives secrets. */
  debug?: (line: string) => void;
}

/** The scope for an audience: `<audience>/.default` (one slash). */
export function scopeFor(audience: string): string {
  return `${audience.replace(/\/+$/, '')}/.default`;
}

/**
 * A `TokenCredential` (usable with any Azure SDK client too) for one service principal at one identity provider.
 * Tokens are cached until 5 minutes before they expire. `getToken()` without scopes asks for the target's audience.
 */
export class ServicePrincipalCredential implements TokenCredential {
  private cached?: AccessToken;
  private useAdfsV1 = false;
  private inner?: Promise<TokenCredential>;
  private readonly allowed: ReadonlySet<string>;
  /** The last request refused by the origin allow-list (MSAL hides it behind "network_error"). */
  private refused?: string;

  constructor(
    readonly target: CredentialTarget,
    private readonly auth: ClientAuth,
    private readonly opts: CredentialOptions = {},
  ) {
    if (!/^https:\/\//i.test(target.authorityHost)) throw new StackHubError(`the login endpoint ${target.authorityHost} is not https`);
    this.allowed = new Set([originOf(target.authorityHost)]);
  }

  /** The client id (not a secret). */
  get clientId(): string {
    return this.auth.clientId;
  }

  /** Gets a token for `scopes` (default: the target's audience). */
  async getToken(scopes?: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const list = scopes === undefined ? [scopeFor(this.target.audience)] : Array.isArray(scopes) ? scopes : [scopes];
    const defaultScope = list.length === 1 && list[0] === scopeFor(this.target.audience);
    if (defaultScope && this.cached && this.cached.expiresOnTimestamp - Date.now() > 5 * 60_000) return this.cached;
    let token: AccessToken;
    if (this.useAdfsV1) token = await this.adfsV1(list);
    else {
      try {
        const inner = await (this.inner ??= this.createInner());
        const t = await withoutRegionalAuthority(() => inner.getToken(list));
        if (!t) throw new AuthenticationFailedError(`${this.where()}: no token returned`);
        token = t;
      } catch (e) {
        const msg = oneLine(e);
        if (this.target.identitySystem === 'adfs' && /MSIS9605/.test(msg)) {
          this.opts.debug?.('ADFS rejected the MSAL-style request (MSIS9605): using the ADFS v1 token endpoint with resource=<audience>');
          this.useAdfsV1 = true;
          token = await this.adfsV1(list);
        } else throw this.failure(e);
      }
    }
    this.opts.onToken?.(token.token);
    if (defaultScope) this.cached = token;
    return token;
  }

  private where(): string {
    return `sign-in of client ${this.auth.clientId} at ${withSlash(this.target.authorityHost)}`;
  }

  private failure(e: unknown): StackHubError {
    if (e instanceof AuthenticationFailedError) return e;
    if (this.refused) {
      return new AuthenticationFailedError(
        `${this.where()} failed: ${this.refused} (is AZURE_REGIONAL_AUTHORITY_NAME or another Azure SDK setting in the environment?)`,
      );
    }
    // @azure/identity messages are multi-line and end with a troubleshooting link; keep the essence
    let msg = oneLine(e)
      .replace(/\s*Troubleshooting guide:.*$/i, '')
      .replace(/\s*See https:\/\/aka\.ms\S*( for details\.?)?/gi, '')
      .replace(/^\w+Credential authentication failed\.?\s*/i, '');
    for (const s of this.secretsOf()) if (s.length >= 4) msg = msg.split(s).join('***');
    return new AuthenticationFailedError(`${this.where()} failed: ${msg || 'no details'}`);
  }

  private secretsOf(): string[] {
    return this.auth.kind === 'client_secret' ? [this.auth.clientSecret] : [this.auth.privateKeyPem];
  }

  private async createInner(): Promise<TokenCredential> {
    const [identity, pipeline] = await Promise.all([import('@azure/identity'), import('@azure/core-rest-pipeline')]);
    const httpClient = pipelineHttpClient(this.opts.http ?? {}, this.allowed, pipeline.createHttpHeaders, (m) => (this.refused = m));
    const common = {
      authorityHost: withSlash(this.target.authorityHost),
      disableInstanceDiscovery: true,
      httpClient,
      // proxy/CA are ours (httpClient); never let the pipeline look for a proxy in the environment itself
      proxyOptions: undefined,
      retryOptions: { maxRetries: 2 },
      loggingOptions: { enableUnsafeSupportLogging: false, allowLoggingCredentials: false },
      additionallyAllowedTenants: [] as string[],
    };
    if (this.auth.kind === 'client_secret') {
      return new identity.ClientSecretCredential(this.target.tenantId, this.auth.clientId, this.auth.clientSecret, common);
    }
    if (this.target.identitySystem === 'adfs') {
      // MSAL Node signs PS256 with x5t#S256, which the other MSALs deliberately do not send to ADFS
      // (AzureAD/microsoft-authentication-library-for-dotnet#4428): sign what aks-engine-azurestack (MSAL Go) sends
      // to the same ADFS: RS256, x5t (SHA-1) and the x5c chain, aud = the token endpoint MSAL passes in.
      const auth = this.auth;
      const fallbackEndpoint = `${withSlash(this.target.authorityHost)}oauth2/token`;
      const assertion = async (cfg?: { tokenEndpoint?: string }): Promise<string> =>
        clientAssertion(auth, cfg?.tokenEndpoint || fallbackEndpoint, Date.now(), { x5c: true, alg: 'RS256' });
      return new identity.ClientAssertionCredential(this.target.tenantId, auth.clientId, assertion, common);
    }
    return new identity.ClientCertificateCredential(
      this.target.tenantId,
      this.auth.clientId,
      { certificate: `${this.auth.certificatePem}${this.auth.privateKeyPem}` },
      { ...common, sendCertificateChain: false },
    );
  }

  /** ADFS v1 client-credentials grant: `POST {loginEndpoint}oauth2/token` with `resource`. */
  private async adfsV1(scopes: string[]): Promise<AccessToken> {
    const resource = scopes[0].replace(/\/\.default$/, '');
    const url = `${withSlash(this.target.authorityHost)}oauth2/token`;
    assertAllowed(url, this.allowed);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.auth.clientId, resource });
    if (this.auth.kind === 'client_secret') form.set('client_secret', this.auth.clientSecret);
    else {
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', clientAssertion(this.auth, url, Date.now(), { x5c: true }));
    }
    let res;
    try {
      res = await send(this.opts.http ?? {}, {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      }, this.allowed);
    } catch (e) {
      throw this.failure(e);
    }
    let doc: { access_token?: string; expires_in?: string | number; error?: string; error_description?: string } = {};
    try {
      doc = JSON.parse(res.body.toString('utf8'));
    } catch {
      /* described below */
    }
    if (res.status !== 200 || typeof doc.access_token !== 'string') {
      const why = doc.error ? `${doc.error}${doc.error_description ? `: ${doc.error_description}` : ''}` : `answered ${res.status}`;
      throw this.failure(new AuthenticationFailedError(`ADFS v1 token endpoint ${url}: ${why}`));
    }
    const ttl = Number(doc.expires_in ?? 3600);
    return { token: doc.access_token, expiresOnTimestamp: Date.now() + (Number.isFinite(ttl) ? ttl : 3600) * 1000 };
  }
}

/**
 * @azure/identity reads AZURE_REGIONAL_AUTHORITY_NAME from the environment on every token request, and MSAL then
 * rewrites the authority host (or asks IMDS for the region). Neither may happen here: the variable is hidden for the
 * duration of the call (the origin allow-list would refuse such a host anyway).
 */
async function withoutRegionalAuthority<T>(fn: () => Promise<T>): Promise<T> {
  const name = 'AZURE_REGIONAL_AUTHORITY_NAME';
  const saved = process.env[name];
  if (saved === undefined) return fn();
  delete process.env[name];
  try {
    return await fn();
  } finally {
    if (process.env[name] === undefined) process.env[name] = saved;
  }
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/**
 * A signed client assertion (RFC 7523) for a certificate service principal; `aud` is the token endpoint. The header
 * names the certificate by `x5t` (SHA-1 thumbprint) and, with `x5c`, carries the chain (leaf first, standard base64
 * DER), as MSAL Go sends it. RSA keys sign RS256, EC keys ES256.
 */
export function clientAssertion(
  auth: Extract<ClientAuth, { kind: 'client_certificate' }>,
  audience: string,
  now = Date.now(),
  opts: { x5c?: boolean; alg?: 'RS256' } = {},
): string {
  const chain = (auth.certificatePem.match(PEM_CERT) ?? []).map((p) => new crypto.X509Certificate(p).raw);
  const der = chain[0];
  const key = crypto.createPrivateKey(auth.privateKeyPem);
  if (opts.alg === 'RS256' && key.asymmetricKeyType !== 'rsa') throw new AuthenticationFailedError(`sign-in of client ${auth.clientId}: ADFS needs an RSA certificate key (RS256), not ${key.asymmetricKeyType}`);
  const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  const header: Record<string, unknown> = { alg, typ: 'JWT', x5t: b64url(crypto.createHash('sha1').update(der).digest()) };
  if (opts.x5c) header.x5c = chain.map((c) => c.toString('base64'));
  const iat = Math.floor(now / 1000);
  const claims = { aud: audience, iss: auth.clientId, sub: auth.clientId, jti: crypto.randomUUID(), nbf: iat, iat, exp: iat + 600 };
  const data = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig =
    alg === 'ES256'
      ? crypto.sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' })
      : crypto.sign('sha256', Buffer.from(data), key);
  return `${data}.${b64url(sig)}`;
}

/**
 * A `@azure/core-rest-pipeline` HttpClient on src/shared/http.ts: the given CA and proxy, and only the allowed
 * origins. What @azure/identity (MSAL) sends goes through it.
 */
export function pipelineHttpClient(
  http: HubHttpOptions,
  allowed: ReadonlySet<string>,
  createHttpHeaders: typeof import('@azure/core-rest-pipeline').createHttpHeaders,
  onRefused?: (message: string) => void,
): HttpClient {
  return {
    async sendRequest(req: PipelineRequest): Promise<PipelineResponse> {
      try {
        assertAllowed(req.url, allowed);
      } catch (e) {
        onRefused?.(oneLine(e));
        throw e;
      }
      let body: string | Buffer | undefined;
      if (typeof req.body === 'string') body = req.body;
      else if (req.body instanceof Uint8Array) body = Buffer.from(req.body);
      else if (req.body !== undefined && req.body !== null) throw new StackHubError('unsupported request body type');
      const headers: Record<string, string> = {};
      for (const [k, v] of req.headers) headers[k] = v;
      const res = await send(http, { method: req.method, url: req.url, headers, body }, allowed);
      const h: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
      return { request: req, status: res.status, headers: createHttpHeaders(h), bodyAsText: res.body.toString('utf8') };
    },
  };
}

/**
 * The credential for a Hub's ARM: scope `audiences[0]/.default`; ADFS Hubs use tenant `adfs` with the login
 * endpoint as authority; Azure AD Hubs need the directory `tenantId`.
 * @throws InputError naming `tenantInput` when an Azure AD Hub is used without a tenant id
 */
export function hubCredential(
  hub: HubEndpoints,
  auth: ClientAuth,
  opts: CredentialOptions & { tenantId?: string; tenantInput?: string } = {},
): ServicePrincipalCredential {
  let tenantId = 'adfs';
  if (hub.identitySystem === 'azure_ad') {
    if (!opts.tenantId) {
      throw new InputError(opts.tenantInput ?? 'tenantId', `the Hub ${hub.resourceManager} uses Azure AD (${hub.loginEndpoint}): its directory (tenant) id is required`);
    }
    tenantId = opts.tenantId;
  }
  return new ServicePrincipalCredential(
    { authorityHost: hub.loginEndpoint, tenantId, audience: hub.audience, identitySystem: hub.identitySystem },
    auth,
    opts,
  );
}

/**
 * A credential for public or sovereign Azure (e.g. Traffic Manager): `authorityHost` such as
 * `https://login.microsoftonline.com/`, `audience` such as `https://management.azure.com/`.
 */
export function azureCredential(
  target: { authorityHost: string; tenantId: string; audience: string },
  auth: ClientAuth,
  opts: CredentialOptions = {},
): ServicePrincipalCredential {
  return new ServicePrincipalCredential({ ...target, identitySystem: 'azure_ad' }, auth, opts);
}

/**
 * What an ADO `azurerm` service connection with environment AzureStack yields, or an "Azure Stack Hub" connection
 * (src/shared/azure-stack/hub-connection.ts), which also states the identity system and may carry the Hub root CA.
 */
export interface HubConnection {
  armEndpoint: string;
  subscriptionId?: string;
  subscriptionName?: string;
  tenantId?: string;
  /** Stated by an "Azure Stack Hub" connection (an azurerm connection leaves it to discovery). */
  identitySystem?: IdentitySystem;
  /** The Hub root CA (PEM certificates) from an "Azure Stack Hub" connection. */
  caCertificates?: string[];
  auth: ClientAuth;
}

/**
 * Reads an ADO `azurerm` service connection for a Hub (`environment=AzureStack`, service principal with key or
 * certificate). Errors name `input`.
 */
export function hubConnectionFrom(conn: AzureRmConnection, input: string): HubConnection {
  if (conn.environment.toLowerCase() !== 'azurestack') {
    throw new InputError(input, `expected an Azure Resource Manager connection with environment AzureStack, got '${conn.environment}'`);
  }
  if (!conn.environmentUrl) throw new InputError(input, 'the connection holds no environment URL (the Hub ARM endpoint)');
  if (conn.scheme.toLowerCase() !== 'serviceprincipal') {
    throw new InputError(input, `expected a service-principal connection, got scheme '${conn.scheme}' (workload identity and managed identity do not exist on a Hub)`);
  }
  if (!conn.clientId) throw new InputError(input, 'the connection holds no service principal id');
  let auth: ClientAuth;
  if ((conn.authenticationType ?? '').toLowerCase() === 'spncertificate' || (!conn.clientSecret && conn.certificatePem)) {
    if (!conn.certificatePem) throw new InputError(input, 'the certificate connection holds no certificate');
    auth = { kind: 'client_certificate', clientId: conn.clientId, ...parseClientCertificate(conn.certificatePem, undefined, input) };
  } else {
    if (!conn.clientSecret) throw new InputError(input, 'the connection holds no service principal key');
    auth = { kind: 'client_secret', clientId: conn.clientId, clientSecret: conn.clientSecret };
  }
  return { armEndpoint: conn.environmentUrl, subscriptionId: conn.subscriptionId, tenantId: conn.tenantId, auth };
}
