/**
 * `cluster reboot`: wires the parsed inputs to the rollout (rollout.ts) — client-node per site, the traffic
 * controller of src/traffic for GSLB drains — and maps the result to outputs. A failure carries the outputs known so far
 * (rebootStatus failed, the nodes already rebooted).
 */
import type { RunContext } from '../../platform/capability';
import { createTrafficController } from '../../traffic';
import { realClock, type TrafficClock } from '../../traffic/clock';
import type { RebootInputs } from './inputs';
import { clientNodeKube } from './kube';
import { rebootRollout } from './rollout';

/** Time and polling of the rollout: the real clock; tests put a manual clock here. */
export const rebootRuntime: { clock: TrafficClock; pollMs: number; reportTimeoutMs: number } = { clock: realClock, pollMs: 10_000, reportTimeoutMs: 5 * 60_000 };

/** The outputs of reboot. */
export interface RebootOutputs {
  rebootStatus?: string;
  rebootedNodes?: string;
  rebootPending?: string;
  nextRebootWindow?: string;
}

/** Runs the reboot rollout. */
export async function runReboot(r: RebootInputs, o: { drainTimeoutMinutes: number; force: boolean }, ctx: RunContext): Promise<RebootOutputs> {
  const access = new Map(r.targets.map((t) => [t.name, t]));
  const traffic = r.traffic ? createTrafficController(r.traffic, r.sites, ctx, { sitesInput: 'sitesFile', resolved: r.trafficSites }) : undefined;
  ctx.summary.text(
    `Sites in order: ${r.targets.map((t) => `\`${t.name}\``).join(', ')} · window ${r.window ? `\`${r.window.text}\`` : 'none (any time)'} · ${r.maxNodesAtOnce} worker(s) at once · minWorkers ${r.minWorkers}${traffic ? ` · GSLB drains through ${r.traffic!.provider}` : ''}`,
  );
  const res = await rebootRollout(
    {
      sites: r.targets.map((t) => ({ name: t.name, inTraffic: t.inTraffic })),
      window: r.window,
      maxNodesAtOnce: r.maxNodesAtOnce,
      minWorkers: r.minWorkers,
      helper: { image: r.helperImage, namespace: r.helperNamespace, intervalSeconds: 60, imagePullSecret: r.helperPullSecret },
      drainTimeoutMs: o.drainTimeoutMinutes * 60_000,
      readyTimeoutMs: r.readyTimeoutMs,
      reportTimeoutMs: rebootRuntime.reportTimeoutMs,
      force: o.force,
    },
    {
      kubeFor: async (site) => {
        const a = access.get(site)!;
        return clientNodeKube(a.kubeconfig, a.context);
      },
      traffic,
      clock: rebootRuntime.clock,
      pollMs: rebootRuntime.pollMs,
    },
    ctx,
  );
  return { rebootStatus: res.status, rebootedNodes: res.rebooted.join(','), rebootPending: res.pending.join(','), nextRebootWindow: res.nextWindow };
}
