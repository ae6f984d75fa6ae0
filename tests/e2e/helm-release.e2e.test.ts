/**
 * Opt-in end-to-end suite of the helm multi-site release against REAL Kubernetes clusters (`npm run test:e2e`). It
 * runs the BUILT task and CLI (build first: `npm run build`) with the real helm and kubectl:
 *   install on every cluster → upgrade → no-op rerun → a failure at the last site (a ResourceQuota that forbids pods in
 *   that site's namespace, so waiting fails) rolled back everywhere with rollback-all → uninstall.
 *
 * Environment:
 *   STACKHUB_E2E_CLUSTERS  two or more clusters, comma-separated, each `<kubeconfig path>` or `<kubeconfig path>#<context>`
 *                          (without it the suite prints that it was skipped)
 *   STACKHUB_E2E_HELM      helm binary (default: helm on PATH); STACKHUB_E2E_KUBECTL likewise
 *   STACKHUB_E2E_IMAGE     container image the clusters can pull (default registry.k8s.io/pause:3.10; disconnected
 *                          clusters: an image in their internal registry)
 *   STACKHUB_E2E_REGISTRIES allowedRegistries for the preflight (default: the image's registry)
 *   STACKHUB_E2E_TIMEOUT   seconds each site may take to become ready (default 180)
 * Every cluster gets its own namespace `stackhub-e2e-<random>`, deleted at the end. The chart has no LoadBalancer
 * services and no PVCs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { which } from '../../src/shared/tools/cache';
import { ROOT, requireBuilt, runAdoTask, runCli, type ProcessResult } from '../helpers/harness';

const ENV = 'STACKHUB_E2E_CLUSTERS';
const CHART = path.join(ROOT, 'tests', 'fixtures', 'charts', 'e2e-app');

interface Cluster {
  name: string;
  kubeconfig: string;
  context?: string;
}

function parseClusters(text: string): Cluster[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => {
      const [file, context] = s.split('#');
      return { name: `site${i + 1}`, kubeconfig: path.resolve(file), context: context || undefined };
    });
}

function sh(bin: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile(bin, args, { maxBuffer: 64 << 20, timeout: 600_000 }, (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    c.stdin?.end(input ?? '');
  });
}

describe('helm-release end-to-end on real clusters (opt-in)', function () {
  this.timeout(1_800_000);
  const clusters = parseClusters(process.env[ENV] ?? '');
  const ns = `stackhub-e2e-${Math.random().toString(36).slice(2, 8)}`;
  const release = 'e2e-app';
  let helm: string;
  let kubectl: string;
  let work: string;
  let sitesFile: string;
  let timeout: string;
  const image = process.env.STACKHUB_E2E_IMAGE || 'registry.k8s.io/pause:3.10';
  const registries = process.env.STACKHUB_E2E_REGISTRIES || image.split('/')[0];

  before(function () {
    if (clusters.length < 2) {
      console.log(`      SKIPPED: the end-to-end suite needs ${ENV} naming two or more clusters (kubeconfig[#context],kubeconfig[#context],...)`);
      this.skip();
    }
    requireBuilt();
    helm = process.env.STACKHUB_E2E_HELM || which('helm', process.env.PATH) || '';
    kubectl = process.env.STACKHUB_E2E_KUBECTL || which('kubectl', process.env.PATH) || '';
    assert.ok(helm && kubectl, 'helm and kubectl are needed (PATH, or STACKHUB_E2E_HELM / STACKHUB_E2E_KUBECTL)');
    timeout = process.env.STACKHUB_E2E_TIMEOUT || '180';
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'stackhub-e2e-'));
    sitesFile = path.join(work, 'sites.yaml');
    fs.writeFileSync(
      sitesFile,
      YAML.stringify({ sites: clusters.map((c) => ({ name: c.name, cluster: { kubeconfig: { file: c.kubeconfig }, ...(c.context ? { context: c.context } : {}), namespace: ns } })) }),
    );
    console.log(`      clusters: ${clusters.map((c) => `${c.name}=${c.kubeconfig}${c.context ? `#${c.context}` : ''}`).join(', ')}; namespace ${ns}`);
  });

  after(async function () {
    if (clusters.length < 2 || !kubectl) return;
    for (const c of clusters) await sh(kubectl, ['delete', 'namespace', ns, '--ignore-not-found', '--wait=false', '--kubeconfig', c.kubeconfig, ...(c.context ? ['--context', c.context] : [])]);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const kube = (c: Cluster): string[] => ['--kubeconfig', c.kubeconfig, ...(c.context ? ['--context', c.context] : [])];
  const helmKube = (c: Cluster): string[] => ['--kubeconfig', c.kubeconfig, ...(c.context ? ['--kube-context', c.context] : []), '--namespace', ns];
  const history = async (c: Cluster): Promise<{ revision: number; status: string }[]> => {
    const r = await sh(helm, ['history', release, ...helmKube(c), '-o', 'json']);
    if (r.code !== 0 && /release: not found/.test(r.stderr)) return [];
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { revision: number; status: string }[];
  };
  const deployedRevision = async (c: Cluster): Promise<number | undefined> => (await history(c)).filter((h) => h.status === 'deployed').pop()?.revision;
  // (one --set flag holding lines: the CLI keeps the last of repeated flags)
  const common = (note: string, createNamespace = false): string[] => [
    '--sites-file', sitesFile, '--release', release, '--chart', CHART, '--helm-path', helm, '--kubectl-path', kubectl,
    '--allowed-registries', registries, '--timeout-seconds', timeout, '--create-namespace', String(createNamespace), '--set', `image=${image}\nrevisionNote=${note}`,
  ];
  const cli = (args: string[]): Promise<ProcessResult> => runCli(args, { env: { PATH: process.env.PATH, HOME: os.homedir() } });

  it('install on every cluster (CLI `release run`)', async () => {
    const out = path.join(work, 'install.json');
    const r = await cli(['release', 'run', ...common('install', true), '--outputs-file', out]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).result, 'succeeded');
    for (const c of clusters) assert.equal(await deployedRevision(c), 1, c.name);
  });

  it('upgrade every cluster (the ADO task bundle)', async () => {
    const r = await runAdoTask({
      task: 'StackHubHelmReleaseV1',
      inputs: {
        command: 'run', sitesFile, release, chart: CHART, helmPath: helm, kubectlPath: kubectl, allowedRegistries: registries, timeoutSeconds: timeout,
        set: `image=${image}\nrevisionNote=upgrade`,
      },
      env: { PATH: process.env.PATH, HOME: os.homedir() },
    });
    assert.equal(r.result, 'Succeeded', r.stdout);
    assert.equal(r.variables.get('result')?.value, 'succeeded');
    for (const c of clusters) assert.equal(await deployedRevision(c), 2, c.name);
  });

  it('a rerun with the same chart and values is a no-op', async () => {
    const out = path.join(work, 'noop.json');
    const r = await cli(['release', 'run', ...common('upgrade'), '--outputs-file', out]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).result, 'unchanged');
    for (const c of clusters) assert.equal(await deployedRevision(c), 2, c.name);
  });

  it('a failure at the last site (a ResourceQuota forbids pods) is rolled back on every site', async () => {
    const last = clusters[clusters.length - 1];
    const quota = YAML.stringify({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods', namespace: ns }, spec: { hard: { pods: '0' } } });
    const q = await sh(kubectl, ['apply', '-f', '-', ...kube(last)], quota);
    assert.equal(q.code, 0, q.stderr);
    try {
      const out = path.join(work, 'fail.json');
      const r = await cli(['release', 'run', ...common('will-fail'), '--timeout-seconds', '90', '--outputs-file', out]);
      assert.equal(r.exitCode, 1, r.stdout);
      assert.match(r.stderr, new RegExp(`release failed on ${last.name} .*rolled back`));
      const outputs = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, string>;
      assert.equal(outputs.result, 'rolled-back');
      const record = JSON.parse(outputs.record);
      for (const c of clusters) {
        assert.equal(record.sites[c.name].status, 'rolled-back', c.name);
        const h = await history(c);
        const deployed = h.filter((x) => x.status === 'deployed').pop()!;
        assert.ok(deployed.revision > 2, `${c.name}: a rollback revision`);
        const vals = await sh(helm, ['get', 'values', release, ...helmKube(c), '-o', 'json']);
        assert.equal(JSON.parse(vals.stdout).revisionNote, 'upgrade', `${c.name} runs the values from before`);
      }
    } finally {
      await sh(kubectl, ['delete', 'resourcequota', 'no-pods', '--namespace', ns, ...kube(last)]);
    }
  });

  it('uninstall', async () => {
    for (const c of clusters) {
      const r = await sh(helm, ['uninstall', release, ...helmKube(c), '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await history(c), []);
    }
  });
});
