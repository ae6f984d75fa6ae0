/**
 * The traffic provider's configuration: input definitions shared by every task that moves traffic (this
 * capability and the helm release's traffic coupling include the SAME definitions), their parser, and the check of
 * the sites file against the provider.
 */
import { withWhen } from '../platform/visibility';
import * as net from 'node:net';
import type { InputName, InputReader } from '../platform/inputs';
import type { Platform } from '../platform/types';
import { parseArmEndpoint } from '../shared/azure-stack/discovery';
import { resolveHubConnection } from '../shared/azure-stack/hub-connection';
import { parseClientCertificate, readClientCertificate, type ClientAuth } from '../shared/azure-stack/credential';
import { readCaFile } from '../shared/ca';
import { InputError } from '../shared/errors';
import type { SitesFile } from '../shared/sites';
import { which } from '../shared/tools/cache';
import type { AzureAuth } from './azure-auth';
import type { TrafficClock } from './clock';
import { parseStatusRanges, type ProbeSettings } from './health';
import type { TrafficSite } from './provider';
import { recordTypeFor, type RecordType } from './providers/records';
import type { Rfc2136Config, Rfc2136Key } from './providers/rfc2136';
import { PROFILE_ID } from './providers/traffic-manager';
import { ZONE_ID } from './providers/azure-stack-dns';
import { normName, parseResolver } from './resolvers';
import { defineInputs } from '../shared/inputs';

/** The providers. */
export const TRAFFIC_PROVIDERS = ['azure-traffic-manager', 'rfc2136', 'azure-stack-dns'] as const;
/** A provider name (the `trafficProvider` input). */
export type TrafficProviderName = (typeof TRAFFIC_PROVIDERS)[number];

const G = 'traffic';
const P = 'probe';

/**
 * The provider configuration inputs. Include them as they are in any capability that moves traffic; an empty
 * `trafficProvider` means "no traffic coupling" there ({@link parseTrafficConfig} returns undefined).
 */
