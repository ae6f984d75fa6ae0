/** Shared pieces of the reboot tests: a kubeconfig for the stand-in, a stock cluster, a recording traffic controller. */
import YAML from 'yaml';
import type { TrafficController, TrafficOperationResult, TrafficState } from '../../src/traffic/api';
import type { KubeStandIn } from '../helpers/aks-engine-double/kube';
import type { TestCa } from '../helpers/tls';

export const TOKEN = 'kube-admin-token-5d1e';

/** A kubeconfig for the stand-in (its CA, a bearer token). */
export function kubeconfigFor(kube: KubeStandIn, ca: TestCa, name = 'seattle'): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(ca.certPem).toString('base64') } }],
    users: [{ name: 'admin', user: { token: TOKEN } }],
    contexts: [{ name, context: { cluster: name, user: 'admin' } }],
    'current-context': name,
  });
}

/** A site's cluster: 3 masters, `workers` workers, a 3-replica app with a PDB minAvailable 2, a DaemonSet pod per node. */
export function stockCluster(kube: KubeStandIn, o: { workers: number; needReboot: string[]; prefix?: string }): void {
  const w = kube.world;
  const p = o.prefix ?? 'k8s';
  for (let i = 0; i < 3; i++) w.addNode(`${p}-master-0-${i}`, { controlPlane: true });
  for (let i = 0; i < o.workers; i++) w.addNode(`${p}-linuxpool-0-${i}`);
  for (const n of o.needReboot) Object.assign(w.nodes.get(n)!, { rebootRequired: true, packages: 'linux-image-6.8.0-1021-azure\nlinux-base\n' });
  for (const n of w.nodes.values()) w.addPod({ namespace: 'kube-system', name: `kube-proxy-${n.name}`, node: n.name, labels: { app: 'kube-proxy' }, owner: 'DaemonSet' });
  for (let i = 0; i < 3; i++) w.addPod({ namespace: 'ratings', name: `ratings-${i}`, node: `${p}-linuxpool-0-${i % o.workers}`, labels: { app: 'ratings' }, owner: 'ReplicaSet' });
  w.pdbs.push({ namespace: 'ratings', name: 'ratings', matchLabels: { app: 'ratings' }, minAvailable: 2 });
}

/** Records drain/restore calls; refuses nothing. */
export class RecordingTraffic implements TrafficController {
  readonly calls: string[] = [];
  readonly provider = 'recording';
  private state(): TrafficState {
    return { provider: 'recording', routing: 'priority', sites: [], capturedAt: new Date(0).toISOString() };
  }
  private op(name: string): TrafficOperationResult {
    return { operation: name, previousState: this.state(), state: this.state(), checks: [], noChange: false };
  }
  async status(): Promise<TrafficState> {
    return this.state();
  }
  async drain(site: string): Promise<TrafficOperationResult> {
    this.calls.push(`drain ${site}`);
    return this.op('drain');
  }
  async restore(site: string): Promise<TrafficOperationResult> {
    this.calls.push(`restore ${site}`);
    return this.op('restore');
  }
  async failover(): Promise<TrafficOperationResult> {
    throw new Error('not expected');
  }
  async weights(): Promise<TrafficOperationResult> {
    throw new Error('not expected');
  }
  async swap(): Promise<TrafficOperationResult> {
    throw new Error('not expected');
  }
  async undo(): Promise<TrafficOperationResult> {
    throw new Error('not expected');
  }
}

