/**
 * The tool cache, in the layout shared by @actions/tool-cache and azure-pipelines-tool-lib:
 * `<root>/<tool>/<version>/<arch>/` plus a `<arch>.complete` marker written last. A directory without its marker is
 * an interrupted install and is never used.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';

/** Node's arch name, as the cache layout uses it (x64, arm64). */
export function cacheArch(arch: 'amd64' | 'arm64'): string {
  return arch === 'amd64' ? 'x64' : 'arm64';
}

/** The directory and marker of one cached version. */
export function cacheEntry(root: string, tool: string, version: string, arch: string): { dir: string; marker: string } {
  const base = path.join(root, tool, version);
  return { dir: path.join(base, arch), marker: path.join(base, `${arch}.complete`) };
}

/** Highest complete cached version that satisfies `range`, or undefined. */
export function findInCache(root: string, tool: string, range: string, arch: string): { version: string; dir: string } | undefined {
  let versions: string[];
  try {
    versions = fs.readdirSync(path.join(root, tool));
  } catch {
    return undefined;
  }
  const ok = versions
    .filter((v) => semver.valid(v) && semver.satisfies(v, range, { includePrerelease: true }))
    .filter((v) => fs.existsSync(cacheEntry(root, tool, v, arch).marker) && fs.existsSync(cacheEntry(root, tool, v, arch).dir))
    .sort(semver.rcompare);
  if (ok.length === 0) return undefined;
  return { version: ok[0], dir: cacheEntry(root, tool, ok[0], arch).dir };
}

/**
 * Installs one version: `populate` fills a staging directory next to the final one; only when it resolves is the
 * staging directory moved into place and the marker written. On any failure nothing is left behind: no marker,
 * no partial directory.
 */
export async function installToCache(
  root: string,
  tool: string,
  version: string,
  arch: string,
  populate: (stagingDir: string) => Promise<void>,
): Promise<string> {
  const { dir, marker } = cacheEntry(root, tool, version, arch);
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const staging = path.join(parent, `.${arch}.partial-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(staging, { mode: 0o755 });
  try {
    await populate(staging);
    fs.rmSync(marker, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
    fs.writeFileSync(marker, '');
    return dir;
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    // the version and tool directories, when this install left them empty, go too
    for (const d of [parent, path.dirname(parent)]) {
      try {
        if (fs.readdirSync(d).length === 0) fs.rmdirSync(d);
      } catch {
        /* not empty, or not ours to remove */
      }
    }
    throw e;
  }
}

/** Finds an executable on a PATH string (PATHEXT on Windows). */
export function which(name: string, pathEnv: string | undefined, pathExt = process.env.PATHEXT): string | undefined {
  const exts = process.platform === 'win32' ? ['', ...(pathExt ?? '.EXE;.CMD;.BAT').split(';')] : [''];
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        const st = fs.statSync(candidate);
        if (!st.isFile()) continue;
        if (process.platform !== 'win32') fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        /* next */
      }
    }
  }
  return undefined;
}
