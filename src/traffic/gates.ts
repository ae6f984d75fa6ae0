/**
 * The health gate before any write, as a list of gate checks run in order by the controller
 * (src/traffic/controller.ts). Each check may add rows to the summary's check table and refuses the operation by
 * throwing a PreconditionError — before anything is written. To add a check (e.g. "the target site holds the
 * MongoDB primary"), write a {@link GateCheck} and add it to {@link DEFAULT_GATES} (or pass `gates` to the
 * controller); the rest of the controller does not change.
 *
 * The rules, whatever the provider:
 * - a site that gains users (sitesGainingTraffic, by intent: the site the operation sends users to, whatever its
 *   health) must be healthy by the GSLB's own view (Traffic Manager endpointMonitorStatus: Online; Degraded,
 *   Stopped, Inactive, Disabled refuse; CheckingEndpoint is re-read up to the provider's bound, then refuses)
 *   AND by its HTTP probe (traffic.probeUrl). No probe URL: the GSLB's view is the only gate (said in the summary);
 *   neither a probe URL nor a GSLB verdict (plain DNS; an endpoint the GSLB does not monitor while disabled):
 *   refused;
 * - priority routing: an enabled endpoint of better priority that the GSLB does not report failed (e.g. one that
 *   is not in the sites file) would keep the users: refused;
 * - drain: refused when every site that would still serve is unhealthy by the GSLB or by its probe;
 * - `skipHealthCheck: true` skips the health checks with a warning (never the last-serving-site refusal).
 */
import { PreconditionError } from '../shared/errors';
import type { RunContext } from '../platform/capability';
import type { TrafficCheck, TrafficSiteState, TrafficState } from './api';
import type { TrafficClock } from './clock';
import { probe, type ProbeNetwork, type ProbeSettings } from './health';
import { assertSomeSiteServes, byPriority, primaryOf } from './plan';
import type { HealthVerdict, ProviderSnapshot, TrafficProvider, TrafficSite } from './provider';

/** What kind of operation is gated (some checks apply to one kind only). */
export type OperationKind = 'drain' | 'restore' | 'failover' | 'weights' | 'swap' | 'undo';

/** What a gate check sees. Results of earlier checks (GSLB verdicts, probes) are shared through the maps. */
export interface GateContext {
  title: string;
  kind: OperationKind;
  /** The snapshot the plan was made from (what the write compares against). */
  snapshot: ProviderSnapshot;
  desired: TrafficState;
  /** Sites that gain users (by intent), in sites-file order. */
  gaining: readonly string[];
  provider: TrafficProvider;
  sites: readonly TrafficSite[];
  probe: ProbeSettings & { skip: boolean };
  network: ProbeNetwork;
  clock: TrafficClock;
  log: RunContext['log'];
  /** Rows for the summary's check table. */
  checks: TrafficCheck[];
  /** Lines for the summary (e.g. "the GSLB's view is the only gate"). */
  notes: string[];
  /** The GSLB's verdict per site, once read by a check (site → verdict and the status shown). */
  gslb: Map<string, { verdict: HealthVerdict; status: string }>;
  /** Probe result per site (probed at most once per operation). */
  probed: Map<string, TrafficCheck>;
}

/** One check of the gate: throws PreconditionError to refuse (nothing written yet). */
export interface GateCheck {
  name: string;
  run(g: GateContext): Promise<void>;
}

const NOTHING = 'nothing was changed';
const OVERRIDE = 'skipHealthCheck: true overrides the gate';
const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const label = (s: TrafficSiteState): string => (s.site ? `site ${s.site}` : `endpoint ${s.endpoint} (not in the sites file)`);
const siteState = (snap: ProviderSnapshot, name: string): TrafficSiteState | undefined => snap.state.sites.find((s) => s.site === name);
const serves = (v: HealthVerdict): boolean => v === 'confirmed' || v === 'unmonitored';

/** Probes a site once per operation (undefined: it has no probe URL). */
async function probeOnce(g: GateContext, name: string): Promise<TrafficCheck | undefined> {
  const cached = g.probed.get(name);
  if (cached) return cached;
  const url = g.sites.find((s) => s.name === name)?.probeUrl;
  if (!url) return undefined;
  g.log.info(`health gate: probing ${url} for site ${name}`);
  const c = await probe(name, url, g.probe, g.network, g.clock);
  g.probed.set(name, c);
  g.checks.push(c);
  return c;
}

/** The last-serving-site refusal (never skipped). */
export const lastServingSite: GateCheck = {
  name: 'last serving site',
  async run(g) {
    assertSomeSiteServes(g.desired.sites, g.gaining, (s) => g.provider.health(s), g.title);
  },
};

/**
 * The GSLB's own view of every gaining site that it monitors now (an enabled endpoint): Online passes; a failed
 * verdict refuses; pending (CheckingEndpoint) is re-read up to the provider's confirmation bound, then refuses.
 * Under priority routing, an enabled endpoint of better priority that is not reported failed refuses too.
 */