const trafficProviderInputDefs = defineInputs([
  {
    name: 'trafficProvider',
    label: 'Traffic provider',
    type: 'pickList',
    options: TRAFFIC_PROVIDERS,
    group: G,
    help: 'How users reach the sites: `azure-traffic-manager` (Azure Traffic Manager profile, public or sovereign Azure), `rfc2136` (dynamic DNS UPDATE with TSIG to BIND or any RFC 2136 server, via nsupdate) or `azure-stack-dns` (a DNS zone hosted by an Azure Stack Hub). Where traffic coupling is optional, empty means none.',
  },
  {
    name: 'trafficProfile',
    label: 'Traffic Manager profile',
    type: 'string',
    group: G,
    help: 'azure-traffic-manager: resource id of the profile, `/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/trafficManagerProfiles/<name>`. Each site\'s `traffic.endpoint` in the sites file names its endpoint.',
  },
  {
    name: 'trafficAzureConnection',
    label: 'Azure service connection (traffic)',
    type: 'azureRmConnection',
    group: G,
    channels: ['azure-pipelines'],
    help: 'azure-traffic-manager: an Azure Resource Manager service connection (service principal with secret or certificate, or workload identity federation with trafficFederatedTokenPath). azure-stack-dns: a connection with environment AzureStack to the Hub that hosts the zone. Takes the place of the tenant/client inputs.',
  },
  {
    name: 'trafficHubConnection',
    label: 'Azure Stack Hub connection (traffic)',
    type: 'azureStackHubConnection',
    group: G,
    channels: ['azure-pipelines'],
    help: 'azure-stack-dns: an "Azure Stack Hub" service connection (this extension\'s type) to the Hub that hosts the zone, instead of trafficAzureConnection; the better choice for ADFS Hubs.',
  },
  {
    name: 'trafficAuth',
    label: 'Azure sign-in',
    type: 'pickList',
    options: ['client-secret', 'certificate', 'workload-identity', 'azure-cli'],
    group: G,
    help: 'How to sign in when no service connection is given: `client-secret` (trafficClientSecret), `certificate` (trafficClientCertificateFile; the reliable choice for ADFS Hubs), `workload-identity` (a federated token in trafficFederatedTokenPath or trafficFederatedToken: a GitHub OIDC token fetched by the workflow, an Azure DevOps federated token) or `azure-cli` (the agent\'s existing `az login`; Traffic Manager only). Default: client-secret when a secret is set, certificate when a certificate is set.',
  },
  { name: 'trafficTenantId', label: 'Tenant (directory) id', type: 'string', group: G, help: 'Azure AD tenant (directory) id of the service principal. Not needed for an ADFS Hub (tenant `adfs`).' },
  { name: 'trafficClientId', label: 'Client (application) id', type: 'string', group: G, help: 'Application (client) id of the service principal.' },
  { name: 'trafficClientSecret', label: 'Client secret', type: 'secret', group: G, help: 'Secret of the service principal (client-secret sign-in).' },
  {
    name: 'trafficClientCertificateFile',
    label: 'Client certificate file',
    type: 'filePath',
    group: G,
    help: 'PEM file with the service principal\'s certificate and its unencrypted private key (certificate sign-in). For ADFS Hubs prefer certificates: some Hub builds reject secret sign-ins the MSAL way (MSIS9605; the ADFS v1 endpoint is tried then).',
  },
  {
    name: 'trafficFederatedTokenPath',
    label: 'Federated token file',
    type: 'filePath',
    group: G,
    help: 'workload-identity: a file holding the federated token (client assertion), re-read at every sign-in. GitHub: write the OIDC token of `core.getIDToken(\'api://AzureADTokenExchange\')` to a file in an earlier step; Azure DevOps: the `idToken` of AzureCLI@2 with addSpnToEnvironment.',
  },
  { name: 'trafficFederatedToken', label: 'Federated token', type: 'secret', group: G, help: 'workload-identity: the federated token itself (when no file is used).' },
  {
    name: 'trafficArmEndpoint',
    label: 'Azure Resource Manager endpoint',
    type: 'string',
    group: G,
    help: 'azure-traffic-manager: ARM endpoint of the cloud holding the profile. Default: the service connection\'s, else https://management.azure.com (sovereign clouds: e.g. https://management.usgovcloudapi.net).',
  },
  {
    name: 'trafficAuthorityHost',
    label: 'Sign-in endpoint',
    type: 'string',
    group: G,
    help: 'azure-traffic-manager: Azure AD sign-in endpoint. Default: the one of the connection\'s environment, else https://login.microsoftonline.com (sovereign: e.g. https://login.microsoftonline.us).',
  },
  {
    name: 'trafficCredentialScope',
    label: 'Token scope',
    type: 'string',
    group: G,
    help: 'azure-traffic-manager: token scope for ARM. Default: `<ARM endpoint>/.default`.',
  },
  {
    name: 'trafficDnsServer',
    label: 'DNS server (RFC 2136)',
    type: 'string',
    group: G,
    help: 'rfc2136: the primary DNS server that takes the UPDATE, `host` or `host:port` (`[ipv6]:port`); port 53 by default.',
  },
  {
    name: 'trafficDnsZone',
    label: 'DNS zone',
    type: 'string',
    group: G,
    help: 'rfc2136: the zone name, e.g. `contoso.local`. azure-stack-dns: the zone\'s resource id, `/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/dnsZones/<zone>`.',
  },
  {
    name: 'trafficDnsName',
    label: 'DNS name',
    type: 'string',
    group: G,
    help: 'rfc2136 / azure-stack-dns: the fully qualified name users resolve, inside the zone (e.g. `ratings.contoso.local`). It holds one CNAME (one site serves; the sites file order is the priority order) or A/AAAA records (every enabled site serves).',
  },
  {
    name: 'trafficDnsRecordType',
    label: 'DNS record type',
    type: 'pickList',
    options: ['auto', 'CNAME', 'A', 'AAAA'],
    default: 'auto',
    group: G,
    help: 'rfc2136 / azure-stack-dns: record type. `auto`: A when every site\'s traffic.target is an IPv4 address, AAAA for IPv6, else CNAME.',
  },
  {
    name: 'trafficDnsTtl',
    label: 'DNS TTL (seconds)',
    type: 'number',
    group: G,
    help: 'rfc2136 / azure-stack-dns: TTL of the records written. Default: keep the current TTL (60 for a new record).',
  },
  {
    name: 'trafficTsigKey',
    label: 'TSIG key',
    type: 'secret',
    group: G,
    help: 'rfc2136: the TSIG key, as a BIND key statement (`key "name" { algorithm hmac-sha256; secret "…"; };`, as tsig-keygen prints it) or `hmac-sha256:name:base64secret`. Handed to nsupdate as a 0600 file (`-k`), never on its command line.',
  },
  {
    name: 'trafficTsigKeyPath',
    label: 'TSIG key file',
    type: 'filePath',
    group: G,
    help: 'rfc2136: a TSIG key file already on the agent (BIND key statement or K*.private, e.g. a downloaded secure file), passed to nsupdate -k as it is; instead of trafficTsigKey.',
  },
  {
    name: 'trafficGssTsig',
    label: 'GSS-TSIG (Kerberos)',
    type: 'boolean',
    default: 'false',
    group: G,
    help: 'rfc2136: sign with GSS-TSIG (`nsupdate -g`) using the Kerberos ticket of the environment (kinit / KRB5CCNAME set up by an earlier step), as Windows DNS "secure only" zones require. Replaces the TSIG key.',
  },
  {
    name: 'trafficDnsHub',
    label: 'Site whose Hub hosts the zone',
    type: 'string',
    group: G,
    help: 'azure-stack-dns: the site (sites file name) whose Azure Stack Hub hosts the DNS zone; its `hub.armEndpoint` is used. Only that Hub can change the zone.',
  },
  {
    name: 'trafficCaCertificate',
    label: 'CA certificate (PEM)',
    type: 'filePath',
    group: G,
    help: 'PEM file of CA certificates to trust for the health probes, the Hub or ARM endpoint and its sign-in endpoint (e.g. the Hub\'s internal root CA), in addition to the system roots and the agent\'s own CA.',
  },
  {
    name: 'skipHealthCheck',
    label: 'Skip the health gate',
    type: 'boolean',
    default: 'false',
    group: P,
    help: 'Move traffic without first probing the site that gains users (`traffic.probeUrl`). The provider\'s own confirmation and the refusal to drain the last serving site still apply.',
  },
  {
    name: 'trafficProbeStatus',
    label: 'Healthy status codes',
    type: 'string',
    default: '200-399',
    group: P,
    help: 'HTTP status codes of a healthy probe answer: codes and ranges, e.g. `200-299,401`.',
  },
  { name: 'trafficProbeAttempts', label: 'Probe attempts', type: 'number', default: '3', group: P, help: 'Attempts of the health probe before the site counts as unhealthy.' },
  { name: 'trafficProbeTimeoutSeconds', label: 'Probe timeout (seconds)', type: 'number', default: '10', group: P, help: 'Timeout of one probe attempt.' },
  { name: 'trafficProbeIntervalSeconds', label: 'Probe interval (seconds)', type: 'number', default: '5', group: P, help: 'Wait between probe attempts.' },
  {
    name: 'trafficMaxDnsWaitSeconds',
    label: 'Longest DNS TTL wait (seconds)',
    type: 'number',
    group: P,
    help: 'After the provider confirms a change, the run waits the DNS TTL so resolvers drop old answers, then checks the answers through each site\'s `traffic.resolvers`. This caps the wait; 0 skips it (a wrong answer then only warns). Default: the full TTL.',
  },
]);

