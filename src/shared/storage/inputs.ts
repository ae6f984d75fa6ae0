/**
 * The storage-target, encryption and signing inputs shared by every capability that keeps data off-Hub (Mongo backup,
 * AKS Engine state custody): one set of InputDefs (so task.json / action.yml expose the same inputs everywhere) and
 * their parsers. Parsing validates everything and touches nothing (no network, no writes). The encryption and
 * signing fragment is in src/shared/crypto/inputs.ts (re-exported below).
 */
import * as path from 'node:path';
import type { InputName, InputReader, Platform } from '../../types';
import { resolveHubConnection, type ResolvedHubConnection } from '../azure-stack/hub-connection';
import { readCaFile } from '../ca';
import { InputError } from '../errors';
import { accountNameFromUrl, parseConnectionString } from './connection-string';
import type { AzureBlobAuth, AzureBlobTarget, FilesystemTarget, S3Target, StorageKind, StorageTarget } from './types';
import { STORAGE_KINDS } from './types';
import { defineInputs } from '../inputs';

/** Default `x-ms-version` for Azure Blob: accepted by Azure Stack Hub (2008 and later) and by Azure. */
export const DEFAULT_BLOB_API_VERSION = '2019-07-07';
/** `storageApiVersion` value that sends the SDK's own (latest) version. */
export const SDK_API_VERSION = 'sdk';
/** api-version of `Microsoft.Storage/storageAccounts/listKeys` on Hubs (profile 2020-09-01-hybrid). */
export const LIST_KEYS_API_VERSION = '2019-06-01';

/** Options of {@link storageInputs}. */
export interface StorageInputOptions {
  /** Task editor group of the storage inputs (default `storage`). */
  group?: string;
  /** Default of `storageKind` (default `filesystem`, the embedded default for trying it out). */
  defaultKind?: StorageKind;
  /** Wording of what is stored, for help texts (default `backups`). */
  what?: string;
}

/**
 * The storage-target inputs. Names are the same in every capability: storageKind, storagePrefix, storagePath,
 * storageLocation, storageAccountUrl, storageContainer, storageConnectionString, storageAccountName,
 * storageAccountKey, storageSasToken, storageApiVersion, storageAccountResourceId, storageArmConnection (ADO) /
 * storageArmEndpoint + storageArmTenantId + storageArmClientId + storageArmClientSecret (GitHub, CLI), s3Endpoint,
 * s3Region, s3Bucket, s3PathStyle, s3AccessKeyId, s3SecretAccessKey, s3Checksums, storageCaCertificate,
 * storageRetries, allowSameHub.
 */
