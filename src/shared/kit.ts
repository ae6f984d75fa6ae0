/**
 * The air-gap kit: the offline bundle carried into a disconnected network.
 *
 * A kit is a directory, or a `.tar.gz` of that directory (entries relative to the kit root, optionally prefixed
 * with `./`), holding:
 *
 * - `SHA256SUMS`: `sha256sum` format over every other file of the kit (paths relative to the kit root, forward
 *   slashes); `SHA256SUMS` and `SHA256SUMS.sig` themselves are not listed.
 * - `SHA256SUMS.sig` (optional): base64 Ed25519 signature of the exact bytes of `SHA256SUMS`.
 * - `kit.json`: the {@link KitManifest}.
 * - tool archives under `tools/<tool>/<version>/<os>-<arch>/<file>`; the part after `tools/` is the asset id.
 * - anything else (vsix, action bundles, the CLI) under other folders.
 *
 * Trust chain: the signature covers SHA256SUMS, SHA256SUMS covers kit.json and every asset, and every asset is
 * checked against SHA256SUMS before it is handed out.
 */

import type { KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import * as tar from 'tar';
import { archiveKind, createTarGz } from './archive';
import { formatChecksums, isSha256, parseChecksums, sha256File } from './checksums';
import { InputError, StackHubError } from './errors';
import { sign, verify } from './signing';

/** The `name` field of every kit.json. */
export const KIT_NAME = 'stackhub-ha-airgap-kit';
/** File name of the checksum list at the kit root. */
export const SUMS_FILE = 'SHA256SUMS';
/** File name of the detached signature of {@link SUMS_FILE}. */
export const SIG_FILE = 'SHA256SUMS.sig';
/** File name of the manifest at the kit root. */
export const MANIFEST_FILE = 'kit.json';

/** One tool archive in a kit, as listed in kit.json. */
export interface KitTool {
  /** Tool name, e.g. `helm`. */
  tool: string;
  /** Tool version as published, e.g. `3.17.3` or `v1.31.2`. */
  version: string;
  /** Target OS, e.g. `linux`, `windows`. */
  os: string;
  /** Target architecture, e.g. `amd64`. */
  arch: string;
  /** File name of the archive or binary, e.g. `helm-v3.17.3-linux-amd64.tar.gz`. */
  file: string;
  /** Path relative to the kit root: `tools/<tool>/<version>/<os>-<arch>/<file>`. */
  path: string;
  /** Lower-case hex SHA-256 of the file (the pin it was checked against). */
  sha256: string;
}

/** The content of kit.json. */
export interface KitManifest {
  /** Always {@link KIT_NAME}. */
  name: typeof KIT_NAME;
  /** The kit's version (normally the product version). */
  version: string;
  /** ISO-8601 creation time. */
  created: string;
  /** Tool archives, sorted by path. */
  tools: KitTool[];
}

/** A tool archive to put into a kit with {@link writeKit}. */
export interface KitToolSource {
  /** Tool name, e.g. `helm`. */
  tool: string;
  /** Tool version. */
  version: string;
  /** Target OS. */
  os: string;
  /** Target architecture. */
  arch: string;
  /** File name inside the kit. */
  file: string;
  /** Where the file is now. */
  sourcePath: string;
  /** The pinned SHA-256 (hex); the file must match it. */
  sha256: string;
}

/** Options of {@link writeKit}. */
export interface WriteKitOptions {
  /** The `.tar.gz` to write. Must not be inside `stagingDir`. */
  outFile: string;
  /** Directory already holding the non-tool files in their kit layout; tools, kit.json and sums are added here. */
  stagingDir: string;
  /** Tool archives to add under `tools/`. */
  tools: KitToolSource[];
  /** The kit's version. */
  version: string;
  /** When given, SHA256SUMS is signed and SHA256SUMS.sig written. */
  signingKey?: KeyObject;
  /** Creation time for kit.json (default: now). */
  now?: Date;
}

/** Options of {@link openKit}. */
export interface OpenKitOptions {
  /** When given, the kit must carry a valid SHA256SUMS.sig made with the matching private key. */
  publicKey?: KeyObject;
  /** Private temporary directory to extract into (created with mode 0700 when missing). */
  workDir: string;
}

/** An opened, integrity-checked kit. */
export interface Kit {
  /** The kit directory, or the work directory for a `.tar.gz` kit. */
  root: string;
  /** kit.json (verified against SHA256SUMS). */
  manifest: KitManifest;
  /** SHA256SUMS: kit-relative path → lower-case hex. */
  sums: Map<string, string>;
  /** True when the kit carries SHA256SUMS.sig (verified or not). */
  signed: boolean;
  /** True when SHA256SUMS.sig was verified with the given public key. False without a key: the caller warns. */
  verifiedOrigin: boolean;
  /** Tools of kit.json matching tool, os and arch, newest version first. */
  listTools(tool: string, os: string, arch: string): KitTool[];
  /**
   * Returns the path of the kit file `relPath` (kit-relative, forward slashes) after checking its SHA-256 against
   * SHA256SUMS. For a `.tar.gz` kit only that entry is extracted (into the work directory); a file that does not
   * match is deleted. For a directory kit the file is checked in place and left alone.
   *
   * @throws StackHubError when the path is not listed, missing from the kit, or its SHA-256 does not match.
   */
  extractAsset(relPath: string): Promise<string>;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const SEGMENT_RE = /^[A-Za-z0-9._+-]+$/;

function checkSegment(field: string, value: string, tool: string): void {
  if (typeof value !== 'string' || !SEGMENT_RE.test(value) || value === '.' || value === '..') {
    throw new StackHubError(`air-gap kit: tool ${tool}: ${field} '${String(value)}' is not a plain file name segment`);
  }
}

/** Kit-relative path of a tool archive: `tools/<tool>/<version>/<os>-<arch>/<file>`. */
export function toolPath(t: Pick<KitTool, 'tool' | 'version' | 'os' | 'arch' | 'file'>): string {
  return `tools/${t.tool}/${t.version}/${t.os}-${t.arch}/${t.file}`;
}

/** Lists regular files below `dir` as kit-relative paths (forward slashes), sorted. Refuses links and specials. */
async function listKitFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await fsp.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => byName(a.name, b.name));
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listKitFiles(dir, r)));
    else if (e.isFile()) out.push(r);
    else throw new StackHubError(`air-gap kit: ${r} in ${dir} is not a regular file or directory`);
  }
  return out;
}

