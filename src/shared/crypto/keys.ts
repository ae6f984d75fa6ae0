/** age X25519 keys: recipients and identities parsed and checked, bech32, fingerprints (never keys). */
import { createHash } from 'node:crypto';
import { InputError } from '../errors';
import { keyFingerprint } from '../signing';
import { age } from './age-payload';

// ------------------------------------------------------------------------------------------------ age keys

/** An age X25519 recipient: `age1` + 58 bech32 characters. */
const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;
/** An age X25519 identity (as printed by `age-keygen`). */
const IDENTITY_RE = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

/**
 * Validates age X25519 recipients (`age1…`). Accepts the lines of an age recipients file too: blank lines and
 * `# comments` are skipped. Duplicates are dropped (first occurrence wins).
 *
 * @param values recipients, one per item.
 * @param input the input's name for error messages.
 * @returns the recipients, lower-case.
 * @throws InputError(input, …) for a malformed recipient (the value is quoted: recipients are public), a
 *   post-quantum/tag/SSH recipient (only X25519 is supported), or when no recipient is left.
 */
export function parseRecipients(values: readonly string[], input: string): string[] {
  const out: string[] = [];
  for (const raw of values) {
    const v = raw.trim();
    if (v === '' || v.startsWith('#')) continue;
    const r = v.toLowerCase();
    if (r.startsWith('age1pq1') || r.startsWith('age1tag')) {
      throw new InputError(input, `'${v.slice(0, 16)}…' is not an X25519 recipient: expected age1… as printed by age-keygen`);
    }
    if (!RECIPIENT_RE.test(r) || !validRecipient(r)) {
      throw new InputError(input, `'${v.length > 70 ? `${v.slice(0, 16)}…` : v}' is not an age X25519 recipient: expected age1 followed by 58 characters (age-keygen -y prints one)`);
    }
    if (!out.includes(r)) out.push(r);
  }
  if (out.length === 0) throw new InputError(input, 'expected at least one age recipient (age1…)');
  return out;
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** BIP-173 bech32 decoding (as age uses it, without the 90-character limit): the 8-bit payload, or undefined. */
export function bech32Decode(s: string): { hrp: string; bytes: Buffer } | undefined {
  const str = s.toLowerCase();
  const sep = str.lastIndexOf('1');
  if (sep < 1 || sep + 7 > str.length) return undefined;
  const hrp = str.slice(0, sep);
  const data: number[] = [];
  for (const c of str.slice(sep + 1)) {
    const v = BECH32.indexOf(c);
    if (v < 0) return undefined;
    data.push(v);
  }
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  const values = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31), ...data];
  for (const v of values) {
    const b = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((b >>> i) & 1) chk ^= GEN[i];
  }
  if (chk !== 1) return undefined;
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const v of data.slice(0, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) return undefined;
  return { hrp, bytes: Buffer.from(out) };
}

function validRecipient(r: string): boolean {
  const d = bech32Decode(r);
  return d !== undefined && d.hrp === 'age' && d.bytes.length === 32;
}

/**
 * Reads age identities from a secret: the content of an age identity file (`age-keygen` output: comment lines and
 * one `AGE-SECRET-KEY-1…` per line). The identities are registered with `mask` before anything else happens.
 *
 * @param text the secret's value.
 * @param input the input's name for error messages.
 * @param mask registers a secret with the run's masker (each identity separately).
 * @throws InputError(input, 'expected …') when no line is an X25519 identity, or a non-comment line is not one.
 *   The message never quotes the line.
 */
export function parseIdentities(text: string, input: string, mask: (s: string) => void = () => undefined): string[] {
  const out: string[] = [];
  const lines = text.replace(/\\n/g, '\n').split(/\r?\n/);
  for (const l of lines) {
    const v = l.trim();
    if (v !== '' && !v.startsWith('#')) mask(v);
  }
  for (const [i, l] of lines.entries()) {
    const v = l.trim();
    if (v === '' || v.startsWith('#')) continue;
    const dec = IDENTITY_RE.test(v.toUpperCase()) ? bech32Decode(v) : undefined;
    if (!dec || dec.hrp !== 'age-secret-key-' || dec.bytes.length !== 32) {
      throw new InputError(input, `line ${i + 1} is not an age X25519 identity: expected AGE-SECRET-KEY-1… (age-keygen output; its checksum must match)`);
    }
    out.push(v.toUpperCase());
  }
  if (out.length === 0) throw new InputError(input, 'expected an age identity (AGE-SECRET-KEY-1…, age-keygen output)');
  return out;
}

/**
 * The recipient (public key) of an identity.
 *
 * @throws InputError(input, …) when the identity does not decode (bad checksum); the identity is never quoted.
 */
export async function recipientOf(identity: string, input = 'ageIdentity'): Promise<string> {
  try {
    return (await (await age()).identityToRecipient(identity)).toLowerCase();
  } catch {
    throw new InputError(input, 'is not a valid age X25519 identity (its checksum does not match)');
  }
}

/**
 * Fingerprint of an age recipient for manifests and logs: `age:SHA256:` + unpadded base64 of the SHA-256 of the
 * lower-case recipient string. Stable, short enough for tables, and — although recipients are public — it keeps
 * manifests free of key material of any kind.
 */
export function recipientFingerprint(recipient: string): string {
  return 'age:SHA256:' + createHash('sha256').update(recipient.trim().toLowerCase()).digest('base64').replace(/=+$/, '');
}

/** Fingerprint of an Ed25519 signing or verify key (`SHA256:…`, the OpenSSH style), re-exported for callers. */
export { keyFingerprint };
