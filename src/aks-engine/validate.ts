/**
 * Validation of a cluster definition: the rules aks-engine-azurestack applies on Azure Stack Hub (see NOTES.md of the
 * reference) plus the HA rules of the pattern (3 or 5 masters, at least 2 workers). Pure: one problem per finding,
 * each a single line naming the apimodel path; the caller maps paths to inputs.
 */
import * as semver from 'semver';
import type { ApiModel, PathSources } from './apimodel';
import { HUB_NODE_GUIDANCE, REJECTED_DISTROS, SUPPORTED_DISTROS } from './defaults';

/** One finding. */
export interface Problem {
  severity: 'error' | 'warning';
  /** apimodel path, e.g. `properties.masterProfile.count`. */
  path: string;
  message: string;
}

/** What validation needs besides the model. */
export interface ValidationContext {
  /** The `location` input. */
  location: string;
  allowNonHA: boolean;
  /** Kubernetes versions the resolved aks-engine-azurestack can create (from get-versions); undefined = not checked. */
  creatableVersions?: string[];
  /** e.g. `v0.85.0`, for messages. */
  aksEngineVersion?: string;
  /** Distros the resolved aks-engine-azurestack accepts (from a generate dry run); undefined = the known list. */
  supportedDistros?: string[];
}

export const DNS_PREFIX = /^[A-Za-z][A-Za-z0-9-]{1,43}[A-Za-z0-9]$/;
export const POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;

const err = (path: string, message: string): Problem => ({ severity: 'error', path, message });
const warn = (path: string, message: string): Problem => ({ severity: 'warning', path, message });