const ATM = { trafficProvider: ['azure-traffic-manager'] };
const HUB = { trafficProvider: ['azure-stack-dns'] };
const ARM = { trafficProvider: ['azure-traffic-manager', 'azure-stack-dns'] };
const DNS = { trafficProvider: ['rfc2136'] };
const ZONE = { trafficProvider: ['rfc2136', 'azure-stack-dns'] };
/** The provider inputs; the task form shows each only for the providers it applies to. */
export const trafficProviderInputs = withWhen(trafficProviderInputDefs, {
  trafficProfile: ATM,
  trafficAzureConnection: ARM,
  trafficHubConnection: HUB,
  trafficAuth: ARM,
  trafficTenantId: ARM,
  trafficClientId: ARM,
  trafficClientSecret: ARM,
  trafficClientCertificateFile: ARM,
  trafficFederatedTokenPath: ATM,
  trafficFederatedToken: ATM,
  trafficArmEndpoint: ATM,
  trafficAuthorityHost: ATM,
  trafficCredentialScope: ATM,
  trafficDnsServer: DNS,
  trafficDnsZone: ZONE,
  trafficDnsName: ZONE,
  trafficDnsRecordType: ZONE,
  trafficDnsTtl: ZONE,
  trafficTsigKey: DNS,
  trafficTsigKeyPath: DNS,
  trafficGssTsig: DNS,
  trafficDnsHub: HUB,
});

