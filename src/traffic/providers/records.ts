/**
 * Routing by plain DNS records, shared by the `rfc2136` and `azure-stack-dns` providers: one name holds either one
 * CNAME (one site serves; the sites file order is the priority order) or A/AAAA records (every site whose address
 * is in the set serves). A site "is enabled" when its `traffic.target` is among the values.
 *
 * Plain DNS is not a GSLB: nothing fails over by itself when a site dies, and resolvers keep old answers for the
 * TTL. The DR templates run `failover` from a surviving site.
 */
import { InputError } from '../../shared/errors';
import type { TrafficSiteState, TrafficState } from '../api';
import type { DnsExpectation, ExpectedAnswers, RoutingModel, TrafficSite } from '../provider';
import { normAnswer } from '../resolvers';

/** A DNS record type the providers route with. */
export type RecordType = 'CNAME' | 'A' | 'AAAA';

/** A record set as read: values normalised (names lower case without the trailing dot). */
export interface RecordSetValue {
  type: RecordType;
  /** Seconds; undefined when the record set does not exist. */
  ttl?: number;
  values: string[];
}

/** What `detail` holds for the record providers (undo restores exactly these values and TTL). */
export interface RecordDetail {
  /** The record's fully qualified name (no trailing dot). */
  name: string;
  type: RecordType;
  ttl?: number;
  values: string[];
  /** Hub DNS: the record set's ETag when read (for If-Match). */
  etag?: string;
}

/** Default TTL of a record set that does not exist yet. */
export const DEFAULT_TTL = 60;

/** The routing model of a record type. */
export function recordModel(type: RecordType): RoutingModel {
  return type === 'CNAME' ? 'single' : 'multi';
}

/** The record logic for one name and the sites that route through it. */
export class RecordRouting {
  constructor(
    readonly provider: string,
    readonly sites: readonly TrafficSite[],
    readonly name: string,
    readonly type: RecordType,
    /** TTL to write (undefined: keep the current one, or {@link DEFAULT_TTL} for a new record set). */
    readonly ttl: number | undefined,
  ) {}

  /** Normalised target of a site. */
  targetOf(site: TrafficSite): string {
    return normAnswer(site.target ?? '');
  }

  /** The state for a record set as read. */
  toState(rs: RecordSetValue, capturedAt: string, etag?: string): TrafficState {
    const values = rs.values.map(normAnswer);
    const sites: TrafficSiteState[] = this.sites.map((s, i) => ({
      site: s.name,
      endpoint: s.endpoint ?? s.target ?? s.name,
      enabled: values.includes(this.targetOf(s)),
      priority: i + 1,
      health: 'unmonitored',
      target: s.target,
    }));
    const detail: RecordDetail = { name: this.name, type: this.type, ttl: rs.ttl, values, ...(etag ? { etag } : {}) };
    return {
      provider: this.provider,
      routing: this.type === 'CNAME' ? `CNAME ${this.name}` : `${this.type} records ${this.name}`,
      sites,
      capturedAt,
      detail,
    };
  }

  /** The state to write for the given site states (values of other owners in an A/AAAA set are kept). */
  apply(current: TrafficState, sites: readonly TrafficSiteState[]): TrafficState {
    const d = current.detail as RecordDetail;
    const own = new Set(this.sites.map((s) => this.targetOf(s)));
    const enabled = this.sites.filter((s) => sites.find((x) => x.site === s.name)?.enabled).map((s) => this.targetOf(s));
    let values: string[];
    if (this.type === 'CNAME') values = enabled.slice(0, 1);
    else values = [...d.values.filter((v) => !own.has(v)), ...enabled.filter((v, i, a) => a.indexOf(v) === i)];
    const detail: RecordDetail = { ...d, values, ttl: this.ttl ?? d.ttl ?? DEFAULT_TTL };
    return { ...current, sites: sites.map((s) => ({ ...s })), detail };
  }

  /** Type and the set of values (TTL and ETag do not change where users go). */
  routingKey(state: TrafficState): string {
    const d = state.detail as RecordDetail | undefined;
    return JSON.stringify([d?.type, [...(d?.values ?? [])].map(normAnswer).sort()]);
  }

  /** Checks a state given to undo. */
  checkState(state: TrafficState, input: string): void {
    if (!state || typeof state !== 'object') throw new InputError(input, 'expected the previousState JSON of an earlier run');
    if (state.provider !== this.provider) throw new InputError(input, `was captured by the ${state.provider} provider, not ${this.provider}`);
    const d = state.detail as RecordDetail | undefined;
    if (!d || !Array.isArray(d.values) || typeof d.type !== 'string') throw new InputError(input, 'has no record detail (name, type, values): pass the previousState output unchanged');
    if (d.values.some((v) => typeof v !== 'string' || v.trim() === '')) throw new InputError(input, 'holds a record value that is not a non-empty string');
    if (d.type !== this.type) throw new InputError(input, `holds ${d.type} records, but ${this.name} is routed with ${this.type} records here`);
    if (typeof d.name === 'string' && normAnswer(d.name) !== normAnswer(this.name)) throw new InputError(input, `was captured for ${d.name}, not ${this.name}`);
    if (d.type === 'CNAME' && d.values.length > 1) throw new InputError(input, 'holds more than one CNAME value');
    if (d.ttl !== undefined && (!Number.isInteger(d.ttl) || d.ttl < 0 || d.ttl > 2147483647)) throw new InputError(input, `holds TTL ${String(d.ttl)}: expected a whole number of seconds`);
  }

  /** The name, type and TTL resolvers are checked with (the TTL caches may still hold: the one read before). */
  dns(rs: RecordSetValue): DnsExpectation {
    return { name: this.name, type: this.type, ttlSeconds: rs.ttl ?? 0 };
  }

  /** Exactly the values written. */
  expectedAnswers(state: TrafficState): ExpectedAnswers {
    const d = state.detail as RecordDetail;
    return { exact: [...d.values], allowed: [...d.values] };
  }
}

/**
 * Chooses the record type from the sites' targets (`auto`): all IPv4 → A, all IPv6 → AAAA, all names → CNAME.
 * Errors name `input` (the sites file) for mixed or missing targets.
 */
export function recordTypeFor(sites: readonly TrafficSite[], wanted: 'auto' | RecordType, input: string): RecordType {
  const kinds = sites.map((s) => {
    const t = s.target ?? '';
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) return 'A' as const;
    if (t.includes(':')) return 'AAAA' as const;
    return 'CNAME' as const;
  });
  for (const [i, s] of sites.entries()) {
    if (!s.target) throw new InputError(input, `site ${s.name}: traffic.target is required for DNS routing (the CNAME target or the address users are sent to)`);
    if (kinds[i] === 'CNAME' && !/^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(s.target)) {
      throw new InputError(input, `site ${s.name}: traffic.target '${s.target}' is neither a host name nor an IP address`);
    }
  }
  const type = wanted === 'auto' ? kinds[0] : wanted;
  const off = sites.filter((_, i) => kinds[i] !== type);
  if (off.length) {
    throw new InputError(
      input,
      `${type} records need every site's traffic.target to be ${type === 'CNAME' ? 'a host name' : type === 'A' ? 'an IPv4 address' : 'an IPv6 address'}: ${off.map((s) => `${s.name} has '${s.target}'`).join(', ')}`,
    );
  }
  return type;
}
