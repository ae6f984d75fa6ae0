/**
 * The restore's one-network-pass download: AgeVerifier (header + every chunk's tag, fed in arbitrary slices),
 * openVerifiedPayload (keystream replay) against age-encryption's own decryption, and downloadToVerifiedCopy's
 * refusals (flipped byte in the first, a middle and the LAST chunk with a matching SHA-256, truncation at a chunk
 * boundary, extra bytes, a cut download, out of disk) — each leaving nothing on disk.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { AgeVerifier, DecryptError, encryptStream, openVerifiedPayload } from '../../src/shared/crypto';
import { InputError } from '../../src/shared/errors';
import { downloadToVerifiedCopy, IntegrityError, openStorage, StorageError, type ManifestObject, type Storage } from '../../src/shared/storage';

const CHUNK = 64 * 1024;
const SEALED = CHUNK + 16;

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function encrypt(plain: Buffer, recipient: string): Promise<Buffer> {
  return collect(await encryptStream(Readable.from([plain]), [recipient]));
}

/** Feeds `file` to a verifier in slices of `step` bytes. */
async function verify(file: Buffer, ids: string[], step: number): Promise<ReturnType<AgeVerifier['finish']>> {
  const v = new AgeVerifier(ids);
  for (let i = 0; i < file.length; i += step) await v.update(file.subarray(i, i + step));
  return v.finish();
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function headerLength(file: Buffer): number {
  const mark = file.indexOf('\n--- ');
  return file.indexOf(0x0a, mark + 1) + 1;
}

describe('verified copy (restore download: authenticate once, replay with the keystream)', () => {
  let id: string;
  let recipient: string;
  let work: string;
  before(async () => {
    id = await generateX25519Identity();
    recipient = await identityToRecipient(id);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vcopy-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  describe('AgeVerifier + openVerifiedPayload', () => {
    // the replay reads 64 sealed chunks per block: sizes that end at, just past and well past a block boundary too
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 12345, 64 * CHUNK, 64 * CHUNK + 1, 129 * CHUNK + 777]) {
      it(`${size} bytes: accepted in any slicing, and the replay equals age-encryption's decryption`, async () => {
        const plain = Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + 7) % 256));
        const file = await encrypt(plain, recipient);
        const d = new Decrypter();
        d.addIdentity(id);
        assert.equal(sha(Buffer.from(await d.decrypt(file))), sha(plain));
        for (const step of [1000, 7, SEALED, SEALED + 1, file.length]) {
          if (step === 7 && size > CHUNK) continue; // slow in 7-byte steps; the small sizes cover it
          const v = await verify(file, [id], step);
          assert.equal(v.size, file.length);
          assert.equal(v.plainSize, size);
          assert.equal(v.offset, headerLength(file) + 16);
        }
        const v = await verify(file, [id], 4096);
        const f = path.join(work, `p${size}`);
        fs.writeFileSync(f, file, { mode: 0o600 });
        const fd = fs.openSync(f, 'r');
        try {
          assert.equal(sha(await collect(openVerifiedPayload(fd, v))), sha(plain));
        } finally {
          fs.closeSync(fd);
        }
      });
    }

    it('refuses a flipped byte in the first, a middle and the last chunk, and a flipped tag', async () => {
      const plain = Buffer.alloc(5 * CHUNK + 999, 5);
      const file = await encrypt(plain, recipient);
      const off = headerLength(file) + 16;
      for (const [where, at] of [
        ['first chunk', off + 10],
        ['middle chunk', off + 2 * SEALED + 100],
        ['last chunk', file.length - 20],
        ['last tag', file.length - 1],
        ['payload nonce', off - 3],
      ] as const) {
        const bad = Buffer.from(file);
        bad[at] ^= 1;
        await assert.rejects(verify(bad, [id], 65536), (e: unknown) => e instanceof DecryptError && /failed authentication/.test(e.message), where);
      }
      const header = Buffer.from(file);
      header[30] ^= 1;
      await assert.rejects(verify(header, [id], 65536), DecryptError);
    });

    it('refuses truncation (inside a chunk, at a chunk boundary, inside the header), extra bytes, a wrong identity, not-age', async () => {
      const file = await encrypt(Buffer.alloc(3 * CHUNK + 5, 1), recipient);
      const off = headerLength(file) + 16;
      await assert.rejects(verify(file.subarray(0, file.length - 1), [id], 9999), /failed authentication/);
      await assert.rejects(verify(file.subarray(0, off + 2 * SEALED), [id], 9999), /failed authentication/);
      await assert.rejects(verify(file.subarray(0, off - 8), [id], 9999), /truncated \(no payload\)/);
      await assert.rejects(verify(file.subarray(0, 40), [id], 9999), /no complete age header/);
      await assert.rejects(verify(Buffer.concat([file, Buffer.from([0])]), [id], 9999), /failed authentication/);
      await assert.rejects(verify(file, [await generateX25519Identity()], 9999), /wrong identity/);
      await assert.rejects(verify(Buffer.from('MDDBL1\n' + 'x'.repeat(100)), [id], 9999), /not an age v1 file/);
      // an age file of exactly N full chunks truncated to N-1 chunks + an empty final chunk cannot be forged, but a
      // file cut right after a full chunk must not pass as complete either
      const full = await encrypt(Buffer.alloc(2 * CHUNK, 2), recipient);
      await assert.rejects(verify(full.subarray(0, headerLength(full) + 16 + SEALED), [id], 9999), /failed authentication/);
    });

    it('the replay refuses a file whose size changed after verification', async () => {
      const file = await encrypt(Buffer.alloc(CHUNK + 10, 3), recipient);
      const v = await verify(file, [id], 65536);
      const f = path.join(work, 'changed');
      fs.writeFileSync(f, file.subarray(0, file.length - 5));
      const fd = fs.openSync(f, 'r');
      try {
        await assert.rejects(collect(openVerifiedPayload(fd, v)), /changed size/);
      } finally {
        fs.closeSync(fd);
      }
    });
  });

  describe('downloadToVerifiedCopy (filesystem storage)', () => {
    let st: Storage;
    let root: string;
    let file: Buffer;
    let plain: Buffer;
    let obj: ManifestObject;
    before(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'vcopy-store-'));
      st = await openStorage({ kind: 'filesystem', path: root, location: 'off-hub', prefix: '' });
      plain = Buffer.from(Array.from({ length: 4 * CHUNK + 777 }, (_, i) => i % 253));
      file = await encrypt(plain, recipient);
      obj = { name: 'archive.age', size: file.length, sha256: sha(file), encrypted: true, plainSize: plain.length };
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    const put = (b: Buffer): void => {
      fs.mkdirSync(path.join(root, 'set'), { recursive: true });
      fs.writeFileSync(path.join(root, 'set', 'archive.age'), b);
    };
    const dest = (): string => path.join(work, 'dl', 'archive.age');
    beforeEach(() => fs.mkdirSync(path.join(work, 'dl'), { recursive: true, mode: 0o700 }));
    afterEach(() => assert.deepEqual(fs.readdirSync(path.join(work, 'dl')), [], 'something was left in the download directory'));

    it('an intact object: the copy replays the plaintext; the name is gone at once (POSIX); close() is idempotent', async () => {
      put(file);
      const copy = await downloadToVerifiedCopy(st, 'set', obj, dest(), { identities: [id] });
      if (process.platform !== 'win32') assert.ok(!fs.existsSync(dest()));
      assert.equal(sha(await collect(copy.plaintext())), sha(plain));
      assert.throws(() => copy.plaintext(), /bug/);
      copy.close();
      copy.close();
    });

    it('a flipped byte in the last chunk with a SHA-256 that matches (unsigned manifest rewritten): refused by the tag', async () => {
      const bad = Buffer.from(file);
      bad[bad.length - 30] ^= 0x80;
      put(bad);
      await assert.rejects(downloadToVerifiedCopy(st, 'set', { ...obj, sha256: sha(bad) }, dest(), { identities: [id] }), (e: unknown) => e instanceof DecryptError && /chunk 4, the final one/.test(e.message));
    });

    it('a flipped byte with the manifest SHA-256: refused; truncated: refused on size; longer: stopped early', async () => {
      const bad = Buffer.from(file);
      bad[bad.length - 30] ^= 0x80;
      put(bad);
      await assert.rejects(downloadToVerifiedCopy(st, 'set', obj, dest(), { identities: [id] }), (e: unknown) => e instanceof IntegrityError || e instanceof DecryptError);
      put(file.subarray(0, file.length - 100));
      await assert.rejects(downloadToVerifiedCopy(st, 'set', obj, dest(), { identities: [id] }), (e: unknown) => e instanceof IntegrityError && /has \d+ bytes, the manifest says/.test(e.message));
      put(Buffer.concat([file, Buffer.alloc(3 * 1024 * 1024)]));
      await assert.rejects(downloadToVerifiedCopy(st, 'set', obj, dest(), { identities: [id] }), (e: unknown) => e instanceof IntegrityError && /longer than/.test(e.message));
    });

    it('a download that is cut: the storage error, nothing left', async () => {
      const cut: Storage = {
        ...st,
        get: async () => ({
          size: file.length,
          stream: Readable.from((async function* () {
            yield file.subarray(0, 3 * SEALED);
            throw new StorageError('download of set/archive.age: connection reset (ECONNRESET)');
          })()),
        }),
      };
      await assert.rejects(downloadToVerifiedCopy(cut, 'set', obj, dest(), { identities: [id] }), /ECONNRESET/);
    });

    it('out of disk (ENOSPC from the file system): InputError naming the directory input', async function () {
      if (!fs.existsSync('/dev/full')) this.skip();
      put(file);
      // /dev/full fails every write with ENOSPC: the copy's exclusive open of its destination gets it instead
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const real = require('node:fs') as { openSync: (...a: unknown[]) => number; unlinkSync: (p: unknown) => void };
      const { openSync, unlinkSync } = real;
      real.openSync = (p: unknown, ...rest: unknown[]) => (p === dest() ? openSync('/dev/full', 'r+') : openSync(p, ...rest));
      real.unlinkSync = (p: unknown) => (p === dest() ? undefined : unlinkSync(p));
      try {
        await assert.rejects(downloadToVerifiedCopy(st, 'set', obj, dest(), { identities: [id], dirInput: 'workDirectory' }), (e: unknown) => e instanceof InputError && e.input === 'workDirectory' && /ran out of disk space .*ENOSPC/.test(e.message));
      } finally {
        real.openSync = openSync;
        real.unlinkSync = unlinkSync;
      }
    });

    it('an existing file at the destination is never reused (exclusive create)', async () => {
      put(file);
      fs.writeFileSync(dest(), 'planted');
      try {
        await assert.rejects(downloadToVerifiedCopy(st, 'set', obj, dest(), { identities: [id] }), /EEXIST/);
      } finally {
        fs.rmSync(dest());
      }
    });
  });
});
