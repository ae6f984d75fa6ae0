/**
 * The nodes and pods half of the Kubernetes API stand-in (kube.ts routes to it), in the documented REST shapes:
 * - `GET /api/v1/nodes`, `GET /api/v1/nodes/{name}` (NodeList/Node with spec.unschedulable, status.conditions Ready,
 *   status.nodeInfo.bootID), `PATCH /api/v1/nodes/{name}` — only `application/merge-patch+json` (415 otherwise), a
 *   null deletes the key (RFC 7386);
 * - `GET /api/v1/pods?fieldSelector=spec.nodeName=<n>`, `GET /api/v1/namespaces/{ns}/pods/{name}`;
 * - `POST /api/v1/namespaces/{ns}/pods/{name}/eviction` (policy/v1 Eviction; 201 + Status Success; 404 when the pod
 *   is gone; 429 "Cannot evict pod as it would violate the pod's disruption budget." while a PodDisruptionBudget's
 *   minAvailable would be broken). An evicted pod terminates (deletionTimestamp) and is gone on the next read; a
 *   ReplicaSet pod is recreated on a schedulable node and turns Ready after `replacementReadyAfter` more evictions.
 *
 * It also plays the reboot helper's part of the contract while the helper DaemonSet exists: on every node read it
 * publishes the node's reboot-required state for its current boot; a `reboot.stackhub-ha.io/request` equal to the
 * boot id starts a reboot — the node turns NotReady for `rebootReads` reads, then Ready with a new boot id and the
 * sentinel cleared (or never, for nodes in `neverBack`).
 */
import type { NodeState } from '../../../src/aks-engine/reboot/kube';
import * as crypto from 'node:crypto';
import type * as http from 'node:http';

type Json = Record<string, unknown>;

/** A simulated node. */
export interface SimNode extends NodeState {
  /** /var/run/reboot-required exists on the host. */
  rebootRequired: boolean;
  packages: string;
  /** Reads left until a rebooting node is back; undefined = not rebooting. */
  rebooting?: number;
  /** Boot ids of the reboots that happened, in order. */
  reboots: string[];
}

/** A simulated pod. */
export interface SimPod {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  labels: Record<string, string>;
  owner?: 'ReplicaSet' | 'DaemonSet' | 'StatefulSet';
  ready: boolean;
  mirror?: boolean;
  phase: string;
  terminating?: boolean;
  /** Evictions (of any pod) still to come before this replacement is Ready. */
  readyIn?: number;
}

/** A PodDisruptionBudget (minAvailable over pods with these labels). */
export interface SimPdb {
  namespace: string;
  name: string;
  matchLabels: Record<string, string>;
  minAvailable: number;
}

/** The state the tests set up and inspect. */
export interface NodeWorld {
  nodes: Map<string, SimNode>;
  pods: SimPod[];
  pdbs: SimPdb[];
  /** Nodes that never come back from a reboot. */
  neverBack: Set<string>;
  rebootReads: number;
  replacementReadyAfter: number;
  /** Eviction answers, in order: `pod → status`. */
  evictions: string[];
  /** Node patches as received (content-type and body). */
  patches: { node: string; contentType: string; body: Json }[];
  /** Whether the helper runs (the DaemonSet exists); set by kube.ts. */
  helperRunning: () => boolean;
  addNode(name: string, o?: Partial<Omit<SimNode, 'name' | 'reboots'>>): SimNode;
  addPod(p: Omit<SimPod, 'uid' | 'phase' | 'ready'> & Partial<Pick<SimPod, 'phase' | 'ready'>>): SimPod;
}

const A = {
  required: 'reboot.stackhub-ha.io/required',
  packages: 'reboot.stackhub-ha.io/packages',
  bootId: 'reboot.stackhub-ha.io/boot-id',
  checked: 'reboot.stackhub-ha.io/checked',
  request: 'reboot.stackhub-ha.io/request',
};

/** A new, empty world. */
export function nodeWorld(): NodeWorld {
  const w: NodeWorld = {
    nodes: new Map(),
    pods: [],
    pdbs: [],
    neverBack: new Set(),
    rebootReads: 2,
    replacementReadyAfter: 2,
    evictions: [],
    patches: [],
    helperRunning: () => false,
    addNode(name, o = {}) {
      const n: SimNode = { name, controlPlane: false, unschedulable: false, ready: true, bootId: crypto.randomUUID(), annotations: {}, rebootRequired: false, packages: '', reboots: [], ...o };
      w.nodes.set(name, n);
      return n;
    },
    addPod(p) {
      const pod: SimPod = { phase: 'Running', ready: true, ...p, uid: crypto.randomUUID() };
      w.pods.push(pod);
      return pod;
    },
  };
  return w;
}

