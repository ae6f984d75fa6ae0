/**
 * Azure Stack Hub endpoint discovery: `GET {arm}/metadata/endpoints?api-version=2015-01-01`, and the
 * `customCloudProfile.environment` block that aks-engine-azurestack needs to run without fetching anything itself.
 */
import { InputError, oneLine } from '../errors';
import { redactUrl } from '../http';
import { send, withSlash, type HubHttpOptions } from './net';

/** The identity system a Hub was deployed with. */
export type IdentitySystem = 'azure_ad' | 'adfs';

/** What a Hub's metadata endpoint says, normalised. Every URL ends with exactly one `/`. */
export interface HubEndpoints {
  /** The ARM endpoint as configured, e.g. `https://management.local.azurestack.external/`. */
  resourceManager: string;
  /** `authentication.loginEndpoint`: `https://adfs.<region>.<fqdn>/adfs/` (ADFS) or e.g. `https://login.microsoftonline.com/`. */
  loginEndpoint: string;
  /** `authentication.audiences` as answered. */
  audiences: string[];
  /** `audiences[0]`: the token audience of the Hub's ARM (token scope = `audience + "/.default"`). */
  audience: string;
  /** `adfs` when the login endpoint ends in `/adfs/`, else `azure_ad`. */
  identitySystem: IdentitySystem;
  graph: string;
  portal: string;
  gallery: string;
  /** `<region>.<fqdn>`, from the portal endpoint `https://portal.<region>.<fqdn>/`, e.g. `local.azurestack.external`. */
  domain: string;
  /** The Hub's region (= its ARM `location`), e.g. `local`. */
  region: string;
  /** The external FQDN without the region, e.g. `azurestack.external`. */
  fqdn: string;
}

/**
 * `customCloudProfile.environment` of an aks-engine-azurestack apimodel (shape in the aks-engine NOTES). With every
 * field set, aks-engine never fetches the metadata endpoint itself and `generate` runs fully offline.
 */
export interface CustomCloudEnvironment {
  name: 'AzureStackCloud';
  managementPortalURL: string;
  serviceManagementEndpoint: string;
  resourceManagerEndpoint: string;
  activeDirectoryEndpoint: string;
  graphEndpoint: string;
  galleryEndpoint: string;
  storageEndpointSuffix: string;
  keyVaultDNSSuffix: string;
  resourceManagerVMDNSSuffix: string;
  tokenAudience: string;
}

/** The api-version of the metadata endpoint. */
export const METADATA_API_VERSION = '2015-01-01';

/**
 * Checks an ARM endpoint input synchronously (for a capability's parse step): must be an absolute `https://` URL
 * without credentials, query or fragment. Returns it normalised with one trailing slash.
 * @throws InputError naming `input`
 */
export function parseArmEndpoint(raw: string, input: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new InputError(input, `expected an https:// URL such as https://management.<region>.<fqdn>, got '${redactUrl(raw)}'`);
  }
  if (u.protocol !== 'https:') {
    throw new InputError(input, `expected an https:// URL (the Hub's ARM endpoint), got '${redactUrl(raw)}'`);
  }
  if (u.username || u.password || u.search || u.hash) {
    throw new InputError(input, `expected a plain https:// URL without credentials, query or fragment, got '${redactUrl(raw)}'`);
  }
  return withSlash(u.href);
}

interface MetadataAnswer {
  galleryEndpoint?: unknown;
  graphEndpoint?: unknown;
  portalEndpoint?: unknown;
  authentication?: { loginEndpoint?: unknown; audiences?: unknown };
}

const httpsUrl = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' ? withSlash(u.href) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Interprets a metadata answer. Exported for tests and for callers that already hold the document.
 * @throws InputError naming `input` when the answer is not an Azure Stack Hub's (public Azure answers with the same
 *   keys, but its portal is `portal.azure.com`, not `portal.<region>.<fqdn>`)
 */
