/**
 * The storage-target input fragment shared by every capability that keeps data off-Hub (Mongo backup, AKS Engine
 * state custody): `defs` (one set of InputDefs, so task.json / action.yml expose the same inputs everywhere), the
 * task editor `groups` they go in, and `parse` (storage-parse.ts), which validates everything, touches nothing (no
 * network, no writes) and returns a ready target: credentials taken apart, endpoint resolved, same-Hub location
 * known.
 */
import type { InputName } from '../../types';
import { defineInputs } from '../inputs';
import { DEFAULT_BLOB_API_VERSION, SDK_API_VERSION, parseStorageTarget } from './storage-parse';
import type { StorageKind } from './types';
import { STORAGE_KINDS } from './types';

export { DEFAULT_BLOB_API_VERSION, LIST_KEYS_API_VERSION, SDK_API_VERSION, parsePrefix, parseStorageTarget, storageWhere } from './storage-parse';
export type { ListKeysCredential, ParsedStorage, StorageWhere } from './storage-parse';

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

/** Options of {@link storageGroups}. */
export interface StorageGroupOptions {
  /** Group name, as in {@link StorageInputOptions.group} (default `storage`). */
  group?: string;
  /** Heading on the task form (default `Storage (off-Hub)`). */
  displayName?: string;
  /** Whether the group is open on the task form (default true). */
  isExpanded?: boolean;
}

/** The task editor group of the storage inputs (for a capability's `task.groups`). */
export function storageGroups(opts: StorageGroupOptions = {}): { name: string; displayName: string; isExpanded: boolean }[] {
  return [{ name: opts.group ?? 'storage', displayName: opts.displayName ?? 'Storage (off-Hub)', isExpanded: opts.isExpanded ?? true }];
}

/** The fragment's input definitions ({@link storageInputs}). */
export const defs = storageInputs;
/** The fragment's task editor groups ({@link storageGroups}). */
export const groups = storageGroups;
/** The fragment's parser ({@link parseStorageTarget}): a ready {@link ParsedStorage}. */
export const parse = parseStorageTarget;
