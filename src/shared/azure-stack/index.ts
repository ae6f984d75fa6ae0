/**
 * Azure Stack Hub access shared by every capability (AKS Engine, the `azure-stack-dns` traffic provider, Hub storage
 * accounts): endpoint discovery, service-principal credentials (ADFS or Azure AD; secret or certificate), trust of the
 * Hub's root CA, proxy, and a thin ARM client. Nothing here contacts a host the caller did not configure.
 *
 * ```ts
 * const hub = await connectHub({
 *   armEndpoint: 'https://management.local.azurestack.external',
 *   armEndpointInput: 'armEndpoint',
 *   auth: { kind: 'client_certificate', clientId, ...readClientCertificate(certFile, keyFile, 'clientCertificate') },
 *   http: { ca: readCaFile(caFile, 'caCertificate'), proxyFor: (u) => platform.agentProxy(u.href) ?? proxyFromEnv(u) },
 *   onToken: ctx.mask,
 * });
 * const zone = await hub.arm.request('GET', `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/dnsZones/${z}/CNAME/www`,
 *   { apiVersion: '2016-04-01' });
 * await hub.arm.request('PUT', samePath, { apiVersion: '2016-04-01', body, headers: { 'if-match': zone.etag! } }); // 412 → ArmError
 * ```
 */
import { ArmClient } from './arm';
import { hubCredential, type ClientAuth, type ServicePrincipalCredential } from './credential';
import { discoverHub, type HubEndpoints } from './discovery';
import type { HubHttpOptions } from './net';

export * from './arm';
export * from './credential';
export * from './discovery';
export * from './hub-connection';
export * from './net';

/** A Hub ready to use: its endpoints, a credential for its ARM, and an ARM client. */
export interface HubSession {
  endpoints: HubEndpoints;
  credential: ServicePrincipalCredential;
  arm: ArmClient;
}

/**
 * Discovers a Hub and builds its credential and ARM client. Makes exactly one network call (the metadata endpoint);
 * the token is fetched on the first ARM request.
 * @throws InputError naming `armEndpointInput` (endpoint not https, unreachable, not an Azure Stack answer) or
 *   `tenantInput` (Azure AD Hub without tenant id)
 */
export async function connectHub(opts: {
  armEndpoint: string;
  /** The caller's input name holding the ARM endpoint (named in every discovery error). */
  armEndpointInput: string;
  auth: ClientAuth;
  /** Directory id (Azure AD Hubs only). */
  tenantId?: string;
  tenantInput?: string;
  http?: HubHttpOptions;
  /** Default api-version of the ARM client's requests. */
  apiVersion?: string;
  /** Called with every token, e.g. `ctx.mask`. */
  onToken?: (token: string) => void;
  debug?: (line: string) => void;
}): Promise<HubSession> {
  const endpoints = await discoverHub(opts.armEndpoint, { input: opts.armEndpointInput, http: opts.http });
  const credential = hubCredential(endpoints, opts.auth, {
    http: opts.http,
    tenantId: opts.tenantId,
    tenantInput: opts.tenantInput,
    onToken: opts.onToken,
    debug: opts.debug,
  });
  const arm = new ArmClient({ endpoint: endpoints.resourceManager, credential, http: opts.http, apiVersion: opts.apiVersion });
  return { endpoints, credential, arm };
}