/** The names of the traffic provider inputs (the traffic swap's, the release's coupling and the reboot's drain). */
export type TrafficProviderInputName = InputName<typeof trafficProviderInputs>;

/** Traffic Manager settings. */
export interface TrafficManagerSettings {
  profileId: string;
  armEndpoint: string;
  authorityHost: string;
  scope: string;
  auth: AzureAuth;
  subscriptionId: string;
}

/** rfc2136 settings: exactly what the provider takes. */
export type Rfc2136Settings = Rfc2136Config;

/** azure-stack-dns settings. */
export interface AzureStackDnsSettings {
  zoneId: string;
  zone: string;
  name: string;
  type: 'auto' | RecordType;
  ttl?: number;
  hubSite: string;
  /** From an ADO AzureStack connection (else the sites file's hub.armEndpoint). */
  armEndpoint?: string;
  auth: ClientAuth;
  tenantId?: string;
}

/** The parsed provider configuration. */
export interface TrafficConfig {
  provider: TrafficProviderName;
  /** Extra trusted CAs (PEM) for probes, ARM and sign-in. */
  caCertificates: string[];
  probe: ProbeSettings & { skip: boolean };
  /** Cap of the DNS TTL wait (undefined: the full TTL). */
  maxDnsWaitSeconds?: number;
  trafficManager?: TrafficManagerSettings;
  rfc2136?: Rfc2136Settings;
  azureStackDns?: AzureStackDnsSettings;
  /** Time source; tests inject a clock that does not wait (default: the real clock). */
  clock?: TrafficClock;
  /** Add a summary section per operation (default true). */
  summary?: boolean;
  /** PATH to find nsupdate/dig on (default process.env.PATH). */
  pathEnv?: string;
}

/** Where the Azure AD sign-in endpoint of an ADO environment is. */
const AUTHORITY_OF: Record<string, string> = {
  azurecloud: 'https://login.microsoftonline.com/',
  azureusgovernment: 'https://login.microsoftonline.us/',
  azurechinacloud: 'https://login.chinacloudapi.cn/',
  azuregermancloud: 'https://login.microsoftonline.de/',
};

