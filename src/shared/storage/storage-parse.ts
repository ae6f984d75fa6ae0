/**
 * The parser of the storage-target inputs (storage-inputs.ts holds their definitions). It returns a ready target:
 * a connection string taken apart into shared key or SAS with its blob endpoint, the listKeys credential as one Hub
 * connection, and where the target is (host or declared location, and the input that set it) for the same-Hub
 * guard — so that opening the storage and guarding it read no input text again.
 */
import * as path from 'node:path';
import type { InputReader, Platform } from '../../types';
import type { HubConnection } from '../azure-stack/credential';
import { resolveHubConnection } from '../azure-stack/hub-connection';
import { readCaFile } from '../ca';
import { InputError } from '../errors';
import { accountNameFromUrl, parseConnectionString } from './connection-string';
import type { StorageInputName } from './storage-inputs';
import type { AzureBlobAuth, AzureBlobTarget, FilesystemTarget, S3Target, StorageKind, StorageTarget } from './types';

/** Default `x-ms-version` for Azure Blob: accepted by Azure Stack Hub (2008 and later) and by Azure. */
export const DEFAULT_BLOB_API_VERSION = '2019-07-07';
/** `storageApiVersion` value that sends the SDK's own (latest) version. */
export const SDK_API_VERSION = 'sdk';
/** api-version of `Microsoft.Storage/storageAccounts/listKeys` on Hubs (profile 2020-09-01-hybrid). */
export const LIST_KEYS_API_VERSION = '2019-06-01';

/** A Hub ARM credential used only to call listKeys, as one Hub connection whatever input it came from. */
export interface ListKeysCredential {
  /** ARM id of the storage account. */
  storageAccountId: string;
  /** The Hub: an ADO service connection (`storageArmConnection` / `storageHubConnection`) or the GitHub/CLI inputs. */
  hub: HubConnection;
  /** The inputs that messages about the Hub's endpoint and tenant name. */
  inputs: { armEndpoint: string; tenant: string };
}

/**
 * Where a target is, resolved when the inputs are parsed: the host it talks to (Azure Blob, S3) or the location
 * declared for a filesystem, and the input a same-Hub refusal names.
 */
export type StorageWhere =
  | { host: string; input: 'storageAccountUrl' | 'storageConnectionString' | 's3Endpoint' }
  | { location: string; input: 'storageLocation' };

/** What {@link parseStorageTarget} returns: everything opening and guarding the storage needs. */
export interface ParsedStorage {
  target: StorageTarget;
  /** Set when the Azure Blob key must be fetched with listKeys. */
  listKeys?: ListKeysCredential;
  allowSameHub: boolean;
  /** Where the target is, for the same-Hub guard. */
  where: StorageWhere;
}

const STORAGE_ACCOUNT_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/([a-z0-9]{3,24})$/i;

/** Normalises a key prefix: no leading/trailing slash, no empty, `.` or `..` segments. */
export function parsePrefix(raw: string | undefined, input = 'storagePrefix'): string {
  const p = (raw ?? '').trim().replace(/\\/g, '/').replace(/^\/+|\/+$/g, '');
  if (p === '') return '';
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) throw new InputError(input, `expected segments separated by single slashes, got '${raw}'`);
  if ([...p].some((c) => c.charCodeAt(0) < 0x20)) throw new InputError(input, 'must not hold control characters');
  return p;
}

