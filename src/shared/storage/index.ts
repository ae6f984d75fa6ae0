/**
 * Off-Hub storage shared by Mongo backup and AKS Engine state custody: ONE implementation of "put a stream, get a
 * stream, list, delete, write a manifest last" for three kinds of target.
 *
 * - `azure-blob` — a storage account on ANOTHER Hub (or on Azure, or Azurite): connection string, account key or
 *   SAS (secrets), or a Hub ARM credential used only to call `listKeys` (Hub blob storage has no Entra/ADFS
 *   data-plane auth). `storageApiVersion` forces `x-ms-version` (Hubs accept only older versions).
 * - `s3` — S3-compatible: endpoint, region, bucket, path style, keys as secrets; checksums `when-required` by
 *   default; never the AWS default credential chain, region chain or IMDS.
 * - `filesystem` — a directory (NFS mount) whose `location` (a site name or `off-hub`) the user declares.
 *
 * Typical use (a capability's `parse` and `run`):
 * ```ts
 * // inputs: [...storageInputs(), ...encryptionInputs({ writes: true, reads: true })]
 * const storage = parseStorageTarget(read, platform);          // InputError naming the input; no I/O
 * const enc = parseEncryption(read, { write: true }, platform.mask);
 * guardSameHub(storage, site, ctx.log);                        // refuses a target on the protected Hub
 * const store = await openStorage(storage, { mask: ctx.mask }); // (listKeys happens here when configured)
 * const w = new SetWriter(store, joinKey(site.name, 'cluster', `${compactTime(new Date())}-${shortId()}`), { encryption: enc.write! });
 * await w.put('state.tar.gz.age', tarStream);                  // age → SHA-256 → store, streamed
 * const manifest = await w.commit({ kind: 'aks-engine-state', id, site: site.name, data: {...} }, enc.signingKey);
 * // reading back:
 * const m = await readManifest(store, dir); verifyManifest(m, enc.verifyKey, `state ${m.id}`);
 * await downloadVerified(store, dir, m.objects[0], file, { identities: enc.identities }); // size + SHA-256 + age
 * const plain = await openPlaintext(file, m.objects[0], enc.identities);
 * ```
 * The Hub ARM `listKeys` path uses the shared Azure Stack Hub client (src/shared/azure-stack).
 */
import type { Logger, ProxySettings } from '../../types';
import { InputError } from '../errors';
import { createNet, type Net } from '../net';
import { sameHubReason, type Site } from '../sites';
import { StorageError } from './errors';
import { LIST_KEYS_API_VERSION, storageWhere, type ListKeysCredential, type ParsedStorage, type StorageWhere } from './storage-inputs';
import type { Storage, StorageTarget } from './types';

export * from './types';
export { StorageError, scrubMessage } from './errors';
export {
  storageInputs,
  storageGroups,
  parseStorageTarget,
  parsePrefix,
  storageWhere,
  DEFAULT_BLOB_API_VERSION,
  SDK_API_VERSION,
  LIST_KEYS_API_VERSION,
  type StorageInputOptions,
  type StorageGroupOptions,
  type ParsedStorage,
  type ListKeysCredential,
  type StorageWhere,
} from './storage-inputs';
/** The storage input fragment: `{ defs, groups, parse }` (storage-inputs.ts). */
export * as storageFragment from './storage-inputs';
export { encryptionInputs, parseEncryption, type WriteEncryption, type EncryptionInputOptions, type ParsedEncryption } from './inputs';
export * from './sets';
export { downloadToVerifiedCopy, type VerifiedCopy, type VerifiedCopyOptions } from './verified-copy';
export { parseConnectionString, accountNameFromUrl, type ConnectionStringParts } from './connection-string';

/**
 * Fetches the key of a storage account with a Hub ARM credential (only `listKeys`). The default implementation
 * uses src/shared/azure-stack; tests and callers with their own ARM session may pass another.
 */
export type ListKeys = (cred: ListKeysCredential, target: StorageTarget) => Promise<string>;

/** Options of {@link openStorage}. */
export interface OpenStorageOptions {
  /** Registers secrets found at run time (the listKeys key, ARM tokens). */
  mask?: (secret: string) => void;
  /**
   * The run's network (`ctx.net`): proxy and CAs for the storage SDK and the ARM calls alike. Default: the
   * environment's proxy (HTTPS_PROXY/NO_PROXY) and the target's CA.
   */
  net?: Net;
  /** @deprecated pass `net`. Proxy for a URL, used when `net` is not given. */
  proxyFor?: (url: URL) => ProxySettings | undefined;
  /** Replaces the default listKeys implementation. */
  listKeys?: ListKeys;
}

/**
 * Loads a module of this package on first use (a plain `require`, which the bundler keeps lazy: the SDK behind a
 * back end is initialised only when that back end is opened).
 */