function helperTick(w: NodeWorld, n: SimNode): void {
  if (n.rebooting !== undefined) {
    if (n.rebooting > 0) n.rebooting--;
    else if (!w.neverBack.has(n.name)) {
      n.rebooting = undefined;
      n.bootId = crypto.randomUUID();
      n.ready = true;
      n.rebootRequired = false;
      n.packages = '';
    }
    if (n.rebooting !== undefined) return; // the helper pod is down with its node
  }
  if (!w.helperRunning()) return;
  n.annotations[A.required] = String(n.rebootRequired);
  n.annotations[A.packages] = n.packages;
  n.annotations[A.bootId] = n.bootId;
  n.annotations[A.checked] = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (n.annotations[A.request] && n.annotations[A.request] === n.bootId) {
    n.reboots.push(n.bootId);
    n.rebooting = w.rebootReads;
    n.ready = false;
    // the node's pods die with it (the DaemonSet's come back with the node)
    w.pods = w.pods.filter((p) => p.node !== n.name || p.owner === 'DaemonSet');
  }
}

function nodeJson(n: SimNode): Json {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: `uid-${n.name}`,
      resourceVersion: String(Date.now()),
      labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/role': n.controlPlane ? 'master' : 'agent', ...(n.controlPlane ? { 'node-role.kubernetes.io/master': '' } : { 'node-role.kubernetes.io/agent': '' }) },
      annotations: { ...n.annotations },
    },
    spec: { ...(n.unschedulable ? { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } : {}) },
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: n.ready ? 'True' : 'Unknown', reason: n.ready ? 'KubeletReady' : 'NodeStatusUnknown' },
      ],
      nodeInfo: { bootID: n.bootId, kubeletVersion: 'v1.33.10', osImage: 'Ubuntu 22.04.5 LTS', machineID: `m-${n.name}`, systemUUID: `s-${n.name}` },
    },
  };
}

function podJson(p: SimPod): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      labels: p.labels,
      ...(p.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'abc' } } : {}),
      ...(p.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: p.owner, name: `${p.labels.app ?? 'x'}-owner`, uid: 'owner-uid', controller: true }] } : {}),
      ...(p.terminating ? { deletionTimestamp: new Date().toISOString() } : {}),
    },
    spec: { nodeName: p.node, containers: [{ name: 'c', image: 'registry.local/app:1' }] },
    status: { phase: p.phase, conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }] },
  };
}

const status = (code: number, reason: string, message: string, details?: Json): Json => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) });

function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v)) {
      if (typeof target[k] !== 'object' || target[k] === null) target[k] = {};
      mergePatch(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else target[k] = v;
  }
}

/** Legacy discovery documents (what kubectl reads to map `node` to /api/v1/nodes), for the kinds the stand-in serves. */
const DISCOVERY: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: ['apps', 'rbac.authorization.k8s.io', 'policy'].map((g) => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' } })),
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['get', 'list', 'patch', 'update', 'watch'], shortNames: ['no'] },
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'delete', 'watch'], shortNames: ['po'] },
      { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
      { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'get', 'list'], shortNames: ['ns'] },
      { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['create', 'get', 'update'], shortNames: ['cm'] },
      { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: ['create', 'get', 'update'] },
      { name: 'serviceaccounts', singularName: 'serviceaccount', namespaced: true, kind: 'ServiceAccount', verbs: ['create', 'get', 'update'], shortNames: ['sa'] },
    ],
  },
  '/apis/apps/v1': { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'apps/v1', resources: [{ name: 'daemonsets', singularName: 'daemonset', namespaced: true, kind: 'DaemonSet', verbs: ['create', 'get', 'update'], shortNames: ['ds'] }] },
  '/apis/policy/v1': { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'policy/v1', resources: [{ name: 'poddisruptionbudgets', singularName: 'poddisruptionbudget', namespaced: true, kind: 'PodDisruptionBudget', verbs: ['get', 'list'], shortNames: ['pdb'] }] },
  '/apis/rbac.authorization.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'rbac.authorization.k8s.io/v1',
    resources: (
      [
        ['clusterroles', 'ClusterRole'],
        ['clusterrolebindings', 'ClusterRoleBinding'],
        ['roles', 'Role'],
        ['rolebindings', 'RoleBinding'],
      ] as const
    ).map(([name, kind]) => ({ name, singularName: name.slice(0, -1), namespaced: name.startsWith('role'), kind, verbs: ['create', 'get', 'update'] })),
  },
};

