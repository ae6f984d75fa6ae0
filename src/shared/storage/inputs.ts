/**
 * The encryption and signing inputs shared by every capability that keeps data off-Hub (Mongo backup, AKS Engine
 * state custody) and their parser. The storage-target inputs are in storage-inputs.ts. Parsing validates
 * everything and touches nothing (no network, no writes).
 */
import type { KeyObject } from 'node:crypto';
import type { InputDef, InputReader } from '../../platform/inputs';
import { parseIdentities, parseRecipients } from '../crypto';
import { InputError } from '../errors';
import { loadPrivateKey, loadPublicKey } from '../signing';

// ------------------------------------------------------------------------------------------------ encryption

/** Encryption settings for writing. */
export type WriteEncryption = { format: 'age'; recipients: string[] } | { format: 'none' };

/** Options of {@link encryptionInputs}. */
export interface EncryptionInputOptions {
  group?: string;
  /** Whether the capability writes (needs recipients) and/or reads (needs the identity). */
  writes: boolean;
  reads: boolean;
}

/** The encryption and signing inputs: encryption, encryptionRecipients, ageIdentity, signingKey, verifyKey. */
export function encryptionInputs(opts: EncryptionInputOptions): InputDef[] {
  const group = opts.group ?? 'encryption';
  const defs: InputDef[] = [];
  if (opts.writes) {
    defs.push(
      {
        name: 'encryption',
        label: 'Encryption',
        type: 'pickList',
        options: ['age', 'none'],
        default: 'age',
        group,
        help: '`age` (default): encrypt to the X25519 recipients before anything leaves the agent. `none` stores plaintext and logs a warning — never for personal data.',
      },
      {
        name: 'encryptionRecipients',
        label: 'age recipients',
        type: 'list',
        group,
        help: 'age X25519 recipients (`age1…`, public keys: `age-keygen -y key.txt`), comma- or newline-separated. Several give break-glass copies; the pipeline never holds a key that can decrypt.',
      },
      {
        name: 'signingKey',
        label: 'Signing key (Ed25519)',
        type: 'secret',
        group,
        help: 'Ed25519 private key (PEM, PKCS#8) that signs each manifest. Keep it with the pipeline, never with the stored data. Without it manifests are unsigned.',
      },
    );
  }
  if (opts.reads) {
    defs.push(
      {
        name: 'ageIdentity',
        label: 'age identity',
        type: 'secret',
        group,
        help: 'age identity file content (`AGE-SECRET-KEY-1…`, age-keygen output) that decrypts: needed to read encrypted data. Keep it off the Hubs it protects.',
      },
      {
        name: 'verifyKey',
        label: 'Verify key (Ed25519 public)',
        type: 'string',
        group,
        help: 'Ed25519 public key (PEM inline, or a file path). When set, unsigned or badly signed manifests are refused.',
      },
    );
  }
  return defs;
}

/** Parsed encryption settings. */
export interface ParsedEncryption {
  write?: WriteEncryption;
  signingKey?: KeyObject;
  identities?: string[];
  verifyKey?: KeyObject;
}

/**
 * Parses the encryption inputs. With `need.write`, `encryption: age` requires recipients; with `need.identity`, an
 * identity is required (restore of encrypted data). Keys are masked as they are read.
 */
export function parseEncryption(
  read: InputReader,
  need: { write?: boolean; identity?: boolean },
  mask: (s: string) => void = () => undefined,
): ParsedEncryption {
  const out: ParsedEncryption = {};
  if (need.write) {
    const format = read.choice<'age' | 'none'>('encryption') ?? 'age';
    const list = read.list('encryptionRecipients');
    if (format === 'age') {
      if (list.length === 0) throw new InputError('encryptionRecipients', 'is required with encryption age: at least one age1… recipient (or set encryption none, which stores plaintext)');
      out.write = { format, recipients: parseRecipients(list, 'encryptionRecipients') };
    } else {
      if (list.length > 0) throw new InputError('encryptionRecipients', 'is set but encryption is none');
      out.write = { format: 'none' };
    }
    const sk = read.secret('signingKey');
    if (sk) {
      mask(sk);
      out.signingKey = loadPrivateKey(sk, 'signingKey');
    }
  }
  const id = safeSecret(read, 'ageIdentity');
  if (id) out.identities = parseIdentities(id, 'ageIdentity', mask);
  else if (need.identity) throw new InputError('ageIdentity', 'is required to read encrypted data');
  const vk = safeString(read, 'verifyKey');
  if (vk) out.verifyKey = loadPublicKey(vk, 'verifyKey');
  return out;
}

/** Reads a secret input that a capability may not define (then undefined). */
function safeSecret(read: InputReader, name: string): string | undefined {
  try {
    return read.secret(name);
  } catch (e) {
    if (e instanceof InputError) throw e;
    return undefined;
  }
}
function safeString(read: InputReader, name: string): string | undefined {
  try {
    return read.string(name);
  } catch (e) {
    if (e instanceof InputError) throw e;
    return undefined;
  }
}
