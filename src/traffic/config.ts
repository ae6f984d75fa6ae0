/**
 * The traffic provider's configuration: input definitions shared by every task that moves traffic (this
 * capability and the helm release's traffic coupling include the SAME definitions), their parser, and the check of
 * the sites file against the provider. The input fragment `{ defs, groups, parse }` is traffic-inputs.ts, the
 * parser traffic-parse.ts; both are re-exported here.
 */
import { InputError } from '../shared/errors';
import type { SitesFile } from '../shared/sites';
import type { TrafficSite } from './provider';
import { recordTypeFor, type RecordType } from './providers/records';
import { normName, parseResolver } from './resolvers';
import type { TrafficConfig } from './traffic-parse';

export { TRAFFIC_PROVIDERS, trafficProviderInputs, trafficGroups, type TrafficGroupOptions, type TrafficProviderInputName, type TrafficProviderName } from './traffic-inputs';
export {
  parseTrafficConfig,
  parseTsigKey,
  type AzureStackDnsSettings,
  type Rfc2136Settings,
  type TrafficConfig,
  type TrafficManagerSettings,
} from './traffic-parse';

/**
 * The sites that take part in traffic routing (those with a `traffic` block), checked against the provider:
 * Traffic Manager needs `traffic.endpoint`; DNS providers need `traffic.target` (one kind for all sites); resolvers
 * must be IP addresses; the Hub DNS site must exist and have `hub.armEndpoint`. Errors name `input` (the sites file).
 */
export function trafficSites(config: TrafficConfig, sites: SitesFile, input = 'sitesFile'): { sites: TrafficSite[]; recordType?: RecordType } {
  const out: TrafficSite[] = sites.sites
    .filter((s) => s.traffic)
    .map((s) => ({
      name: s.name,
      endpoint: s.traffic!.endpoint,
      target: s.traffic!.target,
      probeUrl: s.traffic!.probeUrl,
      resolvers: (s.traffic!.resolvers ?? []).map((r) => parseResolver(r, input)),
    }));
  if (out.length === 0) throw new InputError(input, 'no site has a traffic block (traffic.endpoint / target / probeUrl / resolvers)');
  for (const s of out) {
    if (s.probeUrl && !/^https?:\/\/[^/\s]+/i.test(s.probeUrl)) throw new InputError(input, `site ${s.name}: traffic.probeUrl '${s.probeUrl}' is not an http(s) URL`);
  }
  if (config.provider === 'azure-traffic-manager') {
    const missing = out.filter((s) => !s.endpoint);
    if (missing.length) throw new InputError(input, `azure-traffic-manager: ${missing.map((s) => `site ${s.name}`).join(', ')} has no traffic.endpoint (the endpoint's name in the profile)`);
    const dup = out.find((s, i) => out.findIndex((x) => x.endpoint!.toLowerCase() === s.endpoint!.toLowerCase()) !== i);
    if (dup) throw new InputError(input, `site ${dup.name}: traffic.endpoint '${dup.endpoint}' is used by another site too`);
    return { sites: out };
  }
  const wanted = config.rfc2136?.type ?? config.azureStackDns?.type ?? 'auto';
  const recordType = recordTypeFor(out, wanted, input);
  const dup = out.find((s, i) => out.findIndex((x) => normName(x.target!) === normName(s.target!)) !== i);
  if (dup) throw new InputError(input, `site ${dup.name}: traffic.target '${dup.target}' is used by another site too`);
  if (config.azureStackDns) {
    const hub = sites.sites.find((s) => s.name === config.azureStackDns!.hubSite);
    if (!hub) throw new InputError('trafficDnsHub', `unknown site '${config.azureStackDns.hubSite}': expected one of ${sites.sites.map((s) => s.name).join(', ')}`);
    if (!hub.hub?.armEndpoint && !config.azureStackDns.armEndpoint) throw new InputError(input, `site ${hub.name}: hub.armEndpoint is required (its Hub hosts the DNS zone)`);
  }
  return { sites: out, recordType };
}
