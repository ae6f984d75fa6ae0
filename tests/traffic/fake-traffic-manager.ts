/**
 * Azure Traffic Manager's profile/endpoint resource semantics, for the local ARM server (tests/helpers/arm-servers.ts):
 * GET profile (with every endpoint; no list-endpoints call), PUT profile, PATCH endpoint, api-version 2022-04-01
 * only; unique priorities 1–1000 per profile and weights 1–1000 (400 otherwise); endpoint `type` answered as
 * `Microsoft.Network/trafficManagerProfiles/externalEndpoints`; `endpointMonitorStatus` is `Disabled` for a disabled
 * endpoint and otherwise follows a script the test sets per endpoint (one status per GET, the last one sticks).
 * Like the real service, a body carrying read-only properties (monitor statuses, `dnsConfig.fqdn`) is refused.
 */
import type { ArmAnswer, ArmRequest } from '../helpers/arm-servers';

export const API = '2022-04-01';

export interface FakeEndpoint {
  name: string;
  target: string;
  status: 'Enabled' | 'Disabled';
  priority?: number;
  weight?: number;
  /** Monitor status while enabled. */
  monitor: string;
}

/** The profile and its endpoints. */
export class FakeTrafficManager {
  readonly id: string;
  routing: string;
  ttl = 60;
  interval = 30;
  timeout = 10;
  tolerated = 3;
  endpoints: FakeEndpoint[];
  /** Statuses an endpoint shows on successive GETs (after the next write that enables it, or from now). */
  scripts = new Map<string, string[]>();
  /** Status scripted for an endpoint when it becomes enabled without a script: CheckingEndpoint then Online. */
  onEnable: string[] = ['CheckingEndpoint', 'Online'];
  /** Called before a GET is answered (a test changes the profile "as someone else"). */
  beforeGet?: (n: number) => void;
  gets = 0;

  constructor(
    readonly subscription: string,
    readonly group: string,
    readonly name: string,
    routing: string,
    endpoints: FakeEndpoint[],
  ) {
    this.id = `/subscriptions/${subscription}/resourceGroups/${group}/providers/Microsoft.Network/trafficManagerProfiles/${name}`;
    this.routing = routing;
    this.endpoints = endpoints;
  }

  private endpointJson(e: FakeEndpoint, forGet: boolean): unknown {
    let monitor = e.status === 'Disabled' ? 'Disabled' : e.monitor;
    if (forGet && e.status === 'Enabled') {
      const s = this.scripts.get(e.name);
      if (s && s.length) {
        monitor = s.length > 1 ? s.shift()! : s[0];
        e.monitor = monitor;
      }
    }
    return {
      id: `${this.id}/externalEndpoints/${e.name}`,
      name: e.name,
      type: 'Microsoft.Network/trafficManagerProfiles/externalEndpoints',
      properties: {
        target: e.target,
        endpointStatus: e.status,
        ...(e.weight !== undefined ? { weight: e.weight } : {}),
        ...(e.priority !== undefined ? { priority: e.priority } : {}),
        endpointLocation: null,
        endpointMonitorStatus: monitor,
        alwaysServe: 'Disabled',
        customHeaders: [],
      },
    };
  }

  profileJson(forGet = false): Record<string, unknown> {
    return {
      id: this.id,
      name: this.name,
      type: 'Microsoft.Network/trafficManagerProfiles',
      location: 'global',
      tags: { app: 'ratings' },
      properties: {
        profileStatus: 'Enabled',
        trafficRoutingMethod: this.routing,
        dnsConfig: { relativeName: this.name, fqdn: `${this.name}.trafficmanager.test`, ttl: this.ttl },
        monitorConfig: {
          profileMonitorStatus: 'Online',
          protocol: 'HTTPS',
          port: 443,
          path: '/healthz',
          intervalInSeconds: this.interval,
          timeoutInSeconds: this.timeout,
          toleratedNumberOfFailures: this.tolerated,
          customHeaders: [],
          expectedStatusCodeRanges: [{ min: 200, max: 299 }],
        },
        endpoints: this.endpoints.map((e) => this.endpointJson(e, forGet)),
        trafficViewEnrollmentStatus: 'Disabled',
        maxReturn: null,
      },
    };
  }

  private bad(message: string): ArmAnswer {
    return { status: 400, body: { error: { code: 'BadRequest', message } } };
  }

  /** Validates endpoint values; undefined when fine. */
  private check(list: FakeEndpoint[]): string | undefined {
    const seen = new Set<number>();
    for (const e of list) {
      if (e.status !== 'Enabled' && e.status !== 'Disabled') return `invalid endpointStatus '${String(e.status)}'`;
      if (e.weight !== undefined && (!Number.isInteger(e.weight) || e.weight < 1 || e.weight > 1000)) return `The weight of endpoint ${e.name} must be between 1 and 1000.`;
      if (this.routing === 'Priority' || e.priority !== undefined) {
        if (e.priority === undefined || !Number.isInteger(e.priority) || e.priority < 1 || e.priority > 1000) return `The priority of endpoint ${e.name} must be between 1 and 1000.`;
        if (seen.has(e.priority)) return `Priority values must be unique in a profile: ${e.priority} is used twice.`;
        seen.add(e.priority);
      }
    }
    return undefined;
  }

