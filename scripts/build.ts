/**
 * `npm run build`: typecheck, then bundle every task (task-lib external, installed into the task folder from
 * node_modules — nothing is downloaded), every action (committed dist) and the CLI.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAPABILITIES } from '../src/capabilities';
import { bundleAction, bundleTask } from './bundle';
import { bundleWeb, webWeight, WEB_DIR } from './bundle-web';
import { bundleCli } from './bundle-cli';
import { ROOT } from './manifests';

interface PkgJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}

/** Finds the directory of `name` as Node would resolve it from `fromDir`. */
function findPackage(name: string, fromDir: string): string {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find ${name} from ${fromDir}: run npm ci`);
    dir = up;
  }
}

/**
 * Copies a package and its production dependencies (as installed in the repo's node_modules) into
 * `<targetDir>/node_modules`, keeping nested node_modules where versions differ.
 */
export function installClosure(name: string, targetDir: string): void {
  const seen = new Map<string, string>();
  const visit = (pkgName: string, fromDir: string, destNodeModules: string): void => {
    const src = findPackage(pkgName, fromDir);
    const meta = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')) as PkgJson;
    const topDest = path.join(targetDir, 'node_modules', pkgName);
    const key = `${pkgName}@${meta.version}`;
    let dest: string;
    if (!seen.has(pkgName)) dest = topDest;
    else if (seen.get(pkgName) === key) return;
    else dest = path.join(destNodeModules, pkgName);
    if (dest === topDest) seen.set(pkgName, key);
    fs.cpSync(src, dest, { recursive: true, filter: (s) => !s.slice(src.length).split(path.sep).includes('node_modules') });
    for (const dep of Object.keys(meta.dependencies ?? {})) visit(dep, src, path.join(dest, 'node_modules'));
  };
  fs.rmSync(path.join(targetDir, 'node_modules'), { recursive: true, force: true });
  visit(name, ROOT, path.join(targetDir, 'node_modules'));
}

/**
 * Builds everything; `actions: false` leaves the committed action bundles alone (the test run checks them);
 * `only` limits the task/action bundles to one capability (by its name) and skips the typecheck.
 */
export async function build(opts: { actions?: boolean; only?: string } = {}): Promise<void> {
  const entries = CAPABILITIES.filter((e) => !opts.only || e.capability.name === opts.only);
  if (opts.only && entries.length === 0) throw new Error(`no capability named ${opts.only}`);
  if (!opts.only) {
    console.log('typecheck: tsc -p .');
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
  }
  for (const folder of entries.map((e) => e.task.folder)) {
    const out = await bundleTask(folder);
    installClosure('azure-pipelines-task-lib', path.join(ROOT, 'tasks', folder));
    console.log(`task    ${path.relative(ROOT, out)} (+ node_modules/azure-pipelines-task-lib)`);
  }
  if (opts.actions !== false) for (const dir of entries.map((e) => e.action.dir)) console.log(`action  ${path.relative(ROOT, await bundleAction(dir))}`);
  console.log(`cli     ${path.relative(ROOT, await bundleCli())}`);
  if (!opts.only) {
    await bundleWeb();
    for (const w of webWeight()) console.log(`web     ${WEB_DIR}/${w.file} (${w.gzip} B gzipped)`);
  }
}

if (require.main === module) {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  build({ actions: !process.argv.includes('--no-actions'), only }).catch((e: Error) => {
    console.error(`build failed: ${e.message}`);
    process.exit(1);
  });
}
