/**
 * The storage-target, encryption and signing inputs shared by every capability that keeps data off-Hub (Mongo backup,
 * AKS Engine state custody). The storage-target fragment is storage-inputs.ts (definitions, groups) and
 * storage-parse.ts (its parser, which returns a ready target); the encryption and signing fragment is
 * src/shared/crypto/inputs.ts. This module re-exports both for the files that import them from here.
 */
export * from './storage-inputs';
export {
  encryptionInputs,
  parseEncryption,
  type WriteEncryption,
  type EncryptionInputOptions,
  type ParsedEncryption,
  type EncryptionInputName,
} from '../crypto/inputs';
