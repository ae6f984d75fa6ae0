/**
 * Azure Blob back end (@azure/storage-blob): shared key or SAS (a connection string arrives taken apart into one of
 * them, see AzureBlobAuth) — Hub blob storage has no Entra/ADFS data-plane auth. The REST API version is forced
 * with a request policy placed before signing (the SDK has no option for it and Hubs reject its default version);
 * so is an extra CA.
 */
import type * as http from 'node:http';
import type { Readable } from 'node:stream';
import {
  AnonymousCredential,
  ContainerClient,
  newPipeline,
  StorageSharedKeyCredential,
  type Pipeline,
} from '@azure/storage-blob';
import { HashMeter } from '../crypto';
import { createNet, type Net } from '../net';
import { storageError, StorageError } from './errors';
import type { AzureBlobTarget, IncompleteUpload, PutOptions, PutResult, Storage, StorageObject } from './types';

/**
 * A downlevel request policy: forces x-ms-version (before the Sign phase, so shared key signs it) and the agent
 * of the run's network for every request. The agent carries both the proxy and the CA: the SDK's own proxy policy
 * steps aside for a request with an agent, so an agent without the proxy would lose it.
 */
function hubPolicyFactory(apiVersion: string | undefined, agentFor: (url: string) => http.Agent): Pipeline['factories'][number] {
  return {
    create: (next) => ({
      sendRequest: (req) => {
        if (apiVersion) req.headers.set('x-ms-version', apiVersion);
        req.agent = agentFor(req.url);
        return next.sendRequest(req);
      },
    }),
  } as Pipeline['factories'][number];
}

const BLOCK_SIZE = 4 * 1024 * 1024;
const CONCURRENCY = 4;

/** Opens an Azure Blob target. `accountKey` is the key to use for `arm-list-keys` auth (already fetched). */
export function openAzureBlob(t: AzureBlobTarget, accountKey?: string, net: Net = createNet()): Storage {
  const endpoint = t.accountUrl.replace(/\/+$/, '');
  let credential: StorageSharedKeyCredential | AnonymousCredential = new AnonymousCredential();
  let sas: string | undefined;
  const secrets: (string | undefined)[] = [];
  switch (t.auth.type) {
    case 'account-key':
      credential = new StorageSharedKeyCredential(t.auth.accountName, t.auth.accountKey);
      secrets.push(t.auth.accountKey);
      break;
    case 'sas':
      sas = t.auth.sasToken.replace(/^\?/, '');
      secrets.push(sas);
      break;
    case 'arm-list-keys':
      if (!accountKey) throw new Error('bug: arm-list-keys without the fetched key');
      credential = new StorageSharedKeyCredential(t.auth.accountName, accountKey);
      secrets.push(accountKey);
      break;
  }
  const n = net.withCa(t.ca);
  const pipeline = newPipeline(credential, {
    retryOptions: { maxTries: t.maxTries, retryDelayInMs: 500, maxRetryDelayInMs: 8000, tryTimeoutInMs: 120_000 },
    userAgentOptions: { userAgentPrefix: 'stackhub-ha' },
  });
  pipeline.factories.push(hubPolicyFactory(t.apiVersion, (u) => n.agentFor(u)));
  const containerUrl = `${endpoint}/${encodeURIComponent(t.container)}`;
  const container = new ContainerClient(sas ? `${containerUrl}?${sas}` : containerUrl, pipeline);
  const full = (key: string): string => [t.prefix, key].filter((s) => s !== '').join('/');
  const rel = (name: string): string => (t.prefix ? name.slice(t.prefix.length + 1) : name);
  const location = (key = ''): string => `${containerUrl}/${full(key)}`.replace(/\/+$/, '');
  const fail = (e: unknown, what: string): StorageError => storageError(e, what, secrets);

  return {
    kind: 'azure-blob',
    target: t,
    location,
    async put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
      const meter = new HashMeter();
      const blob = container.getBlockBlobClient(full(key));
      let bodyError: unknown;
      body.once('error', (e) => (bodyError ??= e));
      try {
        const hashed = body.pipe(meter);
        body.once('error', (e) => hashed.destroy(e as Error));
        await blob.uploadStream(hashed, BLOCK_SIZE, CONCURRENCY, {
          blobHTTPHeaders: { blobContentType: opts.contentType ?? 'application/octet-stream' },
          onProgress: (p) => opts.onProgress?.(p.loadedBytes),
        });
      } catch (e) {
        if (bodyError) throw bodyError;
        throw fail(e, `upload to ${location(key)}`);
      }
      if (bodyError) throw bodyError;
      return { bytes: meter.bytes, sha256: meter.sha256 };
    },
    async get(key: string): Promise<{ stream: Readable; size: number }> {
      try {
        const res = await container.getBlobClient(full(key)).download(0, undefined, { maxRetryRequests: Math.max(1, t.maxTries) });
        return { stream: res.readableStreamBody as Readable, size: res.contentLength ?? 0 };
      } catch (e) {
        throw fail(e, `download of ${location(key)}`);
      }
    },
    async stat(key: string): Promise<StorageObject | undefined> {
      try {
        const p = await container.getBlobClient(full(key)).getProperties();
        return { key, size: p.contentLength ?? 0, lastModified: p.lastModified ?? new Date(0) };
      } catch (e) {
        const err = fail(e, `reading properties of ${location(key)}`);
        if (err.notFound) return undefined;
        throw err;
      }
    },
    async list(prefix: string): Promise<StorageObject[]> {
      const out: StorageObject[] = [];
      try {
        for await (const b of container.listBlobsFlat({ prefix: full(prefix) })) {
          out.push({ key: rel(b.name), size: b.properties.contentLength ?? 0, lastModified: b.properties.lastModified });
        }
      } catch (e) {
        throw fail(e, `listing ${location(prefix)}`);
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key: string): Promise<void> {
      try {
        await container.getBlobClient(full(key)).deleteIfExists({ deleteSnapshots: 'include' });
      } catch (e) {
        throw fail(e, `deleting ${location(key)}`);
      }
    },
    async listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]> {
      // Blobs with only uncommitted blocks: the service removes them after 7 days; they cannot be deleted.
      const committed = new Set<string>();
      const all: { name: string; lastModified: Date }[] = [];
      try {
        for await (const b of container.listBlobsFlat({ prefix: full(prefix), includeUncommitedBlobs: true })) {
          all.push({ name: b.name, lastModified: b.properties.lastModified });
        }
        for await (const b of container.listBlobsFlat({ prefix: full(prefix) })) committed.add(b.name);
      } catch (e) {
        throw fail(e, `listing uncommitted blobs under ${location(prefix)}`);
      }
      return all.filter((b) => !committed.has(b.name)).map((b) => ({ key: rel(b.name), initiated: b.lastModified, abortable: false }));
    },
    async abortIncompleteUpload(): Promise<void> {
      /* Azure removes uncommitted blocks itself (7 days); there is no call to abort them */
    },
    async close(): Promise<void> {
      if (n !== net) n.close();
    },
  };
}
