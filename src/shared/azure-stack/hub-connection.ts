/**
 * The "Azure Stack Hub" service connection (the endpoint type this extension contributes) checked and turned into
 * the same {@link HubConnection} an `azurerm` connection with environment AzureStack yields, so cores use either the
 * same way. Errors name the connection input AND the connection's field, in one line.
 */
import * as crypto from 'node:crypto';
import type { AzureStackHubConnection, Platform } from '../../types';
import { InputError } from '../errors';
import { hubConnectionFrom, parseClientCertificate, type HubConnection } from './credential';
import { parseArmEndpoint, type IdentitySystem } from './discovery';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Field labels as the connection dialog shows them (vss-extension.json is generated with the same labels). */
export const HUB_CONNECTION_FIELDS = {
  url: 'Hub ARM endpoint',
  identitySystem: 'Identity system',
  tenantId: 'Directory (tenant) id',
  subscriptionId: 'Subscription id',
  subscriptionName: 'Subscription name',
  caCertificate: 'Hub root CA (PEM)',
  clientId: 'Service principal (client) id',
  clientSecret: 'Client secret',
  certificate: 'Certificate and private key (PEM)',
} as const;

function fieldError(input: string, field: keyof typeof HUB_CONNECTION_FIELDS, what: string): InputError {
  return new InputError(input, `Azure Stack Hub connection field '${HUB_CONNECTION_FIELDS[field]}' ${what}`);
}

/**
 * Checks an "Azure Stack Hub" connection and returns the Hub connection it describes.
 * @throws InputError naming `input` and the field: missing ARM endpoint, unknown identity system, ADFS with a tenant
 *   id, Azure AD without one, bad subscription id, certificate without key, unparsable root CA, missing secret
 */
export function hubConnectionFromEndpoint(c: AzureStackHubConnection, input: string): HubConnection {
  if (!c.armEndpoint) throw fieldError(input, 'url', 'is empty: expected https://management.<region>.<fqdn>');
  let armEndpoint: string;
  try {
    armEndpoint = parseArmEndpoint(c.armEndpoint, input);
  } catch (e) {
    throw e instanceof InputError ? fieldError(input, 'url', e.expected) : e;
  }
  const ids = (c.identitySystem ?? '').toLowerCase().replace(/[\s-]/g, '_');
  const identitySystem: IdentitySystem | undefined = ids === 'adfs' ? 'adfs' : ids === 'azure_ad' || ids === 'azuread' ? 'azure_ad' : undefined;
  if (!identitySystem) throw fieldError(input, 'identitySystem', `expected azure_ad or adfs, got '${c.identitySystem ?? ''}'`);
  const tenant = c.tenantId?.trim() || undefined;
  if (identitySystem === 'adfs' && tenant && tenant.toLowerCase() !== 'adfs') {
    throw fieldError(input, 'tenantId', `must be empty for an ADFS Hub (got '${tenant}'): ADFS has no directory id`);
  }
  if (identitySystem === 'azure_ad' && !tenant) throw fieldError(input, 'tenantId', 'is required for an Azure AD Hub');
  const subscriptionId = c.subscriptionId?.trim() || undefined;
  if (!subscriptionId) throw fieldError(input, 'subscriptionId', 'is empty');
  if (!GUID.test(subscriptionId)) throw fieldError(input, 'subscriptionId', `expected a GUID, got '${subscriptionId}'`);
  let caCertificates: string[] | undefined;
  if (c.caCertificatePem?.trim()) {
    caCertificates = c.caCertificatePem.match(PEM_CERT) ?? [];
    if (caCertificates.length === 0) throw fieldError(input, 'caCertificate', 'holds no PEM CERTIFICATE');
    for (const pem of caCertificates) {
      try {
        new crypto.X509Certificate(pem);
      } catch {
        throw fieldError(input, 'caCertificate', 'holds a certificate that is not valid X.509');
      }
    }
    caCertificates = caCertificates.map((p) => p.trim());
  }
  const clientId = c.clientId?.trim();
  if (!clientId) throw fieldError(input, 'clientId', 'is empty');
  const scheme = c.scheme.toLowerCase();
  let auth: HubConnection['auth'];
  if (scheme === 'usernamepassword') {
    if (!c.clientSecret) throw fieldError(input, 'clientSecret', 'is empty');
    auth = { kind: 'client_secret', clientId, clientSecret: c.clientSecret };
  } else if (scheme === 'certificate') {
    if (!c.certificatePem?.trim()) throw fieldError(input, 'certificate', 'is empty');
    try {
      auth = { kind: 'client_certificate', clientId, ...parseClientCertificate(c.certificatePem, undefined, input) };
    } catch (e) {
      throw e instanceof InputError ? fieldError(input, 'certificate', e.expected) : e;
    }
  } else {
    throw new InputError(input, `expected an Azure Stack Hub connection with scheme UsernamePassword or Certificate, got '${c.scheme}'`);
  }
  return {
    armEndpoint,
    subscriptionId,
    subscriptionName: c.subscriptionName?.trim() || undefined,
    tenantId: identitySystem === 'adfs' ? undefined : tenant,
    identitySystem,
    caCertificates,
    auth,
  };
}

/** A Hub connection and the input it came from (named in later errors). */
export type ResolvedHubConnection = HubConnection & { input: string };

/**
 * Reads whichever of the two connection inputs is set: an `azurerm` connection with environment AzureStack
 * (`azureRmInput`) or an "Azure Stack Hub" connection (`hubInput`). Undefined when neither (or off Azure Pipelines).
 * @throws InputError when both are set, or naming the input (and field) that is malformed
 */
export function resolveHubConnection(
  platform: Pick<Platform, 'azureRmConnection' | 'azureStackHubConnection'>,
  azureRmInput: string,
  hubInput: string,
): ResolvedHubConnection | undefined {
  const hub = platform.azureStackHubConnection?.(hubInput);
  const rm = platform.azureRmConnection(azureRmInput);
  if (hub && rm) throw new InputError(hubInput, `set either ${azureRmInput} or ${hubInput}, not both`);
  if (hub) return { ...hubConnectionFromEndpoint(hub, hubInput), input: hubInput };
  if (rm) return { ...hubConnectionFrom(rm, azureRmInput), input: azureRmInput };
  return undefined;
}
