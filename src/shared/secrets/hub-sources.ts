/**
 * The Hub credential that keyvault:// references of a capability sign in with, taken from the Hub connection or
 * service-principal inputs the capability already has for its own Hub calls (a storage account's listKeys, the
 * Hub DNS traffic provider). Nothing is invented: a capability without such inputs refuses keyvault://.
 */
import type { InputReader, Platform } from '../../types';
import { readCaFile } from '../ca';
import { resolveHubConnection } from '../azure-stack/hub-connection';
import type { SecretSources } from './index';

/** Input names of one Hub credential: the two ADO connection inputs and the GitHub/CLI service-principal inputs. */
export interface HubInputNames<N extends string = string> {
  azureRmConnection: N;
  hubConnection: N;
  /** The service-principal inputs (GitHub, CLI); omitted: only a connection gives the Hub. */
  servicePrincipal?: { armEndpoint: N; clientId: N; clientSecret: N; tenantId: N };
  caCertificate?: N;
}

/** The Hub keyvault:// reads through, or undefined when none of the named inputs is set. */
export function hubSecretSource<N extends string>(read: InputReader<N>, platform: Platform, names: HubInputNames<N>): SecretSources['hub'] {
  const caFile = names.caCertificate ? read.filePath(names.caCertificate) : undefined;
  const ca = caFile ? readCaFile(caFile, names.caCertificate!) : [];
  const agentCa = platform.agentTls().caFile;
  if (agentCa) ca.push(...readCaFile(agentCa, 'Agent.CAInfo'));
  const conn = resolveHubConnection(platform, names.azureRmConnection, names.hubConnection);
  if (conn) {
    return {
      armEndpoint: conn.armEndpoint,
      armEndpointInput: conn.input,
      auth: conn.auth,
      tenantId: conn.tenantId,
      tenantInput: conn.input,
      ca: [...ca, ...(conn.caCertificates ?? [])],
    };
  }
  const sp = names.servicePrincipal;
  if (!sp) return undefined;
  const armEndpoint = read.string(sp.armEndpoint);
  const clientId = read.string(sp.clientId);
  const clientSecret = read.secret(sp.clientSecret);
  if (!armEndpoint || !clientId || !clientSecret) return undefined;
  return {
    armEndpoint,
    armEndpointInput: sp.armEndpoint,
    auth: { kind: 'client_secret', clientId, clientSecret },
    tenantId: read.string(sp.tenantId),
    tenantInput: sp.tenantId,
    ca,
  };
}
