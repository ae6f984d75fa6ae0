/**
 * Filesystem back end (an NFS mount, or a local directory for trying it out). Objects are written to a temp name
 * in the same directory and renamed when complete, so a reader never sees a partial object under its real key.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashMeter } from '../crypto';
import { storageError, StorageError } from './errors';
import type { FilesystemTarget, IncompleteUpload, PutOptions, PutResult, Storage, StorageObject } from './types';

/** Temp names of objects being written: `.<name>.partial-<hex>`. */
const PARTIAL = /^\.(.+)\.partial-[0-9a-f]{12}$/;

/** Opens a filesystem target. */
export function openFilesystem(t: FilesystemTarget): Storage {
  const root = path.join(t.path, ...t.prefix.split('/').filter(Boolean));
  const file = (key: string): string => {
    const parts = key.split('/').filter(Boolean);
    if (parts.some((p) => p === '..' || p === '.')) throw new StorageError(`invalid key '${key}'`);
    return path.join(root, ...parts);
  };
  const location = (key = ''): string => (key ? file(key) : root);

  async function walk(dir: string, relDir: string, out: StorageObject[], partial: IncompleteUpload[]): Promise<void> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw e;
    }
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(abs, rel, out, partial);
      else if (e.isFile()) {
        const st = await fs.promises.stat(abs);
        const m = PARTIAL.exec(e.name);
        if (m) partial.push({ key: rel, initiated: st.mtime, abortable: true });
        else out.push({ key: rel, size: st.size, lastModified: st.mtime });
      }
    }
  }

  async function scan(prefix: string): Promise<{ objects: StorageObject[]; partial: IncompleteUpload[] }> {
    const objects: StorageObject[] = [];
    const partial: IncompleteUpload[] = [];
    // a prefix is a key prefix, not necessarily a directory: walk the deepest directory it names
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    await walk(dirKey ? file(dirKey) : root, dirKey, objects, partial);
    const keep = <T extends { key: string }>(xs: T[]): T[] => xs.filter((o) => o.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { objects: keep(objects), partial: keep(partial) };
  }

  async function removeEmptyParents(dir: string): Promise<void> {
    let d = dir;
    while (d.startsWith(root + path.sep)) {
      try {
        await fs.promises.rmdir(d);
      } catch {
        return;
      }
      d = path.dirname(d);
    }
  }

  return {
    kind: 'filesystem',
    target: t,
    location,
    async put(key: string, body: Readable, opts: PutOptions = {}): Promise<PutResult> {
      const dest = file(key);
      const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.partial-${randomBytes(6).toString('hex')}`);
      const meter = new HashMeter(opts.onProgress);
      try {
        await fs.promises.mkdir(path.dirname(dest), { recursive: true });
        const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o640 });
        await pipeline(body, meter, out);
        const fd = await fs.promises.open(tmp, 'r');
        try {
          await fd.sync();
        } finally {
          await fd.close();
        }
        await fs.promises.rename(tmp, dest);
      } catch (e) {
        await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
        if (!(e as NodeJS.ErrnoException).syscall) throw e; // the body's own error
        throw storageError(e, `writing ${dest}`);
      }
      return { bytes: meter.bytes, sha256: meter.sha256 };
    },
    async get(key: string): Promise<{ stream: Readable; size: number }> {
      const f = file(key);
      try {
        const st = await fs.promises.stat(f);
        if (!st.isFile()) throw Object.assign(new Error(`${f} is not a file`), { code: 'ENOENT' });
        return { stream: fs.createReadStream(f, { highWaterMark: 1024 * 1024 }), size: st.size };
      } catch (e) {
        throw storageError(e, `reading ${f}`);
      }
    },
    async stat(key: string): Promise<StorageObject | undefined> {
      try {
        const st = await fs.promises.stat(file(key));
        return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : undefined;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw storageError(e, `reading ${file(key)}`);
      }
    },
    async list(prefix: string): Promise<StorageObject[]> {
      try {
        return (await scan(prefix)).objects;
      } catch (e) {
        throw storageError(e, `listing ${location(prefix)}`);
      }
    },
    async delete(key: string): Promise<void> {
      const f = file(key);
      try {
        await fs.promises.rm(f, { force: true });
      } catch (e) {
        throw storageError(e, `deleting ${f}`);
      }
      await removeEmptyParents(path.dirname(f));
    },
    async listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]> {
      try {
        return (await scan(prefix)).partial;
      } catch (e) {
        throw storageError(e, `listing ${location(prefix)}`);
      }
    },
    async abortIncompleteUpload(u: IncompleteUpload): Promise<void> {
      const f = file(u.key);
      await fs.promises.rm(f, { force: true }).catch((e) => {
        throw storageError(e, `deleting ${f}`);
      });
      await removeEmptyParents(path.dirname(f));
    },
    async close(): Promise<void> {
      /* nothing to release */
    },
  };
}
