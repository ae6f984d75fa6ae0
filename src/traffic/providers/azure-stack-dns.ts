/**
 * `azure-stack-dns`: a DNS zone hosted by an Azure Stack Hub, through that Hub's ARM
 * (`Microsoft.Network/dnsZones/{zone}/{CNAME|A|AAAA}/{name}`, profile 2020-09-01-hybrid, DNS api-version 2016-04-01)
 * with `If-Match` ETags (412 → changed by someone else). Endpoint discovery, the ADFS / Azure AD credential (with the
 * ADFS v1 fallback on MSIS9605), the Hub's CA and the thin ARM client come from src/shared/azure-stack.
 *
 * The zone is served by ONE Hub: `status` says which, and when that Hub cannot be reached (e.g. it is the site that
 * failed) every operation fails with a message saying that the zone lives there.
 */
import { InputError, PreconditionError, StackHubError, oneLine } from '../../shared/errors';
import { ArmError, type ArmClient } from '../../shared/azure-stack/arm';
import { AuthenticationFailedError } from '../../shared/azure-stack/credential';
import type { TrafficSiteState, TrafficState } from '../api';
import type { TrafficClock } from '../clock';
import { TrafficConflictError } from '../errors';
import type { ExpectedAnswers, HealthVerdict, ProviderSnapshot, TrafficProvider, TrafficSite } from '../provider';
import { normAnswer } from '../resolvers';
import { RecordRouting, recordModel, type RecordDetail, type RecordSetValue, type RecordType } from './records';

