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
export { DecryptError, openVerifiedPayload, AgeVerifier, type VerifiedPayload } from './age-payload';
export { parseRecipients, bech32Decode, parseIdentities, recipientOf, recipientFingerprint, keyFingerprint } from './keys';
export { HashMeter, ByteCounter, encryptStream, decryptStream, drain } from './streams';
export {
  canonicalJson,
  signedBytes,
  signManifest,
  checkManifestSignature,
  requireValidSignature,
  SignatureError,
  type ManifestSignature,
  type SignatureCheck,
} from './manifest-signature';
