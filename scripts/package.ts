/**
 * `npm run package`: builds (scripts/build.ts), packages the Azure DevOps extension with tfx-cli into
 * `dist/stackhub-ha-<version>.vsix`, and writes the air-gap kit `dist/stackhub-ha-airgap-<version>.tar.gz`.
 * Nothing is downloaded: tfx runs from node_modules with network access blocked, and tools for the kit come from a
 * local directory checked against its SHA256SUMS.
 *
 *   npm run package -- [--tools-dir <dir>] [--signing-key <pem file>] [--out-dir <dir>] [--no-build]
 *
 * `--tools-dir` (or STACKHUB_KIT_TOOLS_DIR) is laid out `<tool>/<version>/<os>-<arch>/<file>` with a `SHA256SUMS`
 * at its root pinning every file. `--signing-key` (or STACKHUB_KIT_SIGNING_KEY_FILE) is an Ed25519 private key in
 * PEM; the kit's SHA256SUMS is signed with it.
 *
 * tfx reports task.json problems only as warnings and still writes the .vsix: any warning line fails packaging.
 */
import { spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import yauzl from 'yauzl';
import { findPin, parseChecksums, sha256File } from '../src/shared/checksums';
import { StackHubError } from '../src/shared/errors';
import { SIG_FILE, SUMS_FILE, writeKit, type KitToolSource } from '../src/shared/kit';
import { keyFingerprint, loadPrivateKey } from '../src/shared/signing';
import { build, installClosure } from './build';
import { ACTION_DIRS, TASK_FOLDERS, bundleAction, bundleTask } from './bundle';
import { WEB_DIR, WEB_FILES, bundleWeb } from './bundle-web';
import { bundleCli } from './bundle-cli';
import { writeIcons } from './make-icons';
import { ROOT, pkg } from './manifests';

/** Where the package steps read from and write to. */
export interface PackageDirs {
  /** Where the .vsix and the kit are written (default `<repo>/dist`). */
  outDir?: string;
  /** Scratch directory for staging (default `<repo>/build`); its `vsix/` and `kit/` are recreated. */
  workDir?: string;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
}

/** A written artifact. */
export interface Artifact {
  file: string;
  size: number;
  sha256: string;
}

/** What tfx printed and how long it took. */
export interface TfxRun {
  /** stdout and stderr, colour codes removed. */
  output: string;
  /** The warning lines (tfx prefixes each with `warning: `). */
  warnings: string[];
  exitCode: number | null;
  ms: number;
}

export const VSIX_NAME = `stackhub-ha-${pkg.version}.vsix`;
export const KIT_FILE_NAME = `stackhub-ha-airgap-${pkg.version}.tar.gz`;
export const CLI_BUNDLE = 'dist/cli/stackhub-ha.js';
const TFX_JS = path.join(ROOT, 'node_modules', 'tfx-cli', '_build', 'tfx-cli.js');
/** Printed by the preloaded network guard when tfx opens a connection. */
const NETWORK_MARKER = 'STACKHUB-PACKAGE-NETWORK-BLOCKED';

const defaults = (o: PackageDirs): Required<PackageDirs> => ({
  outDir: path.resolve(o.outDir ?? path.join(ROOT, 'dist')),
  workDir: path.resolve(o.workDir ?? path.join(ROOT, 'build')),
  log: o.log ?? ((l: string) => console.log(l)),
});

function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r.startsWith('..') ? file : r;
}

