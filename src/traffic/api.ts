/**
 * The contract through which other capabilities (the helm release's traffic coupling, the DR templates) move users
 * between sites. The traffic capability (src/traffic/) implements it for every provider; the safety logic (health
 * gate, last-serving-site refusal, compare-and-swap, verification, revert on failed confirmation) lives behind it,
 * so a caller cannot bypass it.
 */

/** One site as the GSLB sees it. */
export interface TrafficSiteState {
  site: string;
  /** The GSLB's name for the site (Traffic Manager endpoint name, DNS owner). */
  endpoint: string;
  /** Serving users (enabled / in the record set). */
  enabled: boolean;
  priority?: number;
  weight?: number;
  /** Provider health: Traffic Manager endpointMonitorStatus, or 'unmonitored' for plain DNS. */
  health?: string;
  /** Where users of this site are sent (the endpoint's target, the record value), when known. */
  target?: string;
}

/** The routing state of every site, as captured before or after an operation. Serialisable as JSON. */
export interface TrafficState {
  provider: string;
  /** How the provider routes: priority, weighted, or the records a DNS name holds. */
  routing: string;
  sites: TrafficSiteState[];
  /** ISO time of capture. */
  capturedAt: string;
  /** Provider-specific data that `undo` needs to restore exactly this state (record values, TTL, ETag ...). */
  detail?: unknown;
}

/** A check made during an operation (health probe, provider confirmation, DNS answer). */
export interface TrafficCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What an operation did. `previousState` is what `undo` takes to put everything back. */
export interface TrafficOperationResult {
  operation: string;
  previousState: TrafficState;
  state: TrafficState;
  checks: TrafficCheck[];
  /** Milliseconds from the write to the verified state (undefined when nothing was written). */
  verifiedAfterMs?: number;
  /** True when the state already was as asked and nothing was written. */
  noChange: boolean;
}

/** Moves traffic; every method applies the same safety rules whatever the provider. */
export interface TrafficController {
  status(): Promise<TrafficState>;
  /** Take a site out of rotation (refused for the last site that serves traffic). */
  drain(site: string): Promise<TrafficOperationResult>;
  /** Put a site back (health-gated). */
  restore(site: string): Promise<TrafficOperationResult>;
  /** Make a site the primary / give it all the weight (health-gated). */
  failover(site: string): Promise<TrafficOperationResult>;
  /** Weighted shift, site → weight 1..1000 (health-gated for sites that gain weight). */
  weights(weights: Record<string, number>): Promise<TrafficOperationResult>;
  /** Exchange two sites' priorities. */
  swap(a: string, b: string): Promise<TrafficOperationResult>;
  /** Restore exactly a state captured before an earlier operation. */
  undo(state: TrafficState): Promise<TrafficOperationResult>;
  /** The provider's name (`azure-traffic-manager`, `rfc2136`, `azure-stack-dns`, ...). Optional so test doubles need not set it. */
  readonly provider?: string;
}

/**
 * What a failed operation carries besides its message: every error thrown by a {@link TrafficController} method
 * after the state was read has `previousState` (what `undo` takes) and `outputs.previousState` (set as the step's
 * output even though the step fails), and `reverted` when the change was written, not confirmed, and put back.
 */
export interface TrafficFailureInfo {
  previousState?: TrafficState;
  /** True when a write was made and then reverted; false when a write was made and could NOT be reverted. */
  reverted?: boolean;
  /** True when something was written (and possibly reverted). */
  written?: boolean;
}