export function storageInputs(opts: StorageInputOptions = {}) {
  const group = opts.group ?? 'storage';
  const what = opts.what ?? 'backups';
  const az = 'storageKind = azure-blob';
  const s3 = 'storageKind = s3';
  return defineInputs([
    {
      name: 'storageKind',
      label: 'Storage kind',
      type: 'pickList',
      options: STORAGE_KINDS,
      default: opts.defaultKind ?? 'filesystem',
      group,
      help: `Where ${what} are kept: \`azure-blob\` (a storage account on ANOTHER Hub or on Azure), \`s3\` (an S3-compatible store) or \`filesystem\` (an NFS mount). Never on the Hub whose data they protect (see allowSameHub).`,
    },
    {
      name: 'storagePrefix',
      label: 'Key prefix',
      type: 'string',
      group,
      help: `Prefix of every object, e.g. \`${what}/ratings\` (no leading or trailing slash).`,
    },
    {
      name: 'storagePath',
      label: 'Filesystem path',
      type: 'string',
      group,
      visibleRule: 'storageKind = filesystem',
      help: 'Root directory (an NFS mount) for storageKind filesystem.',
    },
    {
      name: 'storageLocation',
      label: 'Filesystem location',
      type: 'string',
      group,
      visibleRule: 'storageKind = filesystem',
      help: 'Where the filesystem physically is: a site name from the sites file, or `off-hub`. A path cannot tell which Hub it is on, so you declare it; a target declared on the site being protected is refused (see allowSameHub).',
    },
    {
      name: 'storageAccountUrl',
      label: 'Blob endpoint',
      type: 'string',
      group,
      visibleRule: az,
      help: 'Blob service endpoint, e.g. `https://backups.blob.dallas.contoso.local`. Taken from the connection string when that is used.',
    },
    {
      name: 'storageContainer',
      label: 'Container',
      type: 'string',
      group,
      visibleRule: az,
      help: 'Blob container name (it must exist).',
    },
    {
      name: 'storageConnectionString',
      label: 'Connection string',
      type: 'secret',
      group,
      visibleRule: az,
      help: 'Storage connection string (AccountName + AccountKey, or BlobEndpoint + SharedAccessSignature). One of storageConnectionString, storageAccountKey, storageSasToken or a Hub ARM credential.',
    },
    {
      name: 'storageAccountName',
      label: 'Account name',
      type: 'string',
      group,
      visibleRule: az,
      help: 'Storage account name for storageAccountKey (default: the first label of the endpoint host, or its first path segment for an IP endpoint).',
    },
    {
      name: 'storageAccountKey',
      label: 'Account key',
      type: 'secret',
      group,
      visibleRule: az,
      help: 'Storage account key (shared key).',
    },
    {
      name: 'storageSasToken',
      label: 'SAS token',
      type: 'secret',
      group,
      visibleRule: az,
      help: 'A container SAS token (query string). Needs read, write, list and delete (delete for prune).',
    },
    {
      name: 'storageApiVersion',
      label: 'Storage REST API version',
      type: 'string',
      default: DEFAULT_BLOB_API_VERSION,
      group,
      visibleRule: az,
      help: `x-ms-version sent to Blob storage. Azure Stack Hub accepts only older versions (${DEFAULT_BLOB_API_VERSION} works on Hub 2008 and later); \`${SDK_API_VERSION}\` sends the SDK's own version (Azure only).`,
    },
    {
      name: 'storageAccountResourceId',
      label: 'Storage account resource id',
      type: 'string',
      group,
      visibleRule: az,
      help: 'ARM id of a storage account on another Hub (`/subscriptions/…/resourceGroups/…/providers/Microsoft.Storage/storageAccounts/<name>`): with a Hub ARM credential, its key is fetched with listKeys (the only ARM call), then used as shared key.',
    },
    {
      name: 'storageArmConnection',
      label: 'Hub ARM connection (listKeys)',
      type: 'azureRmConnection',
      group,
      visibleRule: az,
      channels: ['azure-pipelines'],
      help: 'Azure Resource Manager service connection (environment AzureStack) of the Hub holding the storage account; used only to call listKeys.',
    },
    {
      name: 'storageHubConnection',
      label: 'Azure Stack Hub connection (listKeys)',
      type: 'azureStackHubConnection',
      group,
      visibleRule: az,
      channels: ['azure-pipelines'],
      help: 'An "Azure Stack Hub" service connection (this extension\'s type) of the Hub holding the storage account, instead of storageArmConnection; used only to call listKeys. Its root CA, if set, is trusted for that call.',
    },
    {
      name: 'storageArmEndpoint',
      label: 'Hub ARM endpoint (listKeys)',
      type: 'string',
      group,
      channels: ['github-actions', 'cli'],
      help: 'ARM endpoint of the Hub holding the storage account, e.g. `https://management.dallas.contoso.local`; with storageArmClientId/Secret, used only to call listKeys.',
    },
    {
      name: 'storageArmTenantId',
      label: 'Hub ARM tenant (listKeys)',
      type: 'string',
      group,
      channels: ['github-actions', 'cli'],
      help: 'Directory (tenant) id for an Azure AD Hub; empty for an ADFS Hub.',
    },
    {
      name: 'storageArmClientId',
      label: 'Hub ARM client id (listKeys)',
      type: 'string',
      group,
      channels: ['github-actions', 'cli'],
      help: 'Service principal (application) id allowed to call listKeys on the storage account.',
    },
    {
      name: 'storageArmClientSecret',
      label: 'Hub ARM client secret (listKeys)',
      type: 'secret',
      group,
      channels: ['github-actions', 'cli'],
      help: 'Secret of storageArmClientId.',
    },
    {
      name: 's3Endpoint',
      label: 'S3 endpoint',
      type: 'string',
      group,
      visibleRule: s3,
      help: 'S3-compatible endpoint, e.g. `https://s3.corp.local:9000`.',
    },
    {
      name: 's3Region',
      label: 'S3 region',
      type: 'string',
      default: 'us-east-1',
      group,
      visibleRule: s3,
      help: 'Region name used for request signing.',
    },
    { name: 's3Bucket', label: 'S3 bucket', type: 'string', group, visibleRule: s3, help: 'Bucket name (it must exist).' },
    {
      name: 's3PathStyle',
      label: 'Path-style addressing',
      type: 'boolean',
      default: 'true',
      group,
      visibleRule: s3,
      help: 'Address objects as `endpoint/bucket/key` (most S3-compatible stores need this) instead of `bucket.endpoint/key`.',
    },
    { name: 's3AccessKeyId', label: 'S3 access key id', type: 'secret', group, visibleRule: s3, help: 'Access key id. Never taken from the environment or ~/.aws.' },
    { name: 's3SecretAccessKey', label: 'S3 secret access key', type: 'secret', group, visibleRule: s3, help: 'Secret access key.' },
    {
      name: 's3Checksums',
      label: 'S3 checksums',
      type: 'pickList',
      options: ['when-required', 'always'],
      default: 'when-required',
      group,
      visibleRule: s3,
      help: '`when-required` sends checksum headers only where S3 requires them (many S3-compatible stores — Scality RING, Cloudian, ECS — reject the SDK default CRC32); `always` is the SDK default. The stored object is verified by its SHA-256 either way.',
    },
    {
      name: 'storageCaCertificate',
      label: 'Storage CA certificate (PEM)',
      type: 'filePath',
      group,
      help: 'PEM file of the CA that signed the storage endpoint\'s certificate (Azure Blob, S3, Hub ARM).',
    },
    {
      name: 'storageRetries',
      label: 'Storage attempts',
      type: 'number',
      default: '4',
      group,
      help: 'Attempts per storage request before giving up (1 = no retry).',
    },
    {
      name: 'allowSameHub',
      label: 'Allow storage on the same Hub',
      type: 'boolean',
      default: 'false',
      group,
      help: 'Allow a storage target on the Hub whose data is protected (refused by default: losing that Hub would lose the data and its copy). Logs a warning.',
    },
  ]);
}

