/**
 * `credentials`: with the cluster-admin kubeconfig from the cluster state, create or update (idempotently) a service
 * account, a Role and a RoleBinding in each given namespace, and a long-lived token Secret; then build a kubeconfig
 * for that service account — so release pipelines do not run as cluster-admin. Uses @kubernetes/client-node.
 */
import YAML from 'yaml';
import { StackHubError, oneLine } from '../shared/errors';

/** An RBAC rule. */
export interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Default rules: everything inside the namespace (Roles cannot reach cluster-scoped objects). */
export const DEFAULT_ROLE_RULES: RoleRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

/** What {@link ensureServiceAccount} did. */
export interface CredentialsResult {
  kubeconfig: string;
  server: string;
  /** namespace → what was done (`created`, `updated`, `unchanged`). */
  actions: { namespace: string; object: string; action: 'created' | 'updated' | 'unchanged' }[];
}

/** Options of {@link ensureServiceAccount}. */
export interface CredentialsOptions {
  adminKubeconfig: string;
  /** Replaces the server of the admin kubeconfig (and of the result). */
  server?: string;
  serviceAccount: string;
  namespaces: string[];
  rules: RoleRule[];
  /** Registers the token as a secret before anything can log it. */
  mask: (s: string) => void;
  /** Waits between polls for the token (tests inject one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
  /** Polls for the token controller to fill the Secret (default 30). */
  tokenPolls?: number;
}

const LABELS = { 'app.kubernetes.io/managed-by': 'stackhub-ha' };