function lazy<T>(id: './filesystem' | './s3' | './azure-blob' | '../azure-stack'): T {
  switch (id) {
    // literal requires, so that the bundler sees them
    case './filesystem':
      return require('./filesystem') as T; // eslint-disable-line @typescript-eslint/no-require-imports -- synchronous lazy load: only the chosen backend's SDK is parsed
    case './s3':
      return require('./s3') as T; // eslint-disable-line @typescript-eslint/no-require-imports -- synchronous lazy load: only the chosen backend's SDK is parsed
    case './azure-blob':
      return require('./azure-blob') as T; // eslint-disable-line @typescript-eslint/no-require-imports -- synchronous lazy load: only the chosen backend's SDK is parsed
    case '../azure-stack':
      return require('../azure-stack') as T; // eslint-disable-line @typescript-eslint/no-require-imports -- synchronous lazy load: only the chosen backend's SDK is parsed
  }
}

/** The network for a target: `opts.net` (or the environment's) trusting the target's CA too. */
function storageNet(t: StorageTarget, opts: OpenStorageOptions): Net {
  const base = opts.net ?? (opts.proxyFor ? createNet({ agentProxy: (u) => opts.proxyFor!(new URL(u)) }) : createNet());
  return base.withCa(t.kind === 'filesystem' ? undefined : t.ca);
}

/** Default listKeys: discovers the Hub, gets a token (ADFS or Azure AD), POSTs listKeys, returns key1. */
async function defaultListKeys(cred: ListKeysCredential, target: StorageTarget, opts: OpenStorageOptions): Promise<string> {
  const hub = lazy<typeof import('../azure-stack')>('../azure-stack');
  const conn = cred.hub;
  const http = storageNet(target, opts).withCa(conn.caCertificates).http();
  const session = await hub.connectHub({
    armEndpoint: conn.armEndpoint,
    armEndpointInput: cred.inputs.armEndpoint,
    auth: conn.auth,
    tenantId: conn.tenantId,
    tenantInput: cred.inputs.tenant,
    http,
    onToken: opts.mask,
  });
  const res = await session.arm.request<{ keys?: { keyName?: string; value?: string }[] }>('POST', `${cred.storageAccountId}/listKeys`, {
    apiVersion: LIST_KEYS_API_VERSION,
  });
  const key = res.body?.keys?.find((k) => typeof k.value === 'string' && k.value)?.value;
  if (!key) throw new StorageError(`listKeys of ${cred.storageAccountId} returned no key`);
  return key;
}

/**
 * Opens a parsed target. For `arm-list-keys` auth, fetches the account key first (one ARM call, key masked).
 * No other network call happens until the first operation. The SDK of the kind is loaded only here, so that
 * parsing inputs (and every other capability of the CLI) never pays for loading it.
 */
export async function openStorage(parsed: ParsedStorage | StorageTarget, opts: OpenStorageOptions = {}): Promise<Storage> {
  const t = 'target' in parsed ? parsed.target : parsed;
  switch (t.kind) {
    case 'filesystem':
      return lazy<typeof import('./filesystem')>('./filesystem').openFilesystem(t);
    case 's3':
      return lazy<typeof import('./s3')>('./s3').openS3(t, storageNet(t, opts));
    case 'azure-blob': {
      const { openAzureBlob } = lazy<typeof import('./azure-blob')>('./azure-blob');
      if (t.auth.type !== 'arm-list-keys') return openAzureBlob(t, undefined, storageNet(t, opts));
      const cred = 'target' in parsed ? parsed.listKeys : undefined;
      if (!cred) throw new Error('bug: arm-list-keys without credential');
      const key = await (opts.listKeys ? opts.listKeys(cred, t) : defaultListKeys(cred, t, opts));
      opts.mask?.(key);
      return openAzureBlob(t, key, storageNet(t, opts));
    }
  }
}

/**
 * Why a target at `where` (see {@link ParsedStorage.where}; {@link storageWhere} for a target built by hand) would be
 * on the Hub of `site`, or undefined when it is not: a host under the Hub's domain or its `cloudapp` subdomain, an IP
 * in the Hub's ranges (src/shared/sites.ts `sameHubReason`), or a filesystem declared on that site.
 */
export function sameHubProblem(where: StorageWhere | StorageTarget, site: Site): string | undefined {
  const w = 'kind' in where ? storageWhere(where) : where;
  if ('location' in w) return w.location === site.name ? `the filesystem target is declared on site ${site.name} (storageLocation)` : undefined;
  return sameHubReason(w.host, site);
}

/**
 * The same-Hub guard: refuses a target on the protected site's Hub with an InputError naming the target's input,
 * unless `allowSameHub` is set — then returns the warning (and logs it to `log` when given). It does no I/O: run it
 * once, in `parse` when the site is known there (keep the returned warning for `run` to log), else in `run` before
 * the first write.
 */
export function guardSameHub(parsed: Pick<ParsedStorage, 'where' | 'allowSameHub'>, site: Site | undefined, log?: Pick<Logger, 'warning'>): string | undefined {
  if (!site) return undefined;
  const why = sameHubProblem(parsed.where, site);
  if (!why) return undefined;
  if (!parsed.allowSameHub) {
    throw new InputError(parsed.where.input, `storage on the Hub it protects is refused: ${why} (set allowSameHub: true to accept the risk)`);
  }
  const warning = `storage is on the Hub it protects (${why}); allowed by allowSameHub — losing that Hub loses the data AND its copy`;
  log?.warning(warning);
  return warning;
}
