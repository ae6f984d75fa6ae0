/**
 * What each operation changes, per routing model: pure functions from the current site states to the desired ones.
 * No I/O, no provider: the same rules for every GSLB (tested with tables in tests/traffic/plan.test.ts).
 */
import { InputError, PreconditionError } from '../shared/errors';
import type { TrafficSiteState } from './api';
import type { HealthVerdict, RoutingModel } from './provider';

/** Lowest Traffic Manager weight (the range is used for every weighted provider). */
export const MIN_WEIGHT = 1;
/** Highest weight. */
export const MAX_WEIGHT = 1000;

const clone = (sites: readonly TrafficSiteState[]): TrafficSiteState[] => sites.map((s) => ({ ...s }));

function find(sites: TrafficSiteState[], name: string, input: string): TrafficSiteState {
  const s = sites.find((x) => x.site === name);
  if (!s) throw new InputError(input, `unknown site '${name}': expected one of ${sites.map((x) => x.site).join(', ')}`);
  return s;
}

/** Sites ordered by priority (lowest number first; sites without a priority last, in file order). */
export function byPriority(sites: readonly TrafficSiteState[]): TrafficSiteState[] {
  return sites
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (a.s.priority ?? Number.MAX_SAFE_INTEGER) - (b.s.priority ?? Number.MAX_SAFE_INTEGER) || a.i - b.i)
    .map((x) => x.s);
}

/**
 * The site users are sent to under priority routing (the best enabled one whose provider health is not failed),
 * or for a single-value record (the enabled one). Undefined for weighted/multi routing or when none serves.
 */
export function primaryOf(model: RoutingModel, sites: readonly TrafficSiteState[], health?: (s: TrafficSiteState) => HealthVerdict): string | undefined {
  if (model === 'single') return sites.find((s) => s.enabled)?.site;
  if (model !== 'priority') return undefined;
  const enabled = byPriority(sites).filter((s) => s.enabled);
  return (enabled.find((s) => !health || health(s) !== 'failed') ?? enabled[0])?.site;
}

/** Make `site` the primary (priority/single) or the only enabled site (weighted/multi). */
export function planFailover(model: RoutingModel, current: readonly TrafficSiteState[], site: string, input = 'site'): TrafficSiteState[] {
  const sites = clone(current);
  const target = find(sites, site, input);
  target.enabled = true;
  if (model === 'priority') {
    // keep the set of priority numbers (they are unique among ALL endpoints of the profile): `site` takes the lowest
    const ordered = byPriority(sites);
    const numbers = ordered.map((s) => s.priority).filter((p): p is number => p !== undefined).sort((a, b) => a - b);
    if (numbers.length !== sites.length) throw new PreconditionError(`priority routing: every site needs a priority (${sites.filter((s) => s.priority === undefined).map((s) => s.site).join(', ')} has none)`);
    const reordered = [target, ...ordered.filter((s) => s !== target)];
    reordered.forEach((s, i) => (s.priority = numbers[i]));
    return sites;
  }
  for (const s of sites) if (s !== target) s.enabled = false;
  return sites;
}

/** Take `site` out of rotation. Under single-value routing, users move to the next site in priority order. */
export function planDrain(model: RoutingModel, current: readonly TrafficSiteState[], site: string, input = 'site'): TrafficSiteState[] {
  const sites = clone(current);
  const target = find(sites, site, input);
  if (!target.enabled) return sites;
  target.enabled = false;
  if (model === 'single') {
    const next = byPriority(sites).find((s) => s !== target);
    if (next) next.enabled = true;
  }
  return sites;
}

/**
 * Put `site` back. Under single-value routing the record moves to `site` only when it comes before the serving
 * site in priority order (as a priority GSLB would send users back); otherwise `site` stays on standby.
 */
export function planRestore(model: RoutingModel, current: readonly TrafficSiteState[], site: string, input = 'site'): TrafficSiteState[] {
  const sites = clone(current);
  const target = find(sites, site, input);
  if (model !== 'single') {
    target.enabled = true;
    return sites;
  }
  const serving = sites.find((s) => s.enabled);
  if (serving === target) return sites;
  const order = byPriority(sites);
  if (!serving || order.indexOf(target) < order.indexOf(serving)) {
    for (const s of sites) s.enabled = s === target;
  }
  return sites;
}

