/**
 * The age v1 payload primitives (https://age-encryption.org/v1) on node:crypto, and the two halves of a restore's
 * "authenticate once, then replay" design:
 *
 * - {@link AgeVerifier}: fed the bytes of an age file in order (e.g. straight from a download), it authenticates the
 *   header (through age-encryption) and every STREAM chunk's Poly1305 tag, and keeps no plaintext. Zero-copy: a
 *   chunk that straddles input buffers is fed to the decipher piece by piece.
 * - {@link openVerifiedPayload}: replays a file that an AgeVerifier accepted, through the same file descriptor, as
 *   plaintext with the ChaCha20 keystream only (the tags were checked already). This is sound only because the
 *   bytes cannot change between the two passes: the caller owns the only descriptor of a 0600 file in a 0700
 *   directory it created (on POSIX the name is unlinked at once), so changing it needs the caller's own uid — which
 *   could as well change the process itself. The replay re-checks the size and refuses anything else.
 *
 * STREAM: nonce (16 random bytes) after the header, then ChaCha20-Poly1305 over 64 KiB chunks (+16-byte tag), 12-byte
 * nonce = 11-byte big-endian chunk counter || last-chunk flag, key = HKDF-SHA256(file key, nonce, "payload").
 * RFC 8439's AEAD encrypts with the ChaCha20 block counter starting at 1 (block 0 makes the Poly1305 key), so the
 * keystream of a chunk is OpenSSL `chacha20` with IV = LE32(1) || nonce.
 */
import { createDecipheriv, hkdfSync } from 'node:crypto';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { StackHubError } from '../errors';

/** Thrown when an age file cannot be decrypted: wrong identity, a corrupt header or a failed chunk authentication. */
export class DecryptError extends StackHubError {}

/** Plaintext bytes per STREAM chunk. */
export const CHUNK = 64 * 1024;
/** Poly1305 tag bytes. */
export const TAG = 16;
const SEALED = CHUNK + TAG;
const HEADER_MAX = 64 * 1024;
const MAGIC = Buffer.from('age-encryption.org/v1\n');

/** Loads age-encryption (ESM) on first use. */
export function age(): Promise<typeof import('age-encryption')> {
  return import('age-encryption');
}

/** The 12-byte STREAM nonce of chunk `counter`. */
export function streamNonce(counter: bigint, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  let c = counter;
  for (let i = 10; i >= 0; i--) {
    n[i] = Number(c & 0xffn);
    c >>= 8n;
  }
  if (c !== 0n) throw new DecryptError('age STREAM counter overflow');
  n[11] = last ? 1 : 0;
  return n;
}

/** The payload key: HKDF-SHA256(file key, payload nonce, "payload"). */
export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

/** Maps age-encryption's errors to one-line {@link DecryptError}s that never carry key material. */
export function decryptError(e: unknown): DecryptError {
  if (e instanceof DecryptError) return e;
  const m = e instanceof Error ? e.message : String(e);
  if (/no identity matched/i.test(m)) return new DecryptError('the age identity does not match any recipient of this file (wrong identity)');
  if (/header/i.test(m)) return new DecryptError(`the age header is damaged or was not written for these recipients (${m})`);
  if (/tag|invalid|final chunk|too small|size/i.test(m)) return new DecryptError(`the age payload failed authentication: the file is damaged or truncated (${m})`);
  if (e instanceof StackHubError) return new DecryptError(e.message);
  return new DecryptError(`the age file cannot be decrypted (${m})`);
}

/** What an {@link AgeVerifier} learnt: enough to replay the payload with {@link openVerifiedPayload}. */
export interface VerifiedPayload {
  /** Offset of the first sealed chunk (header + 16-byte payload nonce). */
  offset: number;
  /** Total bytes of the age file. */
  size: number;
  /** Number of STREAM chunks (the last one flagged). */
  chunks: number;
  /** Plaintext bytes. */
  plainSize: number;
  /** The payload key (secret: the caller keeps it in memory only). */
  key: Buffer;
}

const AUTH_FAILED = 'the age payload failed authentication: the file is damaged or truncated';