export const gslbHealth: GateCheck = {
  name: 'GSLB health',
  async run(g) {
    const { provider } = g;
    if (g.probe.skip || g.gaining.length === 0) return;
    if (!provider.healthView) {
      g.checks.push({ name: 'GSLB health', ok: true, detail: `no GSLB health view (${provider.name} has no monitor of its own): the HTTP probe is the gate` });
      return;
    }
    let snap = g.snapshot;
    const bound = provider.confirmationBoundMs(snap);
    const interval = Math.max(1, provider.pollIntervalMs(snap));
    const start = g.clock.now();
    for (let reads = 1; ; reads++) {
      const waiting: string[] = [];
      for (const name of g.gaining) {
        const s = siteState(snap, name);
        if (!s) continue;
        const v = provider.health(s);
        const status = s.health ?? 'unknown';
        if (!s.enabled && v !== 'failed') {
          // the GSLB does not monitor a disabled endpoint: no verdict before the write (the probe gates it now,
          // the GSLB must confirm it Online after the write)
          g.gslb.set(name, { verdict: 'pending', status: `${status} (not monitored while disabled)` });
          continue;
        }
        g.gslb.set(name, { verdict: v, status });
        if (v === 'failed') {
          throw new PreconditionError(`site ${name} is not healthy by ${provider.healthView}: ${status}; ${provider.name} would not send users there; ${NOTHING} (${OVERRIDE})`);
        }
        if (v === 'pending') waiting.push(`${name}: ${status}`);
      }
      const elapsed = g.clock.now() - start;
      if (waiting.length === 0) break;
      if (elapsed >= bound) {
        throw new PreconditionError(`${waiting.join(', ')} by ${provider.healthView} after ${seconds(bound)} (the bound): not known healthy, ${provider.name} may not send users there; ${NOTHING} (${OVERRIDE})`);
      }
      g.log.progress(undefined, `health gate: waiting for ${provider.name} to finish checking (${waiting.join(', ')}); ${seconds(elapsed)} of ${seconds(bound)}`);
      await g.clock.sleep(Math.min(interval, bound - elapsed));
      snap = await provider.read();
    }
    for (const name of g.gaining) {
      const v = g.gslb.get(name);
      if (v) g.checks.push({ name: `GSLB health ${name}`, ok: true, detail: `${provider.healthView}: ${v.status}` });
    }
    // priority routing: does an enabled endpoint of better priority keep the users?
    if (g.snapshot.model === 'priority') {
      const target = primaryOf('priority', g.desired.sites);
      const t = g.desired.sites.find((s) => s.site === target);
      if (t?.priority !== undefined) {
        const better = byPriority((snap.others ?? []).filter((o) => o.enabled && o.priority !== undefined && o.priority < t.priority!)).find((o) => provider.health(o) !== 'failed');
        if (better) {
          throw new PreconditionError(
            `${label(better)} has priority ${better.priority} (better than ${t.priority} for ${target}) and is ${better.health ?? 'unknown'}: ${provider.name} would keep sending users there; ${NOTHING}`,
          );
        }
      }
    }
  },
};

/** The HTTP probe of every gaining site; without a probe URL the GSLB's verdict must stand in for it. */
export const httpProbe: GateCheck = {
  name: 'health probe',
  async run(g) {
    for (const name of g.gaining) {
      if (g.probe.skip) {
        g.checks.push({ name: `health probe ${name}`, ok: true, detail: 'skipped (skipHealthCheck: true)' });
        continue;
      }
      const c = await probeOnce(g, name);
      if (c) {
        if (!c.ok) throw new PreconditionError(`site ${name} is not healthy: ${c.detail}; ${NOTHING} (${OVERRIDE})`);
        continue;
      }
      const v = g.gslb.get(name);
      if (v && serves(v.verdict) && g.provider.healthView) {
        const line = `site ${name} has no traffic.probeUrl: ${g.provider.healthView} (${v.status}) is the only health gate`;
        g.checks.push({ name: `health probe ${name}`, ok: true, detail: `not configured: ${g.provider.healthView} (${v.status}) is the only gate` });
        g.notes.push(line);
        g.log.info(`health gate: ${line}`);
        continue;
      }
      const why = !g.provider.healthView
        ? `and ${g.provider.name} has no GSLB health view`
        : `and ${g.provider.healthView} gives no verdict before the write (${v?.status ?? 'unknown'})`;
      throw new PreconditionError(`site ${name} would gain traffic but has no traffic.probeUrl in the sites file to check its health ${why}: add one (or set skipHealthCheck: true); ${NOTHING}`);
    }
  },
};