function httpsUrl(raw: string, input: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InputError(input, `expected an https:// URL, got '${raw}'`);
  }
  if (u.protocol !== 'https:' || u.username || u.password || u.search || u.hash) throw new InputError(input, `expected a plain https:// URL, got '${raw}'`);
  return u.href.replace(/\/*$/, '/');
}

function dnsName(raw: string, input: string): string {
  const n = normName(raw);
  if (!/^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(n) || n.length > 253) {
    throw new InputError(input, `expected a DNS name such as ratings.contoso.local, got '${raw}'`);
  }
  return n;
}

/** Parses a TSIG key given as a BIND key statement or `[alg:]name:secret` into a key statement. */
export function parseTsigKey(text: string, input: string): { keyText: string; name: string; algorithm: string; secret: string } {
  const t = text.trim();
  let name: string;
  let algorithm: string;
  let secret: string;
  const stmt = /^key\s+"?([A-Za-z0-9._-]+)"?\s*\{([\s\S]*)\}\s*;?\s*$/.exec(t);
  if (stmt) {
    name = stmt[1];
    algorithm = /algorithm\s+"?([A-Za-z0-9.-]+)"?\s*;/.exec(stmt[2])?.[1] ?? '';
    secret = /secret\s+"([^"]+)"\s*;/.exec(stmt[2])?.[1] ?? '';
  } else {
    const parts = t.split(':');
    if (parts.length === 3) [algorithm, name, secret] = parts;
    else if (parts.length === 2) [algorithm, name, secret] = ['hmac-sha256', parts[0], parts[1]];
    else throw new InputError(input, 'expected a BIND key statement (key "name" { algorithm hmac-sha256; secret "…"; };) or hmac-sha256:name:secret');
  }
  algorithm = algorithm.toLowerCase();
  if (!['hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'].includes(algorithm.replace(/\.sig-alg\.reg\.int$/, ''))) {
    throw new InputError(input, `unsupported TSIG algorithm '${algorithm || '(none)'}': expected hmac-sha256 (or hmac-sha1/224/384/512, hmac-md5)`);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(name ?? '')) throw new InputError(input, 'the key has no valid name');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret ?? '') || Buffer.from(secret, 'base64').length < 8) throw new InputError(input, 'the key secret is not base64 of at least 8 bytes');
  return { keyText: `key "${name}" {\n\talgorithm ${algorithm};\n\tsecret "${secret}";\n};\n`, name, algorithm, secret };
}

function parseServer(raw: string, input: string): { server: string; port: number } {
  const t = raw.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s/]+))(?::(\d{1,5}))?$/.exec(t);
  if (net.isIPv6(t)) return { server: t, port: 53 };
  if (!m) throw new InputError(input, `expected host or host:port, got '${raw}'`);
  const host = m[1] ?? m[2];
  const port = m[3] === undefined ? 53 : Number(m[3]);
  if (port < 1 || port > 65535) throw new InputError(input, `port ${m[3]} is out of range`);
  if (m[1] && !net.isIPv6(m[1])) throw new InputError(input, `'${m[1]}' is not an IPv6 address`);
  if (!m[1] && net.isIP(host) === 0) dnsName(host, input);
  return { server: host, port };
}

/** Reads a service principal from the client inputs (secret or certificate). */
function clientAuth(read: InputReader<TrafficProviderInputName>, kind: string | undefined, input: string): ClientAuth {
  const clientId = read.string('trafficClientId');
  const secret = read.secret('trafficClientSecret');
  const certFile = read.filePath('trafficClientCertificateFile');
  const k = kind ?? (secret ? 'client-secret' : certFile ? 'certificate' : undefined);
  if (!k) throw new InputError(input, 'no sign-in is configured: set trafficAzureConnection (Azure Pipelines), or trafficClientId with trafficClientSecret or trafficClientCertificateFile');
  if (!clientId) throw new InputError('trafficClientId', `is required for ${k} sign-in`);
  if (k === 'client-secret') {
    if (!secret) throw new InputError('trafficClientSecret', 'is required for client-secret sign-in');
    return { kind: 'client_secret', clientId, clientSecret: secret };
  }
  if (k === 'certificate') {
    if (!certFile) throw new InputError('trafficClientCertificateFile', 'is required for certificate sign-in');
    return { kind: 'client_certificate', clientId, ...readClientCertificate(certFile, undefined, 'trafficClientCertificateFile') };
  }
  throw new InputError('trafficAuth', `${k} sign-in is not possible here (Azure Stack Hub takes a service principal secret or certificate)`);
}

