/**
 * `azure-traffic-manager`: Azure Traffic Manager through ARM REST (`Microsoft.Network/trafficmanagerprofiles`,
 * api-version 2022-04-01) on the shared thin ARM client (src/shared/azure-stack/arm.ts: token, CA, proxy, retries).
 *
 * GET profile returns every endpoint (there is no list-endpoints call). A change of one endpoint's status is one
 * PATCH of that endpoint; anything else (priorities, weights, several endpoints) is one PUT of the whole profile,
 * which is the only way to swap unique priorities atomically. Traffic Manager has no ETag: the profile is re-read
 * and compared right before every write (and the templates hold a pipeline-level lock).
 */
import { InputError, StackHubError } from '../../shared/errors';
import type { ArmClient } from '../../shared/azure-stack/arm';
import { ArmError } from '../../shared/azure-stack/arm';
import type { TrafficSiteState, TrafficState } from '../api';
import type { TrafficClock } from '../clock';
import { TrafficConflictError } from '../errors';
import { MAX_WEIGHT, MIN_WEIGHT } from '../plan';
import type { ExpectedAnswers, HealthVerdict, ProviderSnapshot, RoutingModel, TrafficProvider, TrafficSite } from '../provider';

/** The api-version of every Traffic Manager call. */
export const TRAFFIC_MANAGER_API_VERSION = '2022-04-01';

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/trafficManagerProfiles/{name}` (any case). */
export const PROFILE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/trafficManagerProfiles\/([^/]+)$/i;

/** An endpoint as ARM returns it (the fields we use). */
export interface TmEndpoint {
  id?: string;
  name: string;
  type: string;
  properties: {
    target?: string;
    endpointStatus?: 'Enabled' | 'Disabled';
    weight?: number;
    priority?: number;
    endpointLocation?: string;
    endpointMonitorStatus?: string;
    alwaysServe?: 'Enabled' | 'Disabled';
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** A profile as ARM returns it (the fields we use; everything else is written back unchanged). */
export interface TmProfile {
  id?: string;
  name?: string;
  type?: string;
  location?: string;
  properties: {
    profileStatus?: string;
    trafficRoutingMethod?: string;
    dnsConfig?: { relativeName?: string; fqdn?: string; ttl?: number };
    monitorConfig?: {
      profileMonitorStatus?: string;
      protocol?: string;
      port?: number;
      path?: string;
      intervalInSeconds?: number;
      timeoutInSeconds?: number;
      toleratedNumberOfFailures?: number;
      [k: string]: unknown;
    };
    endpoints?: TmEndpoint[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** What `detail` holds for Traffic Manager: every endpoint's routing fields (undo writes them back). */
export interface TmDetail {
  profileId: string;
  routingMethod: string;
  fqdn?: string;
  ttl?: number;
  monitor: { intervalInSeconds: number; timeoutInSeconds: number; toleratedNumberOfFailures: number };
  endpoints: { name: string; type: string; target?: string; endpointStatus: string; priority?: number; weight?: number; health?: string }[];
}

/** Settings of the provider. */
export interface TrafficManagerConfig {
  /** Normalised profile resource id. */
  profileId: string;
}

/** The endpoint-type path segment of an endpoint's `type` (`…/externalEndpoints` → `externalEndpoints`). */
export function endpointTypeSegment(type: string): string {
  const last = type.split('/').pop() ?? '';
  const known = ['azureEndpoints', 'externalEndpoints', 'nestedEndpoints'];
  const hit = known.find((k) => k.toLowerCase() === last.toLowerCase());
  if (!hit) throw new StackHubError(`unknown Traffic Manager endpoint type '${type}'`);
  return hit;
}

/** The routing model of a traffic routing method. */
export function tmModel(method: string | undefined): RoutingModel {
  const m = (method ?? '').toLowerCase();
  if (m === 'priority') return 'priority';
  if (m === 'weighted') return 'weighted';
  return 'multi';
}

const lc = (s: string): string => s.toLowerCase();
const isIp = (t: string | undefined): boolean => !!t && (/^\d{1,3}(\.\d{1,3}){3}$/.test(t) || t.includes(':'));

/** The Traffic Manager provider. */
export class TrafficManagerProvider implements TrafficProvider {
  readonly name = 'azure-traffic-manager';
  readonly healthView = 'Traffic Manager endpointMonitorStatus';
  private readonly profileName: string;

  constructor(
    private readonly cfg: TrafficManagerConfig,
    private readonly sites: readonly TrafficSite[],
    private readonly deps: { arm: Pick<ArmClient, 'request'>; clock: TrafficClock; sitesInput: string },
  ) {
    const m = PROFILE_ID.exec(cfg.profileId);
    if (!m) throw new Error(`bug: profile id ${cfg.profileId}`);
    this.profileName = m[3];
  }

  private async get(): Promise<TmProfile> {
    try {
      const res = await this.deps.arm.request<TmProfile>('GET', this.cfg.profileId, { apiVersion: TRAFFIC_MANAGER_API_VERSION });
      if (!res.body || typeof res.body !== 'object' || !res.body.properties) throw new StackHubError(`GET ${this.cfg.profileId}: the answer is not a Traffic Manager profile`);
      return res.body;
    } catch (e) {
      if (e instanceof ArmError && e.status === 404) {
        throw new InputError('trafficProfile', `Traffic Manager profile ${this.cfg.profileId} does not exist (ARM answered 404${e.code ? ` ${e.code}` : ''})`);
      }
      throw e;
    }
  }

  /** The snapshot of a profile as read. */
  snapshotOf(p: TmProfile): ProviderSnapshot {
    const endpoints = p.properties.endpoints ?? [];
    const sites: TrafficSiteState[] = this.sites.map((s) => {
      const ep = endpoints.find((e) => lc(e.name) === lc(s.endpoint ?? ''));
      if (!ep) {
        throw new InputError(
          this.deps.sitesInput,
          `site ${s.name}: endpoint '${s.endpoint}' is not in Traffic Manager profile ${this.profileName} (it has: ${endpoints.map((e) => e.name).join(', ') || 'no endpoints'})`,
        );
      }
      return {
        site: s.name,
        endpoint: ep.name,
        enabled: ep.properties.endpointStatus === 'Enabled',
        priority: ep.properties.priority,
        weight: ep.properties.weight,
        health: ep.properties.endpointMonitorStatus ?? 'unknown',
        target: ep.properties.target,
      };
    });
    const mc = p.properties.monitorConfig ?? {};
    const method = p.properties.trafficRoutingMethod ?? 'Priority';
    const detail: TmDetail = {
      profileId: this.cfg.profileId,
      routingMethod: method,
      fqdn: p.properties.dnsConfig?.fqdn,
      ttl: p.properties.dnsConfig?.ttl,
      monitor: {
        intervalInSeconds: mc.intervalInSeconds ?? 30,
        timeoutInSeconds: mc.timeoutInSeconds ?? 10,
        toleratedNumberOfFailures: mc.toleratedNumberOfFailures ?? 3,
      },
      endpoints: endpoints.map((e) => ({
        name: e.name,
        type: e.type,
        target: e.properties.target,
        endpointStatus: e.properties.endpointStatus ?? 'Enabled',
        priority: e.properties.priority,
        weight: e.properties.weight,
        health: e.properties.endpointMonitorStatus,
      })),
    };
    const notes = [`Traffic Manager profile ${this.profileName}: ${method} routing, ${p.properties.dnsConfig?.fqdn ?? 'no fqdn'} (TTL ${p.properties.dnsConfig?.ttl ?? '?'} s), profile ${p.properties.profileStatus ?? '?'}, monitor ${mc.profileMonitorStatus ?? '?'}`];
    const foreign = endpoints.filter((e) => !sites.some((s) => lc(s.endpoint) === lc(e.name)));
    if (foreign.length) notes.push(`Endpoints not in the sites file (left as they are): ${foreign.map((e) => `${e.name} (${e.properties.endpointStatus})`).join(', ')}`);
    const fq = p.properties.dnsConfig?.fqdn;
    const others: TrafficSiteState[] = foreign.map((e) => ({
      site: '',
      endpoint: e.name,
      enabled: e.properties.endpointStatus === 'Enabled',
      priority: e.properties.priority,
      weight: e.properties.weight,
      health: e.properties.endpointMonitorStatus ?? 'unknown',
      target: e.properties.target,
    }));
    return {
      others,
      state: { provider: this.name, routing: method, sites, capturedAt: new Date(this.deps.clock.now()).toISOString(), detail },
      model: tmModel(method),
      dns: fq ? { name: fq, type: sites.every((s) => isIp(s.target)) && sites.length ? (sites.every((s) => !s.target?.includes(':')) ? 'A' : 'AAAA') : 'CNAME', ttlSeconds: p.properties.dnsConfig?.ttl ?? 0 } : undefined,
      notes,
    };
  }

  async read(): Promise<ProviderSnapshot> {
    return this.snapshotOf(await this.get());
  }

  apply(current: TrafficState, sites: readonly TrafficSiteState[]): TrafficState {
    const d = current.detail as TmDetail;
    const endpoints = d.endpoints.map((e) => ({ ...e }));
    for (const s of sites) {
      const ep = endpoints.find((e) => lc(e.name) === lc(s.endpoint));
      if (!ep) continue;
      ep.endpointStatus = s.enabled ? 'Enabled' : 'Disabled';
      if (s.priority !== undefined) ep.priority = s.priority;
      if (s.weight !== undefined) ep.weight = s.weight;
    }
    return { ...current, sites: sites.map((s) => ({ ...s })), detail: { ...d, endpoints } };
  }

  /** Routing method and each endpoint's status, priority and weight. */
  routingKey(state: TrafficState): string {
    const d = state.detail as TmDetail;
    return JSON.stringify([
      lc(d.routingMethod),
      [...d.endpoints].sort((a, b) => (lc(a.name) < lc(b.name) ? -1 : 1)).map((e) => [lc(e.name), e.endpointStatus, e.priority ?? null, e.weight ?? null]),
    ]);
  }

  /** The routing key plus what a write must not silently overwrite (targets, the endpoint set). */
  private strictKey(state: TrafficState): string {
    const d = state.detail as TmDetail;
    return JSON.stringify([this.routingKey(state), [...d.endpoints].map((e) => [lc(e.name), lc(e.type), e.target ?? null]).sort()]);
  }

  checkState(state: TrafficState, input: string): void {
    if (!state || typeof state !== 'object') throw new InputError(input, 'expected the previousState JSON of an earlier run');
    if (state.provider !== this.name) throw new InputError(input, `was captured by the ${state.provider} provider, not ${this.name}`);
    const d = state.detail as TmDetail | undefined;
    if (!d || !Array.isArray(d.endpoints) || typeof d.routingMethod !== 'string') throw new InputError(input, 'has no Traffic Manager detail (routing method, endpoints): pass the previousState output unchanged');
    if (typeof d.profileId === 'string' && lc(d.profileId) !== lc(this.cfg.profileId)) throw new InputError(input, `was captured from profile ${d.profileId}, not ${this.cfg.profileId}`);
    const seen = new Map<number, string>();
    for (const e of d.endpoints) {
      if (typeof e?.name !== 'string' || (e.endpointStatus !== 'Enabled' && e.endpointStatus !== 'Disabled')) {
        throw new InputError(input, `endpoint ${String(e?.name)}: expected a name and endpointStatus Enabled or Disabled`);
      }
      if (e.priority !== undefined) {
        if (!Number.isInteger(e.priority) || e.priority < 1 || e.priority > 1000) throw new InputError(input, `endpoint ${e.name}: priority ${e.priority} is not a whole number from 1 to 1000`);
        const other = seen.get(e.priority);
        if (other) throw new InputError(input, `duplicate priority ${e.priority} (endpoints ${other} and ${e.name}): priorities are unique per profile`);
        seen.set(e.priority, e.name);
      }
      if (e.weight !== undefined && (!Number.isInteger(e.weight) || e.weight < MIN_WEIGHT || e.weight > MAX_WEIGHT)) {
        throw new InputError(input, `endpoint ${e.name}: weight ${e.weight} is not a whole number from ${MIN_WEIGHT} to ${MAX_WEIGHT}`);
      }
    }
  }

  async write(expected: ProviderSnapshot, desired: TrafficState): Promise<void> {
    // Traffic Manager has no ETag: re-read right before writing and compare with what the plan was made from
    const fresh = await this.get();
    const freshSnap = this.snapshotOf(fresh);
    if (this.strictKey(freshSnap.state) !== this.strictKey(expected.state)) {
      throw new TrafficConflictError(`Traffic Manager profile ${this.profileName}`, describeDiff(expected.state.detail as TmDetail, freshSnap.state.detail as TmDetail));
    }
    const want = desired.detail as TmDetail;
    const endpoints = fresh.properties.endpoints ?? [];
    const changes: { ep: TmEndpoint; fields: Partial<Record<'endpointStatus' | 'priority' | 'weight', unknown>> }[] = [];
    for (const ep of endpoints) {
      const w = want.endpoints.find((x) => lc(x.name) === lc(ep.name));
      if (!w) continue;
      const fields: Partial<Record<'endpointStatus' | 'priority' | 'weight', unknown>> = {};
      if (w.endpointStatus !== ep.properties.endpointStatus) fields.endpointStatus = w.endpointStatus;
      if (w.priority !== undefined && w.priority !== ep.properties.priority) fields.priority = w.priority;
      if (w.weight !== undefined && w.weight !== ep.properties.weight) fields.weight = w.weight;
      if (Object.keys(fields).length) changes.push({ ep, fields });
    }
    if (changes.length === 0) return;
    if (changes.length === 1 && Object.keys(changes[0].fields).length === 1 && 'endpointStatus' in changes[0].fields) {
      const { ep, fields } = changes[0];
      await this.deps.arm.request('PATCH', `${this.cfg.profileId}/${endpointTypeSegment(ep.type)}/${ep.name}`, {
        apiVersion: TRAFFIC_MANAGER_API_VERSION,
        body: { properties: { endpointStatus: fields.endpointStatus } },
      });
      return;
    }
    await this.deps.arm.request('PUT', this.cfg.profileId, { apiVersion: TRAFFIC_MANAGER_API_VERSION, body: profileBody(fresh, changes) });
  }

  /**
   * `endpointMonitorStatus` (2022-04-01: CheckingEndpoint, Online, Degraded, Disabled, Inactive, Stopped,
   * Unmonitored): Online → confirmed; Degraded, Stopped, Inactive, and Disabled on an enabled endpoint (the profile
   * is disabled) → failed; Unmonitored (monitoring off / alwaysServe) → unmonitored; CheckingEndpoint, Disabled on a
   * disabled endpoint (not monitored), anything unknown → pending.
   */
  health(site: TrafficSiteState): HealthVerdict {
    switch (lc(site.health ?? '')) {
      case 'online':
        return 'confirmed';
      case 'unmonitored':
        return 'unmonitored';
      case 'degraded':
      case 'stopped':
      case 'inactive':
        return 'failed';
      case 'disabled':
        return site.enabled ? 'failed' : 'pending';
      default:
        return 'pending'; // CheckingEndpoint, unknown
    }
  }

  /** `intervalInSeconds × (toleratedNumberOfFailures + 1) + timeoutInSeconds`. */
  confirmationBoundMs(snapshot: ProviderSnapshot): number {
    const m = (snapshot.state.detail as TmDetail).monitor;
    return (m.intervalInSeconds * (m.toleratedNumberOfFailures + 1) + m.timeoutInSeconds) * 1000;
  }

  pollIntervalMs(snapshot: ProviderSnapshot): number {
    return Math.min((snapshot.state.detail as TmDetail).monitor.intervalInSeconds, 10) * 1000;
  }

  expectedAnswers(snapshot: ProviderSnapshot, state: TrafficState): ExpectedAnswers | undefined {
    const d = state.detail as TmDetail;
    const healthOf = (name: string): string | undefined =>
      (snapshot.state.detail as TmDetail).endpoints.find((e) => lc(e.name) === lc(name))?.health;
    const enabled = d.endpoints.filter((e) => e.endpointStatus === 'Enabled' && e.target);
    if (enabled.length === 0) return undefined;
    const allowed = enabled.map((e) => e.target!);
    if (tmModel(d.routingMethod) !== 'priority') return { allowed };
    const ordered = [...enabled].sort((a, b) => (a.priority ?? 1e9) - (b.priority ?? 1e9));
    const healthy = ordered.filter((e) => !['degraded', 'stopped', 'inactive'].includes(lc(healthOf(e.name) ?? '')));
    const first = (healthy[0] ?? ordered[0]).target!;
    return { exact: [first], allowed };
  }
}

/**
 * What Profiles_CreateOrUpdate (PUT, 2022-04-01) may be sent, as in Microsoft's published example
 * `Profile-PUT-WithEndpoints.json` (azure-rest-api-specs, specification/trafficmanager/.../2022-04-01): the
 * profile's `location` and `tags`, and in `properties` the settings below. Left out on purpose: `id`/`name`/`type`
 * of the profile (the URL names it), `dnsConfig.fqdn` (readOnly in the spec), `monitorConfig.profileMonitorStatus`
 * and every endpoint's `endpointMonitorStatus` and `id` (set by the service, never in a request example).
 */
export const WRITABLE = {
  profile: ['profileStatus', 'trafficRoutingMethod', 'trafficViewEnrollmentStatus', 'allowedEndpointRecordTypes', 'maxReturn'],
  dnsConfig: ['relativeName', 'ttl'],
  monitorConfig: ['protocol', 'port', 'path', 'intervalInSeconds', 'timeoutInSeconds', 'toleratedNumberOfFailures', 'customHeaders', 'expectedStatusCodeRanges'],
  endpoint: ['targetResourceId', 'target', 'endpointStatus', 'weight', 'priority', 'endpointLocation', 'minChildEndpoints', 'minChildEndpointsIPv4', 'minChildEndpointsIPv6', 'geoMapping', 'subnets', 'customHeaders', 'alwaysServe'],
} as const;

/** The listed keys of `o` that hold a value (null and undefined left out: "not set"). */
function pick(o: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o && o[k] !== undefined && o[k] !== null) out[k] = o[k];
  return out;
}

/** The PUT body: the writable settings of the profile as read (see {@link WRITABLE}), with the changes. */
export function profileBody(fresh: TmProfile, changes: { ep: TmEndpoint; fields: Record<string, unknown> }[]): Record<string, unknown> {
  const p = fresh.properties;
  const endpoints = (p.endpoints ?? []).map((ep) => {
    const c = changes.find((x) => lc(x.ep.name) === lc(ep.name));
    return { name: ep.name, type: ep.type, properties: { ...pick(ep.properties, WRITABLE.endpoint), ...(c?.fields ?? {}) } };
  });
  return {
    location: fresh.location,
    ...(fresh.tags !== undefined ? { tags: fresh.tags } : {}),
    properties: {
      ...pick(p, WRITABLE.profile),
      ...(p.dnsConfig ? { dnsConfig: pick(p.dnsConfig, WRITABLE.dnsConfig) } : {}),
      ...(p.monitorConfig ? { monitorConfig: pick(p.monitorConfig, WRITABLE.monitorConfig) } : {}),
      endpoints,
    },
  };
}

function describeDiff(a: TmDetail, b: TmDetail): string {
  const out: string[] = [];
  if (lc(a.routingMethod) !== lc(b.routingMethod)) out.push(`routing ${a.routingMethod} → ${b.routingMethod}`);
  for (const e of b.endpoints) {
    const o = a.endpoints.find((x) => lc(x.name) === lc(e.name));
    if (!o) {
      out.push(`endpoint ${e.name} added`);
      continue;
    }
    for (const k of ['endpointStatus', 'priority', 'weight', 'target'] as const) {
      if (o[k] !== e[k]) out.push(`${e.name} ${k} ${String(o[k])} → ${String(e[k])}`);
    }
  }
  for (const o of a.endpoints) if (!b.endpoints.some((e) => lc(e.name) === lc(o.name))) out.push(`endpoint ${o.name} removed`);
  return out.slice(0, 4).join(', ') || 'the profile differs';
}
