/**
 * The cluster definition (aks-engine "apimodel"): built from inputs over the example defaults, or read from a file;
 * completed with the Hub's discovered environment; and copied with its secrets replaced by placeholders.
 */
import * as crypto from 'node:crypto';
import type { CustomCloudEnvironment, HubEndpoints, IdentitySystem } from '../shared/azure-stack';
import { EXAMPLE_APIMODEL, TELEMETRY_OFF } from './defaults';

/* eslint-disable @typescript-eslint/no-explicit-any -- apimodels are open-ended JSON from aks-engine; only the fields we read are typed, the rest pass through untouched */
/** An apimodel document (vlabs). Only the fields this capability reads or writes are typed. */
export interface ApiModel {
  apiVersion?: string;
  location?: string;
  properties: {
    orchestratorProfile?: {
      orchestratorType?: string;
      orchestratorRelease?: string;
      orchestratorVersion?: string;
      kubernetesConfig?: Record<string, any>;
    };
    customCloudProfile?: {
      portalURL?: string;
      identitySystem?: string;
      authenticationMethod?: string;
      environment?: Partial<CustomCloudEnvironment> & Record<string, any>;
      [k: string]: any;
    };
    featureFlags?: Record<string, any>;
    masterProfile?: {
      dnsPrefix?: string;
      distro?: string;
      count?: number;
      vmSize?: string;
      fqdn?: string;
      vnetSubnetId?: string;
      firstConsecutiveStaticIP?: string;
      vnetCidr?: string;
      availabilityProfile?: string;
      [k: string]: any;
    };
    agentPoolProfiles?: {
      name?: string;
      count?: number;
      vmSize?: string;
      distro?: string;
      availabilityProfile?: string;
      AcceleratedNetworkingEnabled?: boolean;
      acceleratedNetworkingEnabled?: boolean;
      vnetSubnetId?: string;
      osType?: string;
      [k: string]: any;
    }[];
    linuxProfile?: {
      adminUsername?: string;
      ssh?: { publicKeys?: { keyData?: string }[] };
      [k: string]: any;
    };
    servicePrincipalProfile?: { clientId?: string; secret?: string; [k: string]: any };
    certificateProfile?: Record<string, any>;
    windowsProfile?: Record<string, any>;
    [k: string]: any;
  };
}

/** The cluster-shape inputs (each undefined when not set). */
export interface ClusterShape {
  dnsPrefix?: string;
  kubernetesVersion?: string;
  masterCount?: number;
  masterVmSize?: string;
  linuxPoolName?: string;
  linuxPoolCount?: number;
  linuxPoolVmSize?: string;
  distro?: string;
  networkPlugin?: string;
  masterSubnetId?: string;
  agentSubnetId?: string;
  firstConsecutiveStaticIp?: string;
  vnetCidr?: string;
  sshPublicKey?: string;
  adminUsername?: string;
}

/** Which input set each apimodel path (for error messages that name the input). */
export type PathSources = Map<string, string>;

/** A deep copy of a JSON value. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The input that each cluster-shape field maps to, and where it lands in the apimodel. */
export const SHAPE_PATHS: { input: keyof ClusterShape; path: string }[] = [
  { input: 'dnsPrefix', path: 'properties.masterProfile.dnsPrefix' },
  { input: 'kubernetesVersion', path: 'properties.orchestratorProfile.orchestratorVersion' },
  { input: 'masterCount', path: 'properties.masterProfile.count' },
  { input: 'masterVmSize', path: 'properties.masterProfile.vmSize' },
  { input: 'linuxPoolName', path: 'properties.agentPoolProfiles[0].name' },
  { input: 'linuxPoolCount', path: 'properties.agentPoolProfiles[0].count' },
  { input: 'linuxPoolVmSize', path: 'properties.agentPoolProfiles[0].vmSize' },
  { input: 'distro', path: 'properties.masterProfile.distro' },
  { input: 'distro', path: 'properties.agentPoolProfiles[0].distro' },
  { input: 'networkPlugin', path: 'properties.orchestratorProfile.kubernetesConfig.networkPlugin' },
  { input: 'masterSubnetId', path: 'properties.masterProfile.vnetSubnetId' },
  { input: 'agentSubnetId', path: 'properties.agentPoolProfiles[0].vnetSubnetId' },
  { input: 'firstConsecutiveStaticIp', path: 'properties.masterProfile.firstConsecutiveStaticIP' },
  { input: 'vnetCidr', path: 'properties.masterProfile.vnetCidr' },
  { input: 'sshPublicKey', path: 'properties.linuxProfile.ssh.publicKeys[0].keyData' },
  { input: 'adminUsername', path: 'properties.linuxProfile.adminUsername' },
];

function setPath(obj: any, p: string, value: unknown): void {
  const parts = p.replace(/\[(\d+)\]/g, '.$1').split('.');
  let o = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i];
    if (o[k] === undefined || o[k] === null) o[k] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    o = o[k];
  }
  o[parts[parts.length - 1]] = value;
}

/**
 * Builds the cluster definition: the example apimodel (or `file`'s content) with every set shape input applied.
 * Returns the model and which input set each path.
 */
