/**
 * Parallel release overhead (issue 11, item 3): one orchestrated `stackhub-ha release run` (the one-file CLI, strategy
 * parallel, maxParallel N) over N sites against the slowest of them released alone, same run; goal ≤ 1.05× for
 * N = 2, 8, 32. Also the curve for 2, 4, 8, 16, 32 sites: wall time, the Node process's CPU (user+sys, from a preload
 * that reads process.cpuUsage at exit), the CPU of the whole tree (with the doubles, GNU time) and the Node process's
 * peak RSS.
 *
 * How the doubles' own cost is kept out of the ratio — both ways the issue names, and the table shows each:
 * - helm and kubectl are shell doubles (bench/helm-sh-double.ts: dash plus one `sleep` process per call) that wait
 *   like a real call: UPGRADE_MS for `helm upgrade` (it stands for `--wait`, which takes seconds on a real cluster),
 *   CALL_MS for every other call (one API round trip), the slowest site SLOW_MS more per call. With calls that take
 *   no time the ratio would be about forking on two cores, which no release is made of.
 * - the doubles' cost at N sites is measured in the same run and subtracted: bench/release-replay.ts replays the
 *   calls the run made (from the doubles' log), each site's one after the other and the sites at once, through the
 *   same src/shared/exec.ts with HelmRunner's options and nothing else. `double N / 1` is that replay's wall time at
 *   N sites over the slowest site's alone: what N sites cost with no orchestration at all (spawning from one Node
 *   process, the doubles' shells and sleeps on the shared cores). The goal is judged on
 *   `ratio` = (run N − (replay N − replay 1)) / run 1: the run's growth beyond what the calls alone grow by, i.e. the
 *   orchestration's own per-site cost. `raw` is run N / run 1 without the subtraction.
 * Runs are interleaved (alone / N sites / both replays, the order alternating) and the median of RUNS is shown; the
 * machine is shared, so read the raw and double columns alongside.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bench, Figure } from '../scripts/bench';
import { median } from '../scripts/bench';
import { installShellDoubles, type ShellDoubles } from './helm-sh-double';
import { planFromCalls, type ReplayUsage } from './release-replay';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js');
const CHART = path.join(ROOT, 'tests', 'fixtures', 'charts', 'ratings');
const REPLAY = path.join(__dirname, 'release-replay.ts');
const CALL_MS = Number(process.env.BENCH_RELEASE_CALL_MS ?? 100);
const UPGRADE_MS = Number(process.env.BENCH_RELEASE_UPGRADE_MS ?? 2000);
const SLOW_MS = Number(process.env.BENCH_RELEASE_SLOW_MS ?? 200);
const RUNS = Number(process.env.BENCH_RELEASE_RUNS ?? 3);
const GOAL = 1.05;
const GOAL_AT = [2, 8, 32];

interface Usage {
  wallMs: number;
  cpuMs: number;
  treeCpuMs: number;
  rssMb: number;
}

/** A sites file, kubeconfigs and doubles for one set of sites. */
export interface World {
  dir: string;
  sites: string[];
  doubles: ShellDoubles;
  sitesFile: string;
  preload: string;
  env: NodeJS.ProcessEnv;
}

/** Writes the world of `sites`, `slow` being the slowest. */
export function world(sites: string[], slow: string): World {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-release-parallel-'));
  const doubles = installShellDoubles({
    dir: path.join(dir, 'bin'),
    chart: { name: 'ratings', version: '1.2.0', appVersion: '2.4.1' },
    times: { callMs: CALL_MS, upgradeMs: UPGRADE_MS, siteExtraMs: { [slow]: SLOW_MS } },
  });
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
  const env = { PATH: process.env.PATH, HOME: os.homedir(), TMPDIR: dir, BENCH_USAGE_FILE: path.join(dir, 'usage.json') };
  return { dir, sites, doubles, sitesFile, preload, env };
}

