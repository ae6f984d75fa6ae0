/**
 * Traffic swap: move users between Azure Stack Hub sites through Azure Traffic Manager, an RFC 2136 DNS server or a
 * Hub-hosted DNS zone — health-gated, compare-and-swap, verified, undoable. One core (the controller) behind the
 * ADO task, the GitHub Action, the CLI (`stackhub-ha traffic <op>`) and the helm release's traffic coupling.
 */
import { hubSecretSource } from '../shared/secrets/hub-sources';
import type { Capability, RunContext } from '../platform/capability';
import type { InputName, InputReader, OutputDef } from '../platform/inputs';
import type { Platform } from '../platform/types';
import { ArmClient } from '../shared/azure-stack/arm';
import { connectHub } from '../shared/azure-stack';
import type { HubHttpOptions } from '../shared/azure-stack/net';

import { InputError } from '../shared/errors';
import { netOf } from '../shared/net';
import { findSite, loadSitesFile, type SitesFile } from '../shared/sites';
import { DEFAULT_GATES, mongoPrimaryGate, type GateCheck } from './gates';
import { mongoGateInputs, parseMongoGate, readMongoSite, type MongoGateConfig, type MongoGateInputName } from './mongo-gate';
import type { TrafficController, TrafficOperationResult, TrafficState } from './api';
import { azureArmCredential, describeAuth } from './azure-auth';
import { realClock } from './clock';
import { parseTrafficConfig, trafficProviderInputs, trafficSites, type TrafficConfig, type TrafficProviderInputName } from './config';
import { createController } from './controller';
import { parseWeights } from './plan';
import type { TrafficProvider } from './provider';
import { AzureStackDnsProvider, HUB_DNS_API_VERSION } from './providers/azure-stack-dns';
import { Rfc2136Provider } from './providers/rfc2136';
import { TRAFFIC_MANAGER_API_VERSION, TrafficManagerProvider } from './providers/traffic-manager';
import { defineInputs } from '../shared/inputs';

export type * from './api';
export { realClock, type TrafficClock } from './clock';
export { TRAFFIC_PROVIDERS, parseTrafficConfig, trafficGroups, trafficProviderInputs, trafficSites, type TrafficConfig, type TrafficProviderName } from './config';
export { TrafficConflictError, TrafficVerificationError, previousStateOf } from './errors';
export type { TrafficProvider, ProviderSnapshot, RoutingModel, HealthVerdict, ExpectedAnswers, DnsExpectation, TrafficSite } from './provider';
export { createController, type ControllerOptions } from './controller';

/** The sites that take part in traffic routing, checked against the provider ({@link trafficSites}). */
export type ResolvedTrafficSites = ReturnType<typeof trafficSites>;

/** Options of {@link createTrafficController}. */
export interface TrafficControllerOptions {
  /** The sites as {@link trafficSites} returned them when the inputs were parsed (default: derived here, once). */
  resolved?: ResolvedTrafficSites;
  /** The caller's input holding the sites file (named in errors about it; default `sitesFile`). */
  sitesInput?: string;
  /** Input names for messages about the operation's arguments. */
  inputNames?: { site?: string; swapSites?: string; weights?: string; state?: string };
  /** Use this provider instead of building one from the config (appliance GSLBs, tests). */
  provider?: TrafficProvider;
  /** The gate checks (default DEFAULT_GATES; the capability adds the MongoDB primary gate when configured). */
  gates?: readonly GateCheck[];
}

/**
 * The traffic controller for a provider configuration (from {@link parseTrafficConfig}) and a sites file. All the
 * safety logic (health gate, last-serving-site refusal, compare-and-swap, bounded verification, revert when the
 * confirmation fails) is inside; errors after the first read carry `previousState` (see TrafficFailureInfo).
 * Validates the sites against the provider at once (InputError naming `opts.sitesInput`).
 */
