/**
 * The provider interface: what a GSLB or DNS back end must offer so that the operations and the safety logic
 * (src/traffic/controller.ts) can drive it. A provider reads and writes routing; it never decides what an operation
 * means, never probes health itself, never waits for TTLs. See docs/traffic-providers.md for how to add one
 * (F5 BIG-IP DNS, Infoblox DTC, ...).
 */
import type { TrafficSiteState, TrafficState } from './api';

/**
 * How a provider routes users, which decides what each operation changes (src/traffic/plan.ts):
 * - `priority`: every site has a unique priority; users go to the best enabled, healthy one (Traffic Manager
 *   Priority, a GSLB pool in priority/global-availability mode).
 * - `weighted`: enabled sites share users by weight 1–1000 (Traffic Manager Weighted, an F5 pool with ratios).
 * - `single`: exactly one site serves (a CNAME); the sites file order is the priority order.
 * - `multi`: every enabled site serves (A/AAAA records, Traffic Manager MultiValue/Performance/Geographic/Subnet).
 */
export type RoutingModel = 'priority' | 'weighted' | 'single' | 'multi';

/** The answer users get for the public name: checked through the sites' resolvers after the TTL. */
export interface DnsExpectation {
  /** The name users resolve, e.g. `ratings.trafficmanager.net` or `ratings.contoso.local`. */
  name: string;
  type: 'CNAME' | 'A' | 'AAAA';
  /** TTL of the answers resolvers may still cache from before the change (seconds). */
  ttlSeconds: number;
}

/** What a provider read: the state (with the provider detail that undo needs) and how to check it. */
export interface ProviderSnapshot {
  /** Every site of the sites file that takes part in traffic routing, in the file's order. */
  state: TrafficState;
  model: RoutingModel;
  /** The public name and TTL, when the provider knows them. */
  dns?: DnsExpectation;
  /** Extra lines for the summary (e.g. "zone contoso.local lives on the Hub of site seattle"). */
  notes?: string[];
  /**
   * Endpoints of the GSLB that are not in the sites file but still take part in routing (Traffic Manager endpoints
   * the sites file does not name), as site states whose `site` is empty. The controller needs them to tell where
   * the GSLB sends users (an enabled, Online endpoint of better priority keeps the users). Never written.
   */
  others?: TrafficSiteState[];
}

/**
 * The provider's own verdict on a site's health (the GSLB's view, see {@link TrafficProvider.healthView}):
 * - `confirmed`: the GSLB reports it serving (Traffic Manager `Online`);
 * - `pending`: not yet known (`CheckingEndpoint`; a disabled endpoint, which the GSLB does not monitor) — before a
 *   write the controller re-reads within the bound; after a write it keeps polling within the bound;
 * - `failed`: the GSLB reports it unhealthy (`Degraded`, `Stopped`, `Inactive`, `Disabled` while enabled);
 * - `unmonitored`: the provider has no health of its own (plain DNS, monitoring off): the probe is the only gate
 *   and the write itself confirms.
 */
export type HealthVerdict = 'confirmed' | 'pending' | 'failed' | 'unmonitored';

/** Answers a resolver may give after the change. */
export interface ExpectedAnswers {
  /** The exact answer set wanted (one CNAME target; the full A set), when it is determined. */
  exact?: string[];
  /** Answers that are acceptable (all enabled targets); every answer must be one of these. */
  allowed: string[];
}

/** A GSLB or DNS back end. Every method may throw typed errors (src/shared/errors.ts, ./errors.ts). */
export interface TrafficProvider {
  /** The provider's input value, e.g. `azure-traffic-manager`. */
  readonly name: string;

  /** Reads the current routing (one consistent read). */
  read(): Promise<ProviderSnapshot>;

  /**
   * The full state to write when the sites change to `sites` (enabled / priority / weight per site), starting from
   * `current` (whose `detail` holds what the provider needs: record values, endpoints not in the sites file, ...).
   * Pure: no I/O.
   */
  apply(current: TrafficState, sites: readonly TrafficSiteState[]): TrafficState;

  /**
   * A canonical string of everything routing depends on. Two states route users alike when their keys are equal
   * (capture time, ETags and health are left out). Pure.
   */
  routingKey(state: TrafficState): string;

  /**
   * Checks a state given to `undo` (captured by this provider for these sites, well-formed, unique priorities,
   * weights in range). Throws InputError naming `input`. Pure.
   */
  checkState(state: TrafficState, input: string): void;

  /**
   * Writes `desired` if and only if the routing is still what `expected` holds (compare-and-swap: re-read and
   * compare, an UPDATE prerequisite, an If-Match ETag). Throws {@link TrafficConflictError} when it is not, having
   * written nothing.
   */
  write(expected: ProviderSnapshot, desired: TrafficState): Promise<void>;

  /**
   * What the GSLB's own health view is, for messages and the summary (e.g. `Traffic Manager endpointMonitorStatus`);
   * undefined when the provider has none (plain DNS): then every verdict is `unmonitored` and the HTTP probe is the
   * only health gate. The controller, not the provider, decides what a verdict allows.
   */
  readonly healthView: string | undefined;

  /** The provider's own health verdict for a site or an endpoint in {@link ProviderSnapshot.others}. Pure. */
  health(site: TrafficSiteState): HealthVerdict;

  /** How long the provider may take to confirm a change (Traffic Manager: interval × (tolerated + 1) + timeout). */
  confirmationBoundMs(snapshot: ProviderSnapshot): number;

  /** How often to re-read while waiting for confirmation. */
  pollIntervalMs(snapshot: ProviderSnapshot): number;

  /** What resolvers should answer for the public name once `state` is in force (undefined: no DNS check). */
  expectedAnswers(snapshot: ProviderSnapshot, state: TrafficState): ExpectedAnswers | undefined;
}

/** A site as the sites file describes it to the traffic operations. */
export interface TrafficSite {
  name: string;
  endpoint?: string;
  target?: string;
  probeUrl?: string;
  resolvers: string[];
}
