/**
 * `reboot`: coordinated node reboots after unattended upgrades, one site at a time. Per site: install/refresh the
 * reboot helper (helper.ts), wait until every node reports for its current boot, take the nodes whose
 * `reboot.stackhub-ha.io/required` is `true` — control plane nodes one by one first (etcd quorum), then workers
 * `maxNodesAtOnce` at a time — and for each batch: cordon, drain through the Eviction API (PodDisruptionBudgets
 * honoured: 429 is retried with backoff until the drain timeout), request the reboot, wait until each node is Ready
 * with a new boot id, uncordon. When a batch would leave the site with fewer than `minWorkers` schedulable workers,
 * the site is drained from the GSLB through the traffic controller first and restored after its last node.
 *
 * Window: outside `rebootWindow` nothing is done (the summary says when it opens); no new batch starts once it has
 * closed. Faults: a drain that times out uncordons the batch, restores the site's traffic and stops; a node that does
 * not come back Ready stops everything and leaves the node cordoned and the site drained: NEEDS AN OPERATOR.
 */
import type { RunContext } from '../../platform/capability';
import { PreconditionError, StackHubError, oneLine } from '../../shared/errors';
import type { TrafficClock } from '../../traffic/clock';
import type { TrafficController } from '../../traffic/api';
import { ANNOTATION, helperManifests } from './helper';
import type { NodeState, RebootKube } from './kube';
import { describeTime, inWindow, nextOpening, windowEnd, type RebootWindow } from './window';

/** One site to act on. */
export interface RebootSite {
  name: string;
  /** Whether the GSLB knows this site (has a traffic block), so it can be drained. */
  inTraffic: boolean;
}

/** Settings of a rollout. */
export interface RebootOptions {
  sites: RebootSite[];
  window?: RebootWindow;
  maxNodesAtOnce: number;
  minWorkers: number;
  helper: { image: string; namespace: string; intervalSeconds: number; imagePullSecret?: string };
  drainTimeoutMs: number;
  readyTimeoutMs: number;
  reportTimeoutMs: number;
  /** Evict pods no controller manages (they are not recreated). */
  force: boolean;
}

/** What the rollout needs from outside. */
export interface RebootDeps {
  kubeFor(site: string): Promise<RebootKube>;
  traffic?: TrafficController;
  clock: TrafficClock;
  /** Wait between polls of the API server. */
  pollMs: number;
}

/** The result (also the outputs). */
export interface RebootResult {
  status: 'done' | 'nothing-to-do' | 'outside-window' | 'window-closed';
  rebooted: string[];
  pending: string[];
  /** When the window opens next (outside-window / window-closed). */
  nextWindow?: string;
}

/** Thrown when a node did not come back: carries what the operator must know. */
export class NeedsOperatorError extends StackHubError {}

const EVICT_BACKOFF_MS = [2_000, 4_000, 8_000, 15_000, 30_000];

/** Runs the rollout over the sites in order. */
export async function rebootRollout(o: RebootOptions, deps: RebootDeps, ctx: RunContext): Promise<RebootResult> {
  const { clock } = deps;
  const rows: string[][] = [];
  const result: RebootResult = { status: 'nothing-to-do', rebooted: [], pending: [] };
  const report = (): void => {
    if (rows.length) ctx.summary.heading('Node reboots', 4).table(['site', 'node', 'result'], rows);
  };
  if (o.window && !inWindow(o.window, clock.now())) {
    const next = describeTime(nextOpening(o.window, clock.now()), o.window.zone);
    ctx.summary.text(`Outside the reboot window \`${o.window.text}\`: nothing done. The window opens next at ${next}.`);
    ctx.log.info(`outside the reboot window ${o.window.text}: nothing to do; it opens next at ${next}`);
    return { ...result, status: 'outside-window', nextWindow: next };
  }
  if (o.window) ctx.log.info(`inside the reboot window ${o.window.text} until ${describeTime(windowEnd(o.window, clock.now()), o.window.zone)}`);
  try {
    for (let i = 0; i < o.sites.length; i++) {
      const site = o.sites[i];
      const closed = await rebootSite(site, o, deps, ctx, rows, result);
      if (closed) {
        for (const later of o.sites.slice(i + 1)) result.pending.push(`${later.name}/*`);
        result.status = 'window-closed';
        result.nextWindow = describeTime(nextOpening(o.window!, clock.now()), o.window!.zone);
        ctx.summary.text(`The reboot window \`${o.window!.text}\` closed: no new node was started. Pending: ${result.pending.join(', ')}. The window opens next at ${result.nextWindow}.`);
        break;
      }
    }
    if (result.status !== 'window-closed') result.status = result.rebooted.length ? 'done' : 'nothing-to-do';
    return result;
  } catch (e) {
    if (e instanceof StackHubError) e.outputs = { ...(e.outputs ?? {}), rebootStatus: 'failed', rebootedNodes: result.rebooted.join(',') };
    throw e;
  } finally {
    report();
  }
}

