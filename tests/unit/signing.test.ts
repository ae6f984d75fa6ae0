import { strict as assert } from 'node:assert';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../../src/shared/errors';
import {
  generateKeyPair,
  keyFingerprint,
  loadPrivateKey,
  loadPublicKey,
  sign,
  verify,
} from '../../src/shared/signing';

describe('signing', () => {
  let tmp: string;
  const pair = generateKeyPair();
  const other = generateKeyPair();
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-sign-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('generateKeyPair gives PKCS#8 and SPKI PEM', () => {
    assert.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('sign/verify round trip (Buffer and string)', () => {
    const priv = loadPrivateKey(pair.privateKeyPem, 'signingKey');
    const pub = loadPublicKey(pair.publicKeyPem, 'kitPublicKey');
    const data = Buffer.from('abc  SHA256SUMS\n');
    const sig = sign(data, priv);
    assert.equal(Buffer.from(sig, 'base64').length, 64);
    assert.equal(verify(data, sig, pub), true);
    assert.equal(verify('abc  SHA256SUMS\n', sign('abc  SHA256SUMS\n', priv), pub), true);
    assert.equal(verify(data, sig + '\n', pub), true, 'surrounding whitespace is ignored');
  });

  it('tampered data → false', () => {
    const priv = loadPrivateKey(pair.privateKeyPem, 'k');
    const pub = loadPublicKey(pair.publicKeyPem, 'p');
    const sig = sign('hello', priv);
    assert.equal(verify('hellO', sig, pub), false);
  });

  it('wrong key → false', () => {
    const priv = loadPrivateKey(pair.privateKeyPem, 'k');
    const wrong = loadPublicKey(other.publicKeyPem, 'p');
    assert.equal(verify('hello', sign('hello', priv), wrong), false);
  });

  it('garbage signatures → false, never a throw', () => {
    const pub = loadPublicKey(pair.publicKeyPem, 'p');
    for (const s of ['', 'not base64!', 'AAAA', Buffer.alloc(64).toString('base64'), 'x'.repeat(1000)]) {
      assert.equal(verify('hello', s, pub), false, s);
    }
  });

  it('loads keys from files', () => {
    const privFile = path.join(tmp, 'kit.key');
    const pubFile = path.join(tmp, 'kit.pub');
    fs.writeFileSync(privFile, pair.privateKeyPem);
    fs.writeFileSync(pubFile, pair.publicKeyPem);
    const priv = loadPrivateKey(privFile, 'signingKey');
    const pub = loadPublicKey(pubFile, 'kitPublicKey');
    assert.equal(verify('x', sign('x', priv), pub), true);
  });

  it('accepts PEM flattened to one line or with literal \\n', () => {
    const oneLine = pair.publicKeyPem.replace(/\n/g, ' ');
    const escaped = pair.privateKeyPem.replace(/\n/g, '\\n');
    const pub = loadPublicKey(oneLine, 'p');
    const priv = loadPrivateKey(escaped, 'k');
    assert.equal(verify('x', sign('x', priv), pub), true);
  });

  it('unreadable key file → InputError naming the input', () => {
    assert.throws(
      () => loadPublicKey(path.join(tmp, 'missing.pub'), 'kitPublicKey'),
      (err: unknown) => err instanceof InputError && err.input === 'kitPublicKey' && /ENOENT/.test(err.expected),
    );
    assert.throws(
      () => loadPrivateKey(path.join(tmp, 'missing.key'), 'signingKey'),
      (err: unknown) => err instanceof InputError && err.input === 'signingKey',
    );
  });

  it('non-Ed25519 keys → InputError', () => {
    const rsa = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    for (const [pem, fn, input] of [
      [rsa.privateKey, loadPrivateKey, 'signingKey'],
      [ec.privateKey, loadPrivateKey, 'signingKey'],
      [rsa.publicKey, loadPublicKey, 'kitPublicKey'],
      [ec.publicKey, loadPublicKey, 'kitPublicKey'],
    ] as const) {
      assert.throws(
        () => fn(pem, input),
        (err: unknown) =>
          err instanceof InputError && err.input === input && /^expected an Ed25519 (private|public) key in PEM/.test(err.expected),
      );
    }
  });

  it('garbage, a public key as private and a private key as public → InputError', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'k'), 'k'],
      [() => loadPrivateKey(pair.publicKeyPem, 'k'), 'k'],
      [() => loadPublicKey(pair.privateKeyPem, 'p'), 'p'],
      [() => loadPublicKey('', 'p'), 'p'],
    ];
    for (const [fn, input] of cases) {
      assert.throws(fn, (err: unknown) => err instanceof InputError && err.input === input);
    }
    const notPem = path.join(tmp, 'not.pem');
    fs.writeFileSync(notPem, 'hello');
    assert.throws(
      () => loadPublicKey(notPem, 'kitPublicKey'),
      (err: unknown) =>
        err instanceof InputError && err.expected === 'expected an Ed25519 public key in PEM' && !err.message.includes('hello'),
    );
  });

  it('keyFingerprint is SHA256: + unpadded base64 of the raw key, same for the private half', () => {
    const pub = loadPublicKey(pair.publicKeyPem, 'p');
    const der = createPublicKey(pair.publicKeyPem).export({ format: 'der', type: 'spki' });
    const raw = der.subarray(der.length - 32);
    const expected = 'SHA256:' + createHash('sha256').update(raw).digest('base64').replace(/=+$/, '');
    assert.equal(keyFingerprint(pub), expected);
    assert.match(keyFingerprint(pub), /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(keyFingerprint(loadPrivateKey(pair.privateKeyPem, 'k')), expected);
    assert.notEqual(keyFingerprint(loadPublicKey(other.publicKeyPem, 'p')), expected);
  });
});
