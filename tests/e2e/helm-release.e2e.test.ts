/**
 * Opt-in end-to-end suite of the helm multi-site release against REAL Kubernetes clusters (`npm run test:e2e`; what
 * it installs, leaves behind and how to clean up: tests/e2e/README.md). It runs the BUILT CLI (`npm run build` first)
 * with a real helm and kubectl, in this order:
 *   a two-site release (install) → an idempotent rerun → an upgrade → a preflight refusal (too many LoadBalancer
 *   Services) with nothing touched → a run killed mid-upgrade, the next run's exact instructions, followed → a failure
 *   at the second site that rolls the first back (helm history shows the rollback).
 * The chart (tests/fixtures/charts/e2e-app) is ConfigMaps and a ClusterIP Service: no image is pulled, no PVC, no
 * LoadBalancer address is needed. Configuration: tests/e2e/env.ts (STACKHUB_E2E_CLUSTERS, STACKHUB_E2E_HELM, ...);
 * without STACKHUB_E2E_CLUSTERS the suite prints why it is skipped.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { which } from '../../src/shared/tools/cache';
import { ROOT, requireBuilt, runCli, type ProcessResult } from '../helpers/harness';
import { layer } from '../helpers/tool-fixtures';
import { E2eConfigError, readE2eConfig, type E2eCluster, type ToolChoice } from './env';
import { descendants } from './proc';

const CHART = path.join(ROOT, 'tests', 'fixtures', 'charts', 'e2e-app');
const RELEASE = 'e2e';
/** The label on every namespace the suite creates (README: manual cleanup selects it). */
export const E2E_LABEL = 'stackhub-ha-e2e';

function sh(bin: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile(bin, args, { maxBuffer: 64 << 20, timeout: 600_000 }, (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    c.stdin?.end(input ?? '');
  });
}

/** An Error that mocha prints as the one line it is. */
function oneLine(message: string): Error {
  const e = new Error(message);
  e.stack = message;
  return e;
}

async function resolveTool(choice: ToolChoice, tool: 'helm' | 'kubectl'): Promise<string> {
  if (choice.kind === 'path') return choice.path;
  if (choice.kind === 'layer') return (await layer(choice.layer))[tool];
  const found = which(tool, process.env.PATH);
  if (!found) throw oneLine(`${tool} is not on PATH: set STACKHUB_E2E_${tool.toUpperCase()}${tool === 'helm' ? ' (a path, or 3.17 / 4.1)' : ''}`);
  return found;
}

interface HistoryEntry {
  revision: number;
  status: string;
  description: string;
}