/** Reboots what one site needs; true when the window closed before the site was done. */
async function rebootSite(site: RebootSite, o: RebootOptions, deps: RebootDeps, ctx: RunContext, rows: string[][], result: RebootResult): Promise<boolean> {
  const { clock } = deps;
  const kube = await deps.kubeFor(site.name);
  ctx.log.progress(undefined, `site ${site.name}: installing the reboot helper (${o.helper.image}) in ${o.helper.namespace}`);
  const applied = await kube.applyHelper(helperManifests(o.helper));
  ctx.log.info(`site ${site.name}: reboot helper ${applied.join(', ')}`);
  const nodes = await waitForReports(site, kube, o, deps);
  const needs = nodes.filter((n) => n.annotations[ANNOTATION.required] === 'true');
  if (needs.length === 0) {
    rows.push([site.name, '—', 'no node needs a reboot']);
    ctx.log.info(`site ${site.name}: no node needs a reboot`);
    return false;
  }
  const masters = needs.filter((n) => n.controlPlane);
  const workers = needs.filter((n) => !n.controlPlane);
  const batches: NodeState[][] = [...masters.map((m) => [m])];
  for (let i = 0; i < workers.length; i += o.maxNodesAtOnce) batches.push(workers.slice(i, i + o.maxNodesAtOnce));
  ctx.log.info(`site ${site.name}: ${needs.length} nodes need a reboot (${needs.map((n) => `${n.name}${n.annotations[ANNOTATION.packages] ? ` [${n.annotations[ANNOTATION.packages].trim()}]` : ''}`).join(', ')})`);

  // would a worker batch leave the site below minWorkers? then the GSLB must stop sending users here first
  const schedulable = nodes.filter((n) => !n.controlPlane && n.ready && !n.unschedulable).length;
  const largest = Math.max(0, ...batches.filter((b) => !b[0].controlPlane).map((b) => b.length));
  const needsDrain = largest > 0 && schedulable - largest < o.minWorkers;
  let drained = false;
  if (needsDrain) {
    const why = `site ${site.name} has ${schedulable} schedulable workers; rebooting ${largest} at once would leave ${schedulable - largest}, below minWorkers ${o.minWorkers}`;
    if (!deps.traffic) throw new PreconditionError(`${why}: set trafficProvider so the site is drained from the GSLB first, or lower minWorkers / maxNodesAtOnce`);
    if (!site.inTraffic) throw new PreconditionError(`${why}, and the sites file gives it no traffic block to drain it from the GSLB`);
    ctx.log.progress(undefined, `${why}: draining it from the GSLB first`);
    await deps.traffic.drain(site.name);
    drained = true;
    rows.push([site.name, '—', 'drained from the GSLB']);
  }
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b];
    if (o.window && !inWindow(o.window, clock.now())) {
      for (const rest of batches.slice(b).flat()) {
        result.pending.push(`${site.name}/${rest.name}`);
        rows.push([site.name, rest.name, 'pending: the window closed']);
      }
      if (drained) await restore(site, deps, rows, ctx);
      return true;
    }
    await rebootBatch(site, batch, kube, o, deps, ctx, rows, drained);
    for (const n of batch) result.rebooted.push(`${site.name}/${n.name}`);
  }
  if (drained) await restore(site, deps, rows, ctx);
  return false;
}

async function restore(site: RebootSite, deps: RebootDeps, rows: string[][], ctx: RunContext): Promise<void> {
  ctx.log.progress(undefined, `site ${site.name}: restoring it in the GSLB`);
  await deps.traffic!.restore(site.name);
  rows.push([site.name, '—', 'restored in the GSLB']);
}

/** Every node's helper has reported for the node's current boot; the nodes as they are then. */
async function waitForReports(site: RebootSite, kube: RebootKube, o: RebootOptions, deps: RebootDeps): Promise<NodeState[]> {
  const deadline = deps.clock.now() + o.reportTimeoutMs;
  for (;;) {
    const nodes = await kube.listNodes();
    const silent = nodes.filter((n) => !n.annotations[ANNOTATION.checked] || n.annotations[ANNOTATION.bootId] !== n.bootId);
    if (silent.length === 0) return nodes;
    if (deps.clock.now() >= deadline) {
      throw new PreconditionError(
        `site ${site.name}: the reboot helper did not report for nodes ${silent.map((n) => n.name).join(', ')} within ${Math.round(o.reportTimeoutMs / 1000)} s (is image ${o.helper.image} pullable from the internal registry? kubectl -n ${o.helper.namespace} get pods -l app.kubernetes.io/name=stackhub-ha-reboot-helper)`,
      );
    }
    await deps.clock.sleep(deps.pollMs);
  }
}