/**
 * Authenticates an age file fed in order, keeping no plaintext. `update` returns a promise only while the header is
 * being opened (once per file); afterwards it is synchronous. `finish` checks the final chunk and returns what a
 * replay needs. Any failure throws {@link DecryptError} naming the cause.
 */
export class AgeVerifier {
  private head: Buffer[] | undefined = [];
  private headLen = 0;
  private offset = 0;
  private key: Buffer | undefined;
  private fileKey: Uint8Array | undefined;
  private nonceBytes: Buffer[] = [];
  private nonceLen = 0;
  /** The sealed chunk being collected (slices of the input, not copies). */
  private parts: Buffer[] = [];
  private partsLen = 0;
  private counter = 0n;
  private total = 0;
  private plain = 0;

  constructor(private readonly identities: readonly string[]) {}

  /** Feeds the next bytes of the file. */
  update(buf: Buffer): Promise<void> | undefined {
    this.total += buf.length;
    if (this.head) {
      this.head.push(buf);
      this.headLen += buf.length;
      const all = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
      this.head = [all];
      const mark = all.indexOf('\n--- ');
      const eol = mark >= 0 ? all.indexOf(0x0a, mark + 1) : -1;
      if (eol < 0) {
        if (this.headLen > HEADER_MAX || (all.length >= MAGIC.length && !all.subarray(0, MAGIC.length).equals(MAGIC))) throw new DecryptError('not an age v1 file');
        return undefined;
      }
      this.head = undefined;
      return this.openHeader(all.subarray(0, eol + 1), all.subarray(eol + 1));
    }
    this.payload(buf);
    return undefined;
  }

  private async openHeader(header: Buffer, rest: Buffer): Promise<void> {
    if (!header.subarray(0, MAGIC.length).equals(MAGIC)) throw new DecryptError('not an age v1 file');
    const d = new (await age()).Decrypter();
    for (const id of this.identities) d.addIdentity(id);
    let fileKey: Uint8Array;
    try {
      fileKey = await d.decryptHeader(header);
    } catch (e) {
      throw decryptError(e);
    }
    this.offset = header.length + 16;
    this.fileKey = fileKey;
    this.payload(rest);
  }

  private payload(buf: Buffer): void {
    let b = buf;
    if (!this.key) {
      const need = 16 - this.nonceLen;
      const take = b.subarray(0, need);
      this.nonceBytes.push(take);
      this.nonceLen += take.length;
      b = b.subarray(take.length);
      if (this.nonceLen < 16) return;
      this.key = payloadKey(this.fileKey!, Buffer.concat(this.nonceBytes));
      this.fileKey!.fill(0);
      this.fileKey = undefined;
      this.nonceBytes = [];
    }
    while (b.length) {
      // a chunk is known not to be the last only once a byte beyond it has arrived
      if (this.partsLen === SEALED) this.seal(false);
      const take = b.subarray(0, SEALED - this.partsLen);
      this.parts.push(take);
      this.partsLen += take.length;
      b = b.subarray(take.length);
    }
  }

  private seal(last: boolean): void {
    if (this.partsLen < TAG) throw new DecryptError(`${AUTH_FAILED} (a chunk shorter than its tag)`);
    if (last && this.partsLen === TAG && this.counter > 0n) throw new DecryptError('the age payload failed authentication: the final chunk is empty (truncated at a chunk boundary)');
    const d = createDecipheriv('chacha20-poly1305', this.key!, streamNonce(this.counter++, last), { authTagLength: TAG });
    let left = this.partsLen - TAG;
    const tag: Buffer[] = [];
    for (const p of this.parts) {
      if (left >= p.length) {
        d.update(p);
        left -= p.length;
      } else {
        if (left > 0) d.update(p.subarray(0, left));
        tag.push(p.subarray(left));
        left = 0;
      }
    }
    d.setAuthTag(tag.length === 1 ? tag[0] : Buffer.concat(tag));
    try {
      d.final();
    } catch {
      throw new DecryptError(`${AUTH_FAILED} (chunk ${this.counter - 1n}${last ? ', the final one' : ''} does not authenticate)`);
    }
    this.plain += this.partsLen - TAG;
    this.parts = [];
    this.partsLen = 0;
  }