describe('helm-release end-to-end on real clusters (opt-in: STACKHUB_E2E_CLUSTERS)', function () {
  this.timeout(1_800_000);
  const ns = `stackhub-e2e-${Math.random().toString(36).slice(2, 8)}`;
  let clusters: E2eCluster[] = [];
  let helm = '';
  let kubectl = '';
  let timeout = 180;
  let work = '';
  let sitesFile = '';
  let created: E2eCluster[] = [];
  /** --max-load-balancers: 5 (the Hub's Basic load balancer), or more where a cluster already has more of its own */
  let lbLimit = 5;

  before(async function () {
    let config;
    try {
      config = readE2eConfig();
    } catch (e) {
      if (e instanceof E2eConfigError) throw oneLine(e.message);
      throw e;
    }
    if (config.skip !== undefined) {
      console.log(`      SKIPPED: ${config.skip}`);
      this.skip();
    }
    clusters = config.clusters;
    timeout = config.timeoutSeconds;
    requireBuilt();
    helm = await resolveTool(config.helm, 'helm');
    kubectl = await resolveTool(config.kubectl, 'kubectl');
    const hv = await sh(helm, ['version', '--short']);
    console.log(`      helm ${hv.stdout.trim()} (${helm}); kubectl ${kubectl}; namespace ${ns}`);
    for (const c of clusters) {
      const v = await sh(kubectl, ['version', '-o', 'json', ...kube(c)]);
      assert.equal(v.code, 0, `${c.name}: cannot reach the API server: ${v.stderr.trim()}`);
      const server = (JSON.parse(v.stdout) as { serverVersion?: { major: string; minor: string; gitVersion: string } }).serverVersion;
      const minor = Number.parseInt(server?.minor ?? '', 10);
      const inRange = server?.major === '1' && minor >= 26 && minor <= 31;
      console.log(`      ${c.name}: ${c.kubeconfig}${c.context ? `#${c.context}` : ''} → Kubernetes ${server?.gitVersion ?? '?'}${inRange ? '' : ' (outside the 1.26-1.31 this suite is meant for)'}`);
      // a cluster that already runs more LoadBalancer Services than 5 must not refuse the ordinary runs
      const svc = await sh(kubectl, ['get', 'services', '--all-namespaces', '-o', 'json', ...kube(c)]);
      assert.equal(svc.code, 0, `${c.name}: cannot list Services: ${svc.stderr.trim()}`);
      const lbs = (JSON.parse(svc.stdout) as { items: { spec: { type?: string } }[] }).items.filter((x) => x.spec.type === 'LoadBalancer').length;
      lbLimit = Math.max(lbLimit, lbs);
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'stackhub-e2e-'));
    sitesFile = path.join(work, 'sites.yaml');
    fs.writeFileSync(sitesFile, YAML.stringify({ sites: clusters.map((c) => ({ name: c.name, cluster: { kubeconfig: { file: c.kubeconfig }, ...(c.context ? { context: c.context } : {}), namespace: ns } })) }));
    // the namespace is the suite's, labelled so a manual cleanup can find it (README)
    for (const c of clusters) {
      const r = await sh(kubectl, ['create', 'namespace', ns, ...kube(c)]);
      assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
      created.push(c);
      const l = await sh(kubectl, ['label', 'namespace', ns, `${E2E_LABEL}=1`, ...kube(c)]);
      assert.equal(l.code, 0, `${c.name}: ${l.stderr}`);
    }
  });

  after(async function () {
    for (const c of created) {
      const r = await sh(kubectl, ['delete', 'namespace', ns, '--ignore-not-found', '--wait=false', ...kube(c)]);
      if (r.code !== 0) console.log(`      cleanup of ${c.name} failed (${r.stderr.trim()}): kubectl delete namespace -l ${E2E_LABEL}=1`);
    }
    created = [];
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  function kube(c: E2eCluster): string[] {
    return ['--kubeconfig', c.kubeconfig, ...(c.context ? ['--context', c.context] : [])];
  }
  const helmKube = (c: E2eCluster): string[] => ['--kubeconfig', c.kubeconfig, ...(c.context ? ['--kube-context', c.context] : []), '--namespace', ns];
  const history = async (c: E2eCluster): Promise<HistoryEntry[]> => {
    const r = await sh(helm, ['history', RELEASE, ...helmKube(c), '-o', 'json', '--max', '100']);
    if (r.code !== 0 && /release: not found/.test(r.stderr)) return [];
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as HistoryEntry[]).sort((a, b) => a.revision - b.revision);
  };
  const deployed = async (c: E2eCluster): Promise<HistoryEntry | undefined> => (await history(c)).filter((h) => h.status === 'deployed').pop();
  const configNote = async (c: E2eCluster): Promise<string> => {
    const r = await sh(kubectl, ['get', 'configmap', `${RELEASE}-config`, '-n', ns, '-o', 'json', ...kube(c)]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { data: { note: string } }).data.note;
  };
  const args = (set: Record<string, string | number | boolean>, timeoutSeconds = timeout): string[] => [
    'release', 'run', '--sites-file', sitesFile, '--release', RELEASE, '--chart', CHART, '--helm-path', helm, '--kubectl-path', kubectl,
    '--allowed-registries', 'registry.invalid', '--max-load-balancers', String(lbLimit), '--timeout-seconds', String(timeoutSeconds),
    // one --set holding lines (the CLI keeps the last of repeated flags)
    '--set', Object.entries(set).map(([k, v]) => `${k}=${v}`).join('\n'),
  ];
  // the maintainer's whole environment: kubeconfig exec plugins (cloud CLIs, kubelogin) need their own variables
  const cliEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('STACKHUB_E2E_')));
  const release = async (set: Record<string, string | number | boolean>, timeoutSeconds?: number): Promise<ProcessResult & { outputs: Record<string, string> }> => {
    const out = path.join(work, `outputs-${Date.now()}.json`);
    const r = await runCli([...args(set, timeoutSeconds), '--outputs-file', out], { env: cliEnv() });
    const outputs = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, string>) : {};
    return { ...r, outputs };
  };
  const histories = async (): Promise<HistoryEntry[][]> => Promise.all(clusters.map((c) => history(c)));

  it('a two-site release: installed on every site, in order', async () => {
    const r = await release({ revisionNote: 'v1' });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.outputs.result, 'succeeded');
    for (const c of clusters) {
      assert.equal((await deployed(c))?.revision, 1, c.name);
      assert.equal(await configNote(c), 'v1', c.name);
    }
  });

  it('an idempotent rerun: same chart and values change nothing', async () => {
    const before = await histories();
    const r = await release({ revisionNote: 'v1' });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.outputs.result, 'unchanged');
    assert.deepEqual(await histories(), before);
  });

  it('an upgrade of every site', async () => {
    const r = await release({ revisionNote: 'v2' });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.outputs.result, 'succeeded');
    for (const c of clusters) {
      assert.equal((await deployed(c))?.revision, 2, c.name);
      assert.equal(await configNote(c), 'v2', c.name);
    }
  });

  it('a preflight refusal (too many LoadBalancer Services): nothing touched on any site', async () => {
    const before = await histories();
    const r = await release({ revisionNote: 'v2-lb', loadBalancers: lbLimit + 1 });
    assert.equal(r.exitCode, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`load balancers: \\d+ Services of type LoadBalancer would exceed ${lbLimit} per cluster`));
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack');
    assert.deepEqual(await histories(), before, 'no helm operation on any site');
    for (const c of clusters) {
      const svc = await sh(kubectl, ['get', 'services', '-n', ns, '-o', 'json', ...kube(c)]);
      const types = (JSON.parse(svc.stdout) as { items: { spec: { type: string } }[] }).items.map((s) => s.spec.type);
      assert.ok(!types.includes('LoadBalancer'), `${c.name}: no LoadBalancer Service created`);
      assert.equal(await configNote(c), 'v2', c.name);
    }
  });

  it('a run killed mid-upgrade: the next run refuses with the exact command to clear it; following it works', async () => {
    const first = clusters[0];
    const others = clusters.slice(1);
    const before = (await deployed(first))!.revision;
    const othersBefore = await Promise.all(others.map((c) => history(c)));
    // the upgrade holds in `helm upgrade --wait` (a Deployment whose image can never be pulled) until killed
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js'), ...args({ revisionNote: 'v3', hold: true }, 1500)], { env: cliEnv(), stdio: 'ignore' });
    let pending = false;
    try {
      for (let i = 0; i < 240 && !pending; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        pending = (await history(first)).at(-1)?.status === 'pending-upgrade';
        assert.equal(child.exitCode, null, 'the run ended before it could be interrupted');
      }
      assert.ok(pending, `${first.name}: the upgrade never reached pending-upgrade`);
    } finally {
      // the agent dies: the CLI and every process under it (helm too) at once, no chance to clean up
      for (const pid of [child.pid!, ...descendants(child.pid!)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.on('exit', r));
    assert.equal((await history(first)).at(-1)?.status, 'pending-upgrade', 'helm left the release pending-upgrade');

    const next = await release({ revisionNote: 'v3' });
    assert.equal(next.exitCode, 1, next.stdout);
    const instruction = `helm rollback ${RELEASE} ${before} -n ${ns}`;
    const expected = `site ${first.name}: release ${RELEASE} is pending-upgrade (revision ${before + 1}): another helm operation is running or was killed. When no helm operation is running on it, clear it with \`${instruction}\`, then run the release again`;
    assert.ok(next.stderr.includes(expected), `expected the instruction\n  ${expected}\nin\n${next.stderr}`);
    assert.deepEqual(await Promise.all(others.map((c) => history(c))), othersBefore, 'the other sites were not touched');

    // follow the instruction exactly (with this cluster's kubeconfig), then run again
    const rb = await sh(helm, [...instruction.split(' ').slice(1), ...helmKube(first)]);
    assert.equal(rb.code, 0, rb.stderr);
    const again = await release({ revisionNote: 'v3' });
    assert.equal(again.exitCode, 0, again.stderr);
    for (const c of clusters) assert.equal(await configNote(c), 'v3', c.name);
  });

  it('a failure at the second site rolls the first back (helm history shows the rollback)', async () => {
    const [a, b, ...rest] = clusters;
    const prevA = (await deployed(a))!.revision;
    const prevB = (await deployed(b))!.revision;
    const restBefore = await Promise.all(rest.map((c) => history(c)));
    // out of band at site b: its frozen ConfigMap becomes immutable, so b's API server refuses the upgrade's change
    const p = await sh(kubectl, ['patch', 'configmap', `${RELEASE}-frozen`, '-n', ns, '--type', 'merge', '-p', '{"immutable":true}', ...kube(b)]);
    assert.equal(p.code, 0, p.stderr);
    const r = await release({ revisionNote: 'v4', frozenData: 'changed' });
    assert.equal(r.exitCode, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`release failed on ${b.name} \\(helm upgrade: .*\\); rolled back ${a.name}, ${b.name}`));
    assert.equal(r.outputs.result, 'rolled-back');
    const record = JSON.parse(r.outputs.record) as { sites: Record<string, { status: string }> };
    assert.equal(record.sites[a.name].status, 'rolled-back');
    assert.equal(record.sites[b.name].status, 'rolled-back');
    const ha = await history(a);
    assert.equal(ha.at(-2)?.revision, prevA + 1, `${a.name}: upgraded first`);
    assert.equal(ha.at(-1)?.status, 'deployed');
    assert.equal(ha.at(-1)?.description, `Rollback to ${prevA}`, `${a.name}: helm history shows the rollback`);
    assert.equal(await configNote(a), 'v3', `${a.name} runs what it ran before`);
    const hb = await history(b);
    assert.equal(hb.at(-1)?.description, `Rollback to ${prevB}`);
    assert.equal(await configNote(b), 'v3');
    assert.deepEqual(await Promise.all(rest.map((c) => history(c))), restBefore, 'sites after the failed one untouched');
  });
});