/** Validates a model. Returns every problem found (errors and warnings), in a stable order. */
export function validateApiModel(model: ApiModel, ctx: ValidationContext): Problem[] {
  const out: Problem[] = [];
  const p = model.properties ?? ({} as ApiModel['properties']);
  if (model.apiVersion !== undefined && model.apiVersion !== 'vlabs') out.push(err('apiVersion', `apiVersion is '${model.apiVersion}': expected vlabs`));

  // location and the custom cloud
  if (!model.location) out.push(err('location', 'location is required with customCloudProfile (the Hub region)'));
  else if (model.location !== ctx.location) out.push(err('location', `location '${model.location}' does not match the location input '${ctx.location}'`));
  const ccp = p.customCloudProfile;
  if (!ccp) out.push(err('properties.customCloudProfile', 'customCloudProfile is required on Azure Stack Hub'));
  else {
    const loc = model.location || ctx.location;
    if (!ccp.portalURL) out.push(err('properties.customCloudProfile.portalURL', 'customCloudProfile.portalURL is required'));
    else if (!ccp.portalURL.toLowerCase().startsWith(`https://portal.${loc.toLowerCase()}.`)) {
      out.push(err('properties.customCloudProfile.portalURL', `customCloudProfile.portalURL '${ccp.portalURL}' must start with https://portal.${loc}.`));
    }
    if (ccp.identitySystem !== undefined && !['azure_ad', 'adfs'].includes(ccp.identitySystem)) {
      out.push(err('properties.customCloudProfile.identitySystem', `customCloudProfile.identitySystem '${ccp.identitySystem}': expected azure_ad or adfs`));
    }
    if (ccp.authenticationMethod !== undefined && !['client_secret', 'client_certificate'].includes(ccp.authenticationMethod)) {
      out.push(err('properties.customCloudProfile.authenticationMethod', `customCloudProfile.authenticationMethod '${ccp.authenticationMethod}': expected client_secret or client_certificate`));
    }
  }

  // orchestrator
  const op = p.orchestratorProfile ?? {};
  const version = op.orchestratorVersion;
  const kc = op.kubernetesConfig ?? {};
  if (op.orchestratorType !== undefined && op.orchestratorType !== 'Kubernetes') {
    out.push(err('properties.orchestratorProfile.orchestratorType', `orchestratorProfile.orchestratorType '${op.orchestratorType}': expected Kubernetes`));
  }
  if (!version) out.push(err('properties.orchestratorProfile.orchestratorVersion', 'orchestratorProfile.orchestratorVersion is required (a version this aks-engine-azurestack can create)'));
  else if (!semver.valid(version)) out.push(err('properties.orchestratorProfile.orchestratorVersion', `orchestratorProfile.orchestratorVersion '${version}' is not a version like 1.33.10`));
  else {
    if (op.orchestratorRelease && `${semver.major(version)}.${semver.minor(version)}` !== op.orchestratorRelease) {
      out.push(err('properties.orchestratorProfile.orchestratorRelease', `orchestratorProfile.orchestratorRelease '${op.orchestratorRelease}' does not match orchestratorVersion ${version}`));
    }
    if (ctx.creatableVersions && !ctx.creatableVersions.includes(version)) {
      out.push(
        err(
          'properties.orchestratorProfile.orchestratorVersion',
          `Kubernetes ${version} is not a version aks-engine-azurestack${ctx.aksEngineVersion ? ` ${ctx.aksEngineVersion}` : ''} can create on Azure Stack Hub: expected one of ${ctx.creatableVersions.join(', ')}`,
        ),
      );
    }
    if (semver.gte(version, '1.21.0') && kc.useCloudControllerManager !== true) {
      out.push(err('properties.orchestratorProfile.kubernetesConfig.useCloudControllerManager', `kubernetesConfig.useCloudControllerManager must be true for Kubernetes 1.21 and later (version ${version})`));
    }
    if (semver.gte(version, '1.24.0') && kc.containerRuntime === 'docker') {
      out.push(err('properties.orchestratorProfile.kubernetesConfig.containerRuntime', `kubernetesConfig.containerRuntime docker is not supported for Kubernetes 1.24 and later: use containerd`));
    }
  }
  if (kc.useInstanceMetadata === true) {
    out.push(err('properties.orchestratorProfile.kubernetesConfig.useInstanceMetadata', 'kubernetesConfig.useInstanceMetadata must be false on Azure Stack Hub (there is no instance metadata service)'));
  }
  if (kc.networkPlugin !== undefined && !['kubenet', 'azure'].includes(kc.networkPlugin)) {
    out.push(err('properties.orchestratorProfile.kubernetesConfig.networkPlugin', `kubernetesConfig.networkPlugin '${kc.networkPlugin}': expected kubenet or azure`));
  }
  if (kc.loadBalancerSku !== undefined && String(kc.loadBalancerSku).toLowerCase() !== 'basic') {
    out.push(warn('properties.orchestratorProfile.kubernetesConfig.loadBalancerSku', `kubernetesConfig.loadBalancerSku '${kc.loadBalancerSku}' is replaced by Basic on Azure Stack Hub (at most 5 Services of type LoadBalancer per cluster: use an ingress controller)`));
  }

  // masters
  const m = p.masterProfile;
  if (!m) out.push(err('properties.masterProfile', 'masterProfile is required'));
  else {
    const c = m.count;
    if (c === undefined || ![1, 3, 5].includes(c)) {
      out.push(err('properties.masterProfile.count', `masterProfile.count is ${c ?? 'missing'}: expected 3 or 5 (an odd etcd quorum; 1 only with allowNonHA)`));
    } else if (c === 1) {
      if (ctx.allowNonHA) out.push(warn('properties.masterProfile.count', 'masterProfile.count is 1: the control plane is not highly available (allowed by allowNonHA)'));
      else out.push(err('properties.masterProfile.count', 'masterProfile.count is 1: expected 3 or 5 for a highly available control plane (set allowNonHA: true for a test cluster)'));
    }
    if (!m.dnsPrefix) out.push(err('properties.masterProfile.dnsPrefix', 'masterProfile.dnsPrefix is required'));
    else if (!DNS_PREFIX.test(m.dnsPrefix)) {
      out.push(err('properties.masterProfile.dnsPrefix', `masterProfile.dnsPrefix '${m.dnsPrefix}' is invalid: 3 to 45 letters, digits and hyphens, starting with a letter and not ending with a hyphen`));
    }
    if (!m.vmSize) out.push(err('properties.masterProfile.vmSize', 'masterProfile.vmSize is required'));
    out.push(...distroProblems('properties.masterProfile.distro', 'masterProfile.distro', m.distro, ctx));
    if (m.availabilityProfile !== undefined && m.availabilityProfile !== 'AvailabilitySet') {
      out.push(err('properties.masterProfile.availabilityProfile', `masterProfile.availabilityProfile '${m.availabilityProfile}': only AvailabilitySet is supported on Azure Stack Hub`));
    }
    if (m.vnetSubnetId && !m.firstConsecutiveStaticIP) {
      out.push(err('properties.masterProfile.firstConsecutiveStaticIP', 'masterProfile.firstConsecutiveStaticIP is required with masterProfile.vnetSubnetId (an existing VNet)'));
    }
  }

  // agent pools
  const pools = p.agentPoolProfiles ?? [];
  if (pools.length === 0) out.push(err('properties.agentPoolProfiles', 'agentPoolProfiles: at least one Linux pool is required'));
  const names = new Set<string>();
  let workers = 0;
  pools.forEach((a, i) => {
    const at = `properties.agentPoolProfiles[${i}]`;
    const label = `agentPoolProfiles[${i}]`;
    if (!a.name || !POOL_NAME.test(a.name)) {
      out.push(err(`${at}.name`, `${label}.name '${a.name ?? ''}' is invalid: 1 to 12 lower-case letters and digits, starting with a letter`));
    } else if (names.has(a.name)) out.push(err(`${at}.name`, `${label}.name '${a.name}' is used by another pool`));
    else names.add(a.name);
    const c = a.count;
    if (c === undefined || !Number.isInteger(c) || c < 1 || c > 1000) out.push(err(`${at}.count`, `${label}.count is ${c ?? 'missing'}: expected 1 to 1000`));
    else workers += c;
    if (!a.vmSize) out.push(err(`${at}.vmSize`, `${label}.vmSize is required`));
    if (a.osType !== undefined && a.osType !== 'Linux') out.push(err(`${at}.osType`, `${label}.osType '${a.osType}': this capability deploys Linux pools only`));
    out.push(...distroProblems(`${at}.distro`, `${label}.distro`, a.distro, ctx));
    if (a.availabilityProfile !== undefined && a.availabilityProfile !== 'AvailabilitySet') {
      out.push(err(`${at}.availabilityProfile`, `${label}.availabilityProfile '${a.availabilityProfile}': only AvailabilitySet is supported on Azure Stack Hub (no scale sets)`));
    }
    if (a.AcceleratedNetworkingEnabled === true || a.acceleratedNetworkingEnabled === true) {
      out.push(err(`${at}.AcceleratedNetworkingEnabled`, `${label}.AcceleratedNetworkingEnabled must be false on Azure Stack Hub`));
    }
    if (m?.vnetSubnetId && !a.vnetSubnetId) out.push(err(`${at}.vnetSubnetId`, `${label}.vnetSubnetId is required when masterProfile.vnetSubnetId is set`));
    if (!m?.vnetSubnetId && a.vnetSubnetId) out.push(err('properties.masterProfile.vnetSubnetId', `masterProfile.vnetSubnetId is required when ${label}.vnetSubnetId is set`));
  });
  if (pools.length > 0 && workers < 2 && !out.some((x) => /agentPoolProfiles\[\d+\]\.count$/.test(x.path))) {
    if (ctx.allowNonHA) out.push(warn('properties.agentPoolProfiles[0].count', `the cluster has ${workers} worker: workloads are not highly available (allowed by allowNonHA)`));
    else out.push(err('properties.agentPoolProfiles[0].count', `the cluster has ${workers} worker: expected at least 2 so that workloads survive a node failure`));
  }
  const nodes = workers + (m?.count ?? 0);
  if (nodes > HUB_NODE_GUIDANCE) {
    out.push(warn('properties.agentPoolProfiles', `the cluster has ${nodes} nodes: the Azure Stack Hub guidance is at most ${HUB_NODE_GUIDANCE} nodes per subscription`));
  }

  // linux profile
  const key = p.linuxProfile?.ssh?.publicKeys?.[0]?.keyData;
  if (!p.linuxProfile) out.push(err('properties.linuxProfile', 'linuxProfile is required'));
  else if (!key) out.push(err('properties.linuxProfile.ssh.publicKeys[0].keyData', 'linuxProfile.ssh.publicKeys[0].keyData is required (an ssh-rsa public key)'));
  else if (!/^ssh-rsa AAAA[0-9A-Za-z+/]+=*( .*)?$/.test(key.trim())) {
    out.push(err('properties.linuxProfile.ssh.publicKeys[0].keyData', 'linuxProfile.ssh.publicKeys[0].keyData is not an OpenSSH ssh-rsa public key'));
  }
  if (p.linuxProfile?.runUnattendedUpgradesOnBootstrap === true) {
    out.push(warn('properties.linuxProfile.runUnattendedUpgradesOnBootstrap', 'linuxProfile.runUnattendedUpgradesOnBootstrap is true: it needs internet access and fails or stalls on a disconnected Hub'));
  }
  if (p.windowsProfile) out.push(err('properties.windowsProfile', 'windowsProfile: Windows pools are not supported by this capability'));
  return out;
}