  private enabledNow(before: FakeEndpoint[], after: FakeEndpoint[]): void {
    for (const a of after) {
      const b = before.find((x) => x.name === a.name);
      if (a.status === 'Enabled' && b?.status !== 'Enabled' && !this.scripts.get(a.name)?.length) this.scripts.set(a.name, [...this.onEnable]);
    }
  }

  /**
   * Read-only properties in a request body (the service sets them; Microsoft's 2022-04-01 request examples never
   * send them): `dnsConfig.fqdn` (readOnly in the spec), `monitorConfig.profileMonitorStatus`, every endpoint's
   * `endpointMonitorStatus`. Answered 400 so that a client echoing them back fails its test.
   */
  static readOnlyIn(body: unknown, endpointOnly = false): string | undefined {
    const b = (body ?? {}) as { properties?: Record<string, unknown> & { dnsConfig?: Record<string, unknown>; monitorConfig?: Record<string, unknown>; endpoints?: { properties?: Record<string, unknown> }[] } };
    const p = b.properties ?? {};
    if (endpointOnly) return p.endpointMonitorStatus !== undefined ? 'properties.endpointMonitorStatus' : undefined;
    if (p.dnsConfig?.fqdn !== undefined) return 'properties.dnsConfig.fqdn';
    if (p.monitorConfig?.profileMonitorStatus !== undefined) return 'properties.monitorConfig.profileMonitorStatus';
    const i = (p.endpoints ?? []).findIndex((e) => e?.properties?.endpointMonitorStatus !== undefined);
    return i >= 0 ? `properties.endpoints[${i}].properties.endpointMonitorStatus` : undefined;
  }

  private readOnly(field: string): ArmAnswer {
    return { status: 400, body: { error: { code: 'BadRequest', message: `The request contains the read-only property '${field}', which is set by the service and cannot be written.` } } };
  }

  /** The ARM handler. */
  handle(r: ArmRequest): ArmAnswer {
    if (r.query['api-version'] !== API) return this.bad(`The api-version '${r.query['api-version']}' is not supported by Microsoft.Network/trafficManagerProfiles in this test.`);
    const p = r.path.toLowerCase();
    const id = this.id.toLowerCase();
    if (p === id && r.method === 'GET') {
      this.beforeGet?.(++this.gets);
      return { status: 200, body: this.profileJson(true) };
    }
    if (p === id && r.method === 'PUT') {
      const body = r.body as { location?: string; properties?: { trafficRoutingMethod?: string; endpoints?: { name: string; type: string; properties: Record<string, unknown> }[] } };
      if (!body?.properties?.endpoints || body.location !== 'global') return this.bad('The profile must have location global and endpoints.');
      const ro = FakeTrafficManager.readOnlyIn(body);
      if (ro) return this.readOnly(ro);
      const before = this.endpoints.map((e) => ({ ...e }));
      const next: FakeEndpoint[] = body.properties.endpoints.map((e) => {
        const old = this.endpoints.find((x) => x.name.toLowerCase() === e.name.toLowerCase());
        return {
          name: e.name,
          target: String(e.properties.target ?? old?.target),
          status: e.properties.endpointStatus as 'Enabled' | 'Disabled',
          priority: e.properties.priority as number | undefined,
          weight: e.properties.weight as number | undefined,
          monitor: old?.monitor ?? 'CheckingEndpoint',
        };
      });
      const why = this.check(next);
      if (why) return this.bad(why);
      if (body.properties.trafficRoutingMethod) this.routing = body.properties.trafficRoutingMethod;
      this.endpoints = next;
      this.enabledNow(before, next);
      return { status: 200, body: this.profileJson() };
    }
    const m = new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(externalendpoints)/([^/]+)$`).exec(p);
    if (m && r.method === 'PATCH') {
      const ep = this.endpoints.find((e) => e.name.toLowerCase() === m[2]);
      if (!ep) return { status: 404, body: { error: { code: 'NotFound', message: `endpoint ${m[2]}` } } };
      const ro = FakeTrafficManager.readOnlyIn(r.body, true);
      if (ro) return this.readOnly(ro);
      const props = ((r.body as { properties?: Record<string, unknown> })?.properties ?? {}) as Record<string, unknown>;
      const before = this.endpoints.map((e) => ({ ...e }));
      const updated = { ...ep };
      if (props.endpointStatus !== undefined) updated.status = props.endpointStatus as 'Enabled' | 'Disabled';
      if (props.priority !== undefined) updated.priority = props.priority as number;
      if (props.weight !== undefined) updated.weight = props.weight as number;
      const next = this.endpoints.map((e) => (e === ep ? updated : e));
      const why = this.check(next);
      if (why) return this.bad(why);
      this.endpoints = next;
      this.enabledNow(before, next);
      return { status: 200, body: this.endpointJson(updated, false) };
    }
    return { status: 404, body: { error: { code: 'ResourceNotFound', message: `${r.method} ${r.path}` } } };
  }
}
