/**
 * The Kubernetes calls of `reboot`, through @kubernetes/client-node: nodes (list, read, merge-patch of
 * spec.unschedulable and annotations), the pods on a node, the Eviction subresource (policy/v1, which honours
 * PodDisruptionBudgets: 429 while a budget does not allow the disruption) and create-or-replace of the helper's
 * objects. Errors become one line naming the API server and what failed.
 */
import { StackHubError, oneLine } from '../../shared/errors';
import { HELPER_NAME } from './helper';

/** A node as the rollout sees it. */
export interface NodeState {
  name: string;
  controlPlane: boolean;
  unschedulable: boolean;
  ready: boolean;
  /** status.nodeInfo.bootID (kubelet reports a new one after every boot). */
  bootId: string;
  annotations: Record<string, string>;
}

/** A pod on a node. */
export interface PodState {
  namespace: string;
  name: string;
  uid: string;
  /** Kinds of its controllers (`ReplicaSet`, `DaemonSet`, …); empty for a bare pod. */
  owners: string[];
  mirror: boolean;
  phase: string;
}

/** What an eviction answered. */
export type EvictResult = { kind: 'evicted' } | { kind: 'gone' } | { kind: 'blocked'; message: string };

/** The operations the rollout needs (implemented on client-node; tests use the real one against a stand-in). */
export interface RebootKube {
  readonly server: string;
  listNodes(): Promise<NodeState[]>;
  getNode(name: string): Promise<NodeState>;
  patchNode(name: string, patch: { unschedulable?: boolean; annotations?: Record<string, string | null> }): Promise<void>;
  podsOnNode(node: string): Promise<PodState[]>;
  evict(namespace: string, name: string): Promise<EvictResult>;
  /** True while the pod (this uid) still exists. */
  podExists(namespace: string, name: string, uid: string): Promise<boolean>;
  /** Creates or replaces the helper's objects; returns `kind: created|updated` lines. */
  applyHelper(objects: { kind: string; body: Record<string, unknown> }[]): Promise<string[]>;
}

const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/master', 'node-role.kubernetes.io/control-plane'];

type K8sNode = {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type?: string; status?: string }[]; nodeInfo?: { bootID?: string } };
};