/** Exchange the priorities (priority), weights and enabled flags (weighted), or the enabled flags (single/multi). */
export function planSwap(model: RoutingModel, current: readonly TrafficSiteState[], a: string, b: string, input = 'swapSites'): TrafficSiteState[] {
  if (a === b) throw new InputError(input, `expected two different sites, got '${a}' twice`);
  const sites = clone(current);
  const sa = find(sites, a, input);
  const sb = find(sites, b, input);
  if (model === 'priority') {
    if (sa.priority === undefined || sb.priority === undefined) throw new PreconditionError(`priority routing: ${sa.priority === undefined ? a : b} has no priority`);
    [sa.priority, sb.priority] = [sb.priority, sa.priority];
    return sites;
  }
  if (model === 'weighted') [sa.weight, sb.weight] = [sb.weight, sa.weight];
  [sa.enabled, sb.enabled] = [sb.enabled, sa.enabled];
  return sites;
}

/** Set weights (weighted routing only). A site given a weight is enabled. */
export function planWeights(model: RoutingModel, current: readonly TrafficSiteState[], weights: Record<string, number>, input = 'weights'): TrafficSiteState[] {
  if (model !== 'weighted') {
    throw new PreconditionError(
      model === 'priority'
        ? 'the routing is by priority: weights have no effect there; use failover or swap (or switch the profile to Weighted)'
        : 'plain DNS records have no weights: use drain and restore (or failover) to choose the serving sites',
    );
  }
  const sites = clone(current);
  for (const [name, w] of Object.entries(weights)) {
    if (!Number.isInteger(w) || w < MIN_WEIGHT || w > MAX_WEIGHT) throw new InputError(input, `${name}=${w}: expected a whole number from ${MIN_WEIGHT} to ${MAX_WEIGHT}`);
    const s = find(sites, name, input);
    s.weight = w;
    s.enabled = true;
  }
  return sites;
}

/**
 * Sites that gain users when `current` becomes `desired`: newly enabled ones, the new primary (priority/single),
 * and sites whose weight grows (weighted). These are health-gated before the write and must be confirmed by the
 * provider after it.
 */
export function sitesGainingTraffic(model: RoutingModel, current: readonly TrafficSiteState[], desired: readonly TrafficSiteState[], health?: (s: TrafficSiteState) => HealthVerdict): string[] {
  const out = new Set<string>();
  for (const d of desired) {
    const c = current.find((x) => x.site === d.site);
    if (!d.enabled) continue;
    if (!c || !c.enabled) out.add(d.site);
    else if (model === 'weighted' && (d.weight ?? 0) > (c.weight ?? 0)) out.add(d.site);
  }
  const before = primaryOf(model, current, health);
  const after = primaryOf(model, desired, health);
  if (after && after !== before) out.add(after);
  return desired.map((d) => d.site).filter((s) => out.has(s));
}

/**
 * Refuses a desired state in which no site would serve users: none enabled, or every enabled site is reported
 * unhealthy by the provider and gains nothing (a gaining site passes the health gate first).
 */
export function assertSomeSiteServes(desired: readonly TrafficSiteState[], gaining: readonly string[], health: (s: TrafficSiteState) => HealthVerdict, what: string): void {
  const enabled = desired.filter((s) => s.enabled);
  if (enabled.length === 0) throw new PreconditionError(`refusing to ${what}: no site would serve traffic (it is the last site that does)`);
  const serving = enabled.filter((s) => gaining.includes(s.site) || health(s) !== 'failed');
  if (serving.length === 0) {
    throw new PreconditionError(
      `refusing to ${what}: the only sites left serving (${enabled.map((s) => `${s.site}: ${s.health ?? 'unknown'}`).join(', ')}) are reported unhealthy`,
    );
  }
}

/** Parses `site=weight,...` (the `weights` operation). */
export function parseWeights(items: readonly string[], input: string): Record<string, number> {
  if (items.length === 0) throw new InputError(input, 'is required for the weights command: site=weight, ... (weights 1-1000)');
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([a-z0-9-]+)\s*[=:]\s*(-?\d+(?:\.\d+)?)$/.exec(item.trim());
    if (!m) throw new InputError(input, `'${item}': expected site=weight with a whole number from ${MIN_WEIGHT} to ${MAX_WEIGHT}`);
    const w = Number(m[2]);
    if (!Number.isInteger(w) || w < MIN_WEIGHT || w > MAX_WEIGHT) throw new InputError(input, `'${item}': the weight must be a whole number from ${MIN_WEIGHT} to ${MAX_WEIGHT}`);
    if (m[1] in out) throw new InputError(input, `site '${m[1]}' is given twice`);
    out[m[1]] = w;
  }
  return out;
}
