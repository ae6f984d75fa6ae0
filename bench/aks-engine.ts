/**
 * AKS Engine benches (ratios against baselines measured in the same run):
 * - state custody: store + fetch of an aks-engine output directory (tar.gz → age → filesystem store → verified
 *   download → decrypt → extract) against the plain tar.gz round trip of the same directory;
 * - validate: the whole `validate` (discovery, get-versions, generate --parameters-only, marketplace checks through
 *   the Hub's ARM with an ADFS token) against running the same three aks-engine-azurestack (double) calls directly.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { fetchState, latestState, putDirectory, STATE_KIND } from '../src/aks-engine/state';
import { createTarGz, extractArchive } from '../src/shared/archive';
import { openStorage } from '../src/shared/storage';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { hubInputs, runAks, startFixture } from '../tests/aks-engine/fixture';

const RUNS = 7;

/** An output directory shaped like aks-engine's: apimodel, templates, PKI of 3 masters, kubeconfig. */
function fakeOutputDir(dir: string): number {
  fs.mkdirSync(path.join(dir, 'kubeconfig'), { recursive: true, mode: 0o700 });
  const put = (name: string, bytes: number): void => fs.writeFileSync(path.join(dir, name), crypto.randomBytes(bytes).toString('base64'), { mode: 0o600 });
  put('apimodel.json', 120_000);
  put('azuredeploy.json', 900_000);
  put('azuredeploy.parameters.json', 80_000);
  put('kubeconfig/kubeconfig.local.json', 8_000);
  for (const n of ['ca', 'apiserver', 'client', 'kubectlClient', 'etcdserver', 'etcdclient', 'etcdpeer0', 'etcdpeer1', 'etcdpeer2']) {
    put(`${n}.crt`, 1_500);
    put(`${n}.key`, 2_400);
  }
  let total = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else total += fs.statSync(path.join(d, e.name)).size;
    }
  };
  walk(dir);
  return total;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export const benches: Bench[] = [
  {
    name: 'aks-engine state custody (store + fetch, age + filesystem store) vs plain tar.gz round trip',
    columns: ['output dir KiB', 'plain tar round trip ms', 'custody round trip ms', 'ratio'],
    async run() {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-aks-state-'));
      try {
        const src = path.join(root, 'out');
        const bytes = fakeOutputDir(src);
        const identity = await generateX25519Identity();
        const recipient = await identityToRecipient(identity);
        const storage = await openStorage({ kind: 'filesystem', path: path.join(root, 'store'), location: 'off-hub', prefix: '' });
        const enc = { write: { format: 'age' as const, recipients: [recipient] }, identities: [identity] };
        const base: number[] = [];
        const custody: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const work = fs.mkdtempSync(path.join(root, 'w-'));
          base.push(
            await time(async () => {
              const tgz = path.join(work, 'plain.tar.gz');
              await createTarGz(src, tgz);
              await extractArchive(tgz, path.join(work, 'plain'), 'tar.gz');
            }),
          );
          custody.push(
            await time(async () => {
              await putDirectory(storage, `bench/${i}`, 'state', src, enc, { kind: STATE_KIND, site: 'bench', data: {} }, work);
              const entry = await latestState(storage, `bench/${i}`);
              await fetchState(storage, entry!, enc, path.join(work, 'state'), work);
            }),
          );
          fs.rmSync(work, { recursive: true, force: true });
        }
        const b = median(base);
        const c = median(custody);
        return [[Math.round(bytes / 1024), b.toFixed(1), c.toFixed(1), (c / b).toFixed(2)]];
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'aks-engine validate (discovery + 3 tool calls + marketplace over HTTPS/ADFS) vs the 3 tool calls alone',
    columns: ['tool calls alone ms', 'validate ms', 'ratio', 'overhead ms'],
    async run() {
      const f = await startFixture();
      try {
        const env = { ...process.env, AKS_DOUBLE_DIR: f.double.dir };
        const model = path.join(f.dir, 'm.json');
        const envFields = ['name', 'managementPortalURL', 'serviceManagementEndpoint', 'resourceManagerEndpoint', 'activeDirectoryEndpoint', 'graphEndpoint', 'galleryEndpoint', 'storageEndpointSuffix', 'keyVaultDNSSuffix', 'resourceManagerVMDNSSuffix', 'tokenAudience'];
        fs.writeFileSync(model, JSON.stringify({ location: 'local', properties: { masterProfile: { count: 3, dnsPrefix: 'abc', distro: 'aks-ubuntu-22.04' }, agentPoolProfiles: [{ name: 'linuxpool', count: 3 }], linuxProfile: { ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAA' }] } }, customCloudProfile: { environment: Object.fromEntries(envFields.map((k) => [k, 'x'])) } } }));
        const base: number[] = [];
        const full: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          base.push(
            await time(async () => {
              execFileSync(f.double.binary, ['version'], { env });
              execFileSync(f.double.binary, ['get-versions', '--azure-env', 'AzureStackCloud', '-o', 'json'], { env });
              const out = fs.mkdtempSync(path.join(f.dir, 'g-'));
              execFileSync(f.double.binary, ['generate', '--api-model', model, '--output-directory', path.join(out, 'o'), '--parameters-only'], { env, cwd: out });
            }),
          );
          f.double.reset();
          full.push(
            await time(async () => {
              const r = await runAks(f, { command: 'validate', ...hubInputs(f) });
              if (!r.ok) throw new Error(r.stderr);
            }),
          );
        }
        const b = median(base);
        const v = median(full);
        return [[b.toFixed(0), v.toFixed(0), (v / b).toFixed(2), (v - b).toFixed(0)]];
      } finally {
        await f.close();
      }
    },
  },
];
