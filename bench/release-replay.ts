/**
 * The doubles' own cost for the parallel-release bench: the calls an orchestrated `release run` made (as the doubles
 * logged them), replayed through the same src/shared/exec.ts with the same options as HelmRunner (argv array,
 * captured stdout, process group, timeout) and nothing else: no inputs, engine, record, log or report. Each site's
 * calls run one after the other, the sites all at once (helm version first, like the run). Run in its own Node
 * process (`node --require tsx/cjs bench/release-replay.ts <plan.json> <out.json>`) so its CPU and RSS are its own;
 * the time is measured from the first call to the last (the process's start-up is not the doubles' cost).
 */
import * as fs from 'node:fs';
import { exec } from '../src/shared/exec';
import type { DoubleCall } from './helm-sh-double';

/** What to replay. */
export interface ReplayPlan {
  helm: string;
  kubectl: string;
  env: Record<string, string>;
  /** calls before the sites start (helm version) */
  first: DoubleCall[];
  /** each site's calls in order */
  sites: Record<string, DoubleCall[]>;
}

/** The replay's wall time (first call to last), CPU of this process and its peak RSS. */
export interface ReplayUsage {
  wallMs: number;
  cpuMs: number;
  rssMb: number;
}

/** Groups the doubles' log of one run into a plan: calls that name no site (lint, template) are shared out evenly. */
export function planFromCalls(calls: readonly DoubleCall[], sites: readonly string[], base: Omit<ReplayPlan, 'first' | 'sites'>): ReplayPlan {
  const first = calls.filter((c) => c.sub === 'version');
  const per: Record<string, DoubleCall[]> = Object.fromEntries(sites.map((s) => [s, calls.filter((c) => c.site === s)]));
  const loose = calls.filter((c) => c.site === '' && c.sub !== 'version');
  if (loose.length % sites.length !== 0) throw new Error(`bug: ${loose.length} calls without a site do not share out over ${sites.length} sites`);
  const each = loose.length / sites.length;
  sites.forEach((s, i) => per[s].splice(1, 0, ...loose.slice(i * each, (i + 1) * each)));
  return { ...base, first, sites: per };
}

function argv(c: DoubleCall): string[] {
  if (c.tool === 'kubectl') return ['get', c.sub, '--output', 'json', '--context', c.site];
  if (!c.site) return [c.sub];
  return [c.sub, 'ratings', '--kube-context', c.site, '--output', 'json', ...(c.sub === 'upgrade' ? ['--install'] : [])];
}

/** Runs the plan; resolves with its usage. */
export async function replay(plan: ReplayPlan): Promise<ReplayUsage> {
  const call = (c: DoubleCall): Promise<unknown> =>
    exec(c.tool === 'helm' ? plan.helm : plan.kubectl, argv(c), {
      env: plan.env,
      stdout: 'capture',
      quietStderr: true,
      timeoutMs: 600_000,
      label: c.tool,
      maxCaptureBytes: 64 * 1024 * 1024,
      okExitCodes: [0, 1],
    });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const c of plan.first) await call(c);
  await Promise.all(
    Object.values(plan.sites).map(async (calls) => {
      for (const c of calls) await call(c);
    }),
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, rssMb: process.resourceUsage().maxRSS / 1024 };
}

if (require.main === module) {
  const [planFile, outFile] = process.argv.slice(2);
  replay(JSON.parse(fs.readFileSync(planFile, 'utf8')) as ReplayPlan)
    .then((u) => fs.writeFileSync(outFile, JSON.stringify(u)))
    .catch((e: Error) => {
      console.error(`replay failed: ${e.message}`);
      process.exit(1);
    });
}
