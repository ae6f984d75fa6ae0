/**
 * The one-file CLI's module loader. Everything but the dispatcher (each command group's core, the help options, the
 * vendor SDKs) sits compressed in ONE comment at the end of the file (scripts/bundle-cli.ts): Node reads the whole file
 * when it starts it, so what is not needed at start-up must be small, and a comment costs V8 next to nothing. A module
 * is read from its byte range of the file when first used, inflated (brotli), compiled and cached like a CommonJS
 * module (cycles between vendor modules resolve as in CommonJS).
 *
 * Compiled code is kept in a V8 code cache (`vm.Script` cached data, Node 20 and later) written when the process exits
 * to `<os temp>/stackhub-ha.v8-cache.<uid>/<build id>-<node version>-<arch>/`: keyed by the build's content hash, since
 * V8 checks little more than the source length. The directory must be the user's own and not writable by others, or
 * no cache is used; a read-only or missing temp dir only means no cache. NODE_DISABLE_COMPILE_CACHE turns it off.
 *
 * STACKHUB_HA_TRACE_LOAD=1 prints, per module, the CPU milliseconds of reading+inflating, compiling (with the cache
 * hit or miss) and running its top level (for `npm run bench`).
 */
// plain requires: this is start-up code, and esbuild's namespace interop copies every export of a builtin
/* eslint-disable @typescript-eslint/no-require-imports -- import-equals of builtins, see above */
import fs = require('node:fs');
import Module = require('node:module');
import os = require('node:os');
import path = require('node:path');
/* eslint-enable @typescript-eslint/no-require-imports */
import type * as vmT from 'node:vm';

/** Where each module sits in the file: written by the build. */
export interface Payload {
  /** content hash of the build (hex) */
  id: string;
  /** byte offset of the payload in the file */
  start: number;
  /** module name -> [offset from start, length] of its base64 brotli bytes */
  mods: Record<string, [number, number]>;
}

/** Loads the embedded modules of one CLI file. */
export interface EmbeddedLoader {
  /** The exports of a module (`group:<g>`, `vendor:<package>`), compiled on first use. */
  require(name: string): unknown;
  /** A JSON document of the payload (e.g. `help-options`). */
  json(name: string): unknown;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The private code-cache directory for this build, or undefined when none can be used safely. */
export function codeCacheDir(id: string, env: NodeJS.ProcessEnv = process.env, tmp: string = os.tmpdir()): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const root = path.join(tmp, `stackhub-ha.v8-cache.${uid ?? 'user'}`);
  try {
    try {
      fs.mkdirSync(root, { mode: 0o700 });
    } catch {
      /* exists, or a read-only temp dir: checked below */
    }
    const st = fs.lstatSync(root);
    // another user's directory (or one others may write to) could hand us compiled code: never read it
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    const dir = path.join(root, `${id}-${process.version}-${process.arch}`);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch {
      /* exists or read-only */
    }
    return dir;
  } catch {
    return undefined;
  }
}

/** A loader over the payload of `file` (the CLI file itself); `parent` is the CLI's own module. */
export function createLoader(payload: Payload, file: string, parent: NodeJS.Module, env: NodeJS.ProcessEnv = process.env): EmbeddedLoader {
  const cache = new Map<string, NodeJS.Module>();
  const docs = new Map<string, unknown>();
  const pending = new Map<string, vmT.Script>();
  let cacheDir: string | null | undefined = null;
  let fd: number | undefined;

  const source = (name: string): string => {
    const at = payload.mods[name];
    if (!at) throw new Error(`stackhub-ha: ${name} is not embedded in this file`);
    const buf = Buffer.allocUnsafe(at[1]);
    fd ??= fs.openSync(file, 'r');
    for (let n = 0; n < at[1]; ) {
      const r = fs.readSync(fd, buf, n, at[1] - n, payload.start + at[0] + n);
      if (r === 0) break;
      n += r;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const zlib = require('node:zlib') as typeof import('node:zlib');
      return zlib.brotliDecompressSync(Buffer.from(buf.toString('latin1'), 'base64')).toString('latin1'); // ASCII (the build checks): latin1 is a plain copy, utf8 a decode
    } catch (e) {
      throw new Error(`stackhub-ha: cannot read ${name} from ${file} (was the file changed while it ran?): ${(e as Error).message}`, { cause: e });
    }
  };

  const saveLater = (key: string, script: vmT.Script): void => {
    if (pending.size === 0) process.once('exit', save);
    pending.set(key, script);
  };
  const save = (): void => {
    for (const [key, script] of pending) {
      const f = path.join(cacheDir as string, key);
      const tmp = `${f}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600, flag: 'wx' });
        fs.renameSync(tmp, f);
      } catch {
        try {
          fs.rmSync(tmp, { force: true });
        } catch {
          /* read-only */
        }
      }
    }
  };

  const compile = (name: string, code: string, filename: string): ((...args: unknown[]) => void) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vm = require('node:vm') as typeof import('node:vm');
    if (cacheDir === null) cacheDir = codeCacheDir(payload.id, env);
    const key = `${name.replace(/[^A-Za-z0-9.-]/g, '_')}.bin`;
    let cachedData: Buffer | undefined;
    if (cacheDir) {
      try {
        cachedData = fs.readFileSync(path.join(cacheDir, key));
      } catch {
        /* first run */
      }
    }
    const wrapped = `(function (exports, require, module, __filename, __dirname) { ${code}\n})`;
    const script = new vm.Script(wrapped, { filename, cachedData });
    if (cacheDir && (!cachedData || script.cachedDataRejected)) saveLater(key, script);
    hit.set(name, !cacheDir ? 'off' : !cachedData ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit');
    return script.runInThisContext() as (...args: unknown[]) => void;
  };

  const dir = path.dirname(file);
  const trace = !!env.STACKHUB_HA_TRACE_LOAD;
  const hit = new Map<string, string>();
  return {
    require(name: string): unknown {
      const done = cache.get(name);
      if (done) return done.exports;
      const [kind, id] = [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)];
      const filename = path.join(dir, kind === 'vendor' ? 'vendor' : 'groups', `${id.replace(/^@/, '').replace(/\//g, '-')}.js`);
      const m = new Module(filename, parent);
      m.filename = filename;
      m.paths = parent.paths;
      cache.set(name, m);
      try {
        const t0 = trace ? cpuMs() : 0;
        const code = source(name);
        const t1 = trace ? cpuMs() : 0;
        const fn = compile(name, code, filename);
        const t2 = trace ? cpuMs() : 0;
        fn.call(m.exports, m.exports, Module.createRequire(filename), m, filename, path.dirname(filename));
        // nested modules print their own line first; their time is inside this one's init
        if (trace) process.stderr.write(`stackhub-ha load ${name}: read+inflate ${(t1 - t0).toFixed(1)} ms, compile ${(t2 - t1).toFixed(1)} ms (code cache ${hit.get(name) ?? 'off'}), init ${(cpuMs() - t2).toFixed(1)} ms (cpu)\n`);
      } catch (e) {
        cache.delete(name);
        throw e;
      }
      m.loaded = true;
      return m.exports;
    },
    json(name: string): unknown {
      if (!docs.has(name)) docs.set(name, JSON.parse(source(name)));
      return docs.get(name);
    },
  };
}
