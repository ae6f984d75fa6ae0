/**
 * The encryption and signing input fragment shared by the capabilities that keep data off-Hub (Mongo backup, AKS
 * Engine state custody), as one module: `defs` (the InputDefs, so task.json / action.yml expose the same inputs
 * everywhere), `groups` (the task-editor group they go in) and `parse` (validates them into keys; no I/O beyond
 * reading a verify key file). Use it as `import * as encryption from '../shared/crypto/inputs'`.
 */
import type { KeyObject } from 'node:crypto';
import type { InputDef, InputName, InputReader } from '../../types';
import { InputError } from '../errors';
import { loadPrivateKey, loadPublicKey } from '../signing';
import { parseIdentities, parseRecipients } from './index';

/** Encryption settings for writing. */
export type WriteEncryption = { format: 'age'; recipients: string[] } | { format: 'none' };

/** Options of {@link encryptionInputs}. */
export interface EncryptionInputOptions {
  group?: string;
  /** Whether the capability writes (needs recipients) and/or reads (needs the identity). */
  writes: boolean;
  reads: boolean;
}

/** The task-editor group of the fragment when the capability gives it none of its own. */
export const ENCRYPTION_GROUP = { name: 'encryption', displayName: 'Encryption and signing', isExpanded: true } as const;

const writeDefs = (group: string) =>
  [
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
  ] as const satisfies readonly InputDef[];

const readDefs = (group: string) =>
  [
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
  ] as const satisfies readonly InputDef[];

/** The names of the fragment's inputs. */
export type EncryptionInputName = InputName<ReturnType<typeof writeDefs>> | InputName<ReturnType<typeof readDefs>>;

/** The encryption and signing inputs: encryption, encryptionRecipients, ageIdentity, signingKey, verifyKey. */
export function encryptionInputs(opts: EncryptionInputOptions): InputDef<EncryptionInputName>[] {
  const group = opts.group ?? ENCRYPTION_GROUP.name;
  const defs: InputDef<EncryptionInputName>[] = [];
  if (opts.writes) defs.push(...writeDefs(group));
  if (opts.reads) defs.push(...readDefs(group));
  return defs;
}

/**
 * The task-editor groups {@link encryptionInputs} puts its inputs in: {@link ENCRYPTION_GROUP}, or none when the
 * capability names a group of its own (`opts.group`, which it declares itself).
 */
export function encryptionGroups(opts: { group?: string } = {}): { name: string; displayName: string; isExpanded: boolean }[] {
  return opts.group === undefined || opts.group === ENCRYPTION_GROUP.name ? [{ ...ENCRYPTION_GROUP }] : [];
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
  read: InputReader<EncryptionInputName>,
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
  const id = ifDefined(() => read.secret('ageIdentity'));
  if (id) out.identities = parseIdentities(id, 'ageIdentity', mask);
  else if (need.identity) throw new InputError('ageIdentity', 'is required to read encrypted data');
  const vk = ifDefined(() => read.string('verifyKey'));
  if (vk) out.verifyKey = loadPublicKey(vk, 'verifyKey');
  return out;
}

/** Reads an input that a capability may not define (then undefined); an InputError of a defined one still throws. */
function ifDefined(read: () => string | undefined): string | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof InputError) throw e;
    return undefined;
  }
}

export { encryptionInputs as defs, encryptionGroups as groups, parseEncryption as parse };
