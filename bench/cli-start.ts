/**
 * The one-file CLI's start-up (issue 11, item 2): wall time from spawn to the first output line of `--help`, of every
 * group's `--help`, of a command's `--help` and of a real command of every group (a quick or failing input), against
 * `node -e "console.log(0)"` measured interleaved in the same run on the same Node. Goal: at most node + 150 ms, on
 * Node 20 and Node 24, with the V8 code cache warm, off and cold (first run, cache being written).
 *
 * Then the breakdown (CPU milliseconds, from the CLI's own STACKHUB_HA_TRACE_LOAD lines): Node's start plus reading and
 * compiling the file, and per embedded module its read+inflate, compile (cache hit or not) and top-level run.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { runtimes } from '../tests/helpers/harness';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js');
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 11);
const GOAL_MS = 150;

interface Started {
  ms: number;
  stderr: string;
}

/** Milliseconds from spawn to the first byte on stdout or stderr (and everything it wrote to stderr). */
function firstOutput(node: string, args: string[], env: NodeJS.ProcessEnv): Promise<Started> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(node, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let ms: number | undefined;
    let stderr = '';
    const hit = (): void => {
      ms ??= Number(process.hrtime.bigint() - t0) / 1e6;
    };
    child.stdout.on('data', hit);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      hit();
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', () => (ms === undefined ? reject(new Error(`${args.join(' ')} printed nothing`)) : resolve({ ms, stderr })));
  });
}

/** The commands measured, with the inputs they need (files under `dir`). */
function cases(dir: string): { name: string; args: string[] }[] {
  const kube = path.join(dir, 'kube.yaml');
  fs.writeFileSync(kube, 'apiVersion: v1\nkind: Config\nclusters: [{name: a, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: a, user: {token: t}}]\ncontexts: [{name: a, context: {cluster: a, user: a}}]\ncurrent-context: a\n', { mode: 0o600 });
  const sites = path.join(dir, 'sites.yaml');
  fs.writeFileSync(sites, `sites:\n  - name: a\n    cluster: {kubeconfig: {file: ${kube}}, context: a, namespace: ratings}\n`);
  const store = path.join(dir, 'store');
  fs.mkdirSync(store, { recursive: true });
  const chart = path.join(ROOT, 'tests', 'fixtures', 'charts', 'ratings');
  return [
    { name: '--help', args: ['--help'] },
    ...['tools', 'mongo', 'cluster', 'traffic', 'release'].map((g) => ({ name: `${g} --help`, args: [g, '--help'] })),
    { name: 'release run --help', args: ['release', 'run', '--help'] },
    { name: 'tools install (first log line)', args: ['tools', 'install', '--tools', 'helm@3.17.3', '--search-path', 'false', '--tool-paths', 'helm=/nonexistent'] },
    { name: 'mongo backup (missing input)', args: ['mongo', 'backup', '--site', 'a'] },
    { name: 'mongo list (empty store)', args: ['mongo', 'list', '--site', 'a', '--storage-path', store, '--storage-location', 'off-hub'] },
    { name: 'cluster versions (no binary)', args: ['cluster', 'versions', '--aks-engine-path', '/nonexistent'] },
    { name: 'traffic status (sites file, no provider)', args: ['traffic', 'status', '--sites-file', sites] },
    { name: 'release run (sites file, no helm)', args: ['release', 'run', '--sites-file', sites, '--release', 'ratings', '--chart', chart, '--helm-path', '/nonexistent/helm'] },
  ];
}

type Mode = 'warm' | 'off' | 'cold';

/** Environment of one run: its own temp dir (so its code cache), the cache off or wiped before a cold run. */
function envFor(mode: Mode, tmp: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  if (mode === 'cold') fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  return { PATH: process.env.PATH, HOME: os.homedir(), TMPDIR: tmp, ...(mode === 'off' ? { NODE_DISABLE_COMPILE_CACHE: '1' } : {}), ...extra };
}

