/**
 * Helm multi-site release, with the helm double sleeping a fixed time per call (and a kubectl stub doing the same):
 * 1. per-site overhead of the task (the built ADO task bundle, run as the agent runs it) over the raw helm and kubectl
 *    calls: the run's wall time minus the same calls replayed one after the other (same argv, same double, same run),
 *    per site; the task's start-up (node loading the bundle and parsing the inputs) is shown apart
 *    (goal ≤ 150 ms per site);
 * 2. parallel wall time for 8 sites (one of them slow) against the slowest site released alone (goal ≤ 1.1×).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { installHelmDouble, type HelmDouble } from '../tests/helpers/helm-double';

const ROOT = path.resolve(__dirname, '..');
const TASK = path.join(ROOT, 'tasks', 'StackHubHelmReleaseV1', 'dist', 'index.js');
const CHART = path.join(ROOT, 'tests', 'fixtures', 'charts', 'ratings');
const CALL_MS = 100;

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, ms: Number(process.hrtime.bigint() - t0) / 1e6, stderr }));
  });
}

/** A release set-up: N sites, the double, a kubectl stub that sleeps like the double and logs its argv. */
function setup(sites: string[], sleepSites: Record<string, number> = {}, callMs = CALL_MS): { dir: string; helm: HelmDouble; kubectl: string; kubectlLog: string; sitesFile: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-helm-release-'));
  const helm = installHelmDouble({ dir: path.join(dir, 'helm'), version: '3.17.3', sleepMs: callMs, sleepSites, stubClient: true, timed: true });
  const kubectl = path.join(dir, 'kubectl');
  const kubectlLog = path.join(dir, 'kubectl.log');
  fs.writeFileSync(
    kubectl,
    `#!/bin/sh\nstart=$(date +%s%N)\nsleep ${callMs / 1000}\ncase "$2" in\n  namespace) echo namespace/ratings ;;\n  services) echo '{"kind":"List","apiVersion":"v1","items":[]}' ;;\nesac\necho "$start $(date +%s%N)" >> '${kubectlLog}'\n`,
    { mode: 0o755 },
  );
  const kube = path.join(dir, 'kube');
  fs.mkdirSync(kube);
  const doc = {
    sites: sites.map((s) => {
      fs.writeFileSync(
        path.join(kube, `${s}.yaml`),
        YAML.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: s, cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: s, user: { token: 'bench-token' } }], contexts: [{ name: s, context: { cluster: s, user: s } }], 'current-context': s }),
        { mode: 0o600 },
      );
      return { name: s, cluster: { kubeconfig: { file: `kube/${s}.yaml` }, context: s, namespace: 'ratings' }, set: { replicaCount: 2 } };
    }),
  };
  const sitesFile = path.join(dir, 'sites.yaml');
  fs.writeFileSync(sitesFile, YAML.stringify(doc));
  return { dir, helm, kubectl, kubectlLog, sitesFile, env: { PATH: process.env.PATH, HOME: os.homedir(), TMPDIR: dir } };
}

function taskEnv(s: ReturnType<typeof setup>, inputs: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...s.env, AGENT_TEMPDIRECTORY: s.dir, AGENT_TOOLSDIRECTORY: path.join(s.dir, 'tools'), SYSTEM_DEBUG: 'false' };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return env;
}