function toNode(n: K8sNode): NodeState {
  const labels = n.metadata?.labels ?? {};
  return {
    name: String(n.metadata?.name ?? ''),
    controlPlane: labels['kubernetes.io/role'] === 'master' || CONTROL_PLANE_LABELS.some((l) => l in labels),
    unschedulable: n.spec?.unschedulable === true,
    ready: (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    bootId: String(n.status?.nodeInfo?.bootID ?? ''),
    annotations: { ...(n.metadata?.annotations ?? {}) },
  };
}

function code(e: unknown): number | undefined {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

function message(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const m = (JSON.parse(body) as { message?: string }).message;
      if (m) return m;
    } catch {
      /* not JSON */
    }
  } else if (body && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return oneLine(e);
}

/** The client-node implementation for one kubeconfig (and optional context). */
export async function clientNodeKube(kubeconfig: string, context?: string): Promise<RebootKube> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(kubeconfig);
  } catch (e) {
    throw new StackHubError(`the kubeconfig cannot be read: ${oneLine(e)}`);
  }
  if (context) kc.setCurrentContext(context);
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const fail = (what: string, e: unknown): never => {
    const c = code(e);
    throw new StackHubError(`Kubernetes API ${server}: ${what} failed${c ? ` (${c})` : ''}: ${message(e)}`);
  };
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      return fail(what, e);
    }
  };
  const readOrUndefined = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      if (code(e) === 404) return undefined;
      return fail(what, e);
    }
  };
  type Ops = { read: () => Promise<{ metadata?: { resourceVersion?: string } }>; create: (b: never) => Promise<unknown>; replace: (b: never) => Promise<unknown> };
  const ops = (kind: string, ns: string | undefined): Ops => {
    const name = HELPER_NAME;
    const namespace = ns ?? '';
    switch (kind) {
      case 'ServiceAccount':
        return { read: () => core.readNamespacedServiceAccount({ name, namespace }), create: (body) => core.createNamespacedServiceAccount({ namespace, body }), replace: (body) => core.replaceNamespacedServiceAccount({ name, namespace, body }) };
      case 'ConfigMap':
        return { read: () => core.readNamespacedConfigMap({ name, namespace }), create: (body) => core.createNamespacedConfigMap({ namespace, body }), replace: (body) => core.replaceNamespacedConfigMap({ name, namespace, body }) };
      case 'DaemonSet':
        return { read: () => apps.readNamespacedDaemonSet({ name, namespace }), create: (body) => apps.createNamespacedDaemonSet({ namespace, body }), replace: (body) => apps.replaceNamespacedDaemonSet({ name, namespace, body }) };
      case 'ClusterRole':
        return { read: () => rbac.readClusterRole({ name }), create: (body) => rbac.createClusterRole({ body }), replace: (body) => rbac.replaceClusterRole({ name, body }) };
      case 'ClusterRoleBinding':
        return { read: () => rbac.readClusterRoleBinding({ name }), create: (body) => rbac.createClusterRoleBinding({ body }), replace: (body) => rbac.replaceClusterRoleBinding({ name, body }) };
      default:
        throw new Error(`unknown kind ${kind}`);
    }
  };
  return {
    server,
    async listNodes() {
      const list = await call('listing nodes', () => core.listNode());
      return (list.items ?? []).map((n) => toNode(n as K8sNode)).sort((a, b) => a.name.localeCompare(b.name));
    },
    async getNode(name) {
      return toNode((await call(`reading node ${name}`, () => core.readNode({ name }))) as K8sNode);
    },
    async patchNode(name, patch) {
      const body: Record<string, unknown> = {};
      if (patch.unschedulable !== undefined) body.spec = { unschedulable: patch.unschedulable ? true : null };
      if (patch.annotations) body.metadata = { annotations: patch.annotations };
      await call(`patching node ${name}`, () => core.patchNode({ name, body }, merge));
    },
    async podsOnNode(node) {
      const list = await call(`listing the pods on ${node}`, () => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
      return (list.items ?? []).map((p) => ({
        namespace: String(p.metadata?.namespace ?? ''),
        name: String(p.metadata?.name ?? ''),
        uid: String(p.metadata?.uid ?? ''),
        owners: (p.metadata?.ownerReferences ?? []).filter((o) => o.controller).map((o) => o.kind),
        mirror: 'kubernetes.io/config.mirror' in (p.metadata?.annotations ?? {}),
        phase: String(p.status?.phase ?? ''),
      }));
    },
    async evict(namespace, name) {
      try {
        await core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
        return { kind: 'evicted' };
      } catch (e) {
        if (code(e) === 404) return { kind: 'gone' };
        if (code(e) === 429) return { kind: 'blocked', message: message(e) };
        return fail(`evicting pod ${namespace}/${name}`, e);
      }
    },
    async podExists(namespace, name, uid) {
      const p = await readOrUndefined(`reading pod ${namespace}/${name}`, () => core.readNamespacedPod({ name, namespace }));
      return !!p && p.metadata?.uid === uid;
    },
    async applyHelper(objects) {
      const out: string[] = [];
      for (const o of objects) {
        const meta = o.body.metadata as { namespace?: string; name: string };
        const op = ops(o.kind, meta.namespace);
        const cur = await readOrUndefined(`reading ${o.kind} ${HELPER_NAME}`, op.read);
        if (!cur) {
          await call(`creating ${o.kind} ${HELPER_NAME}`, () => op.create(o.body as never));
          out.push(`${o.kind}: created`);
        } else {
          const body = { ...o.body, metadata: { ...meta, resourceVersion: cur.metadata?.resourceVersion } };
          await call(`replacing ${o.kind} ${HELPER_NAME}`, () => op.replace(body as never));
          out.push(`${o.kind}: updated`);
        }
      }
      return out;
    },
  };
}