export const benches: Bench[] = [
  {
    name: `CLI start-up: first output line vs node -e (median of ${RUNS}, interleaved; goal ≤ node + ${GOAL_MS} ms)`,
    columns: ['name', 'value', 'baseline', 'ratio', 'goal', 'met', 'over node ms'],
    async run() {
      if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-start-'));
      const rows: (string | number)[][] = [];
      try {
        const list = cases(dir);
        for (const rt of runtimes()) {
          for (const mode of ['warm', 'off', 'cold'] as Mode[]) {
            for (const c of list) {
              // cache modes only differ where a module is compiled
              if (mode !== 'warm' && c.args.includes('--help')) continue;
              const tmp = path.join(dir, `tmp-${rt.name}-${mode}`);
              if (mode === 'warm') await firstOutput(rt.path, [CLI, ...c.args], envFor(mode, tmp));
              const base: number[] = [];
              const cli: number[] = [];
              for (let i = 0; i < RUNS; i++) {
                base.push((await firstOutput(rt.path, ['-e', 'console.log(0)'], envFor('warm', tmp))).ms);
                cli.push((await firstOutput(rt.path, [CLI, ...c.args], envFor(mode, tmp))).ms);
              }
              const b = median(base);
              const v = median(cli);
              rows.push([`${rt.name} ${c.name}${mode === 'warm' ? '' : ` (code cache ${mode})`}`, `${v.toFixed(0)} ms`, `${b.toFixed(0)} ms`, (v / b).toFixed(2), `≤ node + ${GOAL_MS} ms`, v - b <= GOAL_MS ? 'met' : 'MISSED', (v - b).toFixed(0)]);
            }
          }
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return rows;
    },
  },
  {
    name: `CLI start-up breakdown: CPU ms per step (STACKHUB_HA_TRACE_LOAD; median of ${RUNS}; code cache warm / cold)`,
    columns: ['runtime', 'command', 'node -e cpu', 'cpu at entry', 'module', 'read+inflate', 'compile', 'cache', 'init'],
    async run() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-trace-'));
      const rows: (string | number)[][] = [];
      const num = (re: RegExp, s: string): number => Number(re.exec(s)?.[1] ?? NaN);
      try {
        const list = cases(dir).filter((c) => c.name === '--help' || c.name.includes('('));
        for (const rt of runtimes()) {
          for (const mode of ['warm', 'cold'] as Mode[]) {
            for (const c of list) {
              const tmp = path.join(dir, `tmp-${rt.name}`);
              if (mode === 'warm') await firstOutput(rt.path, [CLI, ...c.args], envFor(mode, tmp));
              const runs: string[] = [];
              const node: number[] = [];
              for (let i = 0; i < RUNS; i++) {
                node.push(Number((await firstOutput(rt.path, ['-e', 'const u=process.cpuUsage();console.error((u.user+u.system)/1000)'], envFor('warm', tmp))).stderr));
                runs.push((await firstOutput(rt.path, [CLI, ...c.args], envFor(mode, tmp, { STACKHUB_HA_TRACE_LOAD: '1' }))).stderr);
              }
              const entry = median(runs.map((s) => num(/start: ([\d.]+) ms/, s)));
              const mods = [...new Set(runs.flatMap((s) => [...s.matchAll(/load (\S+):/g)].map((m) => m[1])))];
              const first = [rt.name, `${c.name}${mode === 'cold' ? ' (cold cache)' : ''}`, median(node).toFixed(1), entry.toFixed(1)];
              if (!mods.length) rows.push([...first, '(none)', '', '', '', '']);
              for (const m of mods) {
                const line = (s: string): string => s.split('\n').find((l) => l.includes(`load ${m}:`)) ?? '';
                const ls = runs.map(line).filter(Boolean);
                const cache = ls[ls.length - 1].match(/code cache (\w+)/)?.[1] ?? '';
                rows.push([
                  ...(m === mods[0] ? first : ['', '', '', '']),
                  m,
                  median(ls.map((l) => num(/read\+inflate ([\d.]+)/, l))).toFixed(1),
                  median(ls.map((l) => num(/compile ([\d.]+)/, l))).toFixed(1),
                  cache,
                  median(ls.map((l) => num(/init ([\d.]+)/, l))).toFixed(1),
                ]);
              }
            }
          }
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return rows;
    },
  },
];
