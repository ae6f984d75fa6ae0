/**
 * Reads one key of a Kubernetes Secret through a site's kubeconfig (`GET /api/v1/namespaces/<ns>/secrets/<name>`)
 * with @kubernetes/client-node, loaded only when a k8s:// reference is used (it is a vendor sidecar of the bundles).
 */
import { StackHubError, oneLine } from '../errors';

/** Why a Secret read failed (the message never holds the secret). */
export class KubeSecretError extends StackHubError {}

/** One cluster's Secrets, read once each. */
export class KubeSecrets {
  private readonly cache = new Map<string, Promise<Record<string, string>>>();
  private api?: Promise<{ server: string; read: (ns: string, name: string) => Promise<{ data?: Record<string, string> }> }>;

  constructor(private readonly kubeconfig: string, private readonly context?: string) {}

  private client(): NonNullable<KubeSecrets['api']> {
    return (this.api ??= (async () => {
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      try {
        kc.loadFromString(this.kubeconfig);
      } catch (e) {
        throw new KubeSecretError(`the kubeconfig cannot be read: ${oneLine(e)}`);
      }
      if (this.context) {
        if (!kc.getContexts().some((c) => c.name === this.context)) throw new KubeSecretError(`the kubeconfig has no context '${this.context}'`);
        kc.setCurrentContext(this.context);
      }
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new KubeSecretError('the kubeconfig has no current cluster');
      const core = kc.makeApiClient(k8s.CoreV1Api);
      return { server: cluster.server, read: (namespace: string, name: string) => core.readNamespacedSecret({ name, namespace }) };
    })());
  }

  /** One key of a Secret, decoded from base64. */
  async get(namespace: string, name: string, key: string): Promise<string> {
    const id = `${namespace}/${name}`;
    let hit = this.cache.get(id);
    if (!hit) {
      hit = (async () => {
        const api = await this.client();
        try {
          return (await api.read(namespace, name)).data ?? {};
        } catch (e) {
          const code = (e as { code?: unknown }).code;
          const body = (e as { body?: unknown }).body;
          let msg = '';
          try {
            const doc = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string } | undefined;
            if (doc?.message) msg = `: ${oneLine(doc.message)}`;
          } catch {
            /* no message */
          }
          if (code === 404) throw new KubeSecretError(`Secret ${id} not found at ${api.server}${msg}`);
          if (code === 403) throw new KubeSecretError(`reading Secret ${id} is forbidden at ${api.server}${msg}: the kubeconfig's user needs get on secrets in ${namespace}`);
          if (code === 401) throw new KubeSecretError(`the Kubernetes API ${api.server} rejected the kubeconfig's credentials (401)`);
          throw new KubeSecretError(`reading Secret ${id} at ${api.server} failed${typeof code === 'number' ? ` (${code})` : ''}: ${msg ? msg.slice(2) : oneLine(e)}`);
        }
      })();
      this.cache.set(id, hit);
    }
    const data = await hit;
    if (!(key in data)) throw new KubeSecretError(`Secret ${id} has no key '${key}' (keys: ${Object.keys(data).join(', ') || 'none'})`);
    return Buffer.from(data[key], 'base64').toString('utf8');
  }
}
