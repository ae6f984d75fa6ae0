/**
 * The one secret-reference resolver, called by the frame (src/platform/run.ts) where secret inputs are read: every
 * secret input of every capability may be a literal value or a reference (see ./reference.ts):
 *
 * | form | store | reached with |
 * |---|---|---|
 * | `keyvault://<vault>/<secret>[/<version>]` | the Hub's Key Vault, `https://<vault>.vault.<region>.<fqdn>` | the capability's own Hub credential ({@link SecretSources.hub}) |
 * | `k8s://<namespace>/<secret>/<key>` | a Kubernetes Secret | the site's kubeconfig ({@link SecretSources.kube}) |
 * | `vault://<mount>/<path>[?version=<n>]#<key>` | HashiCorp Vault KV v2 | `VAULT_ADDR` + `VAULT_TOKEN` or AppRole (./hashicorp-vault.ts) |
 *
 * Each reference is resolved once per run; the value is masked the moment it arrives, before anything can log it,
 * and lives only in memory (never on disk). Errors are one line naming the input and the reference.
 */
import type { ProxySettings } from '../../types';
import { InputError, StackHubError, oneLine } from '../errors';
import { discoverHub, hubCredential, type ClientAuth } from '../azure-stack';
import type { HubHttpOptions } from '../azure-stack/net';
import { HubKeyVault } from './keyvault';
import { VaultClient, vaultConfigFromEnv } from './hashicorp-vault';
import { KubeSecrets } from './kubernetes';
import { parseSecretValue, SecretReferenceError, type SecretReference } from './reference';

export * from './reference';
export { HubKeyVault, HUB_KEYVAULT_API_VERSION, parseChallenge } from './keyvault';
export { VaultClient, vaultConfigFromEnv } from './hashicorp-vault';
export { KubeSecrets } from './kubernetes';

/** Where a capability's keyvault:// and k8s:// references are read: the same Hub credential and cluster it uses. */
export interface SecretSources {
  /** The Hub (ARM endpoint and service principal) the capability signs in to. */
  hub?: {
    armEndpoint: string;
    /** The input that holds the ARM endpoint (or the service connection), named in discovery errors. */
    armEndpointInput: string;
    auth: ClientAuth;
    tenantId?: string;
    tenantInput?: string;
    /** Extra trusted CAs (the Hub's root). */
    ca?: string[];
  };
  /** The cluster (the site's kubeconfig) whose Secrets k8s:// references read. */
  kube?: { kubeconfig: string; context?: string };
}

/** What the resolver needs besides the inputs. */
export interface ResolveOptions {
  /** The environment holding the Vault settings (VAULT_ADDR ...). */
  env: NodeJS.ProcessEnv;
  /** Registers a secret with the CI system and our logger. Called before the value is returned. */
  mask: (secret: string) => void;
  /** Proxy for a URL (the agent's, or HTTPS_PROXY/NO_PROXY). */
  proxyFor?: (url: URL) => ProxySettings | undefined;
  /**
   * The capability's Hub and cluster, from its inputs. Called only when a keyvault:// or k8s:// reference is present,
   * after vault:// references are resolved; `value(name)` gives a secret input's value (reading one that is itself a
   * keyvault:// or k8s:// reference throws: it cannot be needed to reach its own store).
   */
  sources?: (value: (secretInput: string) => string | undefined) => SecretSources;
  sleep?: (ms: number) => Promise<void>;
  debug?: (line: string) => void;
}

/** A secret input as the platform gives it. */
export interface SecretInput {
  name: string;
  /** Raw value, undefined when unset. */
  value: string | undefined;
}

const STORE = { keyvault: 'the Hub\'s Key Vault', k8s: 'the cluster', vault: 'Vault' } as const;

/**
 * Resolves every secret input: literals are masked and returned as they are (one `literal:` escape removed),
 * references are fetched and their values masked. Returns the value of every input that is set.
 * @throws SecretReferenceError naming the input and the reference (never the value)
 */