function httpUrl(raw: string, input: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InputError(input, `expected an http(s) URL, got '${raw}'`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new InputError(input, `expected an http(s) URL, got '${raw}'`);
  if (u.search || u.username || u.password) throw new InputError(input, 'expected a URL without query string or credentials (pass the SAS in storageSasToken)');
  return u;
}

/** The host name of a URL, without the brackets of an IPv6 literal. */
function hostOf(u: URL): string {
  return u.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Where a target built by hand is (a parsed one carries it already): its endpoint's host, or its declared
 * location. `input` is the input a same-Hub refusal names (default: the kind's endpoint input).
 */
export function storageWhere(t: StorageTarget, input?: 'storageAccountUrl' | 'storageConnectionString'): StorageWhere {
  if (t.kind === 'filesystem') return { location: t.location, input: 'storageLocation' };
  if (t.kind === 's3') return { host: hostOf(new URL(t.endpoint)), input: 's3Endpoint' };
  return { host: hostOf(new URL(t.accountUrl)), input: input ?? 'storageAccountUrl' };
}

/**
 * Parses the storage inputs (see `storageInputs`) into a ready target. Validates every input of the chosen kind
 * and rejects inputs of another kind that were set by mistake (e.g. s3Bucket with storageKind azure-blob). Secret
 * inputs are masked as they are read.
 *
 * @param platform for the ADO service connection input `storageArmConnection` (optional elsewhere).
 * @throws InputError naming the first wrong input.
 */
export function parseStorageTarget(read: InputReader<StorageInputName>, platform?: Platform): ParsedStorage {
  const kind = read.choice<StorageKind>('storageKind') ?? 'filesystem';
  const prefix = parsePrefix(read.string('storagePrefix'));
  const retries = read.number('storageRetries', { min: 1, max: 20, integer: true }) ?? 4;
  const caFile = read.filePath('storageCaCertificate');
  const ca = caFile ? readCaFile(caFile, 'storageCaCertificate') : undefined;
  const allowSameHub = read.boolean('allowSameHub');

  const azureNames: StorageInputName[] = ['storageAccountUrl', 'storageContainer', 'storageConnectionString', 'storageAccountName', 'storageAccountKey', 'storageSasToken', 'storageAccountResourceId', 'storageArmEndpoint', 'storageArmTenantId', 'storageArmClientId', 'storageArmClientSecret'];
  const s3Names: StorageInputName[] = ['s3Endpoint', 's3Bucket', 's3AccessKeyId', 's3SecretAccessKey'];
  const fsNames: StorageInputName[] = ['storagePath', 'storageLocation'];
  const foreign = (names: StorageInputName[]): void => {
    for (const n of names) {
      if (read.raw(n) !== undefined && read.raw(n) !== '') throw new InputError(n, `does not apply to storageKind ${kind}`);
    }
  };

  if (kind === 'filesystem') {
    foreign([...azureNames, ...s3Names]);
    const p = read.string('storagePath');
    if (!p) throw new InputError('storagePath', 'is required for storageKind filesystem');
    const location = read.string('storageLocation');
    if (!location) throw new InputError('storageLocation', "is required for storageKind filesystem: a site name, or 'off-hub'");
    if (!/^[a-z0-9][a-z0-9-]*$/.test(location)) throw new InputError('storageLocation', `expected a site name or 'off-hub', got '${location}'`);
    const target: FilesystemTarget = { kind, path: path.resolve(p), location, prefix };
    return { target, allowSameHub, where: { location, input: 'storageLocation' } };
  }

  if (kind === 's3') {
    foreign([...azureNames, ...fsNames]);
    const endpointRaw = read.string('s3Endpoint');
    if (!endpointRaw) throw new InputError('s3Endpoint', 'is required for storageKind s3 (never the AWS default endpoint)');
    const url = httpUrl(endpointRaw, 's3Endpoint');
    const endpoint = url.href.replace(/\/+$/, '');
    const region = read.string('s3Region') ?? 'us-east-1';
    if (!/^[a-z0-9-]{1,64}$/i.test(region)) throw new InputError('s3Region', `expected a region name such as us-east-1, got '${region}'`);
    const bucket = read.string('s3Bucket');
    if (!bucket) throw new InputError('s3Bucket', 'is required for storageKind s3');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new InputError('s3Bucket', `expected a bucket name (3-63 lower-case letters, digits, dots, dashes), got '${bucket}'`);
    const accessKeyId = read.secret('s3AccessKeyId');
    if (!accessKeyId) throw new InputError('s3AccessKeyId', 'is required for storageKind s3 (the AWS default credential chain is never used)');
    const secretAccessKey = read.secret('s3SecretAccessKey');
    if (!secretAccessKey) throw new InputError('s3SecretAccessKey', 'is required for storageKind s3');
    const target: S3Target = {
      kind,
      endpoint,
      region,
      bucket,
      pathStyle: read.boolean('s3PathStyle'),
      accessKeyId,
      secretAccessKey,
      checksums: read.choice<'when-required' | 'always'>('s3Checksums') ?? 'when-required',
      prefix,
      ca,
      maxTries: retries,
    };
    return { target, allowSameHub, where: { host: hostOf(url), input: 's3Endpoint' } };
  }

  // azure-blob
  foreign([...s3Names, ...fsNames]);
  const container = read.string('storageContainer');
  if (!container) throw new InputError('storageContainer', 'is required for storageKind azure-blob');
  if (!/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(container) && container !== '$root') {
    throw new InputError('storageContainer', `expected a container name (3-63 lower-case letters, digits, single dashes), got '${container}'`);
  }
  const apiRaw = read.string('storageApiVersion') ?? DEFAULT_BLOB_API_VERSION;
  if (apiRaw !== SDK_API_VERSION && !/^\d{4}-\d{2}-\d{2}$/.test(apiRaw)) {
    throw new InputError('storageApiVersion', `expected a date such as ${DEFAULT_BLOB_API_VERSION}, or '${SDK_API_VERSION}', got '${apiRaw}'`);
  }
  const apiVersion = apiRaw === SDK_API_VERSION ? undefined : apiRaw;
  const { auth, endpoint, listKeys } = parseBlobAccess(read, platform);
  const target: AzureBlobTarget = {
    kind: 'azure-blob',
    accountUrl: endpoint.raw.replace(/\/+$/, ''),
    container,
    auth,
    apiVersion,
    prefix,
    ca,
    maxTries: retries,
  };
  return { target, listKeys, allowSameHub, where: { host: hostOf(endpoint.url), input: endpoint.input } };
}

/** The endpoint and credential of an Azure Blob target (one of four ways, checked to be only one). */
function parseBlobAccess(
  read: InputReader<StorageInputName>,
  platform: Platform | undefined,
): { auth: AzureBlobAuth; endpoint: { raw: string; url: URL; input: 'storageAccountUrl' | 'storageConnectionString' }; listKeys?: ListKeysCredential } {
  const cs = read.secret('storageConnectionString');
  const key = read.secret('storageAccountKey');
  const sas = read.secret('storageSasToken');
  const resourceId = read.string('storageAccountResourceId');
  const armConn = platform ? resolveHubConnection(platform, 'storageArmConnection', 'storageHubConnection') : undefined;
  const armEndpoint = read.string('storageArmEndpoint');
  const armClientId = read.string('storageArmClientId');
  const armSecret = read.secret('storageArmClientSecret');
  const armTenant = read.string('storageArmTenantId');
  const armAny = !!(armConn || armEndpoint || armClientId || armSecret || armTenant);
  const given = [cs && 'storageConnectionString', key && 'storageAccountKey', sas && 'storageSasToken', (resourceId || armAny) && 'storageAccountResourceId'].filter(
    (x): x is string => !!x,
  );
  if (given.length === 0) {
    throw new InputError('storageConnectionString', 'storageKind azure-blob needs credentials: storageConnectionString, storageAccountKey, storageSasToken, or storageAccountResourceId with a Hub ARM credential');
  }
  if (given.length > 1) throw new InputError(given[1], `set only one of ${given.join(', ')}`);

  const accountUrl = read.string('storageAccountUrl');
  if (cs) {
    const p = parseConnectionString(cs);
    if (!p) throw new InputError('storageConnectionString', 'expected a storage connection string: AccountName=…;AccountKey=…;EndpointSuffix=… or BlobEndpoint=…;SharedAccessSignature=…');
    if (accountUrl && accountUrl.replace(/\/+$/, '') !== p.blobEndpoint) {
      throw new InputError('storageAccountUrl', 'differs from the BlobEndpoint of storageConnectionString: leave it empty');
    }
    return { auth: p.auth, endpoint: { raw: p.blobEndpoint, url: httpUrl(p.blobEndpoint, 'storageConnectionString'), input: 'storageConnectionString' } };
  }
  if (!accountUrl) throw new InputError('storageAccountUrl', 'is required for storageKind azure-blob unless storageConnectionString is used');
  const endpoint = { raw: accountUrl, url: httpUrl(accountUrl, 'storageAccountUrl'), input: 'storageAccountUrl' as const };
  if (key) {
    const accountName = read.string('storageAccountName') ?? accountNameFromUrl(accountUrl);
    if (!accountName) throw new InputError('storageAccountName', 'cannot be derived from storageAccountUrl: set it');
    if (!/^[a-z0-9]{3,24}$/.test(accountName)) throw new InputError('storageAccountName', `expected 3-24 lower-case letters and digits, got '${accountName}'`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key.trim())) throw new InputError('storageAccountKey', 'expected a base64 account key');
    return { auth: { type: 'account-key', accountName, accountKey: key.trim() }, endpoint };
  }
  if (sas) {
    const token = sas.trim().replace(/^\?/, '');
    if (!/(^|&)sig=/.test(token)) throw new InputError('storageSasToken', 'expected a SAS token (a query string with sv=…&sig=…)');
    return { auth: { type: 'sas', sasToken: token }, endpoint };
  }
  if (!resourceId) throw new InputError('storageAccountResourceId', 'is required with a Hub ARM credential (the storage account whose key listKeys returns)');
  const m = STORAGE_ACCOUNT_ID.exec(resourceId);
  if (!m) throw new InputError('storageAccountResourceId', 'expected /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<name>');
  let listKeys: ListKeysCredential;
  if (armConn) {
    listKeys = { storageAccountId: resourceId, hub: armConn, inputs: { armEndpoint: armConn.input, tenant: armConn.input } };
  } else {
    if (!armEndpoint) throw new InputError('storageArmEndpoint', 'is required with storageAccountResourceId (or, on Azure Pipelines, storageArmConnection)');
    httpUrl(armEndpoint, 'storageArmEndpoint');
    if (!armClientId) throw new InputError('storageArmClientId', 'is required with storageArmEndpoint');
    if (!armSecret) throw new InputError('storageArmClientSecret', 'is required with storageArmClientId');
    listKeys = {
      storageAccountId: resourceId,
      hub: { armEndpoint, tenantId: armTenant, auth: { kind: 'client_secret', clientId: armClientId, clientSecret: armSecret } },
      inputs: { armEndpoint: 'storageArmEndpoint', tenant: 'storageArmTenantId' },
    };
  }
  return { auth: { type: 'arm-list-keys', accountName: read.string('storageAccountName') ?? m[1].toLowerCase(), storageAccountId: resourceId }, endpoint, listKeys };
}
