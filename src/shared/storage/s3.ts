/**
 * S3-compatible back end (@aws-sdk/client-s3 + lib-storage). Never the AWS default credential chain, region chain
 * or IMDS: every setting is passed explicitly. Checksums `when-required` by default, because many S3-compatible
 * stores (Scality RING, Cloudian, ECS) reject the SDK's default CRC32 headers.
 */
import type { Readable } from 'node:stream';
import {
  type S3ClientConfig,
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { HashMeter } from '../crypto';
import { createNet, type Net } from '../net';
import { storageError, StorageError } from './errors';
import type { IncompleteUpload, PutOptions, PutResult, S3Target, Storage, StorageObject } from './types';

const PART_SIZE = 8 * 1024 * 1024; // S3 parts are at least 5 MiB
const QUEUE = 4;

/**
 * The S3Client configuration for a target: explicit everything (exported for the tests). The agents come from
 * `net` (default: the environment's proxy): through the proxy unless NO_PROXY says otherwise, trusting the
 * target's CA on the endpoint's TLS also through a CONNECT tunnel.
 */
export function s3ClientConfig(t: S3Target, net: Net = createNet()): S3ClientConfig {
  const n = net.withCa(t.ca);
  const endpoint = new URL(t.endpoint);
  const as = (protocol: string): URL => Object.assign(new URL(endpoint.href), { protocol });
  return {
    endpoint: t.endpoint,
    region: t.region,
    forcePathStyle: t.pathStyle,
    credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey, sessionToken: t.sessionToken },
    requestChecksumCalculation: t.checksums === 'always' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    responseChecksumValidation: t.checksums === 'always' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    // 'auto' may probe IMDS for the region: never
    defaultsMode: 'standard',
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    useArnRegion: false,
    disableMultiregionAccessPoints: true,
    followRegionRedirects: false,
    maxAttempts: t.maxTries,
    requestHandler: {
      connectionTimeout: 30_000,
      requestTimeout: 300_000,
      httpAgent: n.agentFor(as('http:')),
      httpsAgent: n.agentFor(as('https:')),
    },
  };
}

/** Opens an S3 target. */
export function openS3(t: S3Target, net?: Net): Storage {
  // the SDK warns on stderr about Node 20 support in 2027 at client construction: not a message for pipeline users
  const quiet = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  let client: S3Client;
  try {
    client = new S3Client(s3ClientConfig(t, net));
  } finally {
    if (quiet === undefined) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    else process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = quiet;
  }
  const secrets = [t.secretAccessKey, t.sessionToken];
  const full = (key: string): string => [t.prefix, key].filter((s) => s !== '').join('/');
  const rel = (name: string): string => (t.prefix ? name.slice(t.prefix.length + 1) : name);
  const location = (key = ''): string => `s3://${t.bucket}/${full(key)}`.replace(/\/+$/, '') + ` (${t.endpoint})`;
  const fail = (e: unknown, what: string): StorageError => storageError(e, what, secrets);

  return {
    kind: 's3',
    target: t,
    location,
    async put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
      const meter = new HashMeter();
      let bodyError: unknown;
      body.once('error', (e) => {
        bodyError ??= e;
        meter.destroy(e);
      });
      const upload = new Upload({
        client,
        params: { Bucket: t.bucket, Key: full(key), Body: body.pipe(meter), ContentType: opts.contentType ?? 'application/octet-stream' },
        queueSize: QUEUE,
        partSize: PART_SIZE,
        // a failed multipart upload is aborted (parts removed); if the process dies instead, prune finds it
        leavePartsOnError: false,
      });
      upload.on('httpUploadProgress', (p) => {
        if (p.loaded !== undefined) opts.onProgress?.(p.loaded);
      });
      try {
        await upload.done();
      } catch (e) {
        if (bodyError) throw bodyError;
        throw fail(e, `upload to ${location(key)}`);
      }
      if (bodyError) throw bodyError;
      return { bytes: meter.bytes, sha256: meter.sha256 };
    },
    async get(key: string): Promise<{ stream: Readable; size: number }> {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: t.bucket, Key: full(key) }));
        return { stream: r.Body as Readable, size: r.ContentLength ?? 0 };
      } catch (e) {
        throw fail(e, `download of ${location(key)}`);
      }
    },
    async stat(key: string): Promise<StorageObject | undefined> {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: full(key) }));
        return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0) };
      } catch (e) {
        const err = fail(e, `reading properties of ${location(key)}`);
        if (err.notFound) return undefined;
        throw err;
      }
    },
    async list(prefix: string): Promise<StorageObject[]> {
      const out: StorageObject[] = [];
      let token: string | undefined;
      try {
        do {
          const r = await client.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: full(prefix), ContinuationToken: token }));
          for (const o of r.Contents ?? []) {
            if (o.Key) out.push({ key: rel(o.Key), size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
          }
          token = r.IsTruncated ? r.NextContinuationToken : undefined;
        } while (token);
      } catch (e) {
        throw fail(e, `listing ${location(prefix)}`);
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key: string): Promise<void> {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: full(key) }));
      } catch (e) {
        const err = fail(e, `deleting ${location(key)}`);
        if (!err.notFound) throw err;
      }
    },
    async listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]> {
      const out: IncompleteUpload[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      try {
        do {
          const r = await client.send(
            new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: full(prefix), KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
          );
          for (const u of r.Uploads ?? []) {
            if (u.Key && u.UploadId) out.push({ key: rel(u.Key), uploadId: u.UploadId, initiated: u.Initiated, abortable: true });
          }
          keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
          uploadIdMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
        } while (keyMarker);
      } catch (e) {
        throw fail(e, `listing incomplete multipart uploads under ${location(prefix)}`);
      }
      return out;
    },
    async abortIncompleteUpload(u: IncompleteUpload): Promise<void> {
      if (!u.abortable || !u.uploadId) return;
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: full(u.key), UploadId: u.uploadId }));
      } catch (e) {
        const err = fail(e, `aborting the multipart upload of ${location(u.key)}`);
        if (!err.notFound) throw err;
      }
    },
    async close(): Promise<void> {
      client.destroy();
    },
  };
}