export function parseMetadata(armEndpoint: string, doc: unknown, input: string): HubEndpoints {
  const where = `${withSlash(armEndpoint)}metadata/endpoints`;
  const bad = (why: string): InputError => new InputError(input, `${where} is not an Azure Stack Hub metadata answer: ${why}`);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('expected a JSON object');
  const m = doc as MetadataAnswer;
  const loginEndpoint = httpsUrl(m.authentication?.loginEndpoint);
  if (!loginEndpoint) throw bad('authentication.loginEndpoint is missing or not an https URL');
  const audiences = m.authentication?.audiences;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a !== '')) {
    throw bad('authentication.audiences is missing or empty');
  }
  const portal = httpsUrl(m.portalEndpoint);
  const graph = httpsUrl(m.graphEndpoint);
  const gallery = httpsUrl(m.galleryEndpoint);
  if (!portal) throw bad('portalEndpoint is missing or not an https URL');
  if (!graph) throw bad('graphEndpoint is missing or not an https URL');
  if (!gallery) throw bad('galleryEndpoint is missing or not an https URL');
  const portalHost = new URL(portal).hostname.toLowerCase();
  const labels = portalHost.split('.');
  if (labels[0] !== 'portal' || labels.length < 4) {
    throw bad(`portalEndpoint ${portal} is not https://portal.<region>.<fqdn>/ (public Azure answers with portal.azure.com)`);
  }
  const region = labels[1];
  const fqdn = labels.slice(2).join('.');
  return {
    resourceManager: withSlash(armEndpoint),
    loginEndpoint,
    audiences: audiences as string[],
    audience: (audiences as string[])[0],
    identitySystem: /\/adfs\/$/i.test(loginEndpoint) ? 'adfs' : 'azure_ad',
    graph,
    portal,
    gallery,
    domain: `${region}.${fqdn}`,
    region,
    fqdn,
  };
}

/**
 * Discovers a Hub's endpoints from its ARM endpoint. Contacts only `{armEndpoint}metadata/endpoints` (through the
 * proxy/CA of `opts`), with up to 3 attempts for network errors and 5xx.
 * @param armEndpoint the Hub's ARM endpoint (checked with {@link parseArmEndpoint})
 * @param opts.input the name of the caller's input holding the ARM endpoint: every error names it
 * @throws InputError naming `opts.input` for a non-https endpoint, an unreachable endpoint, a non-200 answer, or an
 *   answer that is not an Azure Stack Hub's
 */
export async function discoverHub(armEndpoint: string, opts: { input: string; http?: HubHttpOptions }): Promise<HubEndpoints> {
  const arm = parseArmEndpoint(armEndpoint, opts.input);
  const url = `${arm}metadata/endpoints?api-version=${METADATA_API_VERSION}`;
  const http = opts.http ?? {};
  const sleep = http.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (attempt > 1) await sleep(500 * 2 ** (attempt - 2));
    let res;
    try {
      res = await send(http, { method: 'GET', url, headers: { accept: 'application/json' } });
    } catch (e) {
      last = oneLine(e);
      // a certificate that is not trusted will not become trusted on a second try
      if (/not trusted|TLS handshake/.test(last)) break;
      continue;
    }
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      last = `answered ${res.status}`;
      continue;
    }
    if (res.status !== 200) {
      throw new InputError(opts.input, `${arm}metadata/endpoints answered ${res.status}: not an Azure Stack Hub ARM endpoint`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new InputError(opts.input, `${arm}metadata/endpoints is not an Azure Stack Hub metadata answer: not JSON`);
    }
    return parseMetadata(arm, doc, opts.input);
  }
  throw new InputError(opts.input, `cannot reach the Hub metadata endpoint ${arm}metadata/endpoints: ${last.replace(/^GET \S+ /, '')}`);
}

/**
 * Builds `customCloudProfile.environment` for aks-engine-azurestack from discovered endpoints (see NOTES.md of the
 * aks-engine reference): `activeDirectoryEndpoint` is the login endpoint without its `adfs/` path,
 * `serviceManagementEndpoint` and `tokenAudience` are `audiences[0]`, suffixes come from `<region>.<fqdn>`.
 */
export function customCloudEnvironment(e: HubEndpoints): CustomCloudEnvironment {
  return {
    name: 'AzureStackCloud',
    managementPortalURL: e.portal,
    serviceManagementEndpoint: e.audience,
    resourceManagerEndpoint: e.resourceManager,
    activeDirectoryEndpoint: e.loginEndpoint.replace(/adfs\/$/i, ''),
    graphEndpoint: e.graph,
    galleryEndpoint: e.gallery,
    storageEndpointSuffix: e.domain,
    keyVaultDNSSuffix: `vault.${e.domain}`,
    resourceManagerVMDNSSuffix: `cloudapp.${e.fqdn}`,
    tokenAudience: e.audience,
  };
}
