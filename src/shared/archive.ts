/**
 * Safe archive extraction (tar.gz with node-tar, zip with yauzl), executable lookup and deterministic tar.gz
 * creation.
 *
 * Extraction refuses, with a {@link StackHubError}, any entry that would land outside the destination: absolute
 * paths, drive letters, `..` segments, and symbolic or hard links whose target is outside. For tar.gz every entry
 * is checked before anything is written; after extraction every symbolic link is resolved again on disk
 * (following links, as the OS would) so that a chain of individually harmless links cannot point outside either.
 */

import { constants as fsConstants, createWriteStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import * as yauzl from 'yauzl';
import { StackHubError } from './errors';

/** The archive formats understood by {@link extractArchive}; `bare` is a single file that is not an archive. */
export type ArchiveKind = 'tar.gz' | 'zip' | 'bare';

/** Fixed modification time stored in archives made by {@link createTarGz}. */
const FIXED_MTIME = new Date('2000-01-01T00:00:00.000Z');

/** Entry types that are file-system objects we extract. */
const TAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
/** Entry types that carry metadata only and are never written. */
const TAR_META_TYPES = new Set([
  'ExtendedHeader',
  'GlobalExtendedHeader',
  'OldExtendedHeader',
  'NextFileHasLongPath',
  'NextFileHasLongLinkpath',
  'OldGnuLongPath',
]);

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const MAX_SYMLINK_TARGET = 4096;

/**
 * The kind of archive a file name denotes: `.tar.gz`/`.tgz` → `tar.gz`, `.zip` → `zip` (case-insensitive),
 * anything else → `bare`.
 */
export function archiveKind(fileName: string): ArchiveKind {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  if (lower.endsWith('.zip')) return 'zip';
  return 'bare';
}

function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function isAbsoluteName(name: string): boolean {
  return name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name);
}

function segments(name: string): string[] {
  return name.split(/[\\/]+/);
}

/** Why an entry name is unsafe, or undefined when it is safe. */
function unsafeName(name: string, destDir: string): string | undefined {
  if (name === '' || name.includes('\0')) return 'has an empty or invalid name';
  if (isAbsoluteName(name)) return 'has an absolute path';
  if (segments(name).includes('..')) return "contains '..'";
  if (!isInside(destDir, path.resolve(destDir, name.replace(/\\/g, '/')))) return 'escapes the destination';
  return undefined;
}

/** Why a symbolic link target is unsafe (lexically), or undefined. */
function unsafeSymlink(name: string, target: string, destDir: string): string | undefined {
  if (target === '' || target.includes('\0')) return 'is a symbolic link with an empty target';
  if (isAbsoluteName(target)) return `is a symbolic link to the absolute path '${target}'`;
  const linkDir = path.dirname(path.resolve(destDir, name.replace(/\\/g, '/')));
  if (!isInside(destDir, path.resolve(linkDir, target.replace(/\\/g, '/')))) {
    return `is a symbolic link to '${target}', outside the destination`;
  }
  return undefined;
}

/** Why a hard link target (relative to the archive root) is unsafe, or undefined. */
function unsafeHardlink(target: string, destDir: string): string | undefined {
  if (target === '' || target.includes('\0')) return 'is a hard link with an empty target';
  if (isAbsoluteName(target)) return `is a hard link to the absolute path '${target}'`;
  if (segments(target).includes('..') || !isInside(destDir, path.resolve(destDir, target.replace(/\\/g, '/')))) {
    return `is a hard link to '${target}', outside the destination`;
  }
  return undefined;
}

function refuse(file: string, entry: string, reason: string): StackHubError {
  return new StackHubError(`refusing to extract ${file}: entry '${entry}' ${reason}`);
}

/**
 * Resolves a symbolic link on disk, following further links, confined to `root` (a real path). Components that do
 * not exist are taken lexically. Returns a reason when the link leads outside `root` (or loops), else undefined.
 */
