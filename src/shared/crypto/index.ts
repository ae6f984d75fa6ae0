/**
 * Encryption, hashing and manifest signing shared by Mongo backup and AKS Engine state custody.
 *
 * - **age** (npm `age-encryption`, the reference TypeScript implementation by the age authors) with X25519
 *   recipients: writers hold only public recipients (`age1…`), so the pipeline that writes a backup cannot read it;
 *   several recipients give break-glass copies. Streams go through Web streams (`Readable.toWeb` / `Readable.fromWeb`)
 *   so memory stays bounded (64 KiB age chunks). No home-made construction.
 * - **SHA-256 on the way**: {@link HashMeter} is a pass-through that counts bytes and hashes them.
 * - **Manifest signatures**: Ed25519 over the canonical JSON of a manifest without its `signature` field, reusing
 *   src/shared/signing.ts. The signing key is held by the writer and never stored with the backups.
 * - **Fingerprints, never keys**: manifests name recipients and signing keys only by fingerprint.
 *
 * Key material never appears in an error message. `age-encryption` is loaded on first use only (bundles start fast).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InputError, StackHubError } from '../errors';
import { keyFingerprint, sign, verify } from '../signing';
import { age, CHUNK, DecryptError, decryptError, payloadKey, streamNonce, TAG } from './age-payload';

export { DecryptError, openVerifiedPayload, AgeVerifier, type VerifiedPayload } from './age-payload';

// ------------------------------------------------------------------------------------------------ age keys

/** An age X25519 recipient: `age1` + 58 bech32 characters. */
const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;
/** An age X25519 identity (as printed by `age-keygen`). */
const IDENTITY_RE = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

/**
 * Validates age X25519 recipients (`age1…`). Accepts the lines of an age recipients file too: blank lines and
 * `# comments` are skipped. Duplicates are dropped (first occurrence wins).
 *
 * @param values recipients, one per item.
 * @param input the input's name for error messages.
 * @returns the recipients, lower-case.
 * @throws InputError(input, …) for a malformed recipient (the value is quoted: recipients are public), a
 *   post-quantum/tag/SSH recipient (only X25519 is supported), or when no recipient is left.
 */
export function parseRecipients(values: readonly string[], input: string): string[] {
  const out: string[] = [];
  for (const raw of values) {
    const v = raw.trim();
    if (v === '' || v.startsWith('#')) continue;
    const r = v.toLowerCase();
    if (r.startsWith('age1pq1') || r.startsWith('age1tag')) {
      throw new InputError(input, `'${v.slice(0, 16)}…' is not an X25519 recipient: expected age1… as printed by age-keygen`);
    }
    if (!RECIPIENT_RE.test(r) || !validRecipient(r)) {
      throw new InputError(input, `'${v.length > 70 ? `${v.slice(0, 16)}…` : v}' is not an age X25519 recipient: expected age1 followed by 58 characters (age-keygen -y prints one)`);
    }
    if (!out.includes(r)) out.push(r);
  }
  if (out.length === 0) throw new InputError(input, 'expected at least one age recipient (age1…)');
  return out;
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** BIP-173 bech32 decoding (as age uses it, without the 90-character limit): the 8-bit payload, or undefined. */
export function bech32Decode(s: string): { hrp: string; bytes: Buffer } | undefined {
  const str = s.toLowerCase();
  const sep = str.lastIndexOf('1');
  if (sep < 1 || sep + 7 > str.length) return undefined;
  const hrp = str.slice(0, sep);
  const data: number[] = [];
  for (const c of str.slice(sep + 1)) {
    const v = BECH32.indexOf(c);
    if (v < 0) return undefined;
    data.push(v);
  }
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  const values = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31), ...data];
  for (const v of values) {
    const b = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((b >>> i) & 1) chk ^= GEN[i];
  }
  if (chk !== 1) return undefined;
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const v of data.slice(0, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) return undefined;
  return { hrp, bytes: Buffer.from(out) };
}

function validRecipient(r: string): boolean {
  const d = bech32Decode(r);
  return d !== undefined && d.hrp === 'age' && d.bytes.length === 32;
}