function human(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

async function artifact(file: string): Promise<Artifact> {
  return { file, size: fs.statSync(file).size, sha256: await sha256File(file) };
}

function requireFile(file: string, hint: string): void {
  if (!fs.existsSync(file)) throw new StackHubError(`${path.relative(ROOT, file)} is missing: ${hint}`);
}

/**
 * Bundles whatever `npm run build` would have produced and is missing (task bundles and their task-lib, the
 * action bundles, the CLI), without the typecheck. For tests and `--no-build`.
 */
export async function ensureBundles(): Promise<void> {
  for (const folder of TASK_FOLDERS) {
    const dir = path.join(ROOT, 'tasks', folder);
    if (!fs.existsSync(path.join(dir, 'dist', 'index.js'))) await bundleTask(folder);
    if (!fs.existsSync(path.join(dir, 'node_modules', 'azure-pipelines-task-lib', 'package.json'))) {
      installClosure('azure-pipelines-task-lib', dir);
    }
  }
  for (const dir of ACTION_DIRS) {
    if (!fs.existsSync(path.join(ROOT, 'actions', dir, 'dist', 'index.js'))) await bundleAction(dir);
  }
  if (!fs.existsSync(path.join(ROOT, CLI_BUNDLE))) await bundleCli();
  if (WEB_FILES.some((f) => !fs.existsSync(path.join(ROOT, WEB_DIR, f)))) await bundleWeb();
}

/**
 * Stages the extension in `<workDir>/vsix`: vss-extension.json, images/, docs/overview.md, the results tab's page
 * (dist/web/) and, per task folder, only task.json, icon.png, dist/ and node_modules/. Returns the staging root.
 */
export function stageExtension(opts: PackageDirs = {}): string {
  const { workDir } = defaults(opts);
  const stage = path.join(workDir, 'vsix');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  const copy = (from: string, hint: string): void => {
    const src = path.join(ROOT, from);
    requireFile(src, hint);
    fs.cpSync(src, path.join(stage, from), { recursive: true });
  };
  copy('vss-extension.json', 'run `npm run manifests`');
  copy('images', 'run `tsx scripts/make-icons.ts`');
  copy('docs/overview.md', 'run `npm run docs`');
  for (const f of WEB_FILES) copy(`${WEB_DIR}/${f}`, 'run `npm run build`');
  for (const folder of TASK_FOLDERS) {
    copy(`tasks/${folder}/task.json`, 'run `npm run manifests`');
    copy(`tasks/${folder}/icon.png`, 'run `tsx scripts/make-icons.ts`');
    copy(`tasks/${folder}/dist`, 'run `npm run build`');
    copy(`tasks/${folder}/node_modules`, 'run `npm run build`');
  }
  return stage;
}

/** Lines of tfx output that are warnings (colour codes already removed). `npm warn` lines are npm's, not tfx's. */
export function tfxWarnings(output: string): string[] {
  return output
    .split(/\r?\n/)
    .filter((l) => /^\s*warning\b/i.test(l) && !/^\s*npm warn/i.test(l));
}

/** Removes ANSI colour codes. */
function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex -- strips tfx-cli's colour escapes
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

/**
 * A CommonJS preload that makes any network connection from tfx throw (and print {@link NETWORK_MARKER}): tfx
 * `extension create` needs no network, and in a disconnected build it must not wait on one.
 */
function writeNetworkGuard(workDir: string): string {
  const file = path.join(workDir, 'tfx-offline-guard.cjs');
  fs.mkdirSync(workDir, { recursive: true });
  fs.writeFileSync(
    file,
    `'use strict';
const net = require('node:net');
const dns = require('node:dns');
function deny(what) {
  return function () {
    const msg = '${NETWORK_MARKER}: tfx tried to use the network (' + what + ')';
    process.stderr.write(msg + '\\n');
    throw new Error(msg);
  };
}
net.Socket.prototype.connect = deny('connect');
for (const f of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny']) {
  dns[f] = deny('dns.' + f);
  if (dns.promises[f]) dns.promises[f] = deny('dns.promises.' + f);
}
`,
  );
  return file;
}

/** Runs `tfx extension create` on a staging root, offline. Does not judge the result (see {@link createVsix}). */
export async function runTfx(stagingRoot: string, outFile: string, workDir: string): Promise<TfxRun> {
  requireFile(TFX_JS, 'run `npm ci` (tfx-cli is a devDependency)');
  const guard = writeNetworkGuard(workDir);
  const args = [
    '--require',
    guard,
    TFX_JS,
    'extension',
    'create',
    '--root',
    stagingRoot,
    '--manifest-globs',
    'vss-extension.json',
    '--output-path',
    outFile,
    '--no-prompt',
    '--no-color',
  ];
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TFX_TRACE')) delete env[k];
  const started = Date.now();
  return new Promise<TfxRun>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const clean = stripAnsi(output);
      resolve({ output: clean, warnings: tfxWarnings(clean), exitCode: code, ms: Date.now() - started });
    });
  });
}

