/**
 * Sets of objects with a manifest written LAST: a set exists only once its `manifest.json` is stored. Writing
 * encrypts (age) and hashes on the way; reading verifies the signature, the SHA-256 and size of every byte, and the
 * age authentication before handing anything to a consumer. Retention planning is here too, so every user of the
 * module keeps the same rules (only sets with a manifest count; the newest complete set is never deleted).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ByteCounter,
  checkManifestSignature,
  decryptStream,
  drain,
  encryptStream,
  HashMeter,
  recipientFingerprint,
  requireValidSignature,
  signManifest,
  type ManifestSignature,
} from '../crypto';
import { PreconditionError, StackHubError } from '../errors';
import { StorageError } from './errors';
import type { WriteEncryption } from './inputs';
import type { IncompleteUpload, Storage, StorageObject } from './types';

/** The manifest's object name in every set. */
export const MANIFEST = 'manifest.json';
/** The manifest format id. */
export const MANIFEST_FORMAT = 'stackhub-ha/manifest@1';

/** One stored object of a set. */
export interface ManifestObject {
  /** Name inside the set directory, e.g. `archive.age`. */
  name: string;
  /** Bytes stored (ciphertext when encrypted). */
  size: number;
  /** SHA-256 (hex) of the bytes stored. */
  sha256: string;
  /** Whether the object is an age file. */
  encrypted: boolean;
  /** Plaintext bytes (before encryption). */
  plainSize: number;
}

/** Encryption block of a manifest: fingerprints only, never a key. */
export type ManifestEncryption = { format: 'age'; recipients: string[] } | { format: 'none' };

/** A set's manifest. `data` is the capability's own block (Mongo: scope, source, counts, tool versions …). */
export interface Manifest<D = Record<string, unknown>> {
  format: typeof MANIFEST_FORMAT;
  /** What wrote it, e.g. `mongo-backup`, `aks-engine-state`. */
  kind: string;
  id: string;
  site?: string;
  /** ISO times. */
  startedAt: string;
  completedAt: string;
  objects: ManifestObject[];
  encryption: ManifestEncryption;
  data: D;
  signature?: ManifestSignature;
}

/** A manifest is malformed, or a stored object does not match it. */
export class IntegrityError extends StackHubError {}

/** A short random id: 8 lower-case hex characters. */
export function shortId(): string {
  return randomBytes(4).toString('hex');
}

/** `2024-05-01T10:20:30.123Z` → `20240501T102030Z` (sorts like time; safe in keys and names). */
export function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Joins key segments with `/`, dropping empties. */
export function joinKey(...parts: string[]): string {
  return parts.flatMap((p) => p.split('/')).filter((s) => s !== '').join('/');
}

/** Options of {@link SetWriter}. */
export interface SetWriterOptions {
  encryption: WriteEncryption;
  /** Called with stored bytes of the current object. */
  onProgress?: (bytes: number) => void;
}

/**
 * Writes one set: {@link SetWriter.put} each object (streamed: plaintext → age → SHA-256 → store), then
 * {@link SetWriter.commit} writes the manifest LAST. Until the commit, nothing counts as stored; on failure call
 * {@link SetWriter.abandon} to remove what was written (best effort: prune reports and removes leftovers).
 */
export class SetWriter {
  private readonly objects: ManifestObject[] = [];
  private readonly written: string[] = [];
  private readonly startedAt = new Date();

  constructor(
    readonly storage: Storage,
    /** The set's directory (key prefix), e.g. `seattle/ratings/20240501T102030Z-1a2b3c4d`. */
    readonly dir: string,
    private readonly opts: SetWriterOptions,
  ) {}

  /** Key of an object of this set. */
  key(name: string): string {
    return joinKey(this.dir, name);
  }