export function createTrafficController(config: TrafficConfig, sites: SitesFile, ctx: RunContext, opts: TrafficControllerOptions = {}): TrafficController {
  const sitesInput = opts.sitesInput ?? 'sitesFile';
  const { sites: tsites, recordType } = opts.resolved ?? trafficSites(config, sites, sitesInput);
  const clock = config.clock ?? realClock;
  // the run's network (agent proxy / HTTPS_PROXY+NO_PROXY, agent CA) trusting the config's CAs too
  const net = netOf(ctx).withCa(config.caCertificates);
  const { ca = [], proxyFor } = net.http();
  const http: HubHttpOptions = { ca, proxyFor, sleep: (ms) => clock.sleep(ms) };
  let provider = opts.provider;
  if (!provider && config.trafficManager) {
    const tm = config.trafficManager;
    ctx.log.debug(`Traffic Manager: ${tm.armEndpoint} as ${describeAuth(tm.auth)} (scope ${tm.scope}, sign-in ${tm.authorityHost})`);
    const credential = azureArmCredential(tm.auth, { authorityHost: tm.authorityHost, scope: tm.scope }, http, (t) => ctx.mask(t));
    const arm = new ArmClient({ endpoint: tm.armEndpoint, credential, scope: tm.scope, apiVersion: TRAFFIC_MANAGER_API_VERSION, http });
    provider = new TrafficManagerProvider({ profileId: tm.profileId }, tsites, { arm, clock, sitesInput });
  } else if (!provider && config.rfc2136) {
    provider = new Rfc2136Provider({ ...config.rfc2136, type: recordType! }, tsites, { exec: (f, a, o) => ctx.exec(f, a, o), tempDir: ctx.tempDir, clock });
  } else if (!provider && config.azureStackDns) {
    const d = config.azureStackDns;
    const hubSite = sites.sites.find((s) => s.name === d.hubSite)!;
    const armEndpoint = d.armEndpoint ?? hubSite.hub!.armEndpoint!;
    provider = new AzureStackDnsProvider({ ...d, type: recordType!, armEndpoint }, tsites, {
      clock,
      connect: async () => {
        const hub = await connectHub({
          armEndpoint,
          armEndpointInput: d.armEndpoint ? 'trafficAzureConnection' : sitesInput,
          auth: d.auth,
          tenantId: d.tenantId,
          tenantInput: 'trafficTenantId',
          http,
          apiVersion: HUB_DNS_API_VERSION,
          onToken: (t) => ctx.mask(t),
          debug: (l) => ctx.log.debug(l),
        });
        return hub.arm;
      },
    });
  }
  if (!provider) throw new Error(`bug: no provider for ${config.provider}`);
  return createController({
    provider,
    sites: tsites,
    ctx,
    clock,
    probe: config.probe,
    network: { ca, proxyFor },
    maxDnsWaitSeconds: config.maxDnsWaitSeconds,
    summary: config.summary,
    inputNames: opts.inputNames,
    gates: opts.gates,
  });
}

// ------------------------------------------------------------------------------------------------ the capability

/** The operations. */
export const TRAFFIC_COMMANDS = ['status', 'failover', 'drain', 'restore', 'weights', 'swap', 'undo'] as const;
/** An operation (the `command` input). */
export type TrafficCommand = (typeof TRAFFIC_COMMANDS)[number];