/** Names of the entries of a zip (a .vsix), directories included (with their trailing `/`). */
export async function listZipEntries(file: string): Promise<string[]> {
  return new Promise<string[]>((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`cannot open ${file}`));
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** What a .vsix must hold; returns the missing entries (empty when complete). */
export function missingVsixEntries(entries: readonly string[]): string[] {
  const have = new Set(entries);
  const need = ['extension.vsixmanifest', 'images/extension-icon.png', 'docs/overview.md', ...WEB_FILES.map((f) => `${WEB_DIR}/${f}`)];
  for (const f of TASK_FOLDERS) {
    need.push(
      `tasks/${f}/task.json`,
      `tasks/${f}/icon.png`,
      `tasks/${f}/dist/index.js`,
      `tasks/${f}/node_modules/azure-pipelines-task-lib/package.json`,
      `tasks/${f}/node_modules/azure-pipelines-task-lib/task.js`,
    );
  }
  return need.filter((n) => !have.has(n));
}

/**
 * Stages the extension, runs tfx, and checks the result: a tfx failure or any warning line throws (the warnings
 * are in the message), and so does a .vsix missing a task's task.json, dist/index.js or task-lib.
 */
export async function createVsix(opts: PackageDirs = {}): Promise<Artifact & { tfx: TfxRun; entries: string[] }> {
  const o = defaults(opts);
  const stage = stageExtension(o);
  fs.mkdirSync(o.outDir, { recursive: true });
  const outFile = path.join(o.outDir, VSIX_NAME);
  fs.rmSync(outFile, { force: true });
  o.log(`tfx     extension create --root ${rel(stage)} --output-path ${rel(outFile)}`);
  const tfx = await runTfx(stage, outFile, o.workDir);
  const indent = (lines: string[]): string => lines.map((l) => `  ${l}`).join('\n');
  if (tfx.output.includes(NETWORK_MARKER)) {
    throw new StackHubError(`tfx tried to use the network while packaging:\n${indent(tfx.output.split('\n'))}`);
  }
  if (tfx.exitCode !== 0) {
    throw new StackHubError(`tfx extension create failed (exit code ${tfx.exitCode}):\n${indent(tfx.output.trim().split('\n'))}`);
  }
  if (tfx.warnings.length > 0) {
    throw new StackHubError(
      `tfx extension create reported ${tfx.warnings.length} warning line(s); fix task.json / vss-extension.json ` +
        `(src/capabilities.ts, then \`npm run manifests\`):\n${indent(tfx.warnings)}`,
    );
  }
  requireFile(outFile, 'tfx reported success but wrote no .vsix');
  const entries = await listZipEntries(outFile);
  const missing = missingVsixEntries(entries);
  if (missing.length > 0) throw new StackHubError(`${rel(outFile)} lacks:\n${indent(missing)}`);
  const a = await artifact(outFile);
  o.log(`vsix    ${rel(a.file)} ${human(a.size)} sha256 ${a.sha256} (tfx ${(tfx.ms / 1000).toFixed(1)} s, ${entries.length} entries)`);
  return { ...a, tfx, entries };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = fs.readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const r = prefix ? `${prefix}/${e.name}` : e.name;
    const st = fs.statSync(path.join(dir, r));
    if (st.isDirectory()) out.push(...(await listFiles(dir, r)));
    else if (st.isFile()) out.push(r);
    else throw new StackHubError(`tools dir ${dir}: ${r} is not a regular file`);
  }
  return out;
}

/**
 * Reads a tools directory laid out `<tool>/<version>/<os>-<arch>/<file>` with a `SHA256SUMS` at its root (keys
 * `<tool>/<version>/<os>-<arch>/<file>`, optionally prefixed `tools/`). Every file must be pinned and match its
 * pin, and every pin must name a file.
 *
 * @throws StackHubError naming the file (and both hashes on a mismatch).
 */