async function rebootBatch(site: RebootSite, batch: NodeState[], kube: RebootKube, o: RebootOptions, deps: RebootDeps, ctx: RunContext, rows: string[][], drained: boolean): Promise<void> {
  const { clock } = deps;
  const names = batch.map((n) => n.name).join(', ');
  for (const n of batch) await kube.patchNode(n.name, { unschedulable: true });
  ctx.log.progress(undefined, `site ${site.name}: cordoned ${names}; draining`);
  try {
    for (const n of batch) await drainNode(n.name, kube, o, deps, ctx);
  } catch (e) {
    // not rebooted: the nodes serve again, the site too; the rollout stops
    for (const n of batch) await kube.patchNode(n.name, { unschedulable: false });
    for (const n of batch) rows.push([site.name, n.name, `drain failed, uncordoned: ${oneLine(e)}`]);
    if (drained) await restore(site, deps, rows, ctx);
    throw e;
  }
  for (const n of batch) {
    await kube.patchNode(n.name, { annotations: { [ANNOTATION.request]: n.bootId } });
    ctx.log.info(`site ${site.name}: reboot of ${n.name} requested (boot ${n.bootId})`);
  }
  const deadline = clock.now() + o.readyTimeoutMs;
  const waiting = new Map(batch.map((n) => [n.name, n.bootId]));
  while (waiting.size) {
    for (const [name, oldBoot] of [...waiting]) {
      const cur = await kube.getNode(name);
      if (cur.ready && cur.bootId && cur.bootId !== oldBoot) {
        await kube.patchNode(name, { unschedulable: false, annotations: { [ANNOTATION.request]: null } });
        rows.push([site.name, name, `rebooted (boot ${oldBoot.slice(0, 8)} → ${cur.bootId.slice(0, 8)}), Ready, uncordoned`]);
        ctx.log.info(`site ${site.name}: ${name} is back (new boot ${cur.bootId}), Ready; uncordoned`);
        waiting.delete(name);
      }
    }
    if (!waiting.size) break;
    if (clock.now() >= deadline) {
      const stuck = [...waiting.keys()];
      for (const s of stuck) rows.push([site.name, s, 'NOT back Ready: cordoned, NEEDS AN OPERATOR']);
      const traffic = drained ? `site ${site.name} stays drained from the GSLB` : `site ${site.name} was not drained from the GSLB (it kept enough workers)`;
      throw new NeedsOperatorError(
        `NEEDS AN OPERATOR: node${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} of site ${site.name} did not come back Ready with a new boot id within ${Math.round(o.readyTimeoutMs / 60000)} min after the reboot request; the rollout stopped, the node stays cordoned and ${traffic}. Check the VM on the Hub, then uncordon it (kubectl uncordon ${stuck.join(' ')})${drained ? `, restore the site (stackhub-ha traffic restore --site ${site.name})` : ''} and run reboot again`,
      );
    }
    await clock.sleep(deps.pollMs);
  }
}

/**
 * Evicts every pod on the node that a drain must move (not DaemonSet pods, mirror pods or finished pods), retrying
 * evictions a PodDisruptionBudget blocks (429) with backoff, then waits until they are gone — all within the drain
 * timeout. Bare pods (no controller) are refused unless `force`, as `kubectl drain` does.
 */
export async function drainNode(node: string, kube: RebootKube, o: Pick<RebootOptions, 'drainTimeoutMs' | 'force'>, deps: Pick<RebootDeps, 'clock' | 'pollMs'>, ctx: RunContext): Promise<void> {
  const { clock } = deps;
  const deadline = clock.now() + o.drainTimeoutMs;
  const pods = (await kube.podsOnNode(node)).filter((p) => !p.mirror && !p.owners.includes('DaemonSet') && p.phase !== 'Succeeded' && p.phase !== 'Failed');
  const bare = pods.filter((p) => p.owners.length === 0);
  if (bare.length && !o.force) {
    throw new PreconditionError(`node ${node} runs pods no controller manages (${bare.map((p) => `${p.namespace}/${p.name}`).join(', ')}): they would be deleted for good; move them or set force: true`);
  }
  const evicted: typeof pods = [];
  for (const p of pods) {
    for (let attempt = 0; ; attempt++) {
      const r = await kube.evict(p.namespace, p.name);
      if (r.kind !== 'blocked') {
        evicted.push(p);
        break;
      }
      if (clock.now() >= deadline) {
        throw new StackHubError(`drain of ${node} timed out after ${Math.round(o.drainTimeoutMs / 60000)} min: evicting ${p.namespace}/${p.name} is still refused by its PodDisruptionBudget (${r.message})`);
      }
      const wait = EVICT_BACKOFF_MS[Math.min(attempt, EVICT_BACKOFF_MS.length - 1)];
      ctx.log.info(`evicting ${p.namespace}/${p.name} from ${node}: ${r.message} — retrying in ${wait / 1000} s`);
      await clock.sleep(wait);
    }
  }
  for (const p of evicted) {
    while (await kube.podExists(p.namespace, p.name, p.uid)) {
      if (clock.now() >= deadline) throw new StackHubError(`drain of ${node} timed out after ${Math.round(o.drainTimeoutMs / 60000)} min: pod ${p.namespace}/${p.name} was evicted but is still terminating`);
      await clock.sleep(deps.pollMs);
    }
  }
  ctx.log.info(`drained ${node}: ${evicted.length} pods evicted`);
}
