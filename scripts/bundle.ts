/** esbuild settings shared by the build and the stale-dist check, so both produce the same bytes. */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { CAPABILITIES } from '../src/capabilities';
import { ROOT, pkg } from './manifests';

/** Node versions the bundles must run on (ADO Node20_1/Node24 handlers, GitHub node24). */
export const TARGET = 'node20';

/** Modules replaced in every bundle (see each stub's comment). */
const ALIASES: Record<string, string> = {
  '@actions/http-client': './src/platform/http-client-stub.ts',
  '@actions/http-client/lib/auth': './src/platform/http-client-stub.ts',
  // whatwg-url (via @kubernetes/client-node) requires Node's deprecated `punycode` builtin, which prints DEP0040 on
  // Node 22+; the userland package is the same code
  punycode: './node_modules/punycode/punycode.js',
};

/**
 * Large packages that only some runs need (Kubernetes client, storage and identity SDKs, age). In task and action
 * bundles each goes into its own file, `dist/vendor/<name>.js`, loaded when first used: a bundle's cold start is
 * dominated by reading and compiling its bytes, and @kubernetes/client-node alone is ~6 MB. The code imports
 * them lazily (`await import(...)` or a lazily required module), so a run that does not need them never reads them.
 * Sidecars reference each other the same way, so every package exists once per bundle. The CLI stays one file.
 */
export const SIDECARS = [
  '@kubernetes/client-node',
  '@azure/storage-blob',
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@azure/identity',
  '@azure/core-rest-pipeline',
  'age-encryption',
] as const;

/** The file of a sidecar, relative to the bundle's directory. */
export function sidecarFile(pkgName: string): string {
  return `vendor/${pkgName.replace(/^@/, '').replace(/\//g, '-')}.js`;
}

/** Rewrites imports of sidecar packages to `./vendor/<name>.js` (or `./<name>.js` from inside vendor/), external. */
function sidecarPlugin(fromVendor: boolean, self?: string): esbuild.Plugin {
  const filter = new RegExp(`^(${SIDECARS.map((p) => p.replace(/[/.-]/g, '\\$&')).join('|')})$`);
  return {
    name: 'stackhub-sidecars',
    setup(build) {
      build.onResolve({ filter }, (args) => {
        if (args.path === self) return undefined;
        const file = sidecarFile(args.path);
        return { path: fromVendor ? `./${path.basename(file)}` : `./${file}`, external: true };
      });
    },
  };
}

/** The esbuild options of every bundle (the CLI's modules add to them, see bundle-cli.ts). */
export function options(entry: string, outfile: string, external: string[], banner?: string): esbuild.BuildOptions {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'cjs',
    // @actions/core 3 is ESM-only: pick its "import" condition and bundle it into CJS
    conditions: ['import', 'node'],
    mainFields: ['module', 'main'],
    external,
    alias: ALIASES,
    legalComments: 'eof',
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    charset: 'utf8',
    // ESM packages bundled into CJS (e.g. @azure/storage-common's crc64) call createRequire(import.meta.url)
    define: { STACKHUB_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__stackhub_import_meta_url' },
    banner: { js: [banner, 'var __stackhub_import_meta_url=require("url").pathToFileURL(__filename).href;'].filter(Boolean).join('\n') },
    logLevel: 'warning',
  };
}

/** Sidecar imports of an esbuild output (`./vendor/x.js` or `./x.js`), as package names. */
function sidecarImports(meta: esbuild.Metafile): string[] {
  const files = new Set(SIDECARS.map((p) => path.basename(sidecarFile(p))));
  const used = new Set<string>();
  for (const out of Object.values(meta.outputs)) {
    for (const imp of out.imports) if (imp.external && files.has(path.basename(imp.path))) used.add(path.basename(imp.path));
  }
  return SIDECARS.filter((p) => used.has(path.basename(sidecarFile(p))));
}

/**
 * Bundles `entry` into `outfile` with the sidecars it needs in `<dir of outfile>/vendor/` (that directory is
 * rebuilt, so no stale sidecar stays behind).
 */
async function bundleWithSidecars(entry: string, outfile: string, external: string[]): Promise<string> {
  const main = await esbuild.build({ ...options(entry, outfile, external), metafile: true, plugins: [sidecarPlugin(false)] });
  const vendor = path.join(path.dirname(outfile), 'vendor');
  fs.rmSync(vendor, { recursive: true, force: true });
  const todo = sidecarImports(main.metafile!);
  const done = new Set<string>();
  while (todo.length) {
    const name = todo.shift()!;
    if (done.has(name)) continue;
    done.add(name);
    const out = path.join(path.dirname(outfile), sidecarFile(name));
    const r = await esbuild.build({
      ...options('', out, external),
      entryPoints: undefined,
      stdin: { contents: `export * from '${name}';`, resolveDir: ROOT, loader: 'js', sourcefile: `${name} (sidecar)` },
      metafile: true,
      plugins: [sidecarPlugin(true, name)],
    });
    todo.push(...sidecarImports(r.metafile!));
  }
  return outfile;
}

/** Bundles an action (users run it from the repo at a ref: nothing is installed; dist/ incl. vendor/ is committed). */
export async function bundleAction(dir: string, outfile = path.join(ROOT, 'actions', dir, 'dist', 'index.js')): Promise<string> {
  return bundleWithSidecars(`actions/${dir}/index.ts`, outfile, []);
}

/** Bundles a task; azure-pipelines-task-lib stays external (installed into the task folder). */
export async function bundleTask(folder: string): Promise<string> {
  const outfile = path.join(ROOT, 'tasks', folder, 'dist', 'index.js');
  return bundleWithSidecars(`tasks/${folder}/index.ts`, outfile, ['azure-pipelines-task-lib', 'azure-pipelines-task-lib/*']);
}

export const ACTION_DIRS = CAPABILITIES.map((e) => e.action.dir);
export const TASK_FOLDERS = CAPABILITIES.map((e) => e.task.folder);

/** The npm package a bare import specifier names (`@scope/name/sub` -> `@scope/name`), or undefined for a builtin or a path. */
function packageOf(spec: string): string | undefined {
  if (/^(\.|\/|node:|<)/.test(spec)) return undefined; // paths, builtins, esbuild's <runtime>
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtinModules.includes(name) ? undefined : name;
}

/**
 * The npm packages that the repository's own code imports in the bundles (every task, action and the CLI), from
 * esbuild's metafile: what `dependencies` in package.json must list, exactly. Packages that only those packages
 * import come with them; aliased modules (stubs in src/) are not packages.
 */
export async function runtimePackages(): Promise<Map<string, string[]>> {
  const entries = [...TASK_FOLDERS.map((f) => `tasks/${f}/index.ts`), ...ACTION_DIRS.map((d) => `actions/${d}/index.ts`), 'src/cli/entry.ts', 'src/cli/dev.ts'];
  const out = new Map<string, string[]>();
  for (const entry of entries) {
    const r = await esbuild.build({ ...options(entry, path.join(ROOT, 'dist', '.deps-probe.js'), []), write: false, metafile: true, logLevel: 'silent' });
    for (const [file, input] of Object.entries(r.metafile!.inputs)) {
      if (file.includes('node_modules/')) continue;
      for (const imp of input.imports) {
        const spec = imp.original ?? imp.path;
        const name = packageOf(spec);
        // an alias to a file of ours (src/platform/http-client-stub.ts) imports no package
        if (!name || (!imp.external && !imp.path.includes('node_modules/'))) continue;
        const from = out.get(name) ?? [];
        if (!from.includes(file)) from.push(file);
        out.set(name, from);
      }
    }
  }
  return out;
}