async function symlinkEscapes(root: string, linkAbs: string): Promise<string | undefined> {
  const rel = path.relative(root, linkAbs);
  const cur = segments(rel).filter((s) => s !== '' && s !== '.');
  let queue: string[] = [];
  let hops = 0;
  // Start by following the link itself.
  const self = cur.pop();
  if (self === undefined) return undefined;
  queue.push(self);
  while (queue.length > 0) {
    const seg = queue.shift() as string;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (cur.length === 0) return 'resolves outside the destination';
      cur.pop();
      continue;
    }
    cur.push(seg);
    const p = path.join(root, ...cur);
    let st;
    try {
      st = await fsp.lstat(p);
    } catch {
      continue; // does not exist: the rest is lexical
    }
    if (!st.isSymbolicLink()) continue;
    if (++hops > 40) return 'is part of a symbolic link loop';
    const target = await fsp.readlink(p);
    if (isAbsoluteName(target)) return `resolves through '${path.relative(root, p)}' to an absolute path`;
    cur.pop();
    queue = [...segments(target), ...queue];
  }
  return undefined;
}

async function checkSymlinksOnDisk(file: string, destDir: string, links: string[]): Promise<void> {
  if (links.length === 0) return;
  const root = await fsp.realpath(destDir);
  for (const name of links) {
    const linkAbs = path.resolve(root, name.replace(/\\/g, '/'));
    let st;
    try {
      st = await fsp.lstat(linkAbs);
    } catch {
      continue;
    }
    if (!st.isSymbolicLink()) continue;
    const reason = await symlinkEscapes(root, linkAbs);
    if (reason) {
      await fsp.rm(linkAbs, { force: true });
      throw refuse(file, name, `is a symbolic link that ${reason}`);
    }
  }
}

/** Lists a tar.gz and checks every entry; returns the names of symbolic links. Writes nothing. */
async function checkTarEntries(file: string, destDir: string): Promise<string[]> {
  let problem: StackHubError | undefined;
  const links: string[] = [];
  await tar.t({
    file,
    strict: true,
    onReadEntry: (entry) => {
      entry.resume();
      if (problem) return;
      const type = String(entry.type);
      if (TAR_META_TYPES.has(type)) return;
      const name = entry.path;
      const bad = unsafeName(name, destDir);
      if (bad) {
        problem = refuse(file, name, bad);
        return;
      }
      if (type === 'SymbolicLink') {
        const reason = unsafeSymlink(name, String(entry.linkpath ?? ''), destDir);
        if (reason) problem = refuse(file, name, reason);
        else links.push(name);
      } else if (type === 'Link') {
        const reason = unsafeHardlink(String(entry.linkpath ?? ''), destDir);
        if (reason) problem = refuse(file, name, reason);
      } else if (!TAR_FILE_TYPES.has(type) && type !== 'Directory' && type !== 'GNUDumpDir') {
        problem = refuse(file, name, `has an unsupported type (${type})`);
      }
    },
  });
  if (problem) throw problem;
  return links;
}

async function extractTarGz(file: string, destDir: string): Promise<void> {
  const links = await checkTarEntries(file, destDir);
  await tar.x({
    file,
    cwd: destDir,
    strict: true,
    preserveOwner: false,
    // Defence in depth: the listing above already refused unsafe entries. Entries naming the destination itself
    // are skipped so that the archive cannot change its mode.
    filter: (p, entry) => {
      if (unsafeName(p, destDir)) return false;
      if (path.resolve(destDir, p.replace(/\\/g, '/')) === destDir) return false;
      const e = entry as tar.ReadEntry;
      const type = String(e.type);
      if (type === 'SymbolicLink') return !unsafeSymlink(p, String(e.linkpath ?? ''), destDir);
      if (type === 'Link') return !unsafeHardlink(String(e.linkpath ?? ''), destDir);
      return TAR_FILE_TYPES.has(type) || type === 'Directory' || type === 'GNUDumpDir';
    },
  });
  await checkSymlinksOnDisk(file, destDir, links);
}

function zipEntryName(entry: yauzl.Entry): string {
  return yauzl
    .getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true)
    .replace(/\\/g, '/');
}

function zipUnixMode(entry: yauzl.Entry): number | undefined {
  const madeBy = (entry.versionMadeBy >> 8) & 0xff;
  // 3 = UNIX, 19 = OS X (Darwin): the high 16 bits of the external attributes hold st_mode.
  if (madeBy !== 3 && madeBy !== 19) return undefined;
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  return mode === 0 ? undefined : mode;
}