/** The DNS api-version of the 2020-09-01-hybrid profile. */
export const HUB_DNS_API_VERSION = '2016-04-01';

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}` (any case). */
export const ZONE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/dnsZones\/([^/]+)$/i;

/** Settings of the provider. */
export interface AzureStackDnsConfig {
  /** The zone's resource id. */
  zoneId: string;
  /** Zone name (from the id, lower case, no trailing dot). */
  zone: string;
  /** Fully qualified record name. */
  name: string;
  type: 'auto' | RecordType;
  ttl?: number;
  /** The site whose Hub hosts the zone. */
  hubSite: string;
  /** That Hub's ARM endpoint (from the sites file). */
  armEndpoint: string;
}

/** A record set as the Hub's ARM returns it (2016-04-01). */
export interface HubRecordSet {
  id?: string;
  name?: string;
  type?: string;
  etag?: string;
  properties?: {
    TTL?: number;
    fqdn?: string;
    ARecords?: { ipv4Address?: string }[];
    AAAARecords?: { ipv6Address?: string }[];
    CNAMERecord?: { cname?: string };
    metadata?: Record<string, string>;
    [k: string]: unknown;
  };
}

/** The record set name relative to the zone (`@` for the apex). */
export function relativeName(name: string, zone: string): string {
  const n = normAnswer(name);
  const z = normAnswer(zone);
  if (n === z) return '@';
  if (!n.endsWith(`.${z}`)) throw new Error(`bug: ${name} is not in ${zone}`);
  return n.slice(0, -(z.length + 1));
}

/** Values of a record set. */
export function recordValues(rs: HubRecordSet | undefined, type: RecordType): string[] {
  const p = rs?.properties ?? {};
  if (type === 'CNAME') return p.CNAMERecord?.cname ? [normAnswer(p.CNAMERecord.cname)] : [];
  if (type === 'A') return (p.ARecords ?? []).map((r) => r.ipv4Address).filter((v): v is string => !!v).map(normAnswer);
  return (p.AAAARecords ?? []).map((r) => r.ipv6Address).filter((v): v is string => !!v).map(normAnswer);
}

/** The PUT body for values and TTL (metadata of the existing record set kept). */
export function recordSetBody(type: RecordType, values: readonly string[], ttl: number, metadata?: Record<string, string>): HubRecordSet {
  const properties: HubRecordSet['properties'] = { TTL: ttl, ...(metadata ? { metadata } : {}) };
  if (type === 'CNAME') properties.CNAMERecord = { cname: values[0] };
  else if (type === 'A') properties.ARecords = values.map((ipv4Address) => ({ ipv4Address }));
  else properties.AAAARecords = values.map((ipv6Address) => ({ ipv6Address }));
  return { properties };
}

/** The Hub DNS provider. `connect` opens the Hub session (discovery + credential) on first use. */
export class AzureStackDnsProvider implements TrafficProvider {
  readonly name = 'azure-stack-dns';
  /** Plain DNS has no monitor: no GSLB health view; the HTTP probe is the gate. */
  readonly healthView = undefined;
  readonly type: RecordType;
  private readonly records: RecordRouting;
  private arm?: Promise<Pick<ArmClient, 'request'>>;
  private metadata?: Record<string, string>;

  constructor(
    private readonly cfg: AzureStackDnsConfig & { type: RecordType },
    sites: readonly TrafficSite[],
    private readonly deps: { connect: () => Promise<Pick<ArmClient, 'request'>>; clock: TrafficClock },
  ) {
    this.type = cfg.type;
    this.records = new RecordRouting(this.name, sites, cfg.name, cfg.type, cfg.ttl);
  }

  private get path(): string {
    return `${this.cfg.zoneId}/${this.type}/${relativeName(this.cfg.name, this.cfg.zone)}`;
  }

  private lives(): string {
    return `zone ${this.cfg.zone} lives on the Hub of site ${this.cfg.hubSite} (${this.cfg.armEndpoint})`;
  }

  /** Runs an ARM call; a Hub that cannot be reached (or refuses sign-in) becomes a message saying where the zone lives. */
  private async call<T>(fn: (arm: Pick<ArmClient, 'request'>) => Promise<T>): Promise<T> {
    let arm: Pick<ArmClient, 'request'>;
    try {
      arm = await (this.arm ??= this.deps.connect());
    } catch (e) {
      this.arm = undefined;
      if (e instanceof InputError && !/cannot reach|answered 5\d\d/.test(e.expected)) throw e;
      throw new PreconditionError(`the DNS ${this.lives()}, which cannot be reached from here: ${oneLine(e)}; DNS routing cannot change while that Hub is down`);
    }
    try {
      return await fn(arm);
    } catch (e) {
      if (e instanceof ArmError || e instanceof TrafficConflictError || e instanceof InputError) throw e;
      if (e instanceof AuthenticationFailedError && !/cannot|timed out|no response|ECONNREFUSED/i.test(e.message)) throw e;
      if (e instanceof StackHubError && /failed|cannot|refus|timed out|no response/i.test(e.message)) {
        throw new PreconditionError(`the DNS ${this.lives()}, which cannot be reached from here: ${oneLine(e)}`);
      }
      throw e;
    }
  }

  async read(): Promise<ProviderSnapshot> {
    const res = await this.call((arm) => arm.request<HubRecordSet>('GET', this.path, { apiVersion: HUB_DNS_API_VERSION, acceptStatus: [404] }));
    const exists = res.status !== 404;
    const body = exists ? res.body : undefined;
    const rs: RecordSetValue = { type: this.type, ttl: exists ? body?.properties?.TTL : undefined, values: recordValues(body, this.type) };
    this.metadata = body?.properties?.metadata;
    const etag = exists ? (res.etag ?? body?.etag) : undefined;
    const state = this.records.toState(rs, new Date(this.deps.clock.now()).toISOString(), etag);
    return {
      state,
      model: recordModel(this.type),
      dns: this.records.dns(rs),
      notes: [`The DNS ${this.lives()}. Record ${this.cfg.name} ${this.type}, TTL ${rs.ttl ?? 'none'}: ${rs.values.join(', ') || 'no record'}`],
    };
  }

  apply(current: TrafficState, sites: readonly TrafficSiteState[]): TrafficState {
    return this.records.apply(current, sites);
  }

  routingKey(state: TrafficState): string {
    return this.records.routingKey(state);
  }

  checkState(state: TrafficState, input: string): void {
    this.records.checkState(state, input);
  }

  async write(expected: ProviderSnapshot, desired: TrafficState): Promise<void> {
    const before = expected.state.detail as RecordDetail;
    const after = desired.detail as RecordDetail;
    if (after.values.length === 0) throw new PreconditionError(`refusing to delete every ${this.type} record of ${this.cfg.name}`);
    // the ETag read with the plan: a record set changed since answers 412; a record set created since answers 412
    const headers: Record<string, string> = before.etag ? { 'if-match': before.etag } : { 'if-none-match': '*' };
    const body = recordSetBody(this.type, after.values, after.ttl ?? before.ttl ?? 60, this.metadata);
    try {
      await this.call((arm) => arm.request('PUT', this.path, { apiVersion: HUB_DNS_API_VERSION, body, headers }));
    } catch (e) {
      if (e instanceof ArmError && (e.status === 412 || (e.status === 409 && !before.etag))) {
        throw new TrafficConflictError(`record set ${this.cfg.name} ${this.type}`, `the Hub answered ${e.status}: the ETag read with the plan no longer matches`);
      }
      throw e;
    }
  }

  health(_site: TrafficSiteState): HealthVerdict {
    return 'unmonitored';
  }

  confirmationBoundMs(): number {
    return 60_000;
  }

  pollIntervalMs(): number {
    return 5_000;
  }

  expectedAnswers(_snapshot: ProviderSnapshot, state: TrafficState): ExpectedAnswers {
    return this.records.expectedAnswers(state);
  }
}