/** The operation inputs of the traffic capability (the provider inputs follow them). */
export const trafficOperationInputs = defineInputs([
  {
    name: 'command',
    label: 'Operation',
    type: 'pickList',
    options: TRAFFIC_COMMANDS,
    default: 'status',
    required: true,
    help: '`status` (routing per site), `failover` (make `site` the primary / give it all the traffic), `drain` / `restore` (take `site` out of rotation / put it back), `weights` (weighted shift), `swap` (exchange two sites\' priorities), `undo` (restore the `previousState` of an earlier run). Run concurrent pipelines under a lock (ADO exclusive lock check, GitHub `concurrency:`).',
  },
  {
    name: 'sitesFile',
    label: 'Sites file',
    type: 'filePath',
    required: true,
    help: 'The sites file (YAML/JSON, see the sites schema). Each site\'s `traffic` block maps it to the provider: `endpoint` (Traffic Manager endpoint name), `target` (where users are sent: the CNAME target or address), `probeUrl` (health gate), `resolvers` (DNS servers its clients use, for the final check).',
  },
  { name: 'site', label: 'Site', type: 'string', visibleRule: 'command = failover || command = drain || command = restore', help: 'failover / drain / restore: the site (name in the sites file).' },
  { name: 'swapSites', label: 'Sites to swap', type: 'list', visibleRule: 'command = swap', help: 'swap: the two sites whose priorities (or weights) are exchanged, e.g. `seattle, denver`.' },
  { name: 'weights', label: 'Weights', type: 'list', visibleRule: 'command = weights', help: 'weights: `site=weight` items (whole numbers 1-1000), e.g. `seattle=900, denver=100`. Weighted routing only.' },
  {
    name: 'state',
    label: 'State to restore',
    type: 'object',
    visibleRule: 'command = undo',
    help: 'undo: the `previousState` output of an earlier run (JSON, or `@file` holding it). Written back exactly, health-gated for the sites that gain traffic.',
  },
]);

/** The names of the traffic capability's inputs: its operation inputs, the MongoDB gate's and the provider's. */
export type TrafficInputName = InputName<typeof trafficOperationInputs> | MongoGateInputName | TrafficProviderInputName;

/** Outputs of the traffic capability. */
export const trafficOutputs: readonly OutputDef[] = [
  { name: 'previousState', description: 'JSON of the routing before the operation (set also when the run fails after a write): give it to `undo`.' },
  { name: 'state', description: 'JSON of the routing after the operation (status: the current routing).' },
  { name: 'changed', description: '`true` when the operation wrote a change that is in force, else `false`.' },
  { name: 'verifiedAfterMs', description: 'Milliseconds from the write to the verified state (when something was written).' },
  { name: 'checks', description: 'JSON array of the checks made: {name, ok, detail}.' },
];

/** Parsed inputs of the traffic capability. */
export interface TrafficInputs {
  command: TrafficCommand;
  sites: SitesFile;
  config: TrafficConfig;
  /** The routed sites, checked against the provider when parsed. */
  resolved: ResolvedTrafficSites;
  site?: string;
  swap?: [string, string];
  weights?: Record<string, number>;
  state?: TrafficState;
  /** The MongoDB primary gate (failover / restore with mongoPrimaryGate set). */
  mongoGate?: MongoGateConfig;
}

/** Outputs of the traffic capability. */
export interface TrafficOutputs {
  previousState: TrafficState;
  state: TrafficState;
  changed: string;
  verifiedAfterMs?: number;
  checks: TrafficOperationResult['checks'];
}

function trafficSite(sites: SitesFile, name: string, input: string): string {
  const s = findSite(sites, name, input);
  if (!s.traffic) throw new InputError(input, `site ${name} has no traffic block in the sites file`);
  return s.name;
}