/** Handles a nodes/pods/eviction (or discovery) request; false when the path is not one of them. */
export function handleNodes(w: NodeWorld, req: http.IncomingMessage, u: URL, body: string, send: (status: number, body: unknown) => void): boolean {
  const m = req.method ?? 'GET';
  if (m === 'GET' && DISCOVERY[u.pathname]) {
    send(200, DISCOVERY[u.pathname]);
    return true;
  }
  const nodeM = /^\/api\/v1\/nodes(?:\/([^/]+))?$/.exec(u.pathname);
  if (nodeM) {
    const name = nodeM[1] ? decodeURIComponent(nodeM[1]) : undefined;
    if (!name && m === 'GET') {
      for (const n of w.nodes.values()) helperTick(w, n);
      send(200, { apiVersion: 'v1', kind: 'NodeList', metadata: { resourceVersion: '1' }, items: [...w.nodes.values()].map(nodeJson) });
      return true;
    }
    const n = name ? w.nodes.get(name) : undefined;
    if (!n) {
      send(404, status(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' }));
      return true;
    }
    if (m === 'GET') {
      helperTick(w, n);
      send(200, nodeJson(n));
      return true;
    }
    if (m === 'PATCH') {
      const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim();
      w.patches.push({ node: n.name, contentType: ct, body: JSON.parse(body || '{}') });
      if (ct !== 'application/merge-patch+json') {
        send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`));
        return true;
      }
      const doc = { metadata: { annotations: { ...n.annotations } }, spec: n.unschedulable ? { unschedulable: true } : {} } as { metadata: { annotations: Record<string, string> }; spec: { unschedulable?: boolean } };
      mergePatch(doc as unknown as Record<string, unknown>, JSON.parse(body || '{}'));
      n.annotations = doc.metadata.annotations ?? {};
      n.unschedulable = doc.spec?.unschedulable === true;
      send(200, nodeJson(n));
      return true;
    }
    send(405, status(405, 'MethodNotAllowed', `${m} ${u.pathname}`));
    return true;
  }
  if (u.pathname === '/api/v1/pods' && m === 'GET') {
    const sel = u.searchParams.get('fieldSelector') ?? '';
    const node = /^spec\.nodeName=(.+)$/.exec(sel)?.[1];
    // terminating pods vanish once seen terminating
    w.pods = w.pods.filter((p) => !p.terminating);
    const items = w.pods.filter((p) => !node || p.node === node).map(podJson);
    send(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items });
    return true;
  }
  const podM = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/eviction)?$/.exec(u.pathname);
  if (!podM) return false;
  const [ns, name, eviction] = [podM[1], decodeURIComponent(podM[2]), podM[3]];
  const pod = w.pods.find((p) => p.namespace === ns && p.name === name);
  if (!eviction && m === 'GET') {
    if (!pod) send(404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
    else {
      send(200, podJson(pod));
      if (pod.terminating) w.pods = w.pods.filter((p) => p !== pod);
    }
    return true;
  }
  if (eviction && m === 'POST') {
    const ev = JSON.parse(body || '{}') as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };
    if (ev.kind !== 'Eviction' || !['policy/v1', 'policy/v1beta1'].includes(ev.apiVersion ?? '') || ev.metadata?.name !== name) {
      send(400, status(400, 'BadRequest', `name in URL does not match name in Eviction object`));
      return true;
    }
    for (const p of w.pods) {
      if (p.readyIn !== undefined && --p.readyIn <= 0) {
        p.ready = true;
        p.readyIn = undefined;
      }
    }
    if (!pod || pod.terminating) {
      w.evictions.push(`${ns}/${name} 404`);
      send(404, status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
      return true;
    }
    const matches = (b: SimPdb, p: SimPod): boolean => b.namespace === p.namespace && Object.entries(b.matchLabels).every(([k, v]) => p.labels[k] === v);
    for (const b of w.pdbs.filter((x) => matches(x, pod))) {
      const healthy = w.pods.filter((p) => matches(b, p) && p.ready && !p.terminating).length;
      if (pod.ready && healthy - 1 < b.minAvailable) {
        w.evictions.push(`${ns}/${name} 429`);
        send(429, status(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${b.name} needs ${b.minAvailable} healthy pods and has ${healthy} currently` }] }));
        return true;
      }
    }
    w.evictions.push(`${ns}/${name} 201`);
    pod.terminating = true;
    if (pod.owner === 'ReplicaSet' || pod.owner === 'StatefulSet') {
      const target = [...w.nodes.values()].find((n) => !n.unschedulable && n.ready && !n.controlPlane && n.name !== pod.node);
      if (target) w.addPod({ namespace: ns, name: `${pod.name.replace(/-r\d+$/, '')}-r${w.pods.length}`, node: target.name, labels: pod.labels, owner: pod.owner, ready: false }).readyIn = w.replacementReadyAfter;
    }
    send(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    return true;
  }
  send(405, status(405, 'MethodNotAllowed', `${m} ${u.pathname}`));
  return true;
}