export function buildApiModel(shape: ClusterShape, file?: { doc: ApiModel; input: string }): { model: ApiModel; sources: PathSources } {
  const model = file ? clone(file.doc) : (clone(EXAMPLE_APIMODEL) as unknown as ApiModel);
  const sources: PathSources = new Map();
  for (const { input, path: p } of SHAPE_PATHS) {
    const v = shape[input];
    if (v === undefined) {
      // built from inputs: the example's value stands for the unset input
      if (!file) sources.set(p, input);
      continue;
    }
    if (input === 'kubernetesVersion') {
      const release = String(v).split('.').slice(0, 2).join('.');
      setPath(model, 'properties.orchestratorProfile.orchestratorRelease', release);
      sources.set('properties.orchestratorProfile.orchestratorRelease', input);
    }
    // the example's one Linux pool: with a file, only set pool fields when the file has a pool 0
    setPath(model, p, v);
    sources.set(p, input);
  }
  return { model, sources };
}

/** Hub facts the apimodel needs. */
export interface HubFacts {
  location: string;
  identitySystem: IdentitySystem;
  authMethod: 'client_secret' | 'client_certificate';
  environment: CustomCloudEnvironment;
  endpoints: HubEndpoints;
}

/**
 * Completes the model for the Hub: location, customCloudProfile (portalURL, identitySystem, authenticationMethod,
 * the full environment so aks-engine fetches nothing), telemetry off, the service principal's client id and secret.
 * Mutates and returns `model`.
 */
export function applyHub(model: ApiModel, hub: HubFacts, sp: { clientId: string; secret?: string }): ApiModel {
  model.apiVersion ??= 'vlabs';
  if (!model.location) model.location = hub.location;
  const ccp = (model.properties.customCloudProfile ??= {});
  if (!ccp.portalURL) ccp.portalURL = hub.endpoints.portal;
  ccp.identitySystem = hub.identitySystem;
  ccp.authenticationMethod = hub.authMethod;
  ccp.environment = { ...hub.environment, ...Object.fromEntries(Object.entries(ccp.environment ?? {}).filter(([, v]) => v !== '' && v !== undefined)) } as CustomCloudEnvironment;
  // the Hub's own answer wins for the endpoints aks-engine contacts
  Object.assign(ccp.environment, hub.environment);
  model.properties.featureFlags = { ...(model.properties.featureFlags ?? {}), ...TELEMETRY_OFF };
  const spp = (model.properties.servicePrincipalProfile ??= {});
  if (!spp.clientId) spp.clientId = sp.clientId;
  if (sp.secret !== undefined && !spp.secret) spp.secret = sp.secret;
  return model;
}

/** Placeholder that replaces a secret in copies meant to be read. Non-empty, so `generate` accepts the file. */
export const SECRET_PLACEHOLDER = 'REDACTED-SECRET-SET-AT-DEPLOY';

const SECRET_KEY = /^(secret|adminPassword|.*PrivateKeys?|workspaceKey|password|clientSecret|aadClientSecret)$/i;

/** A copy with every secret value replaced by {@link SECRET_PLACEHOLDER} (SP secret, PKI private keys, passwords). */
export function redactApiModel(model: ApiModel): ApiModel {
  const walk = (v: any): any => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: any = {};
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_KEY.test(k) && typeof x === 'string' && x !== '') out[k] = SECRET_PLACEHOLDER;
        else if (SECRET_KEY.test(k) && Array.isArray(x)) out[k] = x.map((y) => (typeof y === 'string' && y ? SECRET_PLACEHOLDER : y));
        else out[k] = walk(x);
      }
      return out;
    }
    return v;
  };
  return walk(model) as ApiModel;
}

/** Masters, Linux workers, version and API server FQDN of a model. */
export interface ClusterInfo {
  masters: number;
  workers: number;
  version: string;
  pools: { name: string; count: number }[];
  dnsPrefix: string;
  fqdn: string;
}

/** Reads the facts the summary shows. `vmDnsSuffix` (cloudapp.<fqdn>) builds the FQDN when the model has none. */
export function clusterInfo(model: ApiModel, vmDnsSuffix?: string): ClusterInfo {
  const p = model.properties;
  const pools = (p.agentPoolProfiles ?? []).map((a) => ({ name: String(a.name ?? ''), count: Number(a.count ?? 0) }));
  const dnsPrefix = p.masterProfile?.dnsPrefix ?? '';
  const suffix = vmDnsSuffix ?? p.customCloudProfile?.environment?.resourceManagerVMDNSSuffix ?? '';
  return {
    masters: Number(p.masterProfile?.count ?? 0),
    workers: pools.reduce((a, b) => a + b.count, 0),
    version: p.orchestratorProfile?.orchestratorVersion ?? '',
    pools,
    dnsPrefix,
    fqdn: p.masterProfile?.fqdn || (dnsPrefix && model.location && suffix ? `${dnsPrefix}.${model.location}.${suffix}` : ''),
  };
}

/** An OpenSSH `ssh-rsa` public key line for a freshly generated key (for offline checks that need some key). */
export function throwawaySshPublicKey(): string {
  const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const mpint = (b64: string): Buffer => {
    let b = Buffer.from(b64, 'base64url');
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return b;
  };
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >> (24 - 8 * i)) & 255)), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-rsa')), str(mpint(jwk.e)), str(mpint(jwk.n))]);
  return `ssh-rsa ${blob.toString('base64')} stackhub-ha-validate`;
}