function status(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

/**
 * Creates or updates the service account, per-namespace Role/RoleBinding and token Secret, and returns a kubeconfig
 * that authenticates with the token. Idempotent: a second run changes nothing that is already as wanted.
 */
export async function ensureServiceAccount(o: CredentialsOptions): Promise<CredentialsResult> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(o.adminKubeconfig);
  } catch (e) {
    throw new StackHubError(`the cluster-admin kubeconfig in the cluster state cannot be read: ${oneLine(e)}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new StackHubError('the cluster-admin kubeconfig in the cluster state has no current cluster');
  if (o.server) {
    // plain http (a local `kubectl proxy`) has no TLS to verify; client-node insists on the flag for it
    const plain = o.server.startsWith('http://');
    const clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: o.server!, ...(plain ? { skipTLSVerify: true, caData: undefined } : {}) } : c));
    kc.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  }
  const server = kc.getCurrentCluster()!.server;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const actions: CredentialsResult['actions'] = [];
  const sa = o.serviceAccount;
  const home = o.namespaces[0];
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      const code = status(e);
      throw new StackHubError(`Kubernetes API ${server}: ${what} failed${code ? ` (${code})` : ''}: ${oneLine((e as { body?: { message?: string } }).body?.message ?? e)}`);
    }
  };
  const read = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw new StackHubError(`Kubernetes API ${server}: ${what} failed${status(e) ? ` (${status(e)})` : ''}: ${oneLine((e as { body?: { message?: string } }).body?.message ?? e)}`);
    }
  };

  for (const ns of o.namespaces) {
    if (!(await read(`reading namespace ${ns}`, () => core.readNamespace({ name: ns })))) {
      await call(`creating namespace ${ns}`, () => core.createNamespace({ body: { metadata: { name: ns, labels: LABELS } } }));
      actions.push({ namespace: ns, object: `namespace ${ns}`, action: 'created' });
    }
  }
  if (!(await read(`reading service account ${home}/${sa}`, () => core.readNamespacedServiceAccount({ name: sa, namespace: home })))) {
    await call(`creating service account ${home}/${sa}`, () => core.createNamespacedServiceAccount({ namespace: home, body: { metadata: { name: sa, namespace: home, labels: LABELS } } }));
    actions.push({ namespace: home, object: `serviceaccount ${sa}`, action: 'created' });
  } else actions.push({ namespace: home, object: `serviceaccount ${sa}`, action: 'unchanged' });

  for (const ns of o.namespaces) {
    const roleBody = { metadata: { name: sa, namespace: ns, labels: LABELS }, rules: o.rules };
    const role = await read(`reading role ${ns}/${sa}`, () => rbac.readNamespacedRole({ name: sa, namespace: ns }));
    if (!role) {
      await call(`creating role ${ns}/${sa}`, () => rbac.createNamespacedRole({ namespace: ns, body: roleBody }));
      actions.push({ namespace: ns, object: `role ${sa}`, action: 'created' });
    } else if (JSON.stringify(normaliseRules(role.rules ?? [])) !== JSON.stringify(normaliseRules(o.rules))) {
      await call(`updating role ${ns}/${sa}`, () => rbac.replaceNamespacedRole({ name: sa, namespace: ns, body: { ...roleBody, metadata: { ...roleBody.metadata, resourceVersion: role.metadata?.resourceVersion } } }));
      actions.push({ namespace: ns, object: `role ${sa}`, action: 'updated' });
    } else actions.push({ namespace: ns, object: `role ${sa}`, action: 'unchanged' });

    const bindingBody = {
      metadata: { name: sa, namespace: ns, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: home }],
    };
    const binding = await read(`reading rolebinding ${ns}/${sa}`, () => rbac.readNamespacedRoleBinding({ name: sa, namespace: ns }));
    if (!binding) {
      await call(`creating rolebinding ${ns}/${sa}`, () => rbac.createNamespacedRoleBinding({ namespace: ns, body: bindingBody }));
      actions.push({ namespace: ns, object: `rolebinding ${sa}`, action: 'created' });
    } else if (JSON.stringify(binding.subjects ?? []) !== JSON.stringify(bindingBody.subjects) || binding.roleRef?.name !== sa || binding.roleRef?.kind !== 'Role') {
      if (binding.roleRef?.name !== sa || binding.roleRef?.kind !== 'Role') {
        // roleRef is immutable: replace the binding
        await call(`deleting rolebinding ${ns}/${sa}`, () => rbac.deleteNamespacedRoleBinding({ name: sa, namespace: ns }));
        await call(`creating rolebinding ${ns}/${sa}`, () => rbac.createNamespacedRoleBinding({ namespace: ns, body: bindingBody }));
      } else {
        await call(`updating rolebinding ${ns}/${sa}`, () => rbac.replaceNamespacedRoleBinding({ name: sa, namespace: ns, body: { ...bindingBody, metadata: { ...bindingBody.metadata, resourceVersion: binding.metadata?.resourceVersion } } }));
      }
      actions.push({ namespace: ns, object: `rolebinding ${sa}`, action: 'updated' });
    } else actions.push({ namespace: ns, object: `rolebinding ${sa}`, action: 'unchanged' });
  }

  // a long-lived token (Kubernetes 1.24+ no longer creates one per service account)
  const secretName = `${sa}-token`;
  let secret = await read(`reading secret ${home}/${secretName}`, () => core.readNamespacedSecret({ name: secretName, namespace: home }));
  if (!secret) {
    await call(`creating secret ${home}/${secretName}`, () =>
      core.createNamespacedSecret({
        namespace: home,
        body: { metadata: { name: secretName, namespace: home, labels: LABELS, annotations: { 'kubernetes.io/service-account.name': sa } }, type: 'kubernetes.io/service-account-token' },
      }),
    );
    actions.push({ namespace: home, object: `secret ${secretName}`, action: 'created' });
  } else actions.push({ namespace: home, object: `secret ${secretName}`, action: 'unchanged' });
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let i = 0; !secret?.data?.token && i < (o.tokenPolls ?? 30); i++) {
    if (i > 0) await sleep(1000);
    secret = await read(`reading secret ${home}/${secretName}`, () => core.readNamespacedSecret({ name: secretName, namespace: home }));
  }
  if (!secret?.data?.token) throw new StackHubError(`Kubernetes API ${server}: the token controller did not fill secret ${home}/${secretName}`);
  const token = Buffer.from(secret.data.token, 'base64').toString('utf8');
  o.mask(token);
  o.mask(secret.data.token);

  const caData = server.startsWith('http://') ? undefined : (cluster.caData ?? (secret.data['ca.crt'] || undefined));
  const kubeconfig = YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster.name, cluster: { server, ...(caData ? { 'certificate-authority-data': caData } : {}) } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: `${sa}@${cluster.name}`, context: { cluster: cluster.name, user: sa, namespace: home } }],
    'current-context': `${sa}@${cluster.name}`,
  });
  return { kubeconfig, server, actions };
}

function normaliseRules(rules: { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[]): RoleRule[] {
  return rules.map((r) => ({ apiGroups: [...(r.apiGroups ?? [])].sort(), resources: [...(r.resources ?? [])].sort(), verbs: [...(r.verbs ?? [])].sort() }));
}
