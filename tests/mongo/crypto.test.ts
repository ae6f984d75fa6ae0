/** src/shared/crypto: age recipients/identities, streaming encryption, hashing, canonical JSON, manifest signatures. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { Decrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import {
  bech32Decode,
  canonicalJson,
  checkManifestSignature,
  decryptStream,
  DecryptError,
  drain,
  encryptStream,
  HashMeter,
  parseIdentities,
  parseRecipients,
  recipientFingerprint,
  recipientOf,
  requireValidSignature,
  SignatureError,
  signManifest,
} from '../../src/shared/crypto';
import { InputError } from '../../src/shared/errors';
import { decryptStreamReference, encryptStreamReference } from '../helpers/age-reference';
import { generateKeyPair, loadPrivateKey, loadPublicKey } from '../../src/shared/signing';

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function chunks(buf: Buffer, size = 100_000): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  })());
}

describe('shared/crypto', () => {
  let id1: string;
  let r1: string;
  let id2: string;
  let r2: string;
  const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));

  before(async () => {
    id1 = await generateX25519Identity();
    r1 = await identityToRecipient(id1);
    id2 = await generateX25519Identity();
    r2 = await identityToRecipient(id2);
  });

  describe('recipients and identities', () => {
    it('accepts X25519 recipients, lower-cases, drops comments and duplicates', () => {
      assert.deepEqual(parseRecipients(['# break-glass', r1, r1.toUpperCase(), '', r2], 'encryptionRecipients'), [r1, r2]);
    });

    it('bech32 decoding agrees with age for generated keys and refuses a changed character', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await identityToRecipient(await generateX25519Identity());
        assert.equal(bech32Decode(r)?.bytes.length, 32);
      }
      const flipped = r1.slice(0, 10) + (r1[10] === 'q' ? 'p' : 'q') + r1.slice(11);
      assert.equal(bech32Decode(flipped), undefined);
      assert.throws(() => parseRecipients([flipped], 'encryptionRecipients'), (e: unknown) => e instanceof InputError && e.input === 'encryptionRecipients' && /not an age X25519 recipient/.test(e.message));
    });

    it('refuses malformed, post-quantum and empty recipient lists, naming the input', () => {
      for (const bad of [['age1xyz'], ['ssh-ed25519 AAAA'], ['age1pq1' + 'q'.repeat(60)], ['# only a comment']]) {
        assert.throws(() => parseRecipients(bad, 'encryptionRecipients'), (e: unknown) => e instanceof InputError && e.input === 'encryptionRecipients');
      }
    });

    it('reads an age-keygen identity file, masks each identity, never quotes a bad line', async () => {
      const masked: string[] = [];
      const file = `# created: 2024-01-01\n# public key: ${r1}\n${id1}\n`;
      assert.deepEqual(parseIdentities(file, 'ageIdentity', (s) => masked.push(s)), [id1]);
      assert.ok(masked.includes(id1));
      const bad = id1.slice(0, -3) + 'QQQ';
      assert.throws(() => parseIdentities(bad, 'ageIdentity'), (e: unknown) => e instanceof InputError && !e.message.includes(bad.slice(20)) && /line 1/.test(e.message));
      assert.throws(() => parseIdentities('# nothing', 'ageIdentity'), InputError);
      assert.equal(await recipientOf(id1), r1);
    });

    it('fingerprints recipients stably without the key itself', () => {
      const f = recipientFingerprint(r1);
      assert.match(f, /^age:SHA256:[A-Za-z0-9+/]{43}$/);
      assert.equal(f, recipientFingerprint(r1.toUpperCase()));
      assert.notEqual(f, recipientFingerprint(r2));
      assert.ok(!f.includes(r1.slice(4, 20)));
    });
  });

  describe('streams', () => {
    it('encrypts to several recipients; each identity decrypts; interoperates with age itself', async () => {
      const enc = await collect(await encryptStream(chunks(data), [r1, r2]));
      assert.ok(enc.subarray(0, 21).toString().startsWith('age-encryption.org/v1'));
      for (const id of [id1, id2]) assert.deepEqual(await collect(await decryptStream(chunks(enc), [id])), data);
      const d = new Decrypter();
      d.addIdentity(id2);
      assert.deepEqual(Buffer.from(await d.decrypt(enc)), data);
    });

    it('is the age v1 format: interoperates with age-encryption both ways at every chunk boundary', async () => {
      for (const n of [0, 1, 65535, 65536, 65537, 131072, 131073, 300_000]) {
        const plain = data.subarray(0, n);
        const ours = await collect(await encryptStream(chunks(plain, 7000), [r1]));
        assert.deepEqual(await collect(await decryptStreamReference(chunks(ours, 5000), [id1])), plain, `reference decrypts ours (${n})`);
        const theirs = await collect(await encryptStreamReference(chunks(plain, 9000), [r1]));
        assert.deepEqual(await collect(await decryptStream(chunks(theirs, 3000), [id1])), plain, `we decrypt the reference (${n})`);
        assert.equal(ours.length, theirs.length, `same size (${n})`);
      }
    });

    it('refuses reordered chunks and a file that is not age', async () => {
      const enc = await collect(await encryptStream(chunks(data), [r1]));
      const start = enc.length - (data.length + 5 * 16) - 16; // where the nonce begins: header before it
      const body = enc.subarray(start + 16);
      const swapped = Buffer.concat([enc.subarray(0, start + 16), body.subarray(65552, 2 * 65552), body.subarray(0, 65552), body.subarray(2 * 65552)]);
      await assert.rejects(async () => drain(await decryptStream(chunks(swapped), [id1])), DecryptError);
      await assert.rejects(decryptStream(chunks(Buffer.from('hello, not an age file\n'.repeat(10))), [id1]), DecryptError);
    });

    it('refuses the wrong identity before any plaintext', async () => {
      const other = await generateX25519Identity();
      const enc = await collect(await encryptStream(chunks(data), [r1]));
      await assert.rejects(decryptStream(chunks(enc), [other]), (e: unknown) => e instanceof DecryptError && /wrong identity/.test(e.message));
    });

    it('fails on one flipped payload byte and on truncation (also at a chunk boundary)', async () => {
      const enc = await collect(await encryptStream(chunks(data), [r1]));
      const flipped = Buffer.from(enc);
      flipped[flipped.length - 1000] ^= 1;
      await assert.rejects(async () => drain(await decryptStream(chunks(flipped), [id1])), DecryptError);
      await assert.rejects(async () => drain(await decryptStream(chunks(enc.subarray(0, enc.length - 10)), [id1])), DecryptError);
      // header (~ 200 bytes) + 16 nonce + exactly 2 full 64 KiB chunks
      const headerEnd = enc.indexOf(Buffer.from('\n---')) + enc.subarray(enc.indexOf(Buffer.from('\n---')) + 1).indexOf(10) + 2;
      const cut = headerEnd + 16 + 2 * (65536 + 16);
      await assert.rejects(async () => drain(await decryptStream(chunks(enc.subarray(0, cut)), [id1])), DecryptError);
    });

    it('keeps memory bounded: only pulls as fast as the consumer reads', async () => {
      let produced = 0;
      const src = new Readable({
        read() {
          produced += 65536;
          this.push(produced > 64 * 1048576 ? null : Buffer.alloc(65536));
        },
      });
      const out = await encryptStream(src, [r1]);
      const slow = new PassThrough({ highWaterMark: 65536 });
      out.pipe(slow);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(produced < 8 * 1048576, `read ${produced} bytes ahead of a consumer that read nothing`);
      out.unpipe(slow);
      out.destroy();
    });

    it('HashMeter hashes and counts what flows through', async () => {
      const m = new HashMeter();
      await collect(chunks(data).pipe(m));
      assert.equal(m.bytes, data.length);
      assert.equal(m.sha256, createHash('sha256').update(data).digest('hex'));
      assert.throws(() => new HashMeter().sha256, /before the stream ended/);
    });
  });

  describe('manifests', () => {
    const kp = generateKeyPair();
    const other = generateKeyPair();
    const key = loadPrivateKey(kp.privateKeyPem, 'signingKey');
    const pub = loadPublicKey(kp.publicKeyPem, 'verifyKey');
    const otherPub = loadPublicKey(other.publicKeyPem, 'verifyKey');

    it('canonical JSON sorts keys at every level and drops undefined', () => {
      assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined, b: null }], c: 'x' }), '{"a":[{"b":null,"d":2}],"b":1,"c":"x"}');
      assert.equal(canonicalJson({ z: 1, a: 2 }), canonicalJson({ a: 2, z: 1 }));
    });

    it('signs and verifies; refuses unsigned, tampered, re-ordered-but-changed and other-key manifests', () => {
      const m = { id: 'x', objects: [{ name: 'a', sha256: 'f'.repeat(64) }], data: { counts: { 'db.c': 3 } } };
      const s = signManifest(m, key);
      assert.equal(s.signature.algorithm, 'ed25519');
      assert.match(s.signature.keyFingerprint, /^SHA256:/);
      requireValidSignature(JSON.parse(JSON.stringify(s)), pub, 'backup x');
      // key order does not matter, content does
      const reordered = JSON.parse(JSON.stringify({ signature: s.signature, data: s.data, objects: s.objects, id: s.id }));
      requireValidSignature(reordered, pub, 'backup x');
      assert.throws(() => requireValidSignature(m, pub, 'backup x'), (e: unknown) => e instanceof SignatureError && /not signed/.test(e.message));
      const tampered = { ...s, data: { counts: { 'db.c': 4 } } };
      assert.throws(() => requireValidSignature(tampered, pub, 'backup x'), (e: unknown) => e instanceof SignatureError && /bad signature/.test(e.message));
      assert.throws(() => requireValidSignature(s, otherPub, 'backup x'), SignatureError);
      assert.deepEqual(checkManifestSignature(m, undefined), { signed: false, verified: false });
      assert.equal(checkManifestSignature(s, undefined).signed, true);
      assert.ok(!JSON.stringify(s).includes('PRIVATE'));
    });
  });
});
