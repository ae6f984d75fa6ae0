/**
 * The safety logic around every traffic operation, whatever the provider:
 *
 * 1. read the routing (one consistent snapshot: what `previousState` and `undo` hold);
 * 2. plan the change (src/traffic/plan.ts); nothing to do → no write;
 * 3. refuse a change that leaves no site serving;
 * 4. health gate: probe every site that gains users (HTTP(S), through the proxy/CA); a failed probe → no write;
 * 5. write with compare-and-swap (the provider re-reads and compares, or uses a prerequisite / ETag);
 * 6. confirm: poll the provider until the change shows and the gaining sites are healthy by its own monitor, within
 *    the provider's bound — else put the previous state back and fail;
 * 7. wait the DNS TTL (capped by an input), then resolve the public name through the sites' resolvers.
 *
 * Every error thrown after step 1 carries `previousState` (and the `previousState` output), so `undo` works even
 * when the run fails after the write.
 */
import type { RunContext } from '../platform/capability';
import { Summary } from '../platform/summary';
import { oneLine } from '../shared/errors';
import type { TrafficCheck, TrafficController, TrafficOperationResult, TrafficSiteState, TrafficState } from './api';
import type { TrafficClock } from './clock';
import { TrafficVerificationError, withTrafficInfo } from './errors';
import { DEFAULT_GATES, runGates, type GateCheck, type OperationKind } from './gates';
import type { ProbeNetwork, ProbeSettings } from './health';
import { byPriority, planDrain, primaryOf, planFailover, planRestore, planSwap, planWeights, sitesGainingTraffic } from './plan';
import type { HealthVerdict, ProviderSnapshot, TrafficProvider, TrafficSite } from './provider';
import { checkResolvers } from './resolvers';

/** What the controller needs besides the provider. */
export interface ControllerOptions {
  provider: TrafficProvider;
  /** The sites that take part in routing (sites-file order). */
  sites: readonly TrafficSite[];
  ctx: Pick<RunContext, 'log' | 'summary'>;
  clock: TrafficClock;
  probe: ProbeSettings & { skip: boolean };
  network: ProbeNetwork;
  /** Longest wait for the DNS TTL (undefined: the full TTL; 0: no wait). */
  maxDnsWaitSeconds?: number;
  /** Add a section per operation to ctx.summary (default true). */
  summary?: boolean;
  /** The health gate's checks, in order (default {@link DEFAULT_GATES}); add one here, not in operate(). */
  gates?: readonly GateCheck[];
  /** Input names used in messages (defaults: site, swapSites, weights, state). */
  inputNames?: { site?: string; swapSites?: string; weights?: string; state?: string };
}

