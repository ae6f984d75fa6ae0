/** Parses the traffic inputs into the provider's settings (Traffic Manager, rfc2136, azure-stack-dns) and the probe settings. */
import * as net from 'node:net';
import type { InputReader } from '../platform/inputs';
import type { Platform } from '../platform/types';
import { parseArmEndpoint } from '../shared/azure-stack/discovery';
import { resolveHubConnection } from '../shared/azure-stack/hub-connection';
import { parseClientCertificate, readClientCertificate, type ClientAuth } from '../shared/azure-stack/credential';
import { readCaFile } from '../shared/ca';
import { InputError } from '../shared/errors';
import { which } from '../shared/tools/cache';
import type { AzureAuth } from './azure-auth';
import type { TrafficClock } from './clock';
import { parseStatusRanges, type ProbeSettings } from './health';
import { type RecordType } from './providers/records';
import type { Rfc2136Config, Rfc2136Key } from './providers/rfc2136';
import { PROFILE_ID } from './providers/traffic-manager';
import { ZONE_ID } from './providers/azure-stack-dns';
import { normName } from './resolvers';
import type { TrafficProviderInputName, TrafficProviderName } from './traffic-inputs';

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
