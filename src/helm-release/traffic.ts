/**
 * Optional traffic coupling of a release, ONLY through the TrafficController contract (src/traffic/api.ts, built by
 * src/traffic's createTrafficController): each site is drained before its upgrade (the controller verifies the
 * change and waits the DNS TTL), upgraded and verified, then restored; a failed site stays drained; rollback-all
 * puts the routing back to the state captured before the run. The provider inputs are the traffic swap's own.
 */
import type { RunContext } from '../platform/capability';
import type { InputName, InputReader } from '../platform/inputs';
import type { Platform } from '../platform/types';
import type { SitesFile } from '../shared/sites';
import type { TrafficController } from '../traffic/api';
import { createTrafficController, parseTrafficConfig, trafficProviderInputs, trafficSites, type TrafficConfig } from '../traffic';
import { defineInputs } from '../shared/inputs';

/** A parsed coupling: the provider and how to make its controller at run time. */
export interface TrafficCoupling {
  provider: string;
  /** Extra wait after a drain, on top of the DNS TTL the controller already waits. */
  drainWaitMs: number;
  create(ctx: RunContext): TrafficController;
}

/** The traffic inputs of the release task: the traffic swap's provider inputs (empty provider = no coupling), plus the extra drain wait. */
export function trafficInputs(group: string) {
  return defineInputs([
    ...trafficProviderInputs,
    {
      name: 'drainWaitSeconds',
      label: 'Extra wait after drain (seconds)',
      type: 'number',
      decimal: true,
      default: '0',
      group,
      help: 'Extra time to wait after a site is drained, before it is upgraded (e.g. for long-lived connections to end). The DNS TTL itself is already waited by the traffic controller (capped by trafficMaxDnsWaitSeconds).',
    },
  ]);
}

/** The names of the coupling's inputs. */
export type TrafficCouplingInputName = InputName<ReturnType<typeof trafficInputs>>;

/** Parses the coupling; undefined when `trafficProvider` is empty. Checks the sites against the provider at once. */
export function parseTrafficCoupling(
  read: InputReader<TrafficCouplingInputName>,
  platform: Platform,
  sites: SitesFile,
  adjust?: (config: TrafficConfig) => void,
): TrafficCoupling | undefined {
  const drainWaitMs = (read.number('drainWaitSeconds', { min: 0, max: 86400 }) ?? 0) * 1000;
  const config = parseTrafficConfig(read, platform);
  if (!config) return undefined;
  adjust?.(config);
  const resolved = trafficSites(config, sites, 'sitesFile');
  // the release's own summary lists the traffic steps; the controller adds none per operation
  config.summary = false;
  return {
    provider: config.provider,
    drainWaitMs,
    create: (ctx) => createTrafficController(config, sites, ctx, { sitesInput: 'sitesFile', resolved }),
  };
}