/** Runs `argv` under GNU time; resolves with its wall time and the tree's user+sys CPU. */
function timed(w: World, argv: string[], what: string): Promise<{ wallMs: number; treeCpuMs: number }> {
  const timeFile = path.join(w.dir, 'time.txt');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...argv], { env: w.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`${what} failed: ${err.split('\n').slice(-4).join(' ')}`));
      const [user, sys] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
      resolve({ wallMs, treeCpuMs: (user + sys) * 1000 });
    });
  });
}

/** One `release run` of every site of `w` (maxParallel = all), timed from outside; a fresh record file each time. */
export async function release(w: World): Promise<Usage> {
  w.doubles.reset();
  const record = path.join(w.dir, `record-${Date.now()}.json`);
  const prof = process.env.BENCH_RELEASE_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_RELEASE_PROF] : [];
  const t = await timed(
    w,
    [process.execPath, ...prof, '-r', w.preload, CLI, 'release', 'run', '--sites-file', w.sitesFile, '--release', 'ratings', '--chart', CHART,
      '--helm-path', w.doubles.helm, '--kubectl-path', w.doubles.kubectl, '--strategy', 'parallel', '--max-parallel', String(w.sites.length),
      '--record-path', record, '--max-load-balancers', '5'],
    `release run of ${w.sites.length} sites`,
  );
  const u = JSON.parse(fs.readFileSync(String(w.env.BENCH_USAGE_FILE), 'utf8')) as { cpuMs: number; rssMb: number };
  return { ...t, cpuMs: u.cpuMs, rssMb: u.rssMb };
}

/** Replays the calls of the last `release run` of `w` with no orchestration (bench/release-replay.ts). */
async function replayLast(w: World): Promise<ReplayUsage & { spawnsPerSite: number }> {
  const plan = planFromCalls(w.doubles.calls(), w.sites, { helm: w.doubles.helm, kubectl: w.doubles.kubectl, env: { NO_COLOR: '1' } });
  const planFile = path.join(w.dir, 'plan.json');
  const out = path.join(w.dir, 'replay.json');
  fs.writeFileSync(planFile, JSON.stringify(plan));
  w.doubles.reset();
  await timed(w, [process.execPath, '--require', require.resolve('tsx/cjs'), REPLAY, planFile, out], `replay of ${w.sites.length} sites`);
  const u = JSON.parse(fs.readFileSync(out, 'utf8')) as ReplayUsage;
  const spawns = Object.values(plan.sites).map((c) => c.length);
  return { ...u, spawnsPerSite: Math.max(...spawns) };
}

interface Point {
  n: number;
  run: Usage;
  alone: Usage;
  replayN: number;
  replay1: number;
  replayCpuMs: number;
  spawnsPerSite: number;
}

/** Measures N sites against the slowest alone, RUNS times interleaved; medians. */
async function measure(n: number): Promise<Point> {
  const sites = Array.from({ length: n }, (_, i) => `site${i + 1}`);
  const slow = sites[sites.length - 1];
  const all = world(sites, slow);
  const alone = world([slow], slow);
  const par: Usage[] = [];
  const one: Usage[] = [];
  const rN: number[] = [];
  const r1: number[] = [];
  const rCpu: number[] = [];
  let spawnsPerSite = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      if (i % 2 === 0) {
        one.push(await release(alone));
        par.push(await release(all));
      } else {
        par.push(await release(all));
        one.push(await release(alone));
      }
      const a = await replayLast(all);
      rN.push(a.wallMs);
      rCpu.push(a.cpuMs);
      spawnsPerSite = a.spawnsPerSite;
      r1.push((await replayLast(alone)).wallMs);
    }
  } finally {
    fs.rmSync(all.dir, { recursive: true, force: true });
    fs.rmSync(alone.dir, { recursive: true, force: true });
  }
  const m = (xs: Usage[]): Usage => ({ wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)), treeCpuMs: median(xs.map((x) => x.treeCpuMs)), rssMb: median(xs.map((x) => x.rssMb)) });
  return { n, run: m(par), alone: m(one), replayN: median(rN), replay1: median(r1), replayCpuMs: median(rCpu), spawnsPerSite };
}