  /**
   * Stores one object, encrypting it when the set is encrypted. Rejects if `plaintext` fails (e.g. the dump tool
   * died): the store never commits a partial object.
   */
  async put(name: string, plaintext: Readable, contentType = 'application/octet-stream'): Promise<ManifestObject> {
    if (name === MANIFEST || name.includes('/')) throw new Error(`bug: object name '${name}'`);
    const plain = new ByteCounter();
    // The source's failure (the dump tool died, or was not found) is the cause to report: kept here, so it never
    // becomes an unhandled 'error' event while the storage side is still being set up.
    // The encrypted body is failed with it, so the storage write rejects (and commits nothing) instead of waiting.
    let failed: Error | undefined;
    const encrypted: { body?: Readable } = {};
    const fail = (e: Error): void => {
      failed ??= e;
      plain.destroy(e);
      encrypted.body?.destroy(e);
    };
    plaintext.once('error', fail);
    plain.on('error', fail);
    const counted = plaintext.pipe(plain);
    let body: Readable = counted;
    if (this.opts.encryption.format === 'age') {
      body = encrypted.body = await encryptStream(counted, this.opts.encryption.recipients);
      body.on('error', (e) => (failed ??= e));
      if (failed) body.destroy(failed);
    }
    this.written.push(name);
    let r: Awaited<ReturnType<Storage['put']>>;
    try {
      r = await this.storage.put(this.key(name), body, { onProgress: this.opts.onProgress, contentType });
    } catch (e) {
      throw failed ?? e;
    }
    if (failed) throw failed;
    const obj: ManifestObject = { name, size: r.bytes, sha256: r.sha256, encrypted: this.opts.encryption.format === 'age', plainSize: plain.bytes };
    this.objects.push(obj);
    return obj;
  }

  /**
   * Writes the manifest (signed when `signingKey` is given) — the last write of the set — and returns it.
   * @param fields the manifest's identity and the capability's `data` block.
   */
  async commit<D>(fields: { kind: string; id: string; site?: string; data: D }, signingKey?: KeyObject): Promise<Manifest<D>> {
    const encryption: ManifestEncryption =
      this.opts.encryption.format === 'age'
        ? { format: 'age', recipients: this.opts.encryption.recipients.map(recipientFingerprint) }
        : { format: 'none' };
    let manifest: Manifest<D> = {
      format: MANIFEST_FORMAT,
      kind: fields.kind,
      id: fields.id,
      site: fields.site,
      startedAt: this.startedAt.toISOString(),
      completedAt: new Date().toISOString(),
      objects: [...this.objects],
      encryption,
      data: fields.data,
    };
    if (signingKey) manifest = signManifest(manifest, signingKey);
    const text = JSON.stringify(manifest, null, 2) + '\n';
    await this.storage.put(this.key(MANIFEST), bufferStream(Buffer.from(text, 'utf8')), { contentType: 'application/json', size: text.length });
    return manifest;
  }

