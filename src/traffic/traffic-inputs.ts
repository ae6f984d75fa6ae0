/**
 * The traffic input fragment shared by every task that moves traffic (the traffic swap, the helm release's traffic
 * coupling, the AKS Engine node reboots include the SAME definitions): `defs` (the provider, sign-in, DNS and probe
 * inputs, each shown only for the providers it applies to), the task editor `groups` they go in, and `parse`
 * (traffic-parse.ts).
 */
import { withWhen } from '../platform/visibility';
import type { InputName } from '../platform/inputs';
import { defineInputs } from '../shared/inputs';
import { parseTrafficConfig } from './traffic-parse';

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

/** Display names of the two task editor groups of the traffic inputs (they differ per task). */
export interface TrafficGroupOptions {
  /** Display name of the `traffic` group (the provider inputs). */
  traffic: string;
  /** Display name of the `probe` group (health gate and verification). */
  probe: string;
  /** Whether the `traffic` group starts expanded (default false; the `probe` group starts collapsed). */
  trafficExpanded?: boolean;
}

/** The task editor groups of the traffic inputs (for a capability's `task.groups`). */
export function trafficGroups(opts: TrafficGroupOptions): { name: string; displayName: string; isExpanded: boolean }[] {
  return [
    { name: G, displayName: opts.traffic, isExpanded: opts.trafficExpanded ?? false },
    { name: P, displayName: opts.probe, isExpanded: false },
  ];
}

/** The fragment's input definitions ({@link trafficProviderInputs}). */
export const defs = trafficProviderInputs;
/** The fragment's task editor groups ({@link trafficGroups}). */
export const groups = trafficGroups;
/** The fragment's parser ({@link parseTrafficConfig}): a ready `TrafficConfig`, or undefined without a provider. */
export const parse = parseTrafficConfig;