export async function resolveSecretInputs(inputs: readonly SecretInput[], opts: ResolveOptions): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const refs: { name: string; ref: SecretReference }[] = [];
  for (const { name, value } of inputs) {
    if (value === undefined || value === '') continue;
    const parsed = parseSecretValue(value, name);
    if ('literal' in parsed) {
      opts.mask(parsed.literal);
      out.set(name, parsed.literal);
    } else refs.push({ name, ref: parsed.reference });
  }
  if (refs.length === 0) return out;

  const fail = (name: string, ref: SecretReference, e: unknown): never => {
    if (e instanceof SecretReferenceError) throw e;
    const why = e instanceof InputError ? `${e.message}` : oneLine(e);
    throw new SecretReferenceError(name, ref.text, e instanceof StackHubError ? why : `unexpected error: ${why}`);
  };
  const resolved = async (name: string, ref: SecretReference, get: () => Promise<string>): Promise<void> => {
    let v: string;
    try {
      v = await get();
    } catch (e) {
      return fail(name, ref, e);
    }
    if (v === '') throw new SecretReferenceError(name, ref.text, `the secret in ${STORE[ref.scheme]} is empty`);
    opts.mask(v);
    out.set(name, v);
    opts.debug?.(`input '${name}': resolved ${ref.text}`);
  };

  // 1. vault:// — needs nothing but the environment
  let vault: VaultClient | undefined;
  for (const { name, ref } of refs) {
    if (ref.scheme !== 'vault') continue;
    await resolved(name, ref, async () => {
      vault ??= new VaultClient(vaultConfigFromEnv(opts.env), { proxyFor: opts.proxyFor, mask: opts.mask, sleep: opts.sleep });
      return vault.get(ref.mount, ref.path, ref.key, ref.version);
    });
  }

  // 2. keyvault:// and k8s:// — through the capability's own Hub credential and cluster
  const rest = refs.filter((r) => r.ref.scheme !== 'vault');
  if (rest.length === 0) return out;
  const pending = new Map(rest.map((r) => [r.name, r.ref]));
  let sources: SecretSources | undefined;
  const sourcesFor = (name: string, ref: SecretReference): SecretSources => {
    if (sources) return sources;
    try {
      sources = opts.sources?.((input) => {
        const p = pending.get(input);
        if (p) throw new SecretReferenceError(input, p.text, `this input is needed to reach ${STORE[p.scheme]} itself: give it as a literal or a vault:// reference`);
        return out.get(input);
      }) ?? {};
    } catch (e) {
      if (e instanceof InputError) throw e;
      return fail(name, ref, e);
    }
    return sources;
  };
  let keyVault: Promise<HubKeyVault> | undefined;
  let kube: KubeSecrets | undefined;
  for (const { name, ref } of rest) {
    const src = sourcesFor(name, ref);
    if (ref.scheme === 'keyvault') {
      const hub = src.hub;
      if (!hub) throw new SecretReferenceError(name, ref.text, 'keyvault:// needs the Hub this run signs in to, and none is configured (set the Hub ARM endpoint and service principal inputs, or use k8s:// or vault://)');
      await resolved(name, ref, async () => {
        keyVault ??= (async () => {
          const http: HubHttpOptions = { ca: hub.ca, proxyFor: opts.proxyFor, sleep: opts.sleep };
          const endpoints = await discoverHub(hub.armEndpoint, { input: hub.armEndpointInput, http });
          const credential = hubCredential(endpoints, hub.auth, { http, tenantId: hub.tenantId, tenantInput: hub.tenantInput, onToken: opts.mask, debug: opts.debug });
          return new HubKeyVault(endpoints, credential, http);
        })();
        return (await keyVault).getSecret(ref.vault, ref.secret, ref.version);
      });
    } else if (ref.scheme === 'k8s') {
      const k = src.kube;
      if (!k) throw new SecretReferenceError(name, ref.text, 'k8s:// needs the site\'s kubeconfig, and this run has none (set the kubeconfig, the Kubernetes connection or the site\'s cluster.kubeconfig; or use vault://)');
      kube ??= new KubeSecrets(k.kubeconfig, k.context);
      await resolved(name, ref, () => kube!.get(ref.namespace, ref.secret, ref.key));
    }
    pending.delete(name);
  }
  return out;
}
export { siteKubeSource } from './sources';