/** The run's wall time with the doubles' growth from 1 to N sites taken out. */
const adjusted = (p: Point): number => p.run.wallMs - (p.replayN - p.replay1);

const NAME = `helm release: N sites in parallel vs the slowest site alone (CLI release run; sh doubles: upgrade ${UPGRADE_MS} ms, other calls ${CALL_MS} ms, slowest site +${SLOW_MS} ms per call; doubles' own cost measured by replay and subtracted; median of ${RUNS}; goal ≤ ${GOAL}× at N = ${GOAL_AT.join(', ')})`;
const COLUMNS = ['sites', 'value', 'baseline', 'ratio', 'goal', 'met', 'raw', 'double N / 1', 'wall ms', 'cpu ms (node)', 'cpu ms (tree)', 'peak RSS MB', 'alone: wall / cpu ms / RSS MB', 'spawns per site', 'replay cpu ms (node)'];

export const benches: Bench[] = [
  {
    name: NAME,
    columns: COLUMNS,
    async run() {
      if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
      const rows: (string | number)[][] = [];
      for (const n of (process.env.BENCH_RELEASE_SITES ?? '2,4,8,16,32').split(',').map(Number)) {
        const p = await measure(n);
        const ratio = adjusted(p) / p.alone.wallMs;
        const goal = GOAL_AT.includes(n);
        rows.push([
          n,
          `${adjusted(p).toFixed(0)} ms`,
          `${p.alone.wallMs.toFixed(0)} ms`,
          ratio.toFixed(3),
          goal ? `≤ ${GOAL}` : '(curve)',
          goal ? (ratio <= GOAL ? 'met' : 'MISSED') : '',
          (p.run.wallMs / p.alone.wallMs).toFixed(3),
          `${(p.replayN / p.replay1).toFixed(3)} (${p.replayN.toFixed(0)} / ${p.replay1.toFixed(0)} ms)`,
          p.run.wallMs.toFixed(0),
          p.run.cpuMs.toFixed(0),
          p.run.treeCpuMs.toFixed(0),
          p.run.rssMb.toFixed(0),
          `${p.alone.wallMs.toFixed(0)} / ${p.alone.cpuMs.toFixed(0)} / ${p.alone.rssMb.toFixed(0)}`,
          p.spawnsPerSite,
          p.replayCpuMs.toFixed(0),
        ]);
      }
      return rows;
    },
    figures(row) {
      const n = Number(row[0]);
      const num = (c: string | number): number => Number.parseFloat(String(c));
      const [wall, cpu, rss] = [num(row[8]), num(row[9]), num(row[11])];
      const [aloneWall, aloneCpu, aloneRss] = String(row[12]).split(' / ').map(Number);
      const [, replayN, replay1] = (/\((\d+) \/ (\d+) ms\)/.exec(String(row[7])) ?? []).map(Number);
      const goal = GOAL_AT.includes(n);
      const ratio = num(row[3]);
      const out: Figure[] = [
        {
          name: `${NAME} — ${n} sites: wall less the doubles' growth vs the slowest site alone`,
          value: num(row[1]),
          baseline: num(row[2]),
          ratio,
          goal: goal ? `≤${GOAL}` : null,
          met: goal ? ratio <= GOAL : null,
        },
        { name: `${NAME} — ${n} sites: raw wall vs the slowest site alone`, value: wall, baseline: aloneWall, ratio: wall / aloneWall, goal: null, met: null },
        { name: `${NAME} — ${n} sites: doubles alone (replay of the run's calls) N vs 1`, value: replayN, baseline: replay1, ratio: replayN / replay1, goal: null, met: null },
        { name: `${NAME} — ${n} sites: CPU ms (node, user+sys) vs the slowest site alone`, value: cpu, baseline: aloneCpu, ratio: cpu / aloneCpu, goal: null, met: null },
        { name: `${NAME} — ${n} sites: peak RSS MB (node) vs the slowest site alone`, value: rss, baseline: aloneRss, ratio: rss / aloneRss, goal: null, met: null },
      ];
      return out;
    },
  },
];