/**
 * Reads age identities from a secret: the content of an age identity file (`age-keygen` output: comment lines and
 * one `AGE-SECRET-KEY-1…` per line). The identities are registered with `mask` before anything else happens.
 *
 * @param text the secret's value.
 * @param input the input's name for error messages.
 * @param mask registers a secret with the run's masker (each identity separately).
 * @throws InputError(input, 'expected …') when no line is an X25519 identity, or a non-comment line is not one.
 *   The message never quotes the line.
 */
export function parseIdentities(text: string, input: string, mask: (s: string) => void = () => undefined): string[] {
  const out: string[] = [];
  const lines = text.replace(/\\n/g, '\n').split(/\r?\n/);
  for (const l of lines) {
    const v = l.trim();
    if (v !== '' && !v.startsWith('#')) mask(v);
  }
  for (const [i, l] of lines.entries()) {
    const v = l.trim();
    if (v === '' || v.startsWith('#')) continue;
    const dec = IDENTITY_RE.test(v.toUpperCase()) ? bech32Decode(v) : undefined;
    if (!dec || dec.hrp !== 'age-secret-key-' || dec.bytes.length !== 32) {
      throw new InputError(input, `line ${i + 1} is not an age X25519 identity: expected AGE-SECRET-KEY-1… (age-keygen output; its checksum must match)`);
    }
    out.push(v.toUpperCase());
  }
  if (out.length === 0) throw new InputError(input, 'expected an age identity (AGE-SECRET-KEY-1…, age-keygen output)');
  return out;
}

/**
 * The recipient (public key) of an identity.
 *
 * @throws InputError(input, …) when the identity does not decode (bad checksum); the identity is never quoted.
 */
export async function recipientOf(identity: string, input = 'ageIdentity'): Promise<string> {
  try {
    return (await (await age()).identityToRecipient(identity)).toLowerCase();
  } catch {
    throw new InputError(input, 'is not a valid age X25519 identity (its checksum does not match)');
  }
}

/**
 * Fingerprint of an age recipient for manifests and logs: `age:SHA256:` + unpadded base64 of the SHA-256 of the
 * lower-case recipient string. Stable, short enough for tables, and — although recipients are public — it keeps
 * manifests free of key material of any kind.
 */
export function recipientFingerprint(recipient: string): string {
  return 'age:SHA256:' + createHash('sha256').update(recipient.trim().toLowerCase()).digest('base64').replace(/=+$/, '');
}

/** Fingerprint of an Ed25519 signing or verify key (`SHA256:…`, the OpenSSH style), re-exported for callers. */
export { keyFingerprint };

// ------------------------------------------------------------------------------------------------ streams

/**
 * A pass-through stream that hashes (SHA-256) and counts what flows through it. Read {@link HashMeter.sha256} and
 * {@link HashMeter.bytes} after it ended.
 */
export class HashMeter extends Transform {
  private readonly hash = createHash('sha256');
  private digest: string | undefined;
  /** Bytes seen so far. */
  bytes = 0;

  /** @param onBytes called with the running byte count after each chunk (for progress). */
  constructor(private readonly onBytes?: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    cb();
  }

  /** Lower-case hex SHA-256 of everything that passed. Throws if the stream has not ended yet (a bug). */
  get sha256(): string {
    if (this.digest === undefined) throw new Error('bug: HashMeter.sha256 read before the stream ended');
    return this.digest;
  }
}

/** A pass-through that only counts bytes (no hashing). */
export class ByteCounter extends Transform {
  /** Bytes seen so far. */
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

function toWeb(src: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(src) as unknown as ReadableStream<Uint8Array>;
}

function fromWeb(web: ReadableStream<Uint8Array>): Readable {
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>);
}