  /** Authenticates the final chunk. Call after the last byte; throws if the file is incomplete. */
  finish(): VerifiedPayload {
    if (this.head) throw new DecryptError('not an age file: no complete age header');
    if (!this.key) throw new DecryptError('the age payload failed authentication: the file is truncated (no payload)');
    this.seal(true);
    return { offset: this.offset, size: this.total, chunks: Number(this.counter), plainSize: this.plain, key: this.key };
  }
}

/** Sealed chunks per read of {@link openVerifiedPayload} (~4 MiB; two such buffers are reused for the whole file). */
const READ_CHUNKS = 64;
/** Plaintext bytes the replay may hold ready for its consumer (a few reads ahead of a slow mongorestore). */
const REPLAY_HIGH_WATER = 8 * 1024 * 1024;

/**
 * Replays a payload that an {@link AgeVerifier} accepted, reading `fd` (the caller's private descriptor of exactly
 * those bytes; see the module comment for why the tags need not be checked again) and decrypting with the ChaCha20
 * keystream. The stream fails with {@link DecryptError} if the file's size is not the verified size.
 *
 * Speed (bench/mongo-restore-breakdown.ts): the file is read in ~4 MiB blocks into two buffers allocated once and
 * reused (no page faults on fresh memory per read), the next block being read by the thread pool while this one is
 * decrypted; each 64 KiB chunk is decrypted straight from the read buffer into its own output buffer, which is
 * pushed as is (no concatenation copy), so a consumer such as a child's stdin gets them batched by its writev.
 */
export function openVerifiedPayload(fd: number, v: VerifiedPayload): Readable {
  const block = READ_CHUNKS * SEALED;
  const lastStart = v.offset + (v.chunks - 1) * SEALED;
  const bufs = [Buffer.allocUnsafe(Math.min(block, v.size)), Buffer.allocUnsafe(Math.min(block, v.size))];
  let which = 0;
  let pos = v.offset;
  let counter = 0;
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(1, 0);
  /** Starts reading the next block into the free buffer; undefined at the end. */
  const readNext = (): Promise<{ buf: Buffer; at: number; len: number }> | undefined => {
    if (pos >= v.size) return undefined;
    const len = Math.min(block, v.size - pos);
    const buf = bufs[which];
    which ^= 1;
    const at = pos;
    pos += len;
    return readAt(fd, buf, len, at).then((got) => {
      if (got !== len) throw new DecryptError(`the verified download is shorter than verified (${at + got} of ${v.size} bytes): refusing to decrypt it`);
      return { buf, at, len };
    });
  };
  let next: Promise<{ buf: Buffer; at: number; len: number }> | undefined;
  let started = false;
  let busy = false;
  return new Readable({
    highWaterMark: REPLAY_HIGH_WATER,
    read() {
      if (busy) return;
      busy = true;
      if (!started) {
        started = true;
        const st = fs.fstatSync(fd);
        if (st.size !== v.size) return this.destroy(new DecryptError(`the verified download changed size (${st.size} bytes, ${v.size} verified): refusing to decrypt it`));
        next = readNext();
      }
      const cur = next;
      if (!cur) return void this.push(null);
      cur
        .then(({ buf, at, len }) => {
          // the other buffer is free (its chunks were decrypted into their own buffers): read ahead into it
          next = readNext();
          const out: Buffer[] = [];
          for (let off = 0; off < len; ) {
            const last = at + off === lastStart;
            const sealedLen = last ? v.size - at - off : SEALED;
            streamNonce(BigInt(counter++), last).copy(iv, 4);
            out.push(createDecipheriv('chacha20', v.key, iv).update(buf.subarray(off, off + sealedLen - TAG)));
            off += sealedLen;
          }
          busy = false;
          for (const b of out) this.push(b);
          if (!next) this.push(null);
        })
        .catch((e: unknown) => this.destroy(e as Error));
    },
  });
}

function readAt(fd: number, buf: Buffer, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let off = 0;
    const more = (): void =>
      fs.read(fd, buf, off, len - off, pos + off, (err, n) => {
        if (err) return reject(err);
        off += n;
        if (n === 0 || off === len) resolve(off);
        else more();
      });
    more();
  });
}
