/**
 * Types of the shared storage module (see index.ts for the overview). Kept apart so the back ends can import them
 * without importing each other.
 */
import type { Readable } from 'node:stream';

/** The kinds of storage target. */
export type StorageKind = 'azure-blob' | 's3' | 'filesystem';

/** The storage kinds, in the order the inputs offer them. */
export const STORAGE_KINDS: readonly StorageKind[] = ['azure-blob', 's3', 'filesystem'];

/**
 * How an Azure Blob target authenticates. Hub blob storage has no Entra/ADFS data-plane auth: keys or SAS only. A
 * connection string is taken apart when the inputs are parsed: it arrives here as shared key or SAS, its
 * BlobEndpoint as the target's `accountUrl`.
 */
export type AzureBlobAuth =
  /** Shared key: the account name and one of its keys. */
  | { type: 'account-key'; accountName: string; accountKey: string }
  /** A SAS token (query string without the leading `?`). */
  | { type: 'sas'; sasToken: string }
  /**
   * A Hub ARM credential used ONLY to call `listKeys` on the storage account (then shared key). The key lister is
   * supplied at open time ({@link OpenStorageOptions.listKeys}), so this module holds no ARM client of its own.
   */
  | { type: 'arm-list-keys'; accountName: string; storageAccountId: string };

/** An Azure Blob Storage container (on another Hub, on Azure, or Azurite). */
export interface AzureBlobTarget {
  kind: 'azure-blob';
  /** Blob service endpoint without query string, e.g. `https://acct.blob.dallas.contoso.local` or `http://127.0.0.1:10000/devstoreaccount1`. */
  accountUrl: string;
  container: string;
  auth: AzureBlobAuth;
  /**
   * Storage REST API version sent as `x-ms-version` (Hubs accept only older versions, e.g. 2019-07-07), or
   * undefined to send the SDK's own version.
   */
  apiVersion?: string;
  /** Key prefix inside the container ('' or `a/b`, no leading/trailing slash). */
  prefix: string;
  /** Extra trusted CA certificates (PEM) for the endpoint. */
  ca?: string[];
  /** Attempts per request (1 = no retry). */
  maxTries: number;
}

/** An S3-compatible bucket (MinIO, Scality RING, Cloudian, ECS, Ceph RGW, AWS). */
export interface S3Target {
  kind: 's3';
  /** `https://s3.corp.local:9000` */
  endpoint: string;
  region: string;
  bucket: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need. */
  pathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /**
   * `when-required` (default): send/validate checksums only when the operation requires them — many S3-compatible
   * stores reject the SDK's default CRC32 headers. `always`: the SDK default (CRC32 on every upload).
   */
  checksums: 'when-required' | 'always';
  prefix: string;
  ca?: string[];
  maxTries: number;
}

/** A directory (typically an NFS mount). A path cannot tell which Hub it is on: the user declares `location`. */
export interface FilesystemTarget {
  kind: 'filesystem';
  /** Absolute path of the root directory. */
  path: string;
  /** Where the storage physically is: a site name from the sites file, or `off-hub`. */
  location: string;
  prefix: string;
}

/** A storage target, validated (see `parseStorageTarget`). */
export type StorageTarget = AzureBlobTarget | S3Target | FilesystemTarget;

/** One stored object. Keys are relative to the target's prefix and use `/`. */
export interface StorageObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** An upload that was started and never completed (S3 multipart upload; Azure uncommitted blob). */
export interface IncompleteUpload {
  key: string;
  /** S3 upload id; undefined for Azure uncommitted blobs (the service removes those itself after 7 days). */
  uploadId?: string;
  initiated?: Date;
  /** Whether {@link Storage.abortIncompleteUpload} can remove it. */
  abortable: boolean;
}

/** Options of {@link Storage.put}. */
export interface PutOptions {
  /** Called with the bytes uploaded so far. */
  onProgress?: (bytes: number) => void;
  contentType?: string;
  /** Expected size, when known (lets back ends pick a single request for small bodies). */
  size?: number;
}

/** What {@link Storage.put} stored. */
export interface PutResult {
  /** Bytes stored. */
  bytes: number;
  /** SHA-256 (hex) of the bytes stored, computed on the way. */
  sha256: string;
}

/**
 * One storage target: put a stream, get a stream, list, delete. Keys are relative to the target's prefix. Every
 * method throws {@link StorageError} (a StackHubError: one line, credentials and SAS never in it).
 */
export interface Storage {
  readonly kind: StorageKind;
  readonly target: StorageTarget;
  /**
   * Human-readable location of a key (or of the prefix): `https://acct.blob…/container/prefix/key`,
   * `s3://bucket/prefix/key (https://endpoint)`, or a path. Never holds a key or a SAS.
   */
  location(key?: string): string;
  /**
   * Streams `body` to `key`, hashing it on the way. Memory stays bounded (block/part buffers only). When the body
   * stream fails or the store fails, rejects and leaves no committed object under `key` for Azure/S3 (the store
   * never commits a partial upload) and no file for the filesystem (written to a temp name, then renamed).
   */
  put(key: string, body: Readable, opts?: PutOptions): Promise<PutResult>;
  /** Opens `key` for reading. Rejects with {@link StorageError} `notFound` when it does not exist. */
  get(key: string): Promise<{ stream: Readable; size: number }>;
  /** Size and time of `key`, or undefined when it does not exist. */
  stat(key: string): Promise<StorageObject | undefined>;
  /** Every object under `prefix` (recursively), keys relative to the target prefix, sorted by key. */
  list(prefix: string): Promise<StorageObject[]>;
  /** Deletes `key`; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Uploads started under `prefix` and never completed. */
  listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]>;
  /** Aborts an incomplete upload (S3: AbortMultipartUpload). No-op for non-abortable ones. */
  abortIncompleteUpload(upload: IncompleteUpload): Promise<void>;
  /** Releases sockets. */
  close(): Promise<void>;
}