function parseTrafficManager(read: InputReader<TrafficProviderInputName>, platform: Platform): TrafficManagerSettings {
  const raw = read.string('trafficProfile');
  if (!raw) throw new InputError('trafficProfile', 'is required for azure-traffic-manager: the profile resource id /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/trafficManagerProfiles/<name>');
  const m = PROFILE_ID.exec(raw.trim().replace(/\/+$/, ''));
  if (!m) throw new InputError('trafficProfile', `expected /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/trafficManagerProfiles/<name>, got '${raw}'`);
  const profileId = `/subscriptions/${m[1]}/resourceGroups/${m[2]}/providers/Microsoft.Network/trafficManagerProfiles/${m[3]}`;

  const conn = platform.azureRmConnection('trafficAzureConnection');
  const kind = read.choice<'client-secret' | 'certificate' | 'workload-identity' | 'azure-cli'>('trafficAuth');
  let auth: AzureAuth;
  let armDefault = 'https://management.azure.com/';
  let authorityDefault = 'https://login.microsoftonline.com/';
  const assertionFile = read.filePath('trafficFederatedTokenPath');
  const assertion = read.secret('trafficFederatedToken');
  if (conn) {
    const env = conn.environment.toLowerCase();
    if (env === 'azurestack') throw new InputError('trafficAzureConnection', 'is an Azure Stack connection: Traffic Manager lives in public or sovereign Azure');
    if (conn.environmentUrl) armDefault = conn.environmentUrl;
    authorityDefault = AUTHORITY_OF[env] ?? authorityDefault;
    if (!conn.tenantId) throw new InputError('trafficAzureConnection', 'the connection holds no tenant id');
    if (!conn.clientId) throw new InputError('trafficAzureConnection', 'the connection holds no service principal id');
    const scheme = conn.scheme.toLowerCase();
    if (scheme === 'workloadidentityfederation') {
      if (!assertionFile && !assertion) {
        throw new InputError('trafficAzureConnection', 'is a workload identity federation connection: give its federated token in trafficFederatedTokenPath (e.g. the idToken of AzureCLI@2 with addSpnToEnvironment)');
      }
      auth = { kind: 'workload-identity', tenantId: conn.tenantId, clientId: conn.clientId, assertionFile, assertion };
    } else if (scheme === 'serviceprincipal') {
      let client: ClientAuth;
      if ((conn.authenticationType ?? '').toLowerCase() === 'spncertificate' || (!conn.clientSecret && conn.certificatePem)) {
        if (!conn.certificatePem) throw new InputError('trafficAzureConnection', 'the certificate connection holds no certificate');
        client = { kind: 'client_certificate', clientId: conn.clientId, ...parseClientCertificate(conn.certificatePem, undefined, 'trafficAzureConnection') };
      } else {
        if (!conn.clientSecret) throw new InputError('trafficAzureConnection', 'the connection holds no service principal key');
        client = { kind: 'client_secret', clientId: conn.clientId, clientSecret: conn.clientSecret };
      }
      auth = { kind: 'service-principal', tenantId: conn.tenantId, client };
    } else {
      throw new InputError('trafficAzureConnection', `scheme '${conn.scheme}' is not supported: managed identity would probe the instance metadata service; use a service principal or workload identity federation`);
    }
  } else if (kind === 'azure-cli') {
    auth = { kind: 'azure-cli', tenantId: read.string('trafficTenantId') };
  } else if (kind === 'workload-identity') {
    const tenantId = read.string('trafficTenantId');
    const clientId = read.string('trafficClientId');
    if (!tenantId) throw new InputError('trafficTenantId', 'is required for workload-identity sign-in');
    if (!clientId) throw new InputError('trafficClientId', 'is required for workload-identity sign-in');
    if (!assertionFile && !assertion) throw new InputError('trafficFederatedTokenPath', 'is required for workload-identity sign-in (or trafficFederatedToken): the federated token the pipeline obtained');
    auth = { kind: 'workload-identity', tenantId, clientId, assertionFile, assertion };
  } else {
    const client = clientAuth(read, kind, 'trafficAuth');
    const tenantId = read.string('trafficTenantId');
    if (!tenantId) throw new InputError('trafficTenantId', 'is required to sign in to Azure AD with a service principal');
    auth = { kind: 'service-principal', tenantId, client };
  }
  const armEndpoint = httpsUrl(read.string('trafficArmEndpoint') ?? armDefault, 'trafficArmEndpoint');
  const authorityHost = httpsUrl(read.string('trafficAuthorityHost') ?? authorityDefault, 'trafficAuthorityHost');
  const scopeRaw = read.string('trafficCredentialScope') ?? `${armEndpoint.replace(/\/+$/, '')}/.default`;
  if (!/^https:\/\/\S+\/\.default$/.test(scopeRaw) && !/^[0-9a-f-]{36}\/\.default$/i.test(scopeRaw)) {
    throw new InputError('trafficCredentialScope', `expected <resource>/.default, e.g. https://management.usgovcloudapi.net/.default, got '${scopeRaw}'`);
  }
  return { profileId, armEndpoint, authorityHost, scope: scopeRaw, auth, subscriptionId: m[1] };
}