/**
 * Builds a kit `.tar.gz`. Every tool file is checked against its pin before anything is written (a mismatch
 * throws and leaves `stagingDir` and `outFile` untouched); then the tools are copied into
 * `stagingDir/tools/<tool>/<version>/<os>-<arch>/<file>` (and checked again after the copy), kit.json and
 * SHA256SUMS (over every file in `stagingDir`) are written, SHA256SUMS.sig when `signingKey` is given (a stale
 * one is removed otherwise), and `stagingDir` is archived with {@link createTarGz}.
 *
 * @returns the SHA256SUMS text and whether it was signed.
 * @throws StackHubError naming the file and both hashes on a pin mismatch; on duplicate or malformed tool entries;
 *   when `outFile` is inside `stagingDir`; or when a file cannot be read or written.
 */
export async function writeKit(opts: WriteKitOptions): Promise<{ sha256sums: string; signed: boolean }> {
  const staging = path.resolve(opts.stagingDir);
  const outFile = path.resolve(opts.outFile);
  if (outFile === staging || outFile.startsWith(staging + path.sep)) {
    throw new StackHubError(`air-gap kit: the output ${opts.outFile} must not be inside the staging directory`);
  }
  if (archiveKind(outFile) !== 'tar.gz') {
    throw new StackHubError(`air-gap kit: the output ${opts.outFile} must end with .tar.gz`);
  }
  const st = await fsp.stat(staging).catch(() => undefined);
  if (!st?.isDirectory()) throw new StackHubError(`air-gap kit: staging directory ${opts.stagingDir} does not exist`);

  // 1. Check everything before writing anything.
  const tools: KitTool[] = [];
  const seen = new Set<string>();
  for (const t of opts.tools) {
    const label = `${t.tool}@${t.version}`;
    checkSegment('tool', t.tool, label);
    checkSegment('version', t.version, label);
    checkSegment('os', t.os, label);
    checkSegment('arch', t.arch, label);
    checkSegment('file', t.file, label);
    if (!isSha256(t.sha256)) throw new StackHubError(`air-gap kit: ${t.file}: the pin '${t.sha256}' is not a SHA-256`);
    const rel = toolPath(t);
    if (seen.has(rel)) throw new StackHubError(`air-gap kit: ${rel} is listed twice`);
    seen.add(rel);
    const pin = t.sha256.toLowerCase();
    const actual = await sha256File(t.sourcePath);
    if (actual !== pin) {
      throw new StackHubError(
        `air-gap kit: ${t.sourcePath} (${t.file}) does not match its pin: expected SHA-256 ${pin}, got ${actual}`,
      );
    }
    tools.push({ tool: t.tool, version: t.version, os: t.os, arch: t.arch, file: t.file, path: rel, sha256: pin });
  }
  tools.sort((a, b) => byName(a.path, b.path));

  // 2. Copy the tools in and check the copies.
  for (const t of tools) {
    const src = opts.tools.find((s) => toolPath(s) === t.path) as KitToolSource;
    const dest = path.join(staging, ...t.path.split('/'));
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    await fsp.copyFile(src.sourcePath, dest);
    const copied = await sha256File(dest);
    if (copied !== t.sha256) {
      await fsp.rm(dest, { force: true });
      throw new StackHubError(
        `air-gap kit: the copy of ${src.sourcePath} at ${t.path} does not match its pin: expected SHA-256 ${t.sha256}, got ${copied}`,
      );
    }
  }

  // 3. kit.json, SHA256SUMS, signature.
  const manifest: KitManifest = {
    name: KIT_NAME,
    version: opts.version,
    created: (opts.now ?? new Date()).toISOString(),
    tools,
  };
  await fsp.writeFile(path.join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  await fsp.rm(path.join(staging, SUMS_FILE), { force: true });
  await fsp.rm(path.join(staging, SIG_FILE), { force: true });
  const files = (await listKitFiles(staging)).filter((f) => f !== SUMS_FILE && f !== SIG_FILE);
  const sums = new Map<string, string>();
  for (const f of files) sums.set(f, await sha256File(path.join(staging, ...f.split('/'))));
  const sha256sums = formatChecksums(sums);
  await fsp.writeFile(path.join(staging, SUMS_FILE), sha256sums);
  const entries = [SUMS_FILE, ...files];
  if (opts.signingKey) {
    await fsp.writeFile(path.join(staging, SIG_FILE), sign(Buffer.from(sha256sums, 'utf8'), opts.signingKey) + '\n');
    entries.push(SIG_FILE);
  }

  // 4. The archive.
  await createTarGz(staging, outFile, entries);
  return { sha256sums, signed: !!opts.signingKey };
}

/** Normalises a kit-relative path; undefined when it is not a safe relative path. */
function normalizeRel(p: string): string | undefined {
  const n = p.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  if (n === '' || n.startsWith('/') || /^[a-zA-Z]:/.test(n)) return undefined;
  const parts = n.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return n;
}

function parseManifest(text: string, where: string, sums: Map<string, string>): KitManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StackHubError(`${where}: kit.json is not valid JSON: ${(err as Error).message}`);
  }
  const m = raw as Partial<KitManifest> | null;
  if (!m || typeof m !== 'object' || m.name !== KIT_NAME) {
    throw new StackHubError(`${where}: kit.json is not an air-gap kit manifest (name is not '${KIT_NAME}')`);
  }
  if (typeof m.version !== 'string' || typeof m.created !== 'string' || !Array.isArray(m.tools)) {
    throw new StackHubError(`${where}: kit.json needs string 'version' and 'created' and a 'tools' array`);
  }
  const tools: KitTool[] = [];
  for (const t of m.tools as unknown[]) {
    const k = t as Partial<KitTool> | null;
    const fields = ['tool', 'version', 'os', 'arch', 'file', 'path', 'sha256'] as const;
    if (!k || typeof k !== 'object' || fields.some((f) => typeof k[f] !== 'string')) {
      throw new StackHubError(`${where}: kit.json has a tool entry without ${fields.join(', ')}`);
    }
    const tool = k as KitTool;
    if (tool.path !== toolPath(tool) || normalizeRel(tool.path) !== tool.path) {
      throw new StackHubError(`${where}: kit.json: tool path '${tool.path}' should be '${toolPath(tool)}'`);
    }
    const listed = sums.get(tool.path);
    if (listed === undefined) throw new StackHubError(`${where}: ${tool.path} is in kit.json but not in SHA256SUMS`);
    if (listed !== tool.sha256.toLowerCase()) {
      throw new StackHubError(`${where}: ${tool.path} has a different SHA-256 in kit.json and in SHA256SUMS`);
    }
    tools.push({ ...tool, sha256: listed });
  }
  return { name: KIT_NAME, version: m.version, created: m.created, tools };
}

