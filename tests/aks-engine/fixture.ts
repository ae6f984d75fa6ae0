/**
 * Shared fixture of the AKS Engine tests: a throwaway CA, a fake ADFS Hub (and an Azure AD one), the
 * aks-engine-azurestack double, age keys, and an in-process runner of the capability on the CLI platform.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import YAML from 'yaml';
import { aksEngine } from '../../src/aks-engine';
import { aksEngineInputs } from '../../src/aks-engine/inputs';
import { runCli } from '../helpers/harness';
import { CliPlatform } from '../../src/platform/cli';
import { runCapability } from '../../src/platform/run';
import { installDouble, type AksEngineDouble } from '../helpers/aks-engine-double';
import { addExtension, addImage, makeClientCert, startFakeHub, type FakeHub } from '../helpers/aks-engine-double/hub';
import { makeCa, makeServerCert, type ServerCert, type TestCa } from '../helpers/tls';

export const CLIENT_ID = '3f2b8c1e-9a4d-4e5f-8b7c-6d5e4f3a2b1c';
export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';
export const SECRET = 'Sp-Secret-Value-7f3a9c';
export const SSH_KEY = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7testkeyZZZ operator@example';

export interface Fixture {
  dir: string;
  ca: TestCa;
  cert: ServerCert;
  sp: ReturnType<typeof makeClientCert>;
  adfs: FakeHub;
  double: AksEngineDouble;
  age: { identity: string; recipient: string };
  caFile: string;
  close(): Promise<void>;
}

/** Starts everything once (call in before()). */
export async function startFixture(): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-engine-'));
  const ca = makeCa(path.join(dir, 'tls'));
  const cert = makeServerCert(ca, path.join(dir, 'tls'));
  const sp = makeClientCert(path.join(dir, 'sp'));
  const adfs = await startFakeHub({ ca, cert, identity: 'adfs', clients: { [CLIENT_ID]: { secret: SECRET, certificatePem: sp.certPem } } });
  stockMarketplace(adfs);
  const double = installDouble(path.join(dir, 'double'));
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  return {
    dir,
    ca,
    cert,
    sp,
    adfs,
    double,
    age: { identity, recipient },
    caFile: ca.certFile,
    async close() {
      await adfs.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The marketplace items aks-engine-azurestack v0.85.0 needs. */
export function stockMarketplace(hub: FakeHub): void {
  addImage(hub, 'microsoft-aks', 'aks', 'aks-engine-azurestack-ubuntu-2204', ['2024.311.1', '2026.139.1']);
  addExtension(hub, 'Microsoft.Azure.Extensions', 'CustomScript', ['2.1.10']);
}

/** Inputs for an ADFS Hub with certificate auth and a cluster built from inputs. */
export function hubInputs(f: Fixture, extra: Record<string, string> = {}): Record<string, string> {
  return {
    armEndpoint: f.adfs.armEndpoint,
    location: 'local',
    subscriptionId: SUBSCRIPTION,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    clientCertificatePath: f.sp.certFile,
    clientKeyPath: f.sp.keyFile,
    caCertificate: f.caFile,
    aksEnginePath: f.double.binary,
    dnsPrefix: 'ratings-seattle',
    sshPublicKey: SSH_KEY,
    ...extra,
  };
}

/** Filesystem state store inputs. */
export function fsStore(f: Fixture, root: string, extra: Record<string, string> = {}): Record<string, string> {
  fs.mkdirSync(root, { recursive: true });
  return { storageKind: 'filesystem', storagePath: root, storageLocation: 'off-hub', encryptionRecipients: f.age.recipient, ageIdentity: f.age.identity, ...extra };
}

export interface InProcessRun {
  ok: boolean;
  outputs: Record<string, string>;
  stdout: string;
  stderr: string;
  /** The failure line (`error: ...`), when failed. */
  error?: string;
  agentTemp: string;
}

/** Runs the capability in this process on the CLI platform with exactly `values` as inputs. */
export async function runAks(f: Fixture, values: Record<string, string>): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const saved = { dir: process.env.AKS_DOUBLE_DIR, tmp: process.env.TMPDIR };
  const agentTemp = fs.mkdtempSync(path.join(f.dir, 'agent-'));
  process.env.AKS_DOUBLE_DIR = f.double.dir;
  process.env.TMPDIR = agentTemp; // os.tmpdir() is the CLI's agent temp
  const exitCode = process.exitCode;
  try {
    const platform = new CliPlatform(new Map(Object.entries(values)), { debug: false, help: false }, process.env, (s) => (stdout += s), (s) => (stderr += s));
    const ok = await runCapability(platform, aksEngine, platform.masker);
    const error = [...stderr.matchAll(/^error: (.*)$/gm)].at(-1)?.[1];
    return { ok, outputs: { ...platform.outputs }, stdout, stderr, error: ok ? undefined : error, agentTemp };
  } finally {
    process.exitCode = exitCode;
    if (saved.dir === undefined) delete process.env.AKS_DOUBLE_DIR;
    else process.env.AKS_DOUBLE_DIR = saved.dir;
    if (saved.tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved.tmp;
  }
}

/** Every file below `root` (absolute paths). */
export function walk(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** A run of the built CLI bundle. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** The failure line, when failed. */
  error?: string;
  agentTemp: string;
}

/**
 * Runs the BUILT CLI (`stackhub-ha cluster <command>`) with the inputs in a --config file (secrets as {file: …}
 * references, as the CLI requires), on `node`.
 */
export async function runCliAks(f: Fixture, values: Record<string, string>, opts: { node?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const work = fs.mkdtempSync(path.join(f.dir, 'cli-'));
  const agentTemp = path.join(work, 'tmp');
  fs.mkdirSync(agentTemp);
  const { command, ...rest } = values;
  const cfg: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) {
    const def = aksEngineInputs.find((d) => d.name === k);
    if (def?.type === 'secret') {
      const file = path.join(work, `${k}.secret`);
      fs.writeFileSync(file, v, { mode: 0o600 });
      cfg[k] = { file };
    } else cfg[k] = v;
  }
  const cfgFile = path.join(work, 'config.yaml');
  fs.writeFileSync(cfgFile, YAML.stringify(cfg));
  const outFile = path.join(work, 'outputs.json');
  const r = await runCli(['cluster', command, '--config', cfgFile, '--outputs-file', outFile], {
    node: opts.node,
    env: { AKS_DOUBLE_DIR: f.double.dir, TMPDIR: agentTemp, ...opts.env },
    cwd: work,
  });
  const outputs = fs.existsSync(outFile) ? (JSON.parse(fs.readFileSync(outFile, 'utf8')) as Record<string, string>) : {};
  const error = [...r.stderr.matchAll(/^error: (.*)$/gm)].at(-1)?.[1];
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, outputs, error: r.exitCode === 0 ? undefined : error, agentTemp };
}