function parseRecordCommon(read: InputReader<TrafficProviderInputName>): { type: 'auto' | RecordType; ttl?: number } {
  const type = read.choice<'auto' | RecordType>('trafficDnsRecordType') ?? 'auto';
  const ttl = read.number('trafficDnsTtl', { min: 0, max: 2147483647, integer: true });
  return { type, ttl };
}

function parseRfc2136(read: InputReader<TrafficProviderInputName>, platform: Platform, pathEnv: string | undefined): Rfc2136Settings {
  const serverRaw = read.string('trafficDnsServer');
  if (!serverRaw) throw new InputError('trafficDnsServer', 'is required for rfc2136: the primary DNS server (host or host:port)');
  const { server, port } = parseServer(serverRaw, 'trafficDnsServer');
  const zoneRaw = read.string('trafficDnsZone');
  if (!zoneRaw) throw new InputError('trafficDnsZone', 'is required for rfc2136: the zone name, e.g. contoso.local');
  const zone = dnsName(zoneRaw, 'trafficDnsZone');
  const nameRaw = read.string('trafficDnsName');
  if (!nameRaw) throw new InputError('trafficDnsName', 'is required for rfc2136: the name users resolve, e.g. ratings.contoso.local');
  const name = dnsName(nameRaw, 'trafficDnsName');
  if (name !== zone && !name.endsWith(`.${zone}`)) throw new InputError('trafficDnsName', `${name} is not inside zone ${zone}`);
  const common = parseRecordCommon(read);
  const gss = read.boolean('trafficGssTsig');
  const keyText = read.secret('trafficTsigKey');
  const keyFile = read.filePath('trafficTsigKeyPath');
  let key: Rfc2136Key;
  if (gss) {
    if (keyText || keyFile) throw new InputError('trafficGssTsig', 'GSS-TSIG replaces the TSIG key: set either trafficGssTsig or trafficTsigKey/trafficTsigKeyPath');
    key = { kind: 'gss' };
  } else if (keyText) {
    if (keyFile) throw new InputError('trafficTsigKeyPath', 'set either trafficTsigKey or trafficTsigKeyPath, not both');
    const k = parseTsigKey(keyText, 'trafficTsigKey');
    platform.mask(k.secret);
    key = { kind: 'secret', keyText: k.keyText };
  } else if (keyFile) key = { kind: 'file', file: keyFile };
  else throw new InputError('trafficTsigKey', 'is required for rfc2136 (the TSIG key that may update the zone): set trafficTsigKey or trafficTsigKeyPath, or trafficGssTsig for Kerberos');
  const pkg = 'install the Debian package bind9-dnsutils (RHEL: bind-utils)';
  const nsupdate = which('nsupdate', pathEnv);
  if (!nsupdate) throw new InputError('trafficProvider', `rfc2136 needs nsupdate, which is not on PATH: ${pkg}`);
  const dig = which('dig', pathEnv);
  if (!dig) throw new InputError('trafficProvider', `rfc2136 needs dig, which is not on PATH: ${pkg}`);
  return { server, port, zone, name, ...common, key, nsupdate, dig, timeoutSeconds: 30 };
}