/** Drain: refused when every site that would still serve is unhealthy by the GSLB or by its probe. */
export const drainLeavesHealthySite: GateCheck = {
  name: 'drain leaves a healthy site',
  async run(g) {
    if (g.kind !== 'drain' || g.probe.skip) return;
    const remaining = g.desired.sites.filter((s) => s.enabled);
    if (remaining.length === 0) return; // the last-serving-site refusal says it
    const bad: string[] = [];
    for (const d of remaining) {
      const now = siteState(g.snapshot, d.site);
      const v = now && now.enabled && g.provider.healthView ? g.provider.health(now) : undefined;
      if (v === 'failed') {
        bad.push(`${d.site} (${g.provider.healthView}: ${now!.health ?? 'unknown'})`);
        continue;
      }
      const c = await probeOnce(g, d.site);
      if (c && !c.ok) bad.push(`${d.site} (${c.detail})`);
      else return; // this site still serves healthily (or nothing says otherwise)
    }
    throw new PreconditionError(`refusing to ${g.title}: every site that would still serve is unhealthy: ${bad.join('; ')}; ${NOTHING} (${OVERRIDE})`);
  },
};

/** What the MongoDB primary gate learns about a site (from `mongo primary status` run for that site). */
export interface MongoSiteView {
  /** The primary's host and site (undefined: no primary). */
  primary?: { host: string; site?: string };
  /** The site's healthy data-bearing members and their lag behind the primary. */
  members: { host: string; lagSeconds?: number; healthy: boolean }[];
}

/** Settings of {@link mongoPrimaryGate}. */
export interface MongoGateSettings {
  /** `primary`: the gaining site must hold the primary; `within-lag`: a member of it must be within maxLagSeconds. */
  mode: 'primary' | 'within-lag';
  maxLagSeconds: number;
  /** Reads the replica set as seen from `site`. */
  read(site: string): Promise<MongoSiteView>;
}

/**
 * The MongoDB primary gate (opt-in with the traffic input `mongoPrimaryGate`): failover or restore to a site
 * whose MongoDB member is not the primary (mode `primary`), or has no member within maxLagSeconds of the primary
 * (mode `within-lag`), is refused before any write — the pipeline moves the primary first (`mongo primary move`,
 * the DR template's moveMongoPrimary step). Other operations are not gated by it.
 */
export function mongoPrimaryGate(m: MongoGateSettings): GateCheck {
  return {
    name: 'MongoDB primary',
    async run(g) {
      if (g.kind !== 'failover' && g.kind !== 'restore') return;
      for (const site of g.gaining) {
        g.log.info(`MongoDB gate: reading the replica set from site ${site}`);
        const v = await m.read(site);
        const where = v.primary ? `${v.primary.host} (${v.primary.site ?? 'no site'})` : 'NONE';
        const move = `move it first (\`stackhub-ha mongo primary move --site ${site}\`, task StackHubMongoBackup command primary-move, or the DR template's moveMongoPrimary)`;
        if (m.mode === 'primary') {
          if (v.primary?.site !== site) {
            g.checks.push({ name: `MongoDB primary ${site}`, ok: false, detail: `primary is ${where}` });
            throw new PreconditionError(`refusing to ${g.title}: site ${site} does not hold the MongoDB primary (it is ${where}); ${move}; ${NOTHING}`);
          }
          g.checks.push({ name: `MongoDB primary ${site}`, ok: true, detail: `primary ${where}` });
          continue;
        }
        const best = v.members.filter((x) => x.healthy && x.lagSeconds !== undefined).sort((a, b) => a.lagSeconds! - b.lagSeconds!)[0];
        if (!v.primary || !best || best.lagSeconds! > m.maxLagSeconds) {
          const detail = !v.primary ? 'the replica set has no primary' : best ? `${best.host} is ${best.lagSeconds} s behind the primary ${where}, more than mongoMaxLagSeconds ${m.maxLagSeconds}` : `site ${site} has no healthy member`;
          g.checks.push({ name: `MongoDB lag ${site}`, ok: false, detail });
          throw new PreconditionError(`refusing to ${g.title}: ${detail}; ${move}; ${NOTHING}`);
        }
        g.checks.push({ name: `MongoDB lag ${site}`, ok: true, detail: `${best.host} ${best.lagSeconds} s behind the primary ${where}` });
      }
    },
  };
}

/** The gate, in order: cheap refusals first, probes last. */
export const DEFAULT_GATES: readonly GateCheck[] = [lastServingSite, gslbHealth, httpProbe, drainLeavesHealthySite];

/** Runs the gate checks in order (the first refusal stops the operation before any write). */
export async function runGates(gates: readonly GateCheck[], g: GateContext): Promise<void> {
  if (g.probe.skip && g.gaining.length) {
    g.log.warning(`skipHealthCheck: true — ${g.title}: the health gate (HTTP probe${g.provider.healthView ? ` and ${g.provider.healthView}` : ''}) is skipped for ${g.gaining.join(', ')}; users may be sent to an unhealthy site`);
  }
  for (const gate of gates) await gate.run(g);
}