async function release(s: ReturnType<typeof setup>, extra: Record<string, string> = {}): Promise<number> {
  const inputs = { command: 'run', sitesFile: s.sitesFile, release: 'ratings', chart: CHART, helmPath: s.helm.bin, kubectlPath: s.kubectl, timeoutSeconds: '600', wait: 'true', maxLoadBalancers: '5', ...extra };
  const r = await run(process.execPath, [TASK], taskEnv(s, inputs));
  if (r.code !== 0) throw new Error(`release failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  return r.ms;
}

/** The task's start-up: node loading the bundle and parsing every input (a run that stops at its first cluster-free check). */
async function taskStartMs(s: ReturnType<typeof setup>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) xs.push((await run(process.execPath, [TASK], taskEnv(s, { command: 'run', sitesFile: s.sitesFile, release: 'ratings', chart: CHART, helmPath: '/nonexistent/helm' }))).ms);
  return median(xs);
}

/** Replays every helm and kubectl call of the last release one after the other; the total wall time. */
async function replay(s: ReturnType<typeof setup>): Promise<number> {
  const kubeDir = path.join(s.dir, 'kube');
  const fixKube = (argv: string[]): string[] => argv.map((a, i) => (argv[i - 1] === '--kubeconfig' ? path.join(kubeDir, path.basename(a)) : a));
  let ms = 0;
  for (const c of s.helm.calls()) ms += (await run(s.helm.bin, fixKube(c.argv), s.env)).ms;
  const kubectlCalls = fs.existsSync(s.kubectlLog) ? fs.readFileSync(s.kubectlLog, 'utf8').split('\n').filter(Boolean).length : 0;
  for (let i = 0; i < kubectlCalls; i++) ms += (await run(s.kubectl, ['get', 'namespace', 'ratings', '--output', 'name'], s.env)).ms;
  return ms;
}

/** Milliseconds during which at least one helm or kubectl process of the last release was running. */
function childBusyMs(s: ReturnType<typeof setup>): { ms: number; calls: number; kubectlCalls: number } {
  const read = (f: string): [number, number][] =>
    fs.existsSync(f)
      ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').map((x) => Number(BigInt(x) / 1000n) / 1000) as [number, number])
      : [];
  const helm = read(path.join(s.helm.stateDir, 'wrapper-times.log'));
  const kube = read(s.kubectlLog);
  const all = [...helm, ...kube].sort((a, b) => a[0] - b[0]);
  let ms = 0;
  let cur: [number, number] | undefined;
  for (const iv of all) {
    if (cur && iv[0] <= cur[1]) cur[1] = Math.max(cur[1], iv[1]);
    else {
      if (cur) ms += cur[1] - cur[0];
      cur = [...iv];
    }
  }
  if (cur) ms += cur[1] - cur[0];
  return { ms, calls: helm.length, kubectlCalls: kube.length };
}

function reset(s: ReturnType<typeof setup>): void {
  fs.rmSync(s.helm.stateDir, { recursive: true, force: true });
  fs.mkdirSync(s.helm.stateDir, { recursive: true });
  fs.rmSync(s.kubectlLog, { force: true });
}



export const benches: Bench[] = [
  {
    name: `helm release: per-site overhead of the task over its helm/kubectl calls (double and kubectl stub sleeping ${CALL_MS} ms per call; median of 3)`,
    columns: ['sites', 'helm calls', 'kubectl calls', 'task ms', 'calls replayed ms', 'task start-up ms', 'overhead ms/site', 'without start-up ms/site', 'goal ≤150'],
    async run() {
      if (!fs.existsSync(TASK)) throw new Error(`${TASK} missing: run npm run build`);
      const rows: (string | number)[][] = [];
      for (const n of [1, 4]) {
        const s = setup(Array.from({ length: n }, (_, i) => `site${i + 1}`));
        const task: number[] = [];
        const raw: number[] = [];
        const start: number[] = [];
        let counts = { calls: 0, kubectlCalls: 0 };
        for (let i = 0; i < 3; i++) {
          reset(s);
          start.push(await taskStartMs(s));
          reset(s);
          task.push(await release(s));
          counts = childBusyMs(s);
          raw.push(await replay(s));
        }
        const over = (median(task) - median(raw)) / n;
        const net = (median(task) - median(raw) - median(start)) / n;
        rows.push([n, counts.calls, counts.kubectlCalls, median(task).toFixed(0), median(raw).toFixed(0), median(start).toFixed(0), over.toFixed(1), net.toFixed(1), net <= 150 ? 'met' : 'MISSED']);
        fs.rmSync(s.dir, { recursive: true, force: true });
      }
      return rows;
    },
  },
  {
    name: 'helm release: parallel wall time, 8 sites (double sleeping 500 ms per call, one site 1000 ms more) vs the slowest site alone (median of 3)',
    columns: ['sites', 'maxParallel', 'slowest alone ms', 'parallel ms', 'ratio', 'goal ≤1.1'],
    async run() {
      if (!fs.existsSync(TASK)) throw new Error(`${TASK} missing: run npm run build`);
      const sites = Array.from({ length: 8 }, (_, i) => `site${i + 1}`);
      const slow = { site8: 1000 };
      const all = setup(sites, slow, 500);
      const alone = setup(['site8'], slow, 500);
      const par: number[] = [];
      const one: number[] = [];
      for (let i = 0; i < 3; i++) {
        reset(all);
        par.push(await release(all, { strategy: 'parallel', maxParallel: '8' }));
        reset(alone);
        one.push(await release(alone));
      }
      const ratio = median(par) / median(one);
      fs.rmSync(all.dir, { recursive: true, force: true });
      fs.rmSync(alone.dir, { recursive: true, force: true });
      return [[8, 8, median(one).toFixed(0), median(par).toFixed(0), ratio.toFixed(2), ratio <= 1.1 ? 'met' : 'MISSED']];
    },
  },
];
