/**
 * Credentials for ARM in public or sovereign Azure (Traffic Manager). Service principals (secret, certificate) come
 * from the shared credential stack (src/shared/azure-stack/credential.ts); workload-identity federation (a client
 * assertion the pipeline provides: a GitHub OIDC token fetched by the workflow, an Azure DevOps federated token) and
 * an existing Azure CLI login are added here on @azure/identity with the same HTTP client (CA, proxy, allow-list:
 * only the login endpoint is contacted, instance discovery off). Never DefaultAzureCredential, never IMDS.
 */
import * as fs from 'node:fs';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { AuthenticationFailedError, azureCredential, pipelineHttpClient, type ClientAuth } from '../shared/azure-stack/credential';
import { originOf, withSlash, type HubHttpOptions } from '../shared/azure-stack/net';
import { StackHubError, oneLine } from '../shared/errors';

/** How to sign in to Azure for Traffic Manager. */
export type AzureAuth =
  | { kind: 'service-principal'; tenantId: string; client: ClientAuth }
  | {
      kind: 'workload-identity';
      tenantId: string;
      clientId: string;
      /** A file holding the federated token (re-read for every sign-in, so the pipeline may refresh it). */
      assertionFile?: string;
      /** The federated token itself (a secret input). */
      assertion?: string;
    }
  | { kind: 'azure-cli'; tenantId?: string };

/** Where to sign in. */
export interface AzureTarget {
  /** e.g. https://login.microsoftonline.com/ (sovereign: login.microsoftonline.us, login.chinacloudapi.cn). */
  authorityHost: string;
  /** Token scope, e.g. https://management.azure.com/.default */
  scope: string;
}

/** Short description for logs (never secrets). */
export function describeAuth(auth: AzureAuth): string {
  switch (auth.kind) {
    case 'service-principal':
      return `service principal ${auth.client.clientId} (${auth.client.kind === 'client_secret' ? 'secret' : 'certificate'})`;
    case 'workload-identity':
      return `workload identity federation for ${auth.clientId}`;
    default:
      return 'the Azure CLI login of this agent';
  }
}

function clean(e: unknown): string {
  return oneLine(e)
    .replace(/\s*Troubleshooting guide:.*$/i, '')
    .replace(/\s*See https:\/\/aka\.ms\S*/gi, '')
    .replace(/^\w+Credential authentication failed\.?\s*/i, '');
}

/** A TokenCredential built lazily on @azure/identity (loaded only when a token is first needed). */
class LazyIdentityCredential implements TokenCredential {
  private inner?: Promise<TokenCredential>;
  constructor(
    private readonly what: string,
    private readonly make: () => Promise<TokenCredential>,
    private readonly secrets: () => string[],
    private readonly onToken?: (token: string) => void,
  ) {}
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    let t: AccessToken | null;
    try {
      t = await (await (this.inner ??= this.make())).getToken(scopes, options);
    } catch (e) {
      if (e instanceof StackHubError) throw e;
      let msg = clean(e);
      for (const s of this.secrets()) if (s.length >= 4) msg = msg.split(s).join('***');
      throw new AuthenticationFailedError(`${this.what} failed: ${msg || 'no details'}`);
    }
    if (!t) throw new AuthenticationFailedError(`${this.what}: no token returned`);
    this.onToken?.(t.token);
    return t;
  }
}

/** Reads the federated token (file wins: it may be refreshed by the pipeline). */
function readAssertion(auth: Extract<AzureAuth, { kind: 'workload-identity' }>): string {
  if (auth.assertionFile) {
    let text: string;
    try {
      text = fs.readFileSync(auth.assertionFile, 'utf8').trim();
    } catch {
      throw new AuthenticationFailedError(`cannot read the federated token file ${auth.assertionFile}`);
    }
    if (!text) throw new AuthenticationFailedError(`the federated token file ${auth.assertionFile} is empty`);
    return text;
  }
  if (!auth.assertion) throw new AuthenticationFailedError('no federated token (client assertion) was provided');
  return auth.assertion.trim();
}

/**
 * The credential for `auth`. `onToken` receives every token (mask it). Only `target.authorityHost` is contacted
 * (the Azure CLI runs `az` with its own configuration).
 */
export function azureArmCredential(auth: AzureAuth, target: AzureTarget, http: HubHttpOptions, onToken?: (token: string) => void): TokenCredential {
  const authorityHost = withSlash(target.authorityHost);
  if (auth.kind === 'service-principal') {
    return azureCredential({ authorityHost, tenantId: auth.tenantId, audience: target.scope.replace(/\/\.default$/, '/') }, auth.client, { http, onToken });
  }
  if (auth.kind === 'workload-identity') {
    const allowed = new Set([originOf(authorityHost)]);
    return new LazyIdentityCredential(
      `sign-in of client ${auth.clientId} at ${authorityHost} with a federated token`,
      async () => {
        const [identity, pipeline] = await Promise.all([import('@azure/identity'), import('@azure/core-rest-pipeline')]);
        return new identity.ClientAssertionCredential(auth.tenantId, auth.clientId, async () => readAssertion(auth), {
          authorityHost,
          disableInstanceDiscovery: true,
          httpClient: pipelineHttpClient(http, allowed, pipeline.createHttpHeaders),
          retryOptions: { maxRetries: 2 },
          loggingOptions: { enableUnsafeSupportLogging: false },
          additionallyAllowedTenants: [],
        });
      },
      () => {
        try {
          return [readAssertion(auth)];
        } catch {
          return [];
        }
      },
      onToken,
    );
  }
  return new LazyIdentityCredential(
    'token from the Azure CLI login (az account get-access-token)',
    async () => {
      const identity = await import('@azure/identity');
      return new identity.AzureCliCredential({ tenantId: auth.tenantId, processTimeoutInMs: 60_000 });
    },
    () => [],
    onToken,
  );
}