/** Parses the traffic capability's inputs (every input, before anything runs). */
export function parseTrafficInputs(read: InputReader<TrafficInputName>, platform: Platform): TrafficInputs {
  const command = read.choice<TrafficCommand>('command') ?? 'status';
  const sitesPath = read.filePath('sitesFile');
  if (!sitesPath) throw new InputError('sitesFile', 'is required');
  const sites = loadSitesFile(sitesPath, 'sitesFile');
  const config = parseTrafficConfig(read, platform);
  if (!config) throw new InputError('trafficProvider', `is required: one of ${trafficProviderInputs[0].options!.join(', ')}`);
  const out: TrafficInputs = { command, sites, config, resolved: trafficSites(config, sites, 'sitesFile') };
  if (command === 'failover' || command === 'drain' || command === 'restore') {
    const site = read.string('site');
    if (!site) throw new InputError('site', `is required for ${command}`);
    out.site = trafficSite(sites, site, 'site');
    out.mongoGate = parseMongoGate(read, platform, sites, out.site);
  } else if (command === 'swap') {
    const list = read.list('swapSites');
    if (list.length !== 2) throw new InputError('swapSites', `expected exactly two sites, got ${list.length}`);
    if (list[0] === list[1]) throw new InputError('swapSites', `expected two different sites, got '${list[0]}' twice`);
    out.swap = [trafficSite(sites, list[0], 'swapSites'), trafficSite(sites, list[1], 'swapSites')];
  } else if (command === 'weights') {
    out.weights = parseWeights(read.list('weights'), 'weights');
    for (const name of Object.keys(out.weights)) trafficSite(sites, name, 'weights');
  } else if (command === 'undo') {
    const state = read.object<TrafficState>('state');
    if (!state) throw new InputError('state', 'is required for undo: the previousState output of an earlier run');
    if (typeof state !== 'object' || Array.isArray(state) || typeof state.provider !== 'string' || !Array.isArray(state.sites)) {
      throw new InputError('state', 'expected the previousState JSON of an earlier run ({provider, routing, sites, detail, ...})');
    }
    if (state.provider !== config.provider) throw new InputError('state', `was captured by the ${state.provider} provider, not ${config.provider}`);
    out.state = state;
  }
  return out;
}

/** The traffic swap capability. */
export const trafficSwap: Capability<TrafficInputs, TrafficOutputs, TrafficInputName> = {
  name: 'traffic-swap',
  title: 'Stack Hub traffic swap',
  inputs: [...trafficOperationInputs, ...mongoGateInputs, ...trafficProviderInputs],
  outputs: trafficOutputs,
  parse: (read, platform) => parseTrafficInputs(read, platform),
  secretSourcesDoc: {
    keyvault: 'azure-stack-dns only: the Hub that hosts the zone, through its service connection (`trafficHubConnection` / `trafficAzureConnection`); a secret needed to reach that Hub cannot itself be a keyvault:// reference',
  },
  // keyvault:// reads the Hub Key Vault of the Hub the DNS provider signs in to (the public-cloud Traffic Manager
  // credential is not a Hub credential)
  secretSources: (read, platform) =>
    read.choice<string>('trafficProvider') === 'azure-stack-dns'
      ? { hub: hubSecretSource(read, platform, { azureRmConnection: 'trafficAzureConnection', hubConnection: 'trafficHubConnection', caCertificate: 'trafficCaCertificate' }) }
      : {},
  async run(inputs, ctx) {
    const gate = inputs.mongoGate;
    const gates = gate ? [...DEFAULT_GATES, mongoPrimaryGate({ mode: gate.mode, maxLagSeconds: gate.maxLagSeconds, read: (site) => readMongoSite(gate, site, ctx) })] : undefined;
    const ctl = createTrafficController(inputs.config, inputs.sites, ctx, { gates, resolved: inputs.resolved });
    if (inputs.command === 'status') {
      const state = await ctl.status();
      return { previousState: state, state, changed: 'false', checks: [] };
    }
    let r: TrafficOperationResult;
    switch (inputs.command) {
      case 'failover':
        r = await ctl.failover(inputs.site!);
        break;
      case 'drain':
        r = await ctl.drain(inputs.site!);
        break;
      case 'restore':
        r = await ctl.restore(inputs.site!);
        break;
      case 'swap':
        r = await ctl.swap(inputs.swap![0], inputs.swap![1]);
        break;
      case 'weights':
        r = await ctl.weights(inputs.weights!);
        break;
      default:
        r = await ctl.undo(inputs.state!);
    }
    return { previousState: r.previousState, state: r.state, changed: r.noChange ? 'false' : 'true', verifiedAfterMs: r.verifiedAfterMs, checks: r.checks };
  },
};
