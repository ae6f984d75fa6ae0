/**
 * Coordinated node reboots (src/aks-engine/reboot): the real @kubernetes/client-node against the HTTPS Kubernetes
 * API stand-in (tests/helpers/aks-engine-double/kube.ts + kube-nodes.ts: nodes, merge patches, pods, policy/v1
 * evictions with PodDisruptionBudget 429s, Ready and bootID changes, the reboot helper's annotation contract), a
 * manual clock (no real waits), and a recording TrafficController (the contract of src/traffic/api.ts).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ANNOTATION, HELPER_NAME } from '../../src/aks-engine/reboot/helper';
import { clientNodeKube } from '../../src/aks-engine/reboot/kube';
import { NeedsOperatorError, rebootRollout, type RebootOptions } from '../../src/aks-engine/reboot/rollout';
import { parseRebootWindow } from '../../src/aks-engine/reboot/window';
import { ManualClock } from '../helpers/manual-clock';
import { startKubeStandIn, type KubeStandIn } from '../helpers/aks-engine-double/kube';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';
import { testContext } from '../traffic/helpers';
import { kubeconfigFor, RecordingTraffic, stockCluster, TOKEN } from './reboot-fixture';

describe('aks-engine reboot rollout (client-node → HTTPS Kubernetes API stand-in)', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: TestCa;
  let tls: { key: string; cert: string };
  const stands: KubeStandIn[] = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reboot-'));
    ca = makeCa(path.join(dir, 'tls'));
    const cert = makeServerCert(ca, path.join(dir, 'tls'));
    tls = { key: cert.keyPem, cert: cert.certPem };
  });
  after(async () => {
    for (const s of stands) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  async function stand(): Promise<KubeStandIn> {
    const k = await startKubeStandIn({ tls, token: TOKEN, namespaces: ['kube-system', 'ratings'] });
    stands.push(k);
    return k;
  }
  const options = (o: Partial<RebootOptions> = {}): RebootOptions => ({
    sites: [{ name: 'seattle', inTraffic: true }],
    maxNodesAtOnce: 1,
    minWorkers: 2,
    helper: { image: 'registry.contoso.local/stackhub-ha/reboot-helper:1.0', namespace: 'kube-system', intervalSeconds: 60 },
    drainTimeoutMs: 10 * 60_000,
    readyTimeoutMs: 15 * 60_000,
    reportTimeoutMs: 5 * 60_000,
    force: false,
    ...o,
  });

  it('control plane first, then workers one at a time: cordon, evict (PDB 429 retried), reboot on request, wait for a new boot id, uncordon', async () => {
    const kube = await stand();
    stockCluster(kube, { workers: 3, needReboot: ['k8s-master-0-1', 'k8s-linuxpool-0-0', 'k8s-linuxpool-0-1'] });
    const clock = new ManualClock(Date.UTC(2026, 11, 12, 0, 30)); // Sat 01:30 in Berlin
    const ctx = testContext();
    const traffic = new RecordingTraffic();
    const boots = new Map([...kube.world.nodes.values()].map((n) => [n.name, n.bootId]));
    const r = await rebootRollout(options({ window: parseRebootWindow('Sat 01:00-05:00 Europe/Berlin') }), { kubeFor: () => clientNodeKube(kubeconfigFor(kube, ca)), traffic, clock, pollMs: 5000 }, ctx);
    assert.equal(r.status, 'done');
    assert.deepEqual(r.rebooted, ['seattle/k8s-master-0-1', 'seattle/k8s-linuxpool-0-0', 'seattle/k8s-linuxpool-0-1']);
    assert.deepEqual(traffic.calls, [], '3 workers, minWorkers 2, one at a time: the site keeps serving');
    for (const [name, n] of kube.world.nodes) {
      const wanted = r.rebooted.includes(`seattle/${name}`);
      assert.equal(n.reboots.length, wanted ? 1 : 0, `${name} rebooted ${wanted ? 'once' : 'never'}`);
      if (wanted) assert.equal(n.reboots[0], boots.get(name), 'the request named the boot it was made in');
      assert.equal(n.unschedulable, false, `${name} uncordoned`);
      assert.equal(n.annotations[ANNOTATION.request], undefined, `${name}: the request is removed`);
    }
    // the helper was installed: SA, ClusterRole (nodes get/patch only), binding, script, DaemonSet
    const ds = kube.objects.get(`daemonsets/kube-system/${HELPER_NAME}`) as unknown as { spec: { template: { spec: { hostPID: boolean; containers: { image: string; securityContext: unknown }[]; tolerations: unknown[] } } } };
    assert.equal(ds.spec.template.spec.hostPID, true);
    assert.equal(ds.spec.template.spec.containers[0].image, 'registry.contoso.local/stackhub-ha/reboot-helper:1.0');
    assert.deepEqual(ds.spec.template.spec.containers[0].securityContext, { privileged: true });
    assert.deepEqual((kube.objects.get(`clusterroles//${HELPER_NAME}`) as unknown as { rules: unknown }).rules, [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }]);
    // order per node: cordon, evictions, request, uncordon; merge patches only
    assert.ok(kube.world.patches.every((p) => p.contentType === 'application/merge-patch+json'));
    assert.deepEqual(
      kube.world.patches.filter((p) => p.node === 'k8s-linuxpool-0-0').map((p) => JSON.stringify(p.body)),
      ['{"spec":{"unschedulable":true}}', `{"metadata":{"annotations":{"${ANNOTATION.request}":"${boots.get('k8s-linuxpool-0-0')}"}}}`, `{"spec":{"unschedulable":null},"metadata":{"annotations":{"${ANNOTATION.request}":null}}}`],
    );
    // DaemonSet pods are never evicted; the PDB refused the second ratings pod until its replacement was Ready
    assert.ok(!kube.world.evictions.some((e) => e.startsWith('kube-system/')));
    assert.ok(kube.world.evictions.includes('ratings/ratings-1 429'), `a PDB 429 was retried: ${kube.world.evictions.join(', ')}`);
    assert.ok(kube.world.evictions.includes('ratings/ratings-1 201'));
    assert.ok(clock.slept.includes(2000), `a blocked eviction waits 2 s before the first retry: ${clock.slept.join(', ')}`);
    const md = ctx.summary.toMarkdown();
    assert.match(md, /\| seattle \| k8s-linuxpool-0-0 \| rebooted \(boot [0-9a-f]{8} → [0-9a-f]{8}\), Ready, uncordoned \|/);
    assert.ok(ctx.lines.some((l) => l.includes('linux-image-6.8.0-1021-azure')), 'the packages that asked for the reboot are logged');
    ctx.cleanup();
  });

  it('a site that would drop below minWorkers is drained from the GSLB first and restored after; two at a time; sites one after another', async () => {
    const a = await stand();
    const b = await stand();
    stockCluster(a, { workers: 3, needReboot: ['k8s-linuxpool-0-0', 'k8s-linuxpool-0-1', 'k8s-linuxpool-0-2'] });
    stockCluster(b, { workers: 3, needReboot: ['k8s-linuxpool-0-2'] });
    a.world.pdbs.length = 0; // two at a time with a PDB of 2 out of 3 could never drain
    const ctx = testContext();
    const traffic = new RecordingTraffic();
    const order: string[] = [];
    const kubes: Record<string, KubeStandIn> = { seattle: a, dublin: b };
    const r = await rebootRollout(
      options({ sites: [{ name: 'seattle', inTraffic: true }, { name: 'dublin', inTraffic: true }], maxNodesAtOnce: 2 }),
      { kubeFor: async (s) => (order.push(s), clientNodeKube(kubeconfigFor(kubes[s], ca, s))), traffic, clock: new ManualClock(), pollMs: 5000 },
      ctx,
    );
    assert.deepEqual(order, ['seattle', 'dublin']);
    assert.deepEqual(traffic.calls, ['drain seattle', 'restore seattle'], 'only seattle (3 - 2 < 2) is drained; dublin reboots one node and keeps 2');
    assert.deepEqual(r.rebooted, ['seattle/k8s-linuxpool-0-0', 'seattle/k8s-linuxpool-0-1', 'seattle/k8s-linuxpool-0-2', 'dublin/k8s-linuxpool-0-2']);
    // the first batch held two nodes cordoned at the same time
    const cordons = a.world.patches.filter((p) => JSON.stringify(p.body) === '{"spec":{"unschedulable":true}}').map((p) => p.node);
    assert.deepEqual(cordons.slice(0, 2), ['k8s-linuxpool-0-0', 'k8s-linuxpool-0-1']);
    ctx.cleanup();
  });

  it('a node that never comes back Ready: the rollout stops, the node stays cordoned, the site stays drained — NEEDS AN OPERATOR', async () => {
    const kube = await stand();
    stockCluster(kube, { workers: 2, needReboot: ['k8s-linuxpool-0-0', 'k8s-linuxpool-0-1'] });
    kube.world.pdbs.length = 0;
    kube.world.neverBack.add('k8s-linuxpool-0-0');
    const ctx = testContext();
    const traffic = new RecordingTraffic();
    await assert.rejects(
      rebootRollout(options(), { kubeFor: () => clientNodeKube(kubeconfigFor(kube, ca)), traffic, clock: new ManualClock(), pollMs: 5000 }, ctx),
      (e: Error) => {
        assert.ok(e instanceof NeedsOperatorError);
        assert.match(e.message, /^NEEDS AN OPERATOR: node k8s-linuxpool-0-0 of site seattle did not come back Ready with a new boot id within 15 min after the reboot request; the rollout stopped, the node stays cordoned and site seattle stays drained from the GSLB\./);
        return true;
      },
    );
    assert.deepEqual(traffic.calls, ['drain seattle'], 'never restored');
    assert.equal(kube.world.nodes.get('k8s-linuxpool-0-0')!.unschedulable, true);
    assert.equal(kube.world.nodes.get('k8s-linuxpool-0-1')!.reboots.length, 0, 'no further node was started');
    assert.match(ctx.summary.toMarkdown(), /\| seattle \| k8s-linuxpool-0-0 \| NOT back Ready: cordoned, NEEDS AN OPERATOR \|/);
    ctx.cleanup();
  });

  it('a PodDisruptionBudget that never allows the eviction: drain times out, the node is uncordoned and not rebooted, traffic restored', async () => {
    const kube = await stand();
    stockCluster(kube, { workers: 2, needReboot: ['k8s-linuxpool-0-0'] });
    kube.world.pdbs[0].minAvailable = 3; // 3 replicas, 3 must stay: nothing may go
    const ctx = testContext();
    const traffic = new RecordingTraffic();
    await assert.rejects(
      rebootRollout(options(), { kubeFor: () => clientNodeKube(kubeconfigFor(kube, ca)), traffic, clock: new ManualClock(), pollMs: 5000 }, ctx),
      /^StackHubError: drain of k8s-linuxpool-0-0 timed out after 10 min: evicting ratings\/ratings-0 is still refused by its PodDisruptionBudget \(Cannot evict pod as it would violate the pod's disruption budget\.\)$/,
    );
    const n = kube.world.nodes.get('k8s-linuxpool-0-0')!;
    assert.equal(n.unschedulable, false);
    assert.equal(n.reboots.length, 0);
    assert.deepEqual(traffic.calls, ['drain seattle', 'restore seattle']);
    ctx.cleanup();
  });

  it('below minWorkers without a traffic provider: refused before anything is cordoned', async () => {
    const kube = await stand();
    stockCluster(kube, { workers: 2, needReboot: ['k8s-linuxpool-0-0'] });
    const ctx = testContext();
    await assert.rejects(
      rebootRollout(options(), { kubeFor: () => clientNodeKube(kubeconfigFor(kube, ca)), clock: new ManualClock(), pollMs: 5000 }, ctx),
      /site seattle has 2 schedulable workers; rebooting 1 at once would leave 1, below minWorkers 2: set trafficProvider so the site is drained from the GSLB first, or lower minWorkers \/ maxNodesAtOnce$/,
    );
    assert.deepEqual(kube.world.patches, []);
    ctx.cleanup();
  });

  it('bare pods are refused unless force', async () => {
    const kube = await stand();
    stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-0'] });
    kube.world.addPod({ namespace: 'ratings', name: 'debug-shell', node: 'k8s-linuxpool-0-0', labels: {} });
    const ctx = testContext();
    await assert.rejects(
      rebootRollout(options(), { kubeFor: () => clientNodeKube(kubeconfigFor(kube, ca)), traffic: new RecordingTraffic(), clock: new ManualClock(), pollMs: 5000 }, ctx),
      /node k8s-linuxpool-0-0 runs pods no controller manages \(ratings\/debug-shell\): they would be deleted for good; move them or set force: true/,
    );
    assert.equal(kube.world.nodes.get('k8s-linuxpool-0-0')!.unschedulable, false, 'uncordoned again');
    ctx.cleanup();
  });

  it('outside the window: nothing is touched, the summary says when it opens', async () => {
    const kube = await stand();
    stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-0'] });
    const ctx = testContext();
    const r = await rebootRollout(
      options({ window: parseRebootWindow('Sat 01:00-05:00 Europe/Berlin') }),
      { kubeFor: () => clientNodeKube(kubeconfigFor(kube, ca)), clock: new ManualClock(Date.UTC(2026, 11, 9, 12, 0)), pollMs: 5000 },
      ctx,
    );
    assert.equal(r.status, 'outside-window');
    assert.equal(r.nextWindow, 'Sat 2026-12-12 01:00 Europe/Berlin (2026-12-12T00:00:00Z)');
    assert.deepEqual(kube.requests, []);
    assert.match(ctx.summary.toMarkdown(), /Outside the reboot window `Sat 01:00-05:00 Europe\/Berlin`: nothing done\. The window opens next at Sat 2026-12-12 01:00/);
    ctx.cleanup();
  });

  it('the window closes during the rollout: no new node is started, the rest is pending, the site restored', async () => {
    const kube = await stand();
    stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-0', 'k8s-linuxpool-0-1', 'k8s-linuxpool-0-2'] });
    kube.world.pdbs.length = 0;
    // 04:58 Berlin: the first node's reboot (polls of 5 min) outlasts the window
    const clock = new ManualClock(Date.UTC(2026, 11, 12, 3, 58));
    const ctx = testContext();
    const r = await rebootRollout(
      options({ window: parseRebootWindow('Sat 01:00-05:00 Europe/Berlin'), minWorkers: 3 }),
      { kubeFor: () => clientNodeKube(kubeconfigFor(kube, ca)), traffic: new RecordingTraffic(), clock, pollMs: 300_000 },
      ctx,
    );
    assert.equal(r.status, 'window-closed');
    assert.deepEqual(r.rebooted, ['seattle/k8s-linuxpool-0-0']);
    assert.deepEqual(r.pending, ['seattle/k8s-linuxpool-0-1', 'seattle/k8s-linuxpool-0-2']);
    assert.equal(r.nextWindow, 'Sat 2026-12-19 01:00 Europe/Berlin (2026-12-19T00:00:00Z)');
    assert.equal(kube.world.nodes.get('k8s-linuxpool-0-1')!.reboots.length, 0);
    assert.ok([...kube.world.nodes.values()].every((n) => !n.unschedulable));
    ctx.cleanup();
  });
});
