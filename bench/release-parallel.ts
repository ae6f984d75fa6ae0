/**
 * Parallel release overhead (issue 11, item 3): one orchestrated `stackhub-ha release run` (the one-file CLI, strategy
 * parallel, maxParallel N) over N sites against the slowest of them released alone, same run; goal ≤ 1.05× for
 * N = 2, 8, 32. helm is a shell double (bench/helm-sh-double.ts, about a millisecond of its own per call, shown) that
 * sleeps CALL_MS per call, the slowest site SLOW_MS more; kubectl a shell stub sleeping CALL_MS. Also the curve of the
 * run's wall time, its own CPU (the Node process, from a preload that reads process.cpuUsage at exit), the CPU of the
 * whole tree (with the doubles, GNU time) and the Node process's peak RSS, for 2 to 32 sites.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { installShellHelm, type ShellHelm } from './helm-sh-double';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js');
const CHART = path.join(ROOT, 'tests', 'fixtures', 'charts', 'ratings');
const CALL_MS = Number(process.env.BENCH_RELEASE_CALL_MS ?? 100);
const SLOW_MS = Number(process.env.BENCH_RELEASE_SLOW_MS ?? 200);
const RUNS = Number(process.env.BENCH_RELEASE_RUNS ?? 3);
const GOAL = 1.05;

interface Usage {
  wallMs: number;
  cpuMs: number;
  treeCpuMs: number;
  rssMb: number;
}

interface World {
  dir: string;
  helm: ShellHelm;
  sitesFile: string;
  kubectl: string;
  preload: string;
}

function world(sites: string[], slow: string): World {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-release-parallel-'));
  const helm = installShellHelm({ dir: path.join(dir, 'helm'), chart: { name: 'ratings', version: '1.2.0', appVersion: '2.4.1' }, sleepMs: CALL_MS, sleepSites: { [slow]: SLOW_MS } });
  const kubectl = path.join(dir, 'kubectl');
  fs.writeFileSync(kubectl, `#!/bin/sh\nsleep ${CALL_MS / 1000}\ncase "$2" in\n  namespace) echo namespace/ratings ;;\n  services) echo '{"kind":"List","apiVersion":"v1","items":[]}' ;;\nesac\n`, { mode: 0o755 });
  const kube = path.join(dir, 'kube');
  fs.mkdirSync(kube);
  const lines = ['sites:'];
  for (const s of sites) {
    fs.writeFileSync(
      path.join(kube, `${s}.yaml`),
      `apiVersion: v1\nkind: Config\nclusters: [{name: ${s}, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: ${s}, user: {token: bench-token}}]\ncontexts: [{name: ${s}, context: {cluster: ${s}, user: ${s}}}]\ncurrent-context: ${s}\n`,
      { mode: 0o600 },
    );
    lines.push(`  - name: ${s}`, `    cluster: {kubeconfig: {file: kube/${s}.yaml}, context: ${s}, namespace: ratings}`, '    set: {replicaCount: 2}');
  }
  const sitesFile = path.join(dir, 'sites.yaml');
  fs.writeFileSync(sitesFile, lines.join('\n') + '\n');
  const preload = path.join(dir, 'usage.js');
  fs.writeFileSync(
    preload,
    "process.on('exit',()=>{const u=process.cpuUsage();require('fs').writeFileSync(process.env.BENCH_USAGE_FILE,JSON.stringify({cpuMs:(u.user+u.system)/1000,rssMb:process.resourceUsage().maxRSS/1024}))});\n",
  );
  return { dir, helm, sitesFile, kubectl, preload };
}

/** One `release run`, timed from outside; the record goes to a fresh file each time. */
function release(w: World, n: number): Promise<Usage> {
  w.helm.reset();
  const usageFile = path.join(w.dir, 'usage.json');
  const timeFile = path.join(w.dir, 'time.txt');
  const record = path.join(w.dir, `record-${Date.now()}.json`);
  const args = ['-f', '%U %S', '-o', timeFile, process.execPath, ...(process.env.BENCH_RELEASE_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_RELEASE_PROF] : []), '-r', w.preload, CLI, 'release', 'run', '--sites-file', w.sitesFile, '--release', 'ratings', '--chart', CHART,
    '--helm-path', w.helm.bin, '--kubectl-path', w.kubectl, '--strategy', 'parallel', '--max-parallel', String(n), '--record-path', record, '--max-load-balancers', '5'];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn('/usr/bin/time', args, { env: { PATH: process.env.PATH, HOME: os.homedir(), TMPDIR: w.dir, BENCH_USAGE_FILE: usageFile }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`release run of ${n} sites failed: ${err.split('\n').slice(-4).join(' ')}`));
      const u = JSON.parse(fs.readFileSync(usageFile, 'utf8')) as { cpuMs: number; rssMb: number };
      const [user, sys] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
      resolve({ wallMs, cpuMs: u.cpuMs, treeCpuMs: (user + sys) * 1000, rssMb: u.rssMb });
    });
  });
}

/** Milliseconds each double call took beyond its sleep (its own start-up and answer), median. */
function doubleOwnMs(w: World, slow: string): number {
  return median(w.helm.calls().map((c) => c.end - c.start - CALL_MS - (c.site === slow ? SLOW_MS : 0)));
}

export const benches: Bench[] = [
  {
    name: `helm release: N sites in parallel vs the slowest site alone (CLI release run; sh helm double ${CALL_MS} ms per call, slowest site +${SLOW_MS} ms; median of ${RUNS}; goal ≤ ${GOAL}×)`,
    columns: ['name', 'value', 'baseline', 'ratio', 'goal', 'met', 'cpu ms (node)', 'cpu ms (tree)', 'peak RSS MB', 'alone: cpu ms / RSS MB', 'double own ms/call'],
    async run() {
      if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
      const rows: (string | number)[][] = [];
      for (const n of (process.env.BENCH_RELEASE_SITES ?? '2,4,8,16,32').split(',').map(Number)) {
        const sites = Array.from({ length: n }, (_, i) => `site${i + 1}`);
        const slow = sites[sites.length - 1];
        const all = world(sites, slow);
        const alone = world([slow], slow);
        const par: Usage[] = [];
        const one: Usage[] = [];
        let own = 0;
        try {
          for (let i = 0; i < RUNS; i++) {
            one.push(await release(alone, 1));
            par.push(await release(all, n));
            own = doubleOwnMs(all, slow);
          }
        } finally {
          fs.rmSync(all.dir, { recursive: true, force: true });
          fs.rmSync(alone.dir, { recursive: true, force: true });
        }
        const m = (xs: Usage[], k: keyof Usage): number => median(xs.map((x) => x[k]));
        const ratio = m(par, 'wallMs') / m(one, 'wallMs');
        rows.push([
          `${n} sites parallel (maxParallel ${n})`,
          `${m(par, 'wallMs').toFixed(0)} ms`,
          `${m(one, 'wallMs').toFixed(0)} ms`,
          ratio.toFixed(3),
          [2, 8, 32].includes(n) ? `≤ ${GOAL}` : '(curve)',
          [2, 8, 32].includes(n) ? (ratio <= GOAL ? 'met' : 'MISSED') : '',
          m(par, 'cpuMs').toFixed(0),
          m(par, 'treeCpuMs').toFixed(0),
          m(par, 'rssMb').toFixed(0),
          `${m(one, 'cpuMs').toFixed(0)} / ${m(one, 'rssMb').toFixed(0)}`,
          own.toFixed(1),
        ]);
      }
      return rows;
    },
  },
];
