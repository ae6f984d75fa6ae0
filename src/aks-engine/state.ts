/**
 * Cluster-state custody: aks-engine's output directory (apimodel.json with every PKI key and the service-principal
 * secret, kubeconfig, keys) is the cluster's state. It lives ONLY encrypted (age, to public recipients) in the
 * off-Hub store of src/shared/storage, one version per change (`<site>/<resourceGroup>/<dnsPrefix>/state/<time>-<id>/`,
 * manifest written last and signed when a signing key is given), and in plaintext only inside the run's private
 * temp dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createTarGz, extractArchive } from '../shared/archive';
import { PreconditionError, StackHubError } from '../shared/errors';
import {
  compactTime,
  downloadVerified,
  joinKey,
  listSets,
  openPlaintext,
  SetWriter,
  shortId,
  verifyManifest,
  type Manifest,
  type ParsedEncryption,
  type SetEntry,
  type Storage,
} from '../shared/storage';

/** The manifest `kind` of a cluster-state version and of a log archive. */
export const STATE_KIND = 'aks-engine-state';
export const LOGS_KIND = 'aks-engine-logs';

/** What a state manifest's `data` holds (no secret). */
export interface StateData {
  cluster: { site: string; resourceGroup: string; dnsPrefix: string; location: string };
  /** deployed | deploy-failed | scaled | upgraded | upgrade-failed */
  status: string;
  command: string;
  kubernetesVersion: string;
  masters: number;
  workers: number;
  pools: { name: string; count: number }[];
  apiServerFqdn: string;
  aksEngineVersion: string;
  /** The version this one was made from. */
  previous?: string;
  /** One-line failure, for failed operations. */
  error?: string;
}

/** Where a cluster's state lives in the store. */
export function clusterKey(site: string, resourceGroup: string, dnsPrefix: string): string {
  return joinKey(site, resourceGroup, dnsPrefix);
}

/** The newest complete state version of a cluster, or undefined. */
export async function latestState(storage: Storage, key: string): Promise<SetEntry<StateData> | undefined> {
  const sets = await listSets<StateData>(storage, joinKey(key, 'state'));
  return [...sets].reverse().find((s) => s.manifest?.kind === STATE_KIND);
}

/** Every complete state version of a cluster, oldest first. */
export async function stateVersions(storage: Storage, key: string): Promise<SetEntry<StateData>[]> {
  return (await listSets<StateData>(storage, joinKey(key, 'state'))).filter((s) => s.manifest?.kind === STATE_KIND);
}

/**
 * Stores a directory as a new version under `<key>/<what>/`: tar.gz (deterministic) in the private temp dir → age →
 * SHA-256 → store; the manifest is written last. On failure the partial objects are removed (best effort).
 */
export async function putDirectory<D>(
  storage: Storage,
  key: string,
  what: 'state' | 'logs',
  dir: string,
  enc: ParsedEncryption,
  fields: { kind: string; site: string; data: D },
  tempDir: string,
  onProgress?: (bytes: number) => void,
): Promise<Manifest<D>> {
  if (!enc.write) throw new Error('bug: putDirectory without write encryption');
  const tarFile = path.join(tempDir, `${what}-${shortId()}.tar.gz`);
  await createTarGz(dir, tarFile);
  fs.chmodSync(tarFile, 0o600);
  const id = `${compactTime(new Date())}-${shortId()}`;
  const writer = new SetWriter(storage, joinKey(key, what, id), { encryption: enc.write, onProgress });
  try {
    await writer.put(enc.write.format === 'age' ? `${what}.tar.gz.age` : `${what}.tar.gz`, fs.createReadStream(tarFile));
    return await writer.commit({ kind: fields.kind, id, site: fields.site, data: fields.data }, enc.signingKey);
  } catch (e) {
    await writer.abandon();
    throw e;
  } finally {
    fs.rmSync(tarFile, { force: true });
  }
}

/**
 * Fetches a state version into `destDir` (created 0700, inside the private temp dir): verified download (size,
 * SHA-256, age authentication), decrypted, extracted. Refuses unsigned or badly signed manifests when a verify key
 * is given.
 */
export async function fetchState(storage: Storage, entry: SetEntry<StateData>, enc: ParsedEncryption, destDir: string, tempDir: string): Promise<Manifest<StateData>> {
  const m = entry.manifest;
  if (!m) throw new PreconditionError(`${storage.location(entry.dir)} has no manifest (an interrupted write)`);
  verifyManifest(m, enc.verifyKey, `cluster state ${m.id}`);
  const obj = m.objects[0];
  if (!obj) throw new StackHubError(`${storage.location(entry.dir)}: the manifest lists no object`);
  const cipher = path.join(tempDir, `fetch-${shortId()}`);
  const plainTar = path.join(tempDir, `state-${shortId()}.tar.gz`);
  try {
    await downloadVerified(storage, entry.dir, obj, cipher, { identities: enc.identities });
    const plain = await openPlaintext(cipher, obj, enc.identities);
    await pipeline(plain, fs.createWriteStream(plainTar, { mode: 0o600 }));
    await extractArchive(plainTar, destDir, 'tar.gz');
  } finally {
    fs.rmSync(cipher, { force: true });
    fs.rmSync(plainTar, { force: true });
  }
  return m as Manifest<StateData>;
}