/** A site state as one table cell. */
export function describeSite(s: TrafficSiteState | undefined, model: string): string {
  if (!s) return '—';
  const parts = [s.enabled ? 'enabled' : 'disabled'];
  if (model === 'priority' && s.priority !== undefined) parts.push(`priority ${s.priority}`);
  if (model === 'weighted' && s.weight !== undefined) parts.push(`weight ${s.weight}`);
  if (s.health && s.health !== 'unmonitored') parts.push(s.health);
  return parts.join(', ');
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** Builds the controller (see {@link TrafficController}). */
export function createController(opts: ControllerOptions): TrafficController {
  const { provider, ctx, clock } = opts;
  const log = ctx.log;
  const names = { site: 'site', swapSites: 'swapSites', weights: 'weights', state: 'state', ...opts.inputNames };
  const health = (s: TrafficSiteState): HealthVerdict => provider.health(s);

  const resolvers = [...new Set(opts.sites.flatMap((s) => s.resolvers))];

  function summarise(
    title: string,
    before: ProviderSnapshot | undefined,
    after: TrafficState | undefined,
    checks: readonly TrafficCheck[],
    outcome: string,
    notes: readonly string[] | undefined = before?.notes,
  ): void {
    if (opts.summary === false) return;
    const s = ctx.summary;
    s.heading(`Traffic: ${title}`);
    if (before) {
      const model = before.model;
      const rows = before.state.sites.map((b) => {
        const a = after?.sites.find((x) => x.site === b.site);
        return [b.site, b.endpoint, b.target ?? '', describeSite(b, model), after ? describeSite(a, model) : 'unknown'];
      });
      s.table(['Site', 'Endpoint', 'Target', 'Before', 'After'], rows);
    }
    for (const n of notes ?? []) s.text(Summary.cell(n));
    if (checks.length) s.table(['Check', 'Result', 'Detail'], checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail]));
    s.text(outcome);
  }

  /**
   * Whether the GSLB now sends users where the operation meant to (reading back the fields we wrote is not enough):
   * every gaining site is confirmed by the provider (Online) and
   * - priority: the highest-priority enabled endpoint that the GSLB does not report failed — counting endpoints
   *   that are not in the sites file — is the intended primary, and it is Online;
   * - weighted / multi / single: at least one site carrying users is confirmed (or the provider has no monitor).
   */
  function routesAsIntended(last: ProviderSnapshot, desired: TrafficState, gaining: readonly string[]): { ok: true; gaining: string; detail: string } | { ok: false; why: string } {
    const at = (name: string): TrafficSiteState | undefined => last.state.sites.find((s) => s.site === name);
    const serves = (s: TrafficSiteState): boolean => ['confirmed', 'unmonitored'].includes(health(s));
    const pending = gaining.map(at).filter((s): s is TrafficSiteState => !!s && !serves(s));
    if (pending.length) return { ok: false, why: pending.map((s) => `${s.site}: ${s.health ?? 'unknown'}`).join(', ') };
    const view = provider.healthView;
    const verdicts = gaining.map(at).filter((s): s is TrafficSiteState => !!s && health(s) === 'confirmed').map((s) => `${s.site}: ${s.health}`).join(', ');
    if (last.model === 'priority') {
      const intended = primaryOf('priority', desired.sites);
      const ordered = byPriority([...last.state.sites, ...(last.others ?? [])].filter((s) => s.enabled));
      for (const s of ordered) {
        const v = health(s);
        const name = s.site || `${s.endpoint} (not in the sites file)`;
        if (s.site && s.site === intended) {
          if (!serves(s)) return { ok: false, why: `${s.site}: ${s.health ?? 'unknown'}` };
          return { ok: true, gaining: verdicts, detail: view ? `users go to ${s.site}, the highest-priority enabled endpoint that is ${s.health}` : '' };
        }
        if (v === 'failed') continue;
        return { ok: false, why: `${name} (priority ${s.priority ?? '?'}, ${s.health ?? 'unknown'}) comes before ${intended ?? 'the intended site'} and ${v === 'pending' ? 'may still get' : 'gets'} the users` };
      }
      return { ok: false, why: `no enabled endpoint routes users to ${intended ?? 'the intended site'}` };
    }
    const carrying = desired.sites.filter((d) => d.enabled).map((d) => at(d.site)).filter((s): s is TrafficSiteState => !!s);
    const online = carrying.filter(serves);
    if (carrying.length && online.length === 0) return { ok: false, why: `no site carrying users is healthy by ${view ?? provider.name} (${carrying.map((s) => `${s.site}: ${s.health ?? 'unknown'}`).join(', ')})` };
    return { ok: true, gaining: verdicts, detail: view && online.length ? `users go to ${online.map((s) => `${s.site} (${s.health})`).join(', ')}` : '' };
  }

  /** Polls until the desired routing shows and every gaining site is confirmed healthy by the provider. */
  async function confirm(
    snap0: ProviderSnapshot,
    desired: TrafficState,
    gaining: readonly string[],
  ): Promise<{ ok: boolean; applied: boolean; last?: ProviderSnapshot; detail: string }> {
    const bound = provider.confirmationBoundMs(snap0);
    const interval = Math.max(1, provider.pollIntervalMs(snap0));
    const start = clock.now();
    const want = provider.routingKey(desired);
    let last: ProviderSnapshot | undefined;
    let why: string;
    for (let poll = 1; ; poll++) {
      try {
        last = await provider.read();
        if (provider.routingKey(last.state) !== want) why = `${provider.name} does not show the change yet`;
        else {
          const r = routesAsIntended(last, desired, gaining);
          if (r.ok) {
            return { ok: true, applied: true, last, detail: `${provider.name} shows the change${r.gaining ? `; ${r.gaining}` : ''} after ${seconds(clock.now() - start)} (${poll} read${poll > 1 ? 's' : ''}, bound ${seconds(bound)})${r.detail ? `; ${r.detail}` : ''}` };
          }
          why = r.why;
        }
      } catch (e) {
        why = `cannot read ${provider.name}: ${oneLine(e)}`;
      }
      const elapsed = clock.now() - start;
      if (elapsed >= bound) {
        const applied = last !== undefined && provider.routingKey(last.state) === want;
        return { ok: false, applied, last, detail: `not confirmed within ${seconds(bound)}: ${why}` };
      }
      log.progress(Math.min(99, (elapsed * 100) / bound), `waiting for ${provider.name} to confirm (${why}); ${seconds(elapsed)} of ${seconds(bound)}`);
      await clock.sleep(Math.min(interval, bound - elapsed));
    }
  }

  /** Waits the TTL (capped) with a heartbeat. Returns whether the full TTL was waited. */
  async function waitTtl(ttlSeconds: number, checks: TrafficCheck[]): Promise<boolean> {
    const cap = opts.maxDnsWaitSeconds;
    const wait = Math.max(0, Math.min(ttlSeconds, cap ?? ttlSeconds));
    const full = wait >= ttlSeconds;
    checks.push({
      name: 'DNS TTL wait',
      ok: true,
      detail: wait === 0 ? (ttlSeconds === 0 ? 'TTL is 0' : `skipped (TTL ${ttlSeconds} s; trafficMaxDnsWaitSeconds is 0)`) : `${wait} s${full ? '' : ` (capped; TTL ${ttlSeconds} s)`}`,
    });
    let left = wait * 1000;
    while (left > 0) {
      const step = Math.min(left, 30_000);
      log.progress(undefined, `waiting for resolver caches to expire: ${Math.ceil(left / 1000)} s left`);
      await clock.sleep(step);
      left -= step;
    }
    return full;
  }

  async function operate(kind: OperationKind, title: string, plan: (snap: ProviderSnapshot) => TrafficState): Promise<TrafficOperationResult> {
    log.info(`traffic ${title}: reading the routing from ${provider.name}`);
    const snap0 = await provider.read();
    const checks: TrafficCheck[] = [];
    const gateNotes: string[] = [];
    const notesOf = (snap: ProviderSnapshot): string[] => [...(snap.notes ?? []), ...gateNotes];
    let written = false;
    let reverted: boolean | undefined;
    let after: TrafficState | undefined = snap0.state;
    let latest: ProviderSnapshot = snap0;
    try {
      const desired = plan(snap0);
      // by intent: the sites the operation sends users to, whatever the GSLB says of them now (the gate checks that)
      const gaining = sitesGainingTraffic(snap0.model, snap0.state.sites, desired.sites);
      if (provider.routingKey(desired) === provider.routingKey(snap0.state)) {
        log.info(`traffic ${title}: the routing already is as asked; nothing to write`);
        summarise(title, snap0, snap0.state, checks, 'No change: the routing already was as asked.');
        return { operation: title, previousState: snap0.state, state: snap0.state, checks, noChange: true };
      }
      // the health gate: every check before any write (src/traffic/gates.ts)
      await runGates(opts.gates ?? DEFAULT_GATES, {
        title,
        kind,
        snapshot: snap0,
        desired,
        gaining,
        provider,
        sites: opts.sites,
        probe: opts.probe,
        network: opts.network,
        clock,
        log,
        checks,
        notes: gateNotes,
        gslb: new Map(),
        probed: new Map(),
      });

      log.info(`traffic ${title}: writing to ${provider.name}`);
      await provider.write(snap0, desired);
      written = true;
      const writtenAt = clock.now();
      checks.push({ name: 'write', ok: true, detail: `${provider.name} accepted the change (compare-and-swap against the state read first)` });

      const c = await confirm(snap0, desired, gaining);
      after = c.last?.state;
      if (c.last) latest = c.last;
      checks.push({ name: 'provider confirmation', ok: c.ok, detail: c.detail });
      if (!c.ok) {
        if (!c.applied && c.last && provider.routingKey(c.last.state) !== provider.routingKey(snap0.state)) {
          reverted = false;
          throw new TrafficVerificationError(`traffic ${title}: ${c.detail}; the routing now differs from both the previous and the requested state (changed by someone else?): not reverted — check it, and run undo with previousState if needed`);
        }
        log.warning(`traffic ${title}: ${c.detail}; putting the previous state back`);
        try {
          const now = c.last && c.applied ? c.last : await provider.read();
          if (provider.routingKey(now.state) !== provider.routingKey(snap0.state)) await provider.write(now, snap0.state);
          reverted = true;
          after = snap0.state;
          checks.push({ name: 'revert', ok: true, detail: 'the previous state was written back' });
        } catch (e) {
          reverted = false;
          checks.push({ name: 'revert', ok: false, detail: oneLine(e) });
          throw new TrafficVerificationError(
            `traffic ${title}: the change was written but ${c.detail}; reverting failed too (${oneLine(e)}): run undo with the previousState output`,
          );
        }
        throw new TrafficVerificationError(`traffic ${title}: ${c.detail}; the previous state was put back`);
      }

      if (snap0.dns) {
        const full = await waitTtl(snap0.dns.ttlSeconds, checks);
        const want = provider.expectedAnswers(c.last!, desired);
        if (resolvers.length === 0) checks.push({ name: 'DNS answers', ok: true, detail: 'not checked: no traffic.resolvers in the sites file' });
        else if (want) {
          log.info(`resolving ${snap0.dns.name} through ${resolvers.join(', ')}`);
          const dnsChecks = await checkResolvers(resolvers, snap0.dns, want, { strict: full });
          checks.push(...dnsChecks);
          const bad = dnsChecks.filter((x) => !x.ok);
          if (bad.length) {
            reverted = false;
            throw new TrafficVerificationError(
              `traffic ${title}: ${provider.name} confirmed the change, but after the TTL ${bad.map((b) => `${b.name} ${b.detail}`).join('; ')}: not reverted — check the resolvers (undo with previousState to go back)`,
            );
          }
        }
      }
      const verifiedAfterMs = clock.now() - writtenAt;
      checks.push({ name: 'verified', ok: true, detail: `${seconds(verifiedAfterMs)} from the write` });
      log.progress(100, `traffic ${title}: verified`);
      summarise(title, snap0, after, checks, `Verified ${seconds(verifiedAfterMs)} after the write.`, notesOf(latest));
      return { operation: title, previousState: snap0.state, state: after ?? desired, checks, verifiedAfterMs, noChange: false };
    } catch (e) {
      const note = written
        ? reverted
          ? 'The change was written, not confirmed, and put back.'
          : 'The change was written and may be in force: undo takes the previousState output.'
        : 'Nothing was changed.';
      summarise(title, snap0, written ? after : snap0.state, checks, `**Failed:** ${oneLine(e)} ${note}`, notesOf(latest));
      throw withTrafficInfo(e, { previousState: snap0.state, written, reverted });
    }
  }

  const withSites = (snap: ProviderSnapshot, sites: TrafficSiteState[]): TrafficState => provider.apply(snap.state, sites);

  return {
    provider: provider.name,
    async status() {
      const snap = await provider.read();
      if (opts.summary !== false) {
        ctx.summary.heading(`Traffic: status (${provider.name}, ${snap.state.routing})`);
        ctx.summary.table(
          ['Site', 'Endpoint', 'Target', 'Enabled', 'Priority', 'Weight', 'Health'],
          snap.state.sites.map((s) => [s.site, s.endpoint, s.target ?? '', s.enabled ? 'yes' : 'no', s.priority ?? '', s.weight ?? '', s.health ?? '']),
        );
        for (const n of snap.notes ?? []) ctx.summary.text(Summary.cell(n));
      }
      return snap.state;
    },
    drain: (site) => operate('drain', `drain ${site}`, (snap) => withSites(snap, planDrain(snap.model, snap.state.sites, site, names.site))),
    restore: (site) => operate('restore', `restore ${site}`, (snap) => withSites(snap, planRestore(snap.model, snap.state.sites, site, names.site))),
    failover: (site) => operate('failover', `failover to ${site}`, (snap) => withSites(snap, planFailover(snap.model, snap.state.sites, site, names.site))),
    weights: (w) =>
      operate('weights', `weights ${Object.entries(w).map(([k, v]) => `${k}=${v}`).join(',')}`, (snap) => withSites(snap, planWeights(snap.model, snap.state.sites, w, names.weights))),
    swap: (a, b) => operate('swap', `swap ${a} ${b}`, (snap) => withSites(snap, planSwap(snap.model, snap.state.sites, a, b, names.swapSites))),
    undo: async (state) => {
      provider.checkState(state, names.state);
      return operate('undo', `undo to the state of ${state.capturedAt}`, () => state);
    },
  };
}