async function readSmall(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      stream.destroy();
      throw new Error(`symbolic link target longer than ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Refuses to write below a symbolic link (a link created earlier from the same archive). */
async function assertNoSymlinkParents(destDir: string, name: string, file: string): Promise<void> {
  const parts = segments(name).filter((s) => s !== '' && s !== '.');
  let cur = destDir;
  for (const part of parts.slice(0, -1)) {
    cur = path.join(cur, part);
    try {
      const st = await fsp.lstat(cur);
      if (st.isSymbolicLink()) throw refuse(file, name, 'would be written through a symbolic link');
    } catch (err) {
      if (err instanceof StackHubError) throw err;
      return;
    }
  }
}

async function extractZip(file: string, destDir: string): Promise<void> {
  const zip = await yauzl.openPromise(file, {
    lazyEntries: true,
    autoClose: false,
    decodeStrings: false,
    validateEntrySizes: true,
  });
  try {
    // Pass 1: the central directory only; refuse before writing anything.
    const entries: Array<{ entry: yauzl.Entry; name: string; kind: 'dir' | 'file' | 'symlink'; mode?: number }> = [];
    for await (const entry of zip.eachEntry()) {
      const name = zipEntryName(entry);
      const bad = unsafeName(name, destDir);
      if (bad) throw refuse(file, name, bad);
      const mode = zipUnixMode(entry);
      const type = mode === undefined ? undefined : mode & S_IFMT;
      let kind: 'dir' | 'file' | 'symlink';
      if (name.endsWith('/') || type === S_IFDIR) kind = 'dir';
      else if (type === S_IFLNK) kind = 'symlink';
      else kind = 'file';
      if (kind !== 'dir' && !entry.canDecodeFileData()) {
        throw refuse(file, name, entry.isEncrypted() ? 'is encrypted' : 'uses an unsupported compression method');
      }
      entries.push({ entry, name, kind, mode });
    }
    // Pass 2: directories and files; symbolic links last, so that nothing is written through one.
    const links: Array<{ name: string; target: string }> = [];
    for (const { entry, name, kind, mode } of entries) {
      const target = path.resolve(destDir, name);
      if (target === destDir) continue;
      if (kind === 'dir') {
        await assertNoSymlinkParents(destDir, name + '/x', file);
        await fsp.mkdir(target, { recursive: true, mode: 0o755 });
        continue;
      }
      const stream = await zip.openReadStreamPromise(entry);
      if (kind === 'symlink') {
        const linkTarget = (await readSmall(stream, MAX_SYMLINK_TARGET)).toString('utf8');
        const reason = unsafeSymlink(name, linkTarget, destDir);
        if (reason) throw refuse(file, name, reason);
        links.push({ name, target: linkTarget });
        continue;
      }
      await assertNoSymlinkParents(destDir, name, file);
      await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      const exec = (mode !== undefined && (mode & 0o111) !== 0) || name.toLowerCase().endsWith('.exe');
      const fileMode = exec ? 0o755 : 0o644;
      // 'wx': a name that appears twice, or a name that is already a link, is an error rather than an overwrite.
      await pipeline(stream, createWriteStream(target, { flags: 'wx', mode: fileMode }));
      await fsp.chmod(target, fileMode);
    }
    for (const { name, target } of links) {
      await assertNoSymlinkParents(destDir, name, file);
      const abs = path.resolve(destDir, name);
      await fsp.mkdir(path.dirname(abs), { recursive: true, mode: 0o755 });
      await fsp.symlink(target, abs);
    }
    await checkSymlinksOnDisk(
      file,
      destDir,
      links.map((l) => l.name),
    );
  } finally {
    zip.close();
  }
}

/**
 * Extracts an archive into `destDir`, refusing any entry that would escape it.
 *
 * - tar.gz (node-tar): every entry is checked before anything is written; the executable bit is kept (modes are
 *   subject to the process umask); owners are not restored; device and FIFO entries are refused.
 * - zip (yauzl, streaming, `lazyEntries`): names are checked from the central directory before anything is
 *   written; files get 0755 when their UNIX external attributes carry an execute bit or their name ends with
 *   `.exe`, else 0644; symbolic links (UNIX zips) are created last.
 *
 * `destDir` is created with mode 0700 when missing. When extraction fails and `destDir` was created here, it is
 * removed again.
 *
 * @throws StackHubError for an unsafe entry (`refusing to extract <file>: entry '<name>' ...`), a corrupt archive
 *   or a write error.
 */
export async function extractArchive(file: string, destDir: string, kind: 'tar.gz' | 'zip'): Promise<void> {
  const dest = path.resolve(destDir);
  let created = false;
  try {
    await fsp.access(dest, fsConstants.F_OK);
  } catch {
    await fsp.mkdir(dest, { recursive: true, mode: 0o700 });
    await fsp.chmod(dest, 0o700);
    created = true;
  }
  try {
    if (kind === 'tar.gz') await extractTarGz(file, dest);
    else if (kind === 'zip') await extractZip(file, dest);
    else throw new StackHubError(`cannot extract ${file}: unknown archive kind '${String(kind)}'`);
  } catch (err) {
    if (created) await fsp.rm(dest, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof StackHubError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new StackHubError(`cannot extract ${file} (${kind}): ${e.code ? `${e.code} ` : ''}${e.message}`);
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Breadth-first search below `root` for a regular file (or a symbolic link to one) named `name` or `name + '.exe'`
 * (the `.exe` suffix is matched case-insensitively). The shallowest match wins; within a depth, directories and
 * names are visited in code-unit order, so the result is deterministic. Symbolic links to directories are not
 * followed. Unreadable directories are skipped.
 *
 * @returns the absolute path of the match, or undefined.
 */
export async function findExecutable(root: string, name: string): Promise<string | undefined> {
  let level = [path.resolve(root)];
  const exe = (name + '.exe').toLowerCase();
  while (level.length > 0) {
    const next: string[] = [];
    for (const dir of level) {
      let entries;
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      entries.sort((a, b) => byName(a.name, b.name));
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.name === name || entry.name.toLowerCase() === exe) {
          if (entry.isFile()) return full;
          if (entry.isSymbolicLink()) {
            const st = await fsp.stat(full).catch(() => undefined);
            if (st?.isFile()) return full;
          }
        }
        if (entry.isDirectory()) next.push(full);
      }
    }
    level = next;
  }
  return undefined;
}

/** Lists `rel` (a file, link or directory below `sourceDir`) and, for a directory, everything below it, sorted. */
async function listRecursive(sourceDir: string, rel: string, out: string[]): Promise<void> {
  const abs = path.join(sourceDir, rel);
  const st = await fsp.lstat(abs);
  out.push(rel);
  if (!st.isDirectory()) return;
  const names = (await fsp.readdir(abs)).sort(byName);
  for (const n of names) await listRecursive(sourceDir, `${rel}/${n}`, out);
}

/**
 * Creates a gzip-compressed tar of `sourceDir` (or of the given `entries`, paths relative to `sourceDir` with
 * forward slashes; directories are included with everything below them). The result is deterministic: entries
 * are sorted (a directory right before its content), every mtime is 2000-01-01T00:00:00Z, and the portable format
 * is used (no uid/gid, user or group names, atime/ctime or device numbers). Two runs over the same files give
 * byte-identical archives on the same platform. Symbolic links are stored as links.
 *
 * @throws StackHubError when an entry is missing or escapes `sourceDir`, or the archive cannot be written.
 */
export async function createTarGz(sourceDir: string, outFile: string, entries?: string[]): Promise<void> {
  const src = path.resolve(sourceDir);
  const list: string[] = [];
  try {
    const top = entries
      ? [...new Set(entries.map((e) => e.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '')))]
      : await fsp.readdir(src);
    for (const e of top) {
      if (e === '' || e === '.' || isAbsoluteName(e) || segments(e).includes('..')) {
        throw new StackHubError(`cannot create ${outFile}: entry '${e}' is not a relative path inside ${src}`);
      }
    }
    for (const e of [...top].sort(byName)) await listRecursive(src, e, list);
  } catch (err) {
    if (err instanceof StackHubError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new StackHubError(`cannot create ${outFile}: ${e.code ?? e.message}`);
  }
  // Several given entries may overlap (a directory and a file below it): keep the first occurrence.
  const unique = [...new Set(list)];
  try {
    await fsp.mkdir(path.dirname(path.resolve(outFile)), { recursive: true });
    await tar.c(
      {
        file: outFile,
        cwd: src,
        gzip: { level: 9 },
        portable: true,
        mtime: FIXED_MTIME,
        noDirRecurse: true,
        follow: false,
        strict: true,
      },
      unique,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new StackHubError(`cannot create ${outFile}: ${e.code ? `${e.code} ` : ''}${e.message}`);
  }
}