export async function readToolsDir(dir: string): Promise<KitToolSource[]> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new StackHubError(`tools dir ${dir} is not a directory`);
  const sumsFile = path.join(root, SUMS_FILE);
  if (!fs.existsSync(sumsFile)) throw new StackHubError(`tools dir ${dir} has no ${SUMS_FILE} (the SHA-256 pins of its files)`);
  const pins = parseChecksums(fs.readFileSync(sumsFile, 'utf8'), sumsFile);
  const files = (await listFiles(root)).filter((f) => f !== SUMS_FILE && f !== SIG_FILE);
  const used = new Set<string>();
  const out: KitToolSource[] = [];
  for (const f of files) {
    const parts = f.split('/');
    const dash = parts.length === 4 ? parts[2].indexOf('-') : -1;
    if (parts.length !== 4 || dash <= 0 || dash === parts[2].length - 1) {
      throw new StackHubError(`tools dir ${dir}: ${f} is not laid out as <tool>/<version>/<os>-<arch>/<file>`);
    }
    const pin = findPin(pins, f);
    if (pin === undefined) throw new StackHubError(`tools dir ${dir}: ${f} has no pin in ${SUMS_FILE}`);
    const actual = await sha256File(path.join(root, ...parts));
    if (actual !== pin) {
      throw new StackHubError(`tools dir ${dir}: ${f} does not match its pin in ${SUMS_FILE}: expected SHA-256 ${pin}, got ${actual}`);
    }
    for (const k of pins.keys()) if (k === f || k.endsWith(`/${f}`)) used.add(k);
    out.push({
      tool: parts[0],
      version: parts[1],
      os: parts[2].slice(0, dash),
      arch: parts[2].slice(dash + 1),
      file: parts[3],
      sourcePath: path.join(root, ...parts),
      sha256: pin,
    });
  }
  const unused = [...pins.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) throw new StackHubError(`tools dir ${dir}: ${SUMS_FILE} pins files that are not there: ${unused.join(', ')}`);
  return out;
}

export interface KitOptions extends PackageDirs {
  /** The .vsix to carry (from {@link createVsix}). */
  vsixFile: string;
  /** A tools directory (see {@link readToolsDir}); none = a kit without tools. */
  toolsDir?: string;
  /** Ed25519 private key (PEM file path or KeyObject) to sign SHA256SUMS with. */
  signingKey?: string | KeyObject;
  /** kit.json creation time (default now). */
  now?: Date;
}

/**
 * Writes `<outDir>/stackhub-ha-airgap-<version>.tar.gz`: `vsix/<the .vsix>`, `actions/<dir>/{action.yml,dist/index.js}`,
 * `cli/stackhub-ha.js`, `docs/`, `README.md`, `templates/`, `.github/workflows/`, `actions/composite/`, `pipelines/`, and the tools of `toolsDir` under `tools/`, with kit.json, SHA256SUMS and (with
 * a key) SHA256SUMS.sig.
 */