// The age v1 payload (https://age-encryption.org/v1): nonce (16 random bytes), then STREAM — ChaCha20-Poly1305 over
// 64 KiB chunks, 12-byte nonce = 11-byte big-endian chunk counter || last-chunk flag, key = HKDF-SHA256(file key,
// nonce, "payload"). The header (recipient stanzas, header MAC) is written and read by age-encryption itself; the
// payload runs on node:crypto's ChaCha20-Poly1305, which is ~10x faster than the pure-JS cipher. Both directions are
// tested against age-encryption's own streaming API.
const HEADER_MAX = 64 * 1024;

/** A queue of buffers that hands out exact byte counts, copying only when a count straddles two buffers. */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length) {
      this.parts.push(b);
      this.length += b.length;
    }
  }

  take(n: number): Buffer {
    const first = this.parts[0];
    let out: Buffer;
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const p = this.parts[0];
        const k = Math.min(p.length, n - off);
        p.copy(out, off, 0, k);
        off += k;
        if (k === p.length) this.parts.shift();
        else this.parts[0] = p.subarray(k);
      }
    }
    this.length -= n;
    return out;
  }
}

/** Encrypts the age payload: prefix (header + nonce) first, then 64 KiB chunks, the last one flagged. */
class StreamEncrypt extends Transform {
  private readonly q = new ByteQueue();
  private counter = 0n;

  constructor(
    private readonly key: Buffer,
    prefix: Buffer,
  ) {
    super();
    this.push(prefix);
  }

  private seal(plain: Buffer, last: boolean): void {
    const c = createCipheriv('chacha20-poly1305', this.key, streamNonce(this.counter++, last), { authTagLength: TAG });
    this.push(c.update(plain));
    c.final();
    this.push(c.getAuthTag());
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.q.push(chunk);
    // keep at least one byte back: only then is it certain that a full chunk is not the last one
    while (this.q.length > CHUNK) this.seal(this.q.take(CHUNK), false);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.seal(this.q.take(this.q.length), true);
    cb();
  }
}

/** Decrypts the age payload (after the header): nonce, then STREAM chunks; plaintext is released only once authenticated. */
class StreamDecrypt extends Transform {
  private readonly q = new ByteQueue();
  private counter = 0n;
  private key: Buffer | undefined;

  constructor(private readonly fileKey: Uint8Array) {
    super();
  }