function compareVersionsDesc(a: string, b: string): number {
  const va = semver.valid(a, { loose: true });
  const vb = semver.valid(b, { loose: true });
  if (va && vb) return semver.rcompare(va, vb, { loose: true });
  if (va) return -1;
  if (vb) return 1;
  return byName(b, a);
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Extracts the regular-file entries `wanted` (kit-relative) of a tar.gz kit into `dest`; returns those found. */
async function extractEntries(tarGz: string, dest: string, wanted: Set<string>): Promise<Set<string>> {
  const found = new Set<string>();
  await tar.x({
    file: tarGz,
    cwd: dest,
    strict: true,
    preserveOwner: false,
    filter: (p, entry) => {
      const n = normalizeRel(p);
      const type = String((entry as tar.ReadEntry).type);
      if (n === undefined || !wanted.has(n)) return false;
      if (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile') return false;
      found.add(n);
      return true;
    },
  });
  return found;
}

/**
 * Opens a kit (a directory or a `.tar.gz`) and checks its integrity: SHA256SUMS is parsed, the signature checked
 * when `publicKey` is given, and kit.json checked against SHA256SUMS. For a `.tar.gz` only SHA256SUMS,
 * SHA256SUMS.sig and kit.json are extracted up front (into `workDir`); assets are extracted one by one with
 * {@link Kit.extractAsset}.
 *
 * @throws StackHubError('air-gap kit <path>: SHA256SUMS signature ...') when a public key is given and the
 *   signature is missing or does not verify; StackHubError('air-gap kit <path>: ...') when the kit is not a
 *   directory or `.tar.gz`, SHA256SUMS or kit.json is missing or malformed, or kit.json does not match SHA256SUMS.
 */
export async function openKit(pathOrTarGz: string, opts: OpenKitOptions): Promise<Kit> {
  const where = `air-gap kit ${pathOrTarGz}`;
  const kitPath = path.resolve(pathOrTarGz);
  const st = await fsp.stat(kitPath).catch(() => undefined);
  if (!st) throw new StackHubError(`${where}: not found`);
  const workDir = path.resolve(opts.workDir);

  let root: string;
  let isTar: boolean;
  if (st.isDirectory()) {
    root = kitPath;
    isTar = false;
  } else if (st.isFile() && archiveKind(kitPath) === 'tar.gz') {
    isTar = true;
    root = workDir;
    await fsp.mkdir(workDir, { recursive: true, mode: 0o700 });
    for (const f of [SUMS_FILE, SIG_FILE, MANIFEST_FILE]) await fsp.rm(path.join(workDir, f), { force: true });
    try {
      await extractEntries(kitPath, workDir, new Set([SUMS_FILE, SIG_FILE, MANIFEST_FILE]));
    } catch (err) {
      throw new StackHubError(`${where}: cannot read the archive: ${(err as Error).message}`);
    }
  } else {
    throw new StackHubError(`${where}: expected a directory or a .tar.gz file`);
  }

  // SHA256SUMS and its signature.
  const sumsBytes = await readOptional(path.join(root, SUMS_FILE));
  if (!sumsBytes) throw new StackHubError(`${where}: ${SUMS_FILE} is missing`);
  let sums: Map<string, string>;
  try {
    const parsed = parseChecksums(sumsBytes.toString('utf8'), SUMS_FILE);
    sums = new Map();
    for (const [k, v] of parsed) {
      const n = normalizeRel(k);
      if (n === undefined) throw new StackHubError(`${where}: ${SUMS_FILE} lists the unsafe path '${k}'`);
      sums.set(n, v);
    }
  } catch (err) {
    if (err instanceof InputError) throw new StackHubError(`${where}: ${SUMS_FILE} ${err.expected}`);
    throw err;
  }
  const sigBytes = await readOptional(path.join(root, SIG_FILE));
  const signed = sigBytes !== undefined;
  let verifiedOrigin = false;
  if (opts.publicKey) {
    if (!sigBytes) {
      throw new StackHubError(`${where}: SHA256SUMS signature is missing (${SIG_FILE}) but a public key was given`);
    }
    if (!verify(sumsBytes, sigBytes.toString('utf8'), opts.publicKey)) {
      throw new StackHubError(`${where}: SHA256SUMS signature does not verify with the given public key`);
    }
    verifiedOrigin = true;
  }

  // kit.json, checked against SHA256SUMS.
  const manifestFile = path.join(root, MANIFEST_FILE);
  const manifestBytes = await readOptional(manifestFile);
  if (!manifestBytes) throw new StackHubError(`${where}: ${MANIFEST_FILE} is missing`);
  const manifestSum = sums.get(MANIFEST_FILE);
  if (!manifestSum) throw new StackHubError(`${where}: ${MANIFEST_FILE} is not listed in ${SUMS_FILE}`);
  const actualManifestSum = await sha256File(manifestFile);
  if (actualManifestSum !== manifestSum) {
    throw new StackHubError(
      `${where}: ${MANIFEST_FILE} does not match ${SUMS_FILE}: expected SHA-256 ${manifestSum}, got ${actualManifestSum}`,
    );
  }
  const manifest = parseManifest(manifestBytes.toString('utf8'), where, sums);

  const realRoot = await fsp.realpath(root);

  async function extractAsset(relPath: string): Promise<string> {
    const rel = normalizeRel(relPath);
    if (rel === undefined) throw new StackHubError(`${where}: '${relPath}' is not a path inside the kit`);
    const expected = sums.get(rel);
    if (expected === undefined) throw new StackHubError(`${where}: ${rel} is not listed in ${SUMS_FILE}`);
    const file = path.join(root, ...rel.split('/'));
    if (isTar) {
      await fsp.rm(file, { force: true });
      let found: Set<string>;
      try {
        found = await extractEntries(kitPath, root, new Set([rel]));
      } catch (err) {
        await fsp.rm(file, { force: true });
        throw new StackHubError(`${where}: cannot extract ${rel}: ${(err as Error).message}`);
      }
      if (!found.has(rel)) throw new StackHubError(`${where}: ${rel} is listed in ${SUMS_FILE} but not in the archive`);
    } else {
      const lst = await fsp.lstat(file).catch(() => undefined);
      if (!lst) throw new StackHubError(`${where}: ${rel} is listed in ${SUMS_FILE} but missing`);
      if (!lst.isFile()) throw new StackHubError(`${where}: ${rel} is not a regular file`);
      const real = await fsp.realpath(file);
      if (!real.startsWith(realRoot + path.sep)) throw new StackHubError(`${where}: ${rel} resolves outside the kit`);
    }
    const actual = await sha256File(file);
    if (actual !== expected) {
      if (isTar) await fsp.rm(file, { force: true });
      throw new StackHubError(
        `${where}: ${rel} does not match ${SUMS_FILE}: expected SHA-256 ${expected}, got ${actual}` +
          (isTar ? ' (extracted file deleted)' : ''),
      );
    }
    return file;
  }

  return {
    root,
    manifest,
    sums,
    signed,
    verifiedOrigin,
    listTools(tool: string, os: string, arch: string): KitTool[] {
      return manifest.tools
        .filter((t) => t.tool === tool && t.os === os && t.arch === arch)
        .sort((a, b) => compareVersionsDesc(a.version, b.version));
    },
    extractAsset,
  };
}