export async function buildKit(opts: KitOptions): Promise<Artifact & { signed: boolean; fingerprint?: string; tools: KitToolSource[] }> {
  const o = defaults(opts);
  const outFile = path.join(o.outDir, KIT_FILE_NAME);
  fs.rmSync(outFile, { force: true }); // a failed run must not leave an older kit behind
  const key = typeof opts.signingKey === 'string' ? loadPrivateKey(opts.signingKey, '--signing-key') : opts.signingKey;
  const tools = opts.toolsDir ? await readToolsDir(opts.toolsDir) : [];

  const stage = path.join(o.workDir, 'kit');
  fs.rmSync(stage, { recursive: true, force: true });
  const put = (from: string, to: string, hint: string): void => {
    requireFile(from, hint);
    fs.mkdirSync(path.dirname(path.join(stage, to)), { recursive: true });
    fs.cpSync(from, path.join(stage, to), { recursive: true });
  };
  put(opts.vsixFile, `vsix/${path.basename(opts.vsixFile)}`, 'create the .vsix first');
  for (const dir of ACTION_DIRS) {
    put(path.join(ROOT, 'actions', dir, 'action.yml'), `actions/${dir}/action.yml`, 'run `npm run manifests`');
    put(path.join(ROOT, 'actions', dir, 'dist'), `actions/${dir}/dist`, 'run `npm run build`'); // index.js + vendor/ sidecars
  }
  put(path.join(ROOT, CLI_BUNDLE), 'cli/stackhub-ha.js', 'run `npm run build`');
  put(path.join(ROOT, 'docs'), 'docs', 'run `npm run docs`');
  put(path.join(ROOT, 'README.md'), 'README.md', 'the README is part of the repository');
  // what a team needs to run the pattern inside the network: templates, reusable workflows, composite actions, the example
  put(path.join(ROOT, 'templates'), 'templates', 'the templates are part of the repository');
  put(path.join(ROOT, '.github', 'workflows'), '.github/workflows', 'the reusable workflows are part of the repository');
  put(path.join(ROOT, 'actions', 'composite'), 'actions/composite', 'the composite actions are part of the repository');
  put(path.join(ROOT, 'pipelines'), 'pipelines', 'the example pipelines are part of the repository');

  fs.mkdirSync(o.outDir, { recursive: true });
  const { signed } = await writeKit({ outFile, stagingDir: stage, tools, version: pkg.version, signingKey: key, now: opts.now });
  const a = await artifact(outFile);
  const fingerprint = key ? keyFingerprint(key) : undefined;
  o.log(`kit     ${rel(a.file)} ${human(a.size)} sha256 ${a.sha256}`);
  o.log(`        ${signed ? `signed: SHA256SUMS.sig, key ${fingerprint}` : 'NOT signed (no --signing-key): checksums prove integrity, not origin'}`);
  if (tools.length === 0) o.log('        tools: none (no --tools-dir)');
  for (const t of tools) o.log(`        tool ${t.tool}/${t.version}/${t.os}-${t.arch}/${t.file} sha256 ${t.sha256}`);
  return { ...a, signed, fingerprint, tools };
}

export interface PackageAllOptions extends PackageDirs {
  /** Run `npm run build` first (default true); false only bundles what is missing. */
  build?: boolean;
  toolsDir?: string;
  signingKey?: string | KeyObject;
  now?: Date;
}

/** The whole of `npm run package`. */
export async function packageAll(opts: PackageAllOptions = {}): Promise<{ vsix: Artifact; kit: Artifact & { signed: boolean } }> {
  // a failed run must not leave older artifacts behind; fail fast on the kit's inputs before the slow steps
  const { outDir } = defaults(opts);
  for (const f of [VSIX_NAME, KIT_FILE_NAME]) fs.rmSync(path.join(outDir, f), { force: true });
  if (typeof opts.signingKey === 'string') loadPrivateKey(opts.signingKey, '--signing-key');
  if (opts.toolsDir) await readToolsDir(opts.toolsDir);
  if (opts.build === false) await ensureBundles();
  else await build();
  for (const f of writeIcons()) (opts.log ?? console.log)(`icon    ${f}`);
  const vsix = await createVsix(opts);
  const kit = await buildKit({ ...opts, vsixFile: vsix.file });
  return { vsix, kit };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      'tools-dir': { type: 'string' },
      'signing-key': { type: 'string' },
      'out-dir': { type: 'string' },
      'no-build': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log('npm run package -- [--tools-dir <dir>] [--signing-key <pem file>] [--out-dir <dir>] [--no-build]');
    process.exit(0);
  }
  packageAll({
    build: !values['no-build'],
    toolsDir: values['tools-dir'] ?? (process.env.STACKHUB_KIT_TOOLS_DIR || undefined),
    signingKey: values['signing-key'] ?? (process.env.STACKHUB_KIT_SIGNING_KEY_FILE || undefined),
    outDir: values['out-dir'],
  }).catch((e: Error) => {
    console.error(`package failed: ${e.message}`);
    process.exit(1);
  });
}
