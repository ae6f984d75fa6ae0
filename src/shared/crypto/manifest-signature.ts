/** Manifest signatures: Ed25519 over the canonical JSON of a manifest without its `signature` member. */
import { type KeyObject } from 'node:crypto';
import { StackHubError } from '../errors';
import { keyFingerprint, sign, verify } from '../signing';

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