function distroProblems(path: string, label: string, distro: string | undefined, ctx: ValidationContext): Problem[] {
  const supported = ctx.supportedDistros ?? [...SUPPORTED_DISTROS];
  const expected = supported.join(' or ');
  const by = `aks-engine-azurestack${ctx.aksEngineVersion ? ` ${ctx.aksEngineVersion}` : ''}`;
  if (distro === undefined || distro === '') return [err(path, `${label} is required: expected ${expected}`)];
  if ((REJECTED_DISTROS as readonly string[]).includes(distro)) return [err(path, `${label} '${distro}' is no longer supported on Azure Stack Hub: use ${supported[0]}`)];
  if (!(SUPPORTED_DISTROS as readonly string[]).includes(distro)) return [err(path, `${label} '${distro}' is unknown: expected ${expected}`)];
  if (!supported.includes(distro)) return [err(path, `${label} '${distro}' is not accepted by ${by} ("The ${distro} distro is not supported"): expected ${expected}, or an aks-engine-azurestack release that supports ${distro}`)];
  return [];
}

/**
 * The input to name for a problem: the input that set the path, else `fallback` (the apimodel input, or for a
 * model built only from inputs and defaults the closest input).
 */
export function inputFor(problem: Problem, sources: PathSources, fallback: string): string {
  const exact = sources.get(problem.path);
  if (exact) return exact;
  // a pool-level problem of pool 0 belongs to the pool inputs when they built it
  for (const [p, input] of sources) if (problem.path.startsWith(`${p}.`) || p.startsWith(`${problem.path}.`)) return input;
  if (problem.path === 'location' || problem.path.startsWith('properties.customCloudProfile.portalURL')) return 'location';
  return fallback;
}
