/**
 * SHA-256 checksum lists in the `sha256sum` format, and file hashing.
 *
 * A list is what `sha256sum` prints: one `<64 hex>  <name>` (text mode) or `<64 hex> *<name>` (binary mode) per
 * line. Blank lines and lines starting with `#` are ignored. Names are kept as written, except that backslashes
 * are turned into forward slashes so that lists written on Windows match the same keys. A line that starts with
 * `\` is the GNU escaped form (`\\` and `\n` in the name), which is decoded.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { InputError, StackHubError } from './errors';

const SHA256_RE = /^[0-9a-fA-F]{64}$/;
const LINE_RE = /^(\\?)([0-9a-fA-F]{64}) [ *](.+)$/;
const MALFORMED = 'expected "<64 hex characters>  <file name>"';

/** True when `s` is exactly 64 hexadecimal characters (either case), i.e. a SHA-256 digest in hex. */
export function isSha256(s: string): boolean {
  return typeof s === 'string' && SHA256_RE.test(s);
}

function unescapeName(name: string): string | undefined {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = name[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else return undefined;
  }
  return out;
}

/**
 * Parses a `sha256sum`-format list.
 *
 * @param text the list's content.
 * @param source the name of the input the list came from; used in error messages.
 * @returns file name (forward slashes) → lower-case hex digest, in the order of the list.
 * @throws InputError(source, 'line N: expected "<64 hex characters>  <file name>"') for a malformed line, and
 *   InputError(source, 'line N: ...') when a name is listed twice with different digests.
 */
export function parseChecksums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = LINE_RE.exec(line.replace(/^[ \t]+/, ''));
    if (!m) throw new InputError(source, `line ${lineNo}: ${MALFORMED}`);
    let name: string | undefined = m[3];
    if (m[1] === '\\') name = unescapeName(name);
    if (name === undefined || name === '') throw new InputError(source, `line ${lineNo}: ${MALFORMED}`);
    name = name.replace(/\\/g, '/');
    const hash = m[2].toLowerCase();
    const previous = sums.get(name);
    if (previous !== undefined && previous !== hash) {
      throw new InputError(source, `line ${lineNo}: '${name}' is listed twice with different SHA-256 values`);
    }
    sums.set(name, hash);
  }
  return sums;
}

/**
 * Renders a checksum map in `sha256sum` format: sorted by name (code-unit order), two spaces between digest and
 * name, one line per file, trailing newline (the empty map gives the empty string). Names with a newline or a
 * backslash are written in the GNU escaped form so that {@link parseChecksums} reads them back.
 *
 * @throws Error when a value is not a SHA-256 hex digest (a bug in the caller).
 */
export function formatChecksums(map: Map<string, string>): string {
  const names = [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  for (const name of names) {
    const hash = map.get(name) as string;
    if (!isSha256(hash)) throw new Error(`formatChecksums: '${name}' has no valid SHA-256 value`);
    if (/[\n\\]/.test(name)) {
      out += `\\${hash.toLowerCase()}  ${name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    } else {
      out += `${hash.toLowerCase()}  ${name}\n`;
    }
  }
  return out;
}

/**
 * SHA-256 of a file's content, streamed (constant memory), as lower-case hex.
 *
 * @throws StackHubError when the file cannot be read.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(path), hash);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StackHubError(`cannot read ${path} to compute its SHA-256: ${e.code ?? e.message}`);
  }
  return hash.digest('hex');
}

/**
 * Finds the pinned digest of an asset. A key matches when it equals `assetId` or ends with `'/' + assetId`, so the
 * key `tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz` pins the asset
 * `helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz`. An exact key wins over suffix matches.
 *
 * @returns the lower-case digest, or undefined when nothing matches.
 * @throws StackHubError when several keys match by suffix and disagree on the digest (the pin is ambiguous).
 */
export function findPin(pins: Map<string, string>, assetId: string): string | undefined {
  const id = assetId.replace(/\\/g, '/').replace(/^\/+/, '');
  if (id === '') return undefined;
  const exact = pins.get(id);
  if (exact !== undefined) return exact.toLowerCase();
  const suffix = '/' + id;
  let found: string | undefined;
  let foundKey: string | undefined;
  for (const [key, value] of pins) {
    if (!key.endsWith(suffix)) continue;
    const v = value.toLowerCase();
    if (found !== undefined && found !== v) {
      throw new StackHubError(
        `the SHA-256 pin of ${id} is ambiguous: '${foundKey}' and '${key}' match with different values`,
      );
    }
    found = v;
    foundKey = key;
  }
  return found;
}