/** The names of the storage inputs. */
export type StorageInputName = InputName<ReturnType<typeof storageInputs>>;

/** A Hub ARM credential used only to call listKeys. */
export interface ListKeysCredential {
  /** ARM id of the storage account. */
  storageAccountId: string;
  /** From the ADO service connection (`storageArmConnection`). */
  connection?: import('../../types').AzureRmConnection;
  /** From either ADO connection (`storageArmConnection` or `storageHubConnection`), checked at parse time. */
  hub?: ResolvedHubConnection;
  /** From GitHub/CLI inputs. */
  armEndpoint?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
}

/** What {@link parseStorageTarget} returns. */
export interface ParsedStorage {
  target: StorageTarget;
  /** Set when the Azure Blob key must be fetched with listKeys. */
  listKeys?: ListKeysCredential;
  allowSameHub: boolean;
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

/**
 * Parses the storage inputs (see {@link storageInputs}) into a target. Validates every input of the chosen kind and
 * rejects inputs of another kind that were set by mistake (e.g. s3Bucket with storageKind azure-blob). Secret
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
    return { target, allowSameHub };
  }

  if (kind === 's3') {
    foreign([...azureNames, ...fsNames]);
    const endpointRaw = read.string('s3Endpoint');
    if (!endpointRaw) throw new InputError('s3Endpoint', 'is required for storageKind s3 (never the AWS default endpoint)');
    const endpoint = httpUrl(endpointRaw, 's3Endpoint').href.replace(/\/+$/, '');
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
    return { target, allowSameHub };
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

  let accountUrl = read.string('storageAccountUrl');
  let auth: AzureBlobAuth;
  let listKeys: ListKeysCredential | undefined;
  if (cs) {
    const p = parseConnectionString(cs);
    if (!p) throw new InputError('storageConnectionString', 'expected a storage connection string: AccountName=…;AccountKey=…;EndpointSuffix=… or BlobEndpoint=…;SharedAccessSignature=…');
    if (accountUrl && accountUrl.replace(/\/+$/, '') !== p.blobEndpoint) {
      throw new InputError('storageAccountUrl', 'differs from the BlobEndpoint of storageConnectionString: leave it empty');
    }
    httpUrl(p.blobEndpoint!, 'storageConnectionString');
    accountUrl = p.blobEndpoint;
    auth = { type: 'connection-string', connectionString: cs };
  } else {
    if (!accountUrl) throw new InputError('storageAccountUrl', 'is required for storageKind azure-blob unless storageConnectionString is used');
    httpUrl(accountUrl, 'storageAccountUrl');
    if (key) {
      const accountName = read.string('storageAccountName') ?? accountNameFromUrl(accountUrl);
      if (!accountName) throw new InputError('storageAccountName', 'cannot be derived from storageAccountUrl: set it');
      if (!/^[a-z0-9]{3,24}$/.test(accountName)) throw new InputError('storageAccountName', `expected 3-24 lower-case letters and digits, got '${accountName}'`);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key.trim())) throw new InputError('storageAccountKey', 'expected a base64 account key');
      auth = { type: 'account-key', accountName, accountKey: key.trim() };
    } else if (sas) {
      const token = sas.trim().replace(/^\?/, '');
      if (!/(^|&)sig=/.test(token)) throw new InputError('storageSasToken', 'expected a SAS token (a query string with sv=…&sig=…)');
      auth = { type: 'sas', sasToken: token };
    } else {
      if (!resourceId) throw new InputError('storageAccountResourceId', 'is required with a Hub ARM credential (the storage account whose key listKeys returns)');
      const m = STORAGE_ACCOUNT_ID.exec(resourceId);
      if (!m) throw new InputError('storageAccountResourceId', 'expected /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Storage/storageAccounts/<name>');
      if (armConn) {
        listKeys = { storageAccountId: resourceId, hub: armConn };
      } else {
        if (!armEndpoint) throw new InputError('storageArmEndpoint', 'is required with storageAccountResourceId (or, on Azure Pipelines, storageArmConnection)');
        httpUrl(armEndpoint, 'storageArmEndpoint');
        if (!armClientId) throw new InputError('storageArmClientId', 'is required with storageArmEndpoint');
        if (!armSecret) throw new InputError('storageArmClientSecret', 'is required with storageArmClientId');
        listKeys = { storageAccountId: resourceId, armEndpoint, tenantId: armTenant, clientId: armClientId, clientSecret: armSecret };
      }
      auth = { type: 'arm-list-keys', accountName: read.string('storageAccountName') ?? m[1].toLowerCase(), storageAccountId: resourceId };
    }
  }
  const target: AzureBlobTarget = {
    kind: 'azure-blob',
    accountUrl: accountUrl!.replace(/\/+$/, ''),
    container,
    auth,
    apiVersion,
    prefix,
    ca,
    maxTries: retries,
  };
  return { target, listKeys, allowSameHub };
}

// ------------------------------------------------------------------------------------------------ encryption

// The encryption and signing fragment is its own module (src/shared/crypto/inputs.ts); re-exported for the files that
// import it from here.
export {
  encryptionInputs,
  parseEncryption,
  type WriteEncryption,
  type EncryptionInputOptions,
  type ParsedEncryption,
  type EncryptionInputName,
} from '../crypto/inputs';