  /** Deletes the objects written so far (never a manifest). Errors are returned, not thrown. */
  async abandon(): Promise<string | undefined> {
    const failures: string[] = [];
    for (const name of this.written) {
      try {
        await this.storage.delete(this.key(name));
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    return failures.length ? failures[0] : undefined;
  }
}

/** A readable of one buffer. */
export function bufferStream(b: Buffer): Readable {
  const p = new PassThrough();
  p.end(b);
  return p;
}

/** Reads a whole (small) object. Refuses more than `max` bytes. */
export async function readSmall(storage: Storage, key: string, max = 4 * 1024 * 1024): Promise<Buffer> {
  const { stream } = await storage.get(key);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > max) {
      stream.destroy();
      throw new IntegrityError(`${storage.location(key)} is larger than ${max} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Validates a parsed manifest's shape. */
export function validateManifest(doc: unknown, where: string): Manifest {
  const m = doc as Manifest;
  const bad = (why: string): never => {
    throw new IntegrityError(`${where}: not a valid manifest (${why})`);
  };
  if (!m || typeof m !== 'object') bad('not an object');
  if (m.format !== MANIFEST_FORMAT) bad(`format is not ${MANIFEST_FORMAT}`);
  if (typeof m.id !== 'string' || !m.id) bad('no id');
  if (typeof m.kind !== 'string') bad('no kind');
  if (typeof m.completedAt !== 'string' || Number.isNaN(Date.parse(m.completedAt))) bad('no completedAt');
  if (!Array.isArray(m.objects)) bad('no objects');
  for (const o of m.objects) {
    if (!o || typeof o.name !== 'string' || o.name.includes('/') || o.name === MANIFEST) bad('an object has a bad name');
    if (!Number.isInteger(o.size) || o.size < 0 || !HEX64.test(String(o.sha256))) bad(`object ${o.name} has a bad size or sha256`);
  }
  if (!m.encryption || (m.encryption.format !== 'age' && m.encryption.format !== 'none')) bad('no encryption block');
  return m;
}

/** Reads and validates the manifest of a set. Rejects with StorageError `notFound` when the set has none. */
export async function readManifest<D = Record<string, unknown>>(storage: Storage, dir: string): Promise<Manifest<D>> {
  const key = joinKey(dir, MANIFEST);
  const text = (await readSmall(storage, key)).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new IntegrityError(`${storage.location(key)}: not valid JSON`);
  }
  return validateManifest(doc, storage.location(key)) as Manifest<D>;
}

/** One set directory found under a parent prefix. */
export interface SetEntry<D = Record<string, unknown>> {
  /** The set's directory (key prefix). */
  dir: string;
  /** Its last segment, e.g. `20240501T102030Z-1a2b3c4d`. */
  name: string;
  /** The manifest, when the set is complete and the manifest is valid. */
  manifest?: Manifest<D>;
  /** Why a present manifest could not be used. */
  manifestError?: string;
  objects: StorageObject[];
  /** Newest object time (for orphans: when the interrupted write last progressed). */
  lastModified: Date;
  /** Bytes of all objects. */
  bytes: number;
}

/**
 * Lists the sets directly under `parent` (`parent/<set>/…`), reading each manifest. Sets without a manifest are
 * returned too (they are interrupted writes); sorted oldest first by name (names start with a compact time).
 */
export async function listSets<D = Record<string, unknown>>(storage: Storage, parent: string): Promise<SetEntry<D>[]> {
  const base = parent ? `${joinKey(parent)}/` : '';
  const objects = await storage.list(base);
  const groups = new Map<string, StorageObject[]>();
  for (const o of objects) {
    const rest = o.key.slice(base.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue; // a stray object directly under the parent is not a set
    const name = rest.slice(0, slash);
    let group = groups.get(name);
    if (!group) groups.set(name, (group = []));
    group.push(o);
  }
  const out: SetEntry<D>[] = [];
  for (const [name, objs] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const dir = joinKey(parent, name);
    const entry: SetEntry<D> = {
      dir,
      name,
      objects: objs,
      lastModified: new Date(Math.max(...objs.map((o) => o.lastModified.getTime()))),
      bytes: objs.reduce((s, o) => s + o.size, 0),
    };
    if (objs.some((o) => o.key === joinKey(dir, MANIFEST))) {
      try {
        entry.manifest = await readManifest<D>(storage, dir);
      } catch (e) {
        if (e instanceof StorageError && !e.notFound) throw e;
        entry.manifestError = (e as Error).message;
      }
    }
    out.push(entry);
  }
  return out;
}

/** Options of {@link downloadVerified}. */
export interface VerifyOptions {
  /** age identities; required for an encrypted object. */
  identities?: string[];
  /** Called with downloaded bytes. */
  onProgress?: (bytes: number) => void;
}

/**
 * Downloads one object of a set into `destFile` (0600) and verifies, in the same pass, its size and SHA-256 against
 * the manifest and — for an age file — the age header and every chunk's authentication (decrypting to nowhere).
 * On any failure `destFile` is removed and an {@link IntegrityError} / DecryptError / StorageError is thrown; on
 * success the file is exactly what the manifest describes and decrypts with `identities`.
 */
export async function downloadVerified(storage: Storage, dir: string, obj: ManifestObject, destFile: string, opts: VerifyOptions = {}): Promise<void> {
  if (obj.encrypted && !opts.identities?.length) throw new PreconditionError(`${obj.name} is encrypted: an age identity is required`);
  const key = joinKey(dir, obj.name);
  const { stream } = await storage.get(key);
  const meter = new HashMeter(opts.onProgress);
  const file = fs.createWriteStream(destFile, { mode: 0o600 });
  const tasks: Promise<unknown>[] = [pipeline(stream, meter, file)];
  if (obj.encrypted) {
    const side = new PassThrough({ highWaterMark: 1024 * 1024 });
    meter.pipe(side);
    tasks.push(
      (async () => {
        try {
          await drain(await decryptStream(side, opts.identities!));
        } catch (e) {
          stream.destroy();
          side.resume(); // never block the file side
          throw e;
        }
      })(),
    );
  }
  try {
    const results = await Promise.allSettled(tasks);
    const decryptFailure = results[1]?.status === 'rejected' ? (results[1] as PromiseRejectedResult).reason : undefined;
    if (decryptFailure) throw decryptFailure;
    if (results[0].status === 'rejected') throw results[0].reason;
    if (meter.bytes !== obj.size) {
      throw new IntegrityError(`${storage.location(key)} has ${meter.bytes} bytes, the manifest says ${obj.size} (truncated or replaced)`);
    }
    if (meter.sha256 !== obj.sha256) throw new IntegrityError(`${storage.location(key)} does not match the SHA-256 in its manifest (corrupted or replaced)`);
  } catch (e) {
    fs.rmSync(destFile, { force: true });
    throw e;
  }
}

/**
 * Opens a verified download as plaintext (decrypting when encrypted). The file was fully verified by
 * {@link downloadVerified}, so this stream yields exactly the bytes that were stored.
 */
export async function openPlaintext(file: string, obj: ManifestObject, identities?: string[]): Promise<Readable> {
  const src = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
  return obj.encrypted ? decryptStream(src, identities ?? []) : src;
}

/**
 * Checks a set's manifest signature. With a verify key, an unsigned or badly signed manifest is refused
 * (SignatureError); without one, returns whether it is signed.
 */
export function verifyManifest(manifest: Manifest<unknown>, verifyKey: KeyObject | undefined, what: string): { signed: boolean; verified: boolean } {
  if (verifyKey) {
    requireValidSignature(manifest, verifyKey, what);
    return { signed: true, verified: true };
  }
  const c = checkManifestSignature(manifest, undefined);
  return { signed: c.signed, verified: false };
}

/**
 * Free bytes for an unprivileged user in the filesystem holding `dir` (fs.statfs), or undefined where unknown.
 */
export async function freeBytes(dir: string): Promise<number | undefined> {
  const statfs = (fs.promises as { statfs?: (p: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }> }).statfs;
  if (!statfs) return undefined;
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------ retention

/** Retention rules. A set is kept when ANY rule keeps it; the newest complete set is always kept. */
export interface RetentionRules {
  /** Keep the newest N complete sets. */
  keepLast?: number;
  /** Keep complete sets younger than this many days. */
  keepDays?: number;
  /** Sets without a manifest older than this many hours are orphans (interrupted writes) and are removed. */
  orphanGraceHours: number;
  /** The clock (injected by tests). */
  now: Date;
}

/** What {@link planRetention} decided. */
export interface RetentionPlan<D = Record<string, unknown>> {
  keep: SetEntry<D>[];
  /** Complete sets past retention. */
  expire: SetEntry<D>[];
  /** Sets without a (valid) manifest older than the grace period. */
  orphans: SetEntry<D>[];
  /** Sets without a manifest still inside the grace period (maybe being written right now). */
  pending: SetEntry<D>[];
  /** Incomplete uploads older than the grace period. */
  staleUploads: IncompleteUpload[];
}

/**
 * Decides what prune removes. Only sets with a valid manifest count as backups; the newest complete one is never
 * expired, whatever the rules say; with no rule at all nothing expires.
 */
export function planRetention<D>(sets: SetEntry<D>[], uploads: IncompleteUpload[], rules: RetentionRules): RetentionPlan<D> {
  const complete = sets.filter((s) => s.manifest).sort((a, b) => Date.parse(b.manifest!.completedAt) - Date.parse(a.manifest!.completedAt));
  const graceMs = rules.orphanGraceHours * 3600_000;
  const now = rules.now.getTime();
  const keep: SetEntry<D>[] = [];
  const expire: SetEntry<D>[] = [];
  const noRule = rules.keepLast === undefined && rules.keepDays === undefined;
  complete.forEach((s, i) => {
    const ageDays = (now - Date.parse(s.manifest!.completedAt)) / 86_400_000;
    const kept =
      i === 0 ||
      noRule ||
      (rules.keepLast !== undefined && i < rules.keepLast) ||
      (rules.keepDays !== undefined && ageDays < rules.keepDays);
    (kept ? keep : expire).push(s);
  });
  const incomplete = sets.filter((s) => !s.manifest);
  const orphans = incomplete.filter((s) => now - s.lastModified.getTime() >= graceMs);
  const pending = incomplete.filter((s) => now - s.lastModified.getTime() < graceMs);
  const staleUploads = uploads.filter((u) => !u.initiated || now - u.initiated.getTime() >= graceMs);
  return { keep, expire, orphans, pending, staleUploads };
}

/** Deletes every object of a set, the manifest FIRST (so a half-deleted set is never mistaken for a backup). */
export async function deleteSet(storage: Storage, set: SetEntry<unknown>): Promise<void> {
  const manifestKey = joinKey(set.dir, MANIFEST);
  if (set.objects.some((o) => o.key === manifestKey)) await storage.delete(manifestKey);
  for (const o of set.objects) if (o.key !== manifestKey) await storage.delete(o.key);
}