function parseAzureStackDns(read: InputReader<TrafficProviderInputName>, platform: Platform): AzureStackDnsSettings {
  const zoneRaw = read.string('trafficDnsZone');
  if (!zoneRaw) throw new InputError('trafficDnsZone', 'is required for azure-stack-dns: the zone resource id /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/dnsZones/<zone>');
  const m = ZONE_ID.exec(zoneRaw.trim().replace(/\/+$/, ''));
  if (!m) throw new InputError('trafficDnsZone', `for azure-stack-dns expected the zone resource id /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/dnsZones/<zone>, got '${zoneRaw}'`);
  const zone = dnsName(m[3], 'trafficDnsZone');
  const zoneId = `/subscriptions/${m[1]}/resourceGroups/${m[2]}/providers/Microsoft.Network/dnsZones/${m[3]}`;
  const nameRaw = read.string('trafficDnsName');
  if (!nameRaw) throw new InputError('trafficDnsName', 'is required for azure-stack-dns: the name users resolve, e.g. ratings.contoso.local');
  const name = dnsName(nameRaw.includes('.') ? nameRaw : `${nameRaw}.${zone}`, 'trafficDnsName');
  if (name !== zone && !name.endsWith(`.${zone}`)) throw new InputError('trafficDnsName', `${name} is not inside zone ${zone}`);
  const hubSite = read.string('trafficDnsHub');
  if (!hubSite) throw new InputError('trafficDnsHub', 'is required for azure-stack-dns: the site whose Hub hosts the zone');
  const hc = resolveHubConnection(platform, 'trafficAzureConnection', 'trafficHubConnection');
  let auth: ClientAuth;
  let tenantId = read.string('trafficTenantId');
  let armEndpoint: string | undefined;
  if (hc) {
    auth = hc.auth;
    tenantId = hc.tenantId && hc.tenantId.toLowerCase() !== 'adfs' ? hc.tenantId : tenantId;
    armEndpoint = parseArmEndpoint(hc.armEndpoint, hc.input);
  } else {
    const kind = read.choice<string>('trafficAuth');
    if (kind === 'workload-identity' || kind === 'azure-cli') throw new InputError('trafficAuth', `${kind} sign-in does not exist on an Azure Stack Hub: use client-secret or certificate`);
    auth = clientAuth(read, kind, 'trafficAuth');
  }
  return { zoneId, zone, name, ...parseRecordCommon(read), hubSite, armEndpoint, auth, tenantId };
}

/**
 * Parses the provider configuration. Returns undefined when `trafficProvider` is empty (no traffic coupling).
 * Validates every input of the chosen provider (no I/O except finding nsupdate/dig on PATH and reading the files
 * named by inputs); errors are InputError naming the input.
 */
export function parseTrafficConfig(read: InputReader<TrafficProviderInputName>, platform: Platform, opts: { pathEnv?: string } = {}): TrafficConfig | undefined {
  const provider = read.choice<TrafficProviderName>('trafficProvider');
  if (!provider) return undefined;
  const caFile = read.filePath('trafficCaCertificate');
  const caCertificates = caFile ? readCaFile(caFile, 'trafficCaCertificate') : [];
  const probe = {
    skip: read.boolean('skipHealthCheck'),
    expected: parseStatusRanges(read.string('trafficProbeStatus') ?? '200-399', 'trafficProbeStatus'),
    attempts: read.number('trafficProbeAttempts', { min: 1, max: 100, integer: true }) ?? 3,
    timeoutMs: (read.number('trafficProbeTimeoutSeconds', { min: 1, max: 600, integer: true }) ?? 10) * 1000,
    intervalMs: (read.number('trafficProbeIntervalSeconds', { min: 0, max: 600, integer: true }) ?? 5) * 1000,
  };
  const maxDnsWaitSeconds = read.number('trafficMaxDnsWaitSeconds', { min: 0, max: 86400, integer: true });
  const pathEnv = opts.pathEnv ?? process.env.PATH;
  const cfg: TrafficConfig = { provider, caCertificates, probe, maxDnsWaitSeconds, pathEnv };
  if (provider === 'azure-traffic-manager') cfg.trafficManager = parseTrafficManager(read, platform);
  else if (provider === 'rfc2136') cfg.rfc2136 = parseRfc2136(read, platform, pathEnv);
  else cfg.azureStackDns = parseAzureStackDns(read, platform);
  return cfg;
}

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