  private open(sealed: Buffer, last: boolean): Buffer {
    if (sealed.length < TAG) throw new DecryptError('the age payload failed authentication: the file is truncated');
    const d = createDecipheriv('chacha20-poly1305', this.key!, streamNonce(this.counter++, last), { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const plain = d.update(sealed.subarray(0, sealed.length - TAG));
    try {
      d.final();
    } catch {
      throw new DecryptError('the age payload failed authentication: the file is damaged or truncated');
    }
    return plain;
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    try {
      this.q.push(chunk);
      if (!this.key) {
        if (this.q.length < 16) return cb();
        this.key = payloadKey(this.fileKey, this.q.take(16));
      }
      while (this.q.length > CHUNK + TAG) this.push(this.open(this.q.take(CHUNK + TAG), false));
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (!this.key) throw new DecryptError('the age payload failed authentication: the file is truncated (no payload)');
      const plain = this.open(this.q.take(this.q.length), true);
      if (plain.length === 0 && this.counter > 1n) throw new DecryptError('the age payload failed authentication: the final chunk is empty (truncated at a chunk boundary)');
      this.push(plain);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

/**
 * Encrypts a stream to age X25519 recipients (the age v1 format, readable by age, rage and age-encryption). Memory
 * is bounded: 64 KiB chunks, pulled only as fast as the result is read. The header — a fresh random file key wrapped
 * for each recipient, and its MAC — is produced by age-encryption.
 *
 * @param src the plaintext.
 * @param recipients validated recipients (see {@link parseRecipients}); at least one.
 * @returns the age file as a Node stream (binary format, not armored).
 */
export async function encryptStream(src: Readable, recipients: readonly string[]): Promise<Readable> {
  if (recipients.length === 0) throw new Error('bug: encryptStream without recipients');
  const e = new (await age()).Encrypter();
  for (const r of recipients) e.addRecipient(r);
  // a recipient of our own that adds no stanza: it only learns the file key that age-encryption generated
  let fileKey: Uint8Array | undefined;
  e.addRecipient({ wrapFileKey: (k: Uint8Array) => ((fileKey = Uint8Array.from(k)), []) });
  // the age file of the empty plaintext: header || nonce (16) || empty final chunk (16). Keep the header only; the
  // payload gets a fresh nonce (and so a fresh payload key).
  const empty = await e.encrypt(new Uint8Array(0));
  if (!fileKey) throw new Error('bug: age-encryption did not hand out the file key');
  const header = Buffer.from(empty.subarray(0, empty.length - 32));
  const nonce = randomBytes(16);
  const out = new StreamEncrypt(payloadKey(fileKey, nonce), Buffer.concat([header, nonce]));
  fileKey.fill(0);
  src.once('error', (err) => out.destroy(err));
  return src.pipe(out);
}

/** Reads the age header (up to and including the `--- <mac>` line) from the start of a stream. */
async function readHeader(src: Readable): Promise<{ header: Buffer; rest: Buffer }> {
  const parts: Buffer[] = [];
  let len = 0;
  for (;;) {
    const chunk = src.read() as Buffer | null;
    if (chunk === null) {
      if (src.readableEnded || src.destroyed) break;
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          src.off('readable', done);
          src.off('end', done);
          src.off('error', fail);
          resolve();
        };
        const fail = (err: Error): void => {
          src.off('readable', done);
          src.off('end', done);
          reject(err);
        };
        src.once('readable', done);
        src.once('end', done);
        src.once('error', fail);
      });
      continue;
    }
    parts.push(chunk);
    len += chunk.length;
    const all = Buffer.concat(parts);
    const mark = all.indexOf('\n--- ');
    const eol = mark >= 0 ? all.indexOf(0x0a, mark + 1) : -1;
    if (eol >= 0) {
      src.pause();
      return { header: all.subarray(0, eol + 1), rest: all.subarray(eol + 1) };
    }
    if (len > HEADER_MAX) break;
  }
  throw new DecryptError('not an age file: no complete age header');
}

/**
 * Decrypts an age stream. The header is read and authenticated (by age-encryption) before this resolves: a file for
 * another identity or with a damaged header rejects with {@link DecryptError} here. Each 64 KiB chunk is
 * authenticated before its plaintext is released; a damaged, reordered or truncated payload makes the returned
 * stream fail with a {@link DecryptError} (truncation included — age marks the final chunk).
 *
 * @param src the age file.
 * @param identities X25519 identities (see {@link parseIdentities}).
 */
export async function decryptStream(src: Readable, identities: readonly string[]): Promise<Readable> {
  const d = new (await age()).Decrypter();
  for (const id of identities) d.addIdentity(id);
  const { header, rest } = await readHeader(src);
  if (!header.subarray(0, 22).equals(Buffer.from('age-encryption.org/v1\n'))) throw new DecryptError('not an age v1 file');
  let fileKey: Uint8Array;
  try {
    fileKey = await d.decryptHeader(header);
  } catch (e) {
    src.destroy();
    throw decryptError(e);
  }
  const out = new StreamDecrypt(fileKey);
  src.once('error', (err) => out.destroy(err));
  if (src.readableEnded) {
    out.end(rest);
  } else {
    if (rest.length) out.write(rest);
    src.pipe(out);
    src.resume();
  }
  return out as unknown as Readable;
}

/**
 * The same, through age-encryption's own Web-stream API (`Readable.toWeb`), pure JS and slower: kept as the reference
 * the native payload is tested against.
 */
export async function decryptStreamReference(src: Readable, identities: readonly string[]): Promise<Readable> {
  const d = new (await age()).Decrypter();
  for (const id of identities) d.addIdentity(id);
  let web: ReadableStream<Uint8Array>;
  try {
    web = await d.decrypt(toWeb(src));
  } catch (e) {
    throw decryptError(e);
  }
  const out = fromWeb(web);
  const wrapped = new Transform({ transform: (c, _e, cb) => cb(null, c) });
  out.on('error', (e) => wrapped.destroy(decryptError(e)));
  src.once('error', (e) => wrapped.destroy(e));
  return out.pipe(wrapped);
}

/** age-encryption's own streaming encryption (reference for tests). */
export async function encryptStreamReference(src: Readable, recipients: readonly string[]): Promise<Readable> {
  const e = new (await age()).Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const out = fromWeb(await e.encrypt(toWeb(src)));
  src.once('error', (err) => out.destroy(err));
  return out;
}

/**
 * Reads a stream to its end and throws away the bytes (after a {@link decryptStream}, this authenticates every chunk
 * without keeping the plaintext). Resolves to the byte count.
 */
export async function drain(src: Readable): Promise<number> {
  let n = 0;
  for await (const c of src) n += (c as Buffer).length;
  return n;
}

// ------------------------------------------------------------------------------------------------ manifests

/** The signature block of a manifest. */
export interface ManifestSignature {
  algorithm: 'ed25519';
  /** Fingerprint of the signing key's public half (see {@link keyFingerprint}). */
  keyFingerprint: string;
  /** base64 Ed25519 signature over {@link canonicalJson} of the manifest without `signature`. */
  value: string;
}

/**
 * Canonical JSON: object keys sorted (code-unit order), no whitespace, `undefined` members dropped; arrays keep
 * their order. Two manifests with the same content have the same bytes, whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** The bytes that a manifest's signature covers: its canonical JSON without the `signature` member. */
export function signedBytes(manifest: object): Buffer {
  const { signature: _sig, ...rest } = manifest as { signature?: unknown };
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/**
 * Signs a manifest with an Ed25519 private key (from `loadPrivateKey` in src/shared/signing.ts). Returns a copy with
 * `signature` set; any earlier signature is replaced.
 */
export function signManifest<T extends object>(manifest: T, privateKey: KeyObject): T & { signature: ManifestSignature } {
  const value = sign(signedBytes(manifest), privateKey);
  return { ...manifest, signature: { algorithm: 'ed25519', keyFingerprint: keyFingerprint(privateKey), value } };
}

/** The outcome of {@link checkManifestSignature}. */
export interface SignatureCheck {
  /** The manifest carries a signature block. */
  signed: boolean;
  /** The signature verified with the given key. */
  verified: boolean;
  /** The fingerprint the manifest claims, when signed. */
  keyFingerprint?: string;
}

/**
 * Checks a manifest's signature. Never throws for bad data (see {@link requireValidSignature} for the refusing form).
 *
 * @param publicKey the verify key (`loadPublicKey`), or undefined to only report whether it is signed.
 */
export function checkManifestSignature(manifest: object, publicKey: KeyObject | undefined): SignatureCheck {
  const sig = (manifest as { signature?: Partial<ManifestSignature> }).signature;
  if (!sig || typeof sig !== 'object' || typeof sig.value !== 'string') return { signed: false, verified: false };
  const verified = publicKey !== undefined && sig.algorithm === 'ed25519' && verify(signedBytes(manifest), sig.value, publicKey);
  return { signed: true, verified, keyFingerprint: typeof sig.keyFingerprint === 'string' ? sig.keyFingerprint : undefined };
}

/**
 * Refuses a manifest that is unsigned or badly signed for `publicKey`. `what` names it in the message (e.g. the
 * backup id).
 *
 * @throws PreconditionError-like {@link SignatureError} — 'is not signed' / 'has a bad signature (signed by …, verify
 *   key is …)'.
 */
export function requireValidSignature(manifest: object, publicKey: KeyObject, what: string): void {
  const c = checkManifestSignature(manifest, publicKey);
  if (!c.signed) throw new SignatureError(`${what} is not signed, and a verify key is set: refusing it`);
  if (!c.verified) {
    throw new SignatureError(
      `${what} has a bad signature: refusing it (manifest claims key ${c.keyFingerprint ?? 'unknown'}, verify key is ${keyFingerprint(publicKey)})`,
    );
  }
}

/** A manifest is unsigned or its signature does not verify. */
export class SignatureError extends StackHubError {}
