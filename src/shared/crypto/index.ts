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
import { createHash, type KeyObject } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InputError, StackHubError } from '../errors';
import { keyFingerprint, sign, verify } from '../signing';

// ------------------------------------------------------------------------------------------------ age keys

/** An age X25519 recipient: `age1` + 58 bech32 characters. */
const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;
/** An age X25519 identity (as printed by `age-keygen`). */
const IDENTITY_RE = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

/** Thrown when an age file cannot be decrypted: wrong identity, a corrupt header or a failed chunk authentication. */
export class DecryptError extends StackHubError {}

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

/** Loads age-encryption (ESM) on first use. */
function age(): Promise<typeof import('age-encryption')> {
  return import('age-encryption');
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

function toWeb(src: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(src) as unknown as ReadableStream<Uint8Array>;
}

function fromWeb(web: ReadableStream<Uint8Array>): Readable {
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>);
}

/**
 * Encrypts a stream to age X25519 recipients. Memory is bounded: age works in 64 KiB chunks and the Web stream
 * pulls from `src` only as fast as the result is read.
 *
 * @param src the plaintext.
 * @param recipients validated recipients (see {@link parseRecipients}); at least one.
 * @returns the age file as a Node stream (binary format, not armored).
 */
export async function encryptStream(src: Readable, recipients: readonly string[]): Promise<Readable> {
  if (recipients.length === 0) throw new Error('bug: encryptStream without recipients');
  const e = new (await age()).Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const out = fromWeb(await e.encrypt(toWeb(src)));
  src.once('error', (err) => out.destroy(err));
  return out;
}

/**
 * Decrypts an age stream. The header is read and authenticated before this resolves: a file for another identity
 * or with a damaged header rejects with {@link DecryptError} here. Each 64 KiB chunk is authenticated as it is read;
 * a damaged or truncated payload makes the returned stream fail with a {@link DecryptError} (before the last chunk's
 * plaintext is released, truncation included — age marks the final chunk).
 *
 * @param src the age file.
 * @param identities X25519 identities (see {@link parseIdentities}).
 */
export async function decryptStream(src: Readable, identities: readonly string[]): Promise<Readable> {
  const d = new (await age()).Decrypter();
  for (const id of identities) d.addIdentity(id);
  let web: ReadableStream<Uint8Array>;
  try {
    web = await d.decrypt(toWeb(src));
  } catch (e) {
    throw decryptError(e);
  }
  const out = fromWeb(web);
  // Readable.fromWeb surfaces the transform's error as-is: give it our type and a clear message
  const wrapped = new Transform({ transform: (c, _e, cb) => cb(null, c) });
  out.on('error', (e) => wrapped.destroy(decryptError(e)));
  src.once('error', (e) => wrapped.destroy(e));
  return out.pipe(wrapped);
}

function decryptError(e: unknown): DecryptError {
  if (e instanceof DecryptError) return e;
  const m = e instanceof Error ? e.message : String(e);
  if (/no identity matched/i.test(m)) return new DecryptError('the age identity does not match any recipient of this file (wrong identity)');
  if (/header/i.test(m)) return new DecryptError(`the age header is damaged or was not written for these recipients (${m})`);
  if (/tag|invalid|final chunk|too small|size/i.test(m)) return new DecryptError(`the age payload failed authentication: the file is damaged or truncated (${m})`);
  if (e instanceof StackHubError) return new DecryptError(e.message);
  return new DecryptError(`the age file cannot be decrypted (${m})`);
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
