/**
 * Ed25519 signing and verification with `node:crypto` only (no external tools, nothing downloaded).
 *
 * Keys are PEM: PKCS#8 (`-----BEGIN PRIVATE KEY-----`) for private keys and SPKI (`-----BEGIN PUBLIC KEY-----`)
 * for public keys, given inline or as a file path. Inline PEM that lost its line breaks (a pipeline secret pasted
 * on one line, or with literal `\n`) is accepted. Key material never appears in error messages.
 */

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from './errors';

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

/** Re-wraps a PEM block whose line breaks were lost or escaped. Returns undefined when there is no PEM block. */
function normalizePem(text: string): { label: string; pem: string } | undefined {
  const m = PEM_RE.exec(text.replace(/\\r/g, '').replace(/\\n/g, '\n'));
  if (!m) return undefined;
  const label = m[1];
  const body = m[2].replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return { label, pem: `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n` };
}

function readPemOrPath(pemOrPath: string, input: string, kind: 'private' | 'public'): { label: string; pem: string } {
  const value = (pemOrPath ?? '').trim();
  if (value === '') throw new InputError(input, `expected an Ed25519 ${kind} key in PEM, or the path of a PEM file`);
  let text = value;
  if (!value.includes('-----BEGIN')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new InputError(input, `cannot read the ${kind} key file ${value}: ${e.code ?? e.message}`);
    }
  }
  const pem = normalizePem(text);
  if (!pem) throw new InputError(input, `expected an Ed25519 ${kind} key in PEM`);
  return pem;
}

/**
 * Loads an Ed25519 private key.
 *
 * @param pemOrPath inline PEM (PKCS#8) or the path of a PEM file.
 * @param input the input's name, for error messages.
 * @throws InputError(input, ...) when the file cannot be read, or the content is not an unencrypted Ed25519 private
 *   key in PEM ('expected an Ed25519 private key in PEM').
 */
export function loadPrivateKey(pemOrPath: string, input: string): KeyObject {
  const { pem } = readPemOrPath(pemOrPath, input, 'private');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new InputError(input, 'expected an Ed25519 private key in PEM (unencrypted PKCS#8)');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InputError(input, `expected an Ed25519 private key in PEM, got a ${key.asymmetricKeyType} key`);
  }
  return key;
}

/**
 * Loads an Ed25519 public key.
 *
 * @param pemOrPath inline PEM (SPKI, `BEGIN PUBLIC KEY`) or the path of a PEM file.
 * @param input the input's name, for error messages.
 * @throws InputError(input, ...) when the file cannot be read, the content is a private key, or it is not an
 *   Ed25519 public key in PEM ('expected an Ed25519 public key in PEM').
 */
export function loadPublicKey(pemOrPath: string, input: string): KeyObject {
  const { label, pem } = readPemOrPath(pemOrPath, input, 'public');
  if (label.includes('PRIVATE')) {
    throw new InputError(input, 'expected an Ed25519 public key in PEM, got a private key (pass the public key)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new InputError(input, 'expected an Ed25519 public key in PEM');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InputError(input, `expected an Ed25519 public key in PEM, got a ${key.asymmetricKeyType} key`);
  }
  return key;
}

/**
 * Signs `data` (a string is signed as its UTF-8 bytes) with an Ed25519 private key; returns the base64 signature.
 *
 * @throws TypeError when `key` is not an Ed25519 private key (a bug in the caller: keys come from
 *   {@link loadPrivateKey}).
 */
export function sign(data: Buffer | string, key: KeyObject): string {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('sign: expected an Ed25519 private key');
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return crypto.sign(null, bytes, key).toString('base64');
}

/**
 * Verifies a base64 Ed25519 signature of `data` (a string is taken as its UTF-8 bytes). Surrounding whitespace
 * in the signature is ignored. Never throws: a malformed signature, a wrong key or tampered data give false.
 */
export function verify(data: Buffer | string, signatureBase64: string, publicKey: KeyObject): boolean {
  try {
    if (publicKey.asymmetricKeyType !== 'ed25519') return false;
    const b64 = String(signatureBase64).trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
    const sig = Buffer.from(b64, 'base64');
    if (sig.length !== 64) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return crypto.verify(null, bytes, publicKey, sig);
  } catch {
    return false;
  }
}

/**
 * Fingerprint of an Ed25519 public key for logs and manifests: `SHA256:` + unpadded base64 of the SHA-256 of the
 * raw 32-byte public key (the OpenSSH style). A private key is accepted and fingerprinted by its public half.
 */
export function keyFingerprint(publicKey: KeyObject): string {
  const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  const jwk = pub.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new TypeError('keyFingerprint: not an Ed25519 key');
  }
  const raw = Buffer.from(jwk.x, 'base64url');
  return 'SHA256:' + createHash('sha256').update(raw).digest('base64').replace(/=+$/, '');
}

/** Generates a new Ed25519 key pair as PEM (PKCS#8 private key, SPKI public key). */
export function generateKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
