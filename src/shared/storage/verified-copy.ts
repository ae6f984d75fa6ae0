/**
 * A restore's download in one network pass: the object is written to a private 0600 file while, in the same
 * stream, its size and SHA-256 are checked against the manifest and — for an age file — the header and every
 * chunk's tag are authenticated (plaintext discarded). Only when all of that passed does the caller get a
 * {@link VerifiedCopy}, whose `plaintext()` replays the file at memory speed through the same descriptor
 * (src/shared/crypto/age-payload.ts explains why the keystream alone is enough there). Nothing but ciphertext is
 * ever written to disk, and on POSIX the file's name is removed right after it is created, so no other process can
 * open it by path and nothing is left behind if the process dies.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AgeVerifier, openVerifiedPayload, type VerifiedPayload } from '../crypto';
import { InputError, PreconditionError } from '../errors';
import { IntegrityError, joinKey, type ManifestObject } from './sets';
import type { Storage } from './types';

/** A download that passed every check, open for replay. */
export interface VerifiedCopy {
  /** The object, as the manifest describes it. */
  obj: ManifestObject;
  /** The plaintext (decrypted when encrypted), read from the private copy. Call once. */
  plaintext(): Readable;
  /** Closes and removes the copy. Idempotent. */
  close(): void;
}

/** Options of {@link downloadToVerifiedCopy}. */
export interface VerifiedCopyOptions {
  /** age identities; required for an encrypted object. */
  identities?: string[];
  /** Called with downloaded bytes. */
  onProgress?: (bytes: number) => void;
  /** The input that names the directory of `destFile`, for out-of-disk messages (default workDirectory). */
  dirInput?: string;
}

/** Bytes the file sink may have in flight to the disk before it stops taking more from the network. */
const IN_FLIGHT = 16 * 1024 * 1024;

/**
 * Downloads `obj` of the set `dir` into `destFile` (created exclusively, 0600) and verifies it in the same pass.
 * Refuses, removing the file, with an {@link IntegrityError} (size, SHA-256; more bytes than the manifest says stop
 * the download at once), a DecryptError (age header or a chunk's tag), a StorageError (the download failed or was
 * cut) or an InputError naming `dirInput` (the disk filled up).
 */
export async function downloadToVerifiedCopy(storage: Storage, dir: string, obj: ManifestObject, destFile: string, opts: VerifiedCopyOptions = {}): Promise<VerifiedCopy> {
  if (obj.encrypted && !opts.identities?.length) throw new PreconditionError(`${obj.name} is encrypted: an age identity is required`);
  const key = joinKey(dir, obj.name);
  const fd = fs.openSync(destFile, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
  let named = true;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      fs.closeSync(fd);
    } finally {
      if (named) fs.rmSync(destFile, { force: true });
    }
  };
  if (process.platform !== 'win32') {
    fs.unlinkSync(destFile);
    named = false;
  }
  try {
    const verifier = obj.encrypted ? new AgeVerifier(opts.identities!) : undefined;
    const hash = createHash('sha256');
    let bytes = 0;
    let inFlight = 0;
    let writeError: Error | undefined;
    const waiting: (() => void)[] = [];
    let drained: (() => void) | undefined;
    const written = (): void => {
      while (waiting.length && inFlight < IN_FLIGHT) waiting.shift()!();
      if (inFlight === 0 && drained) drained();
    };
    const sink = new Writable({
      highWaterMark: 4 * 1024 * 1024,
      writev(chunks, cb) {
        const bufs = chunks.map((c) => c.chunk as Buffer);
        const run = async (): Promise<void> => {
          if (writeError) throw writeError;
          const at = bytes;
          for (const b of bufs) {
            bytes += b.length;
            if (bytes > obj.size) throw new IntegrityError(`${storage.location(key)} is longer than the ${obj.size} bytes its manifest says (replaced?): download stopped`);
            hash.update(b);
            const p = verifier?.update(b);
            if (p) await p;
          }
          opts.onProgress?.(bytes);
          const len = bytes - at;
          inFlight += len;
          fs.writev(fd, bufs, at, (err) => {
            inFlight -= len;
            if (err) writeError ??= err;
            written();
          });
          if (inFlight >= IN_FLIGHT) await new Promise<void>((r) => waiting.push(r));
        };
        run().then(() => cb(), cb);
      },
      final(cb) {
        const done = (): void => (writeError ? cb(writeError) : cb());
        if (inFlight === 0) return done();
        drained = done;
      },
    });
    const { stream } = await storage.get(key);
    try {
      await pipeline(stream, sink);
    } catch (e) {
      throw outOfDisk(e, obj, opts.dirInput ?? 'workDirectory') ?? e;
    }
    if (bytes !== obj.size) throw new IntegrityError(`${storage.location(key)} has ${bytes} bytes, the manifest says ${obj.size} (truncated or replaced)`);
    if (hash.digest('hex') !== obj.sha256) throw new IntegrityError(`${storage.location(key)} does not match the SHA-256 in its manifest (corrupted or replaced)`);
    const payload: VerifiedPayload | undefined = verifier?.finish();
    let opened = false;
    return {
      obj,
      plaintext() {
        if (opened || closed) throw new Error('bug: VerifiedCopy.plaintext() called twice or after close()');
        opened = true;
        return payload ? openVerifiedPayload(fd, payload) : fs.createReadStream('', { fd, start: 0, autoClose: false, highWaterMark: 1024 * 1024 });
      },
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

function outOfDisk(e: unknown, obj: ManifestObject, input: string): InputError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  return new InputError(input, `ran out of disk space while downloading ${obj.name} (${obj.size} bytes needed): ${code}`);
}
