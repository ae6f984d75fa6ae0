/**
 * A thin Key Vault data-plane client for an Azure Stack Hub's own Key Vault, on src/shared/http.ts (the Hub's CA,
 * the proxy) and the Hub credential of src/shared/azure-stack (ADFS or Azure AD, secret or certificate).
 *
 * Why not @azure/keyvault-secrets: it speaks only the 7.x service versions, while a Hub's Key Vault serves the
 * 2016-10-01 data-plane api-version (the one in the Hub's hybrid profiles).
 *
 * - vault URL: `https://<vault>.<keyVaultDNSSuffix>/`, the suffix `vault.<region>.<fqdn>` from the Hub's metadata;
 * - token audience: `https://vault.<region>.<fqdn>` (from the same metadata; the Hub's Key Vault challenge names it as
 *   `resource`, and a challenge naming a resource outside the Hub's domain is refused);
 * - `GET /secrets/<name>[/<version>]?api-version=2016-10-01`, first without a token: the 401 `WWW-Authenticate`
 *   challenge is checked, then the request is repeated with the bearer token.
 */
import { StackHubError, oneLine } from '../errors';
import { request } from '../http';
import { customCloudEnvironment, type HubEndpoints } from '../azure-stack/discovery';
import { scopeFor, type ServicePrincipalCredential } from '../azure-stack/credential';
import type { HubHttpOptions } from '../azure-stack/net';

/** The data-plane api-version a Hub's Key Vault serves. */
export const HUB_KEYVAULT_API_VERSION = '2016-10-01';

/** Why a Key Vault read failed (the message never holds the secret). */
export class KeyVaultError extends StackHubError {}

/** `WWW-Authenticate: Bearer authorization="...", resource="..."` → its parameters. */
export function parseChallenge(header: string | string[] | undefined): Record<string, string> {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const out: Record<string, string> = {};
  for (const m of text.replace(/^\s*Bearer\s+/i, '').matchAll(/([A-Za-z_]+)\s*=\s*"([^"]*)"/g)) out[m[1].toLowerCase()] = m[2];
  return out;
}

/** Reads secrets from one Hub's Key Vaults with one credential. */
export class HubKeyVault {
  private audience: string;
  private readonly suffix: string;

  constructor(
    private readonly endpoints: HubEndpoints,
    private readonly credential: ServicePrincipalCredential,
    private readonly http: HubHttpOptions,
    private readonly apiVersion = HUB_KEYVAULT_API_VERSION,
  ) {
    this.suffix = customCloudEnvironment(endpoints).keyVaultDNSSuffix;
    this.audience = `https://${this.suffix}`;
  }

  /** `https://<vault>.vault.<region>.<fqdn>/` */
  vaultUrl(vault: string): string {
    return `https://${vault}.${this.suffix}/`;
  }

  /** The value of a secret (its current version unless `version` is given). */
  async getSecret(vault: string, name: string, version?: string): Promise<string> {
    const url = `${this.vaultUrl(vault)}secrets/${encodeURIComponent(name)}${version ? `/${version}` : ''}?api-version=${this.apiVersion}`;
    const get = async (token?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> => {
      try {
        return await request({
          method: 'GET',
          url,
          headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ca: this.http.ca,
          proxyFor: this.http.proxyFor,
          timeoutMs: this.http.timeoutMs,
          sleep: this.http.sleep,
          retries: 2,
        });
      } catch (e) {
        const msg = oneLine(e);
        if (/ENOTFOUND|EAI_AGAIN|getaddrinfo|CONNECT.*(502|403|404)|proxy.*(502|403|404)/i.test(msg)) {
          throw new KeyVaultError(`vault '${vault}' not found on this Hub (${this.vaultUrl(vault)} cannot be reached: ${msg})`);
        }
        throw new KeyVaultError(`cannot reach the Key Vault ${this.vaultUrl(vault)}: ${msg}`);
      }
    };
    let res = await get();
    if (res.status === 401) {
      const ch = parseChallenge(res.headers['www-authenticate']);
      const resource = ch.resource ?? (ch.scope ? ch.scope.replace(/\/\.default$/, '') : undefined);
      if (resource && resource.replace(/\/+$/, '').toLowerCase() !== this.audience.toLowerCase()) {
        let host = '';
        try {
          host = new URL(resource).hostname.toLowerCase();
        } catch {
          /* refused below */
        }
        if (!host.endsWith(this.endpoints.domain.toLowerCase())) {
          throw new KeyVaultError(`the Key Vault ${this.vaultUrl(vault)} asks for a token for ${resource}, which is not a resource of the Hub ${this.endpoints.domain}: refusing to send one`);
        }
        this.audience = resource.replace(/\/+$/, '');
      }
      const token = await this.credential.getToken(scopeFor(this.audience));
      res = await get(token.token);
    }
    let doc: { value?: unknown; attributes?: { enabled?: boolean }; error?: { code?: string; message?: string; innererror?: { code?: string } } } = {};
    try {
      doc = JSON.parse(res.body.toString('utf8'));
    } catch {
      /* described below */
    }
    if (res.status === 200) {
      if (typeof doc.value !== 'string') throw new KeyVaultError(`${this.vaultUrl(vault)} answered without a secret value`);
      return doc.value;
    }
    const code = doc.error?.innererror?.code ?? doc.error?.code;
    const message = doc.error?.message ? `: ${oneLine(doc.error.message)}` : '';
    const what = `secret '${name}'${version ? ` version ${version}` : ''} in vault '${vault}'`;
    if (res.status === 404) throw new KeyVaultError(`${what} not found${code ? ` (${code})` : ''}${message}`);
    if (res.status === 403 && /disabled/i.test(`${code} ${message}`)) throw new KeyVaultError(`${what} is disabled${message}`);
    if (res.status === 403) throw new KeyVaultError(`access to ${what} denied (403${code ? ` ${code}` : ''})${message}: grant the service principal 'get' on secrets in the vault's access policy`);
    if (res.status === 401) throw new KeyVaultError(`the Key Vault ${this.vaultUrl(vault)} rejected the token for ${this.audience} (401)${message}`);
    throw new KeyVaultError(`reading ${what} failed with ${res.status}${code ? ` ${code}` : ''}${message}`);
  }
}
