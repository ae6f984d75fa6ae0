/**
 * Release scenarios against the stateful helm double (cluster operations), the REAL helm (lint, template: delegated
 * by the double; stored values: rendered by the real helm 4) and the REAL kubectl against a fake API server, with an
 * in-memory TrafficController. Each scenario checks what every site runs afterwards, the record and the summary.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type * as http from 'node:http';
import * as path from 'node:path';
import type { ReleaseRecord } from '../../src/helm-release/record';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/helm-double/kube-api';
import { startHttpServer, type TestServer } from '../helpers/servers';
import { FakeTraffic, NS, RELEASE, World, chartVersion } from './world';
import { World as MongoWorld } from '../mongo/world';
import { readReplSet, writeReplSet } from '../mongo/replset-world';

const noStack = (s: string | undefined): void => assert.doesNotMatch(s ?? '', /\n\s+at .+:\d+:\d+/);

describe('helm-release scenarios (helm double)', function () {
  this.timeout(120_000);
  let api: FakeKubeApi;
  let tmp: string;
  let chart13: string;
  let health: TestServer;
  /** site → chart version that answers 503 on its probe */
  const broken = new Map<string, string>();
  const worlds: World[] = [];

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-scen-'));
    api = await startFakeKubeApi(path.join(tmp, 'tls'));
    chart13 = chartVersion(tmp, '1.3.0');
    // a probe target that is unhealthy while a site runs a given chart version (from the double's state)
    health = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      const site = (req.url ?? '').split('/')[1];
      const w = worlds[worlds.length - 1];
      const rel = w?.helm.release(`${site}-ctx`, NS, RELEASE);
      const running = rel?.revisions.filter((r) => r.status === 'deployed').pop()?.meta.version;
      res.writeHead(running && broken.get(site) === running ? 503 : 200).end('ok');
    });
  });
  after(async () => {
    for (const w of worlds) await w.close();
    await health.close();
    await api.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A world with the release installed at 1.2.0 everywhere (unless `fresh`). */
  async function world(sites = ['a', 'b', 'c'], o: { fresh?: boolean; version?: string; traffic?: boolean; probes?: boolean } = {}): Promise<World> {
    const w = new World(sites, o.version);
    worlds.push(w);
    broken.clear();
    await w.start({ api, siteExtra: o.probes ? (s) => ({ traffic: { endpoint: `${s}-ep`, probeUrl: `${health.url}/${s}/healthz` } }) : undefined });
    if (o.traffic !== false) w.traffic = new FakeTraffic(sites);
    if (!o.fresh) await w.install();
    return w;
  }

  it('mongo configured: the record and the summary show where the MongoDB primary was before and after the release', async () => {
    const w = await world(['a', 'b'], { traffic: false });
    const m = await new MongoWorld().init();
    writeReplSet(m, [
      { host: 'mongo-a:27017', site: 'a', tag: true, priority: 2, state: 'PRIMARY' },
      { host: 'mongo-b:27017', site: 'b', tag: true, priority: 1 },
      { host: 'mongo-b2:27017', site: 'b', tag: true, priority: 1 },
    ]);
    // the mongosh double at the END of PATH: the helm world's own tools come first
    const saved = { PATH: process.env.PATH, MONGO_DOUBLE_SERVERS: process.env.MONGO_DOUBLE_SERVERS, MONGO_DOUBLES_LOG: process.env.MONGO_DOUBLES_LOG };
    process.env.PATH = `${process.env.PATH}:${m.env().PATH.split(':')[0]}`;
    process.env.MONGO_DOUBLE_SERVERS = m.servers;
    process.env.MONGO_DOUBLES_LOG = m.log;
    try {
      const uri = `mongodb://admin:${encodeURIComponent(m.password)}@mongo-a:27017,mongo-b:27017/?replicaSet=rs0`;
      const r = await w.run({ chart: chart13, mongoConnectionString: uri });
      assert.equal(r.ok, true, r.failed);
      assert.deepEqual(r.record!.mongo, { before: { host: 'mongo-a:27017', site: 'a' }, after: { host: 'mongo-a:27017', site: 'a' } });
      assert.match(r.summary, /MongoDB primary: before mongo-a:27017 \(a\), after mongo-a:27017 \(a\)/);
      assert.ok(!r.summary.includes(m.password) && !r.log.includes(m.password));
      // a later stage keeps the first stage's "before" and records the primary now
      const s = readReplSet(m);
      s.nodes['mongo-a:27017'].state = 'SECONDARY';
      s.nodes['mongo-b:27017'].state = 'PRIMARY';
      s.config.members[0].priority = 1;
      s.config.members[1].priority = 2;
      fs.writeFileSync(path.join(m.servers, 'replset.json'), JSON.stringify(s));
      const v = await w.run({ chart: chart13, command: 'verify', site: 'b', recordFiles: r.outputs.recordFile, mongoConnectionString: uri });
      assert.equal(v.ok, true, v.failed);
      assert.deepEqual(v.record!.mongo, { before: { host: 'mongo-a:27017', site: 'a' }, after: { host: 'mongo-b:27017', site: 'b' } });
      assert.match(v.summary, /MongoDB primary: before mongo-a:27017 \(a\), after mongo-b:27017 \(b\)/);
    } finally {
      for (const [k, val] of Object.entries(saved)) {
        if (val === undefined) delete process.env[k];
        else process.env[k] = val;
      }
      m.cleanup();
    }
  });

  it('sequential: failure at site 2 of 3 rolls back sites 1-2, leaves site 3 untouched, restores traffic', async () => {
    const w = await world();
    w.fault('b', 'upgrade');
    const r = await w.run({ chart: chart13, trafficProvider: 'fake', drainWaitSeconds: '7' });
    assert.equal(r.ok, false);
    assert.match(r.failed!, /^release failed on b \(helm upgrade: .*\); rolled back a, b$/);
    noStack(r.failed);
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0', c: '1.2.0' });
    assert.deepEqual(w.revisions(), { a: '1:superseded,2:superseded,3:deployed', b: '1:superseded,2:failed,3:deployed', c: '1:deployed' });
    assert.equal(w.callsOf('upgrade', 'c').length + w.callsOf('rollback', 'c').length, 0, 'site 3 untouched');
    // rollback to the recorded revision, waiting (helm 3: --wait), b before a
    const rb = w.callsOf('rollback');
    assert.deepEqual(rb.map((c) => `${c.site} ${c.argv[2]}`), ['b-ctx 1', 'a-ctx 1']);
    assert.ok(rb.every((c) => c.argv.includes('--wait')));
    assert.deepEqual(w.traffic!.ops, ['drain a', 'restore a', 'drain b', 'undo']);
    assert.deepEqual([...w.traffic!.enabled.values()], [true, true, true]);
    assert.deepEqual(w.sleeps.filter((s) => s === 7000).length, 2, 'waited after each drain');
    const rec = r.record!;
    assert.deepEqual(rec.siteOrder.map((n) => rec.sites[n].status), ['rolled-back', 'rolled-back', 'skipped']);
    assert.equal(rec.result, 'rolled-back');
    assert.equal(rec.sites.a.before?.revision, 1);
    assert.equal(rec.sites.a.after?.revision, 3);
    assert.equal(rec.sites.a.rollback?.action, 'rollback');
    assert.equal(rec.traffic?.before?.sites.every((s) => s.enabled), true);
    assert.equal(r.outputs.result, 'rolled-back');
    assert.deepEqual(JSON.parse(r.outputs.rollbackSites), []);
    assert.match(r.summary, /\| a \| rev 1 \(1\.2\.0\) → rev 3 \(1\.2\.0\) \| ✓ wait, ✓ status \| drained → restored \|/);
    assert.match(r.summary, /\| b \| rev 1 \(1\.2\.0\) → rev 3 \(1\.2\.0\) \|.*\| rolled-back \(helm upgrade: /);
    assert.match(r.summary, /\| c \| rev 1 \(1\.2\.0\) → — \|.*\| skipped \|/);
    // record version 2: every step of every site with its start, end and outcome, in the order they ran
    assert.equal(rec.version, 2);
    const steps = (n: string): string[] => (rec.sites[n].steps ?? []).map((st) => `${st.name}:${st.outcome}`);
    assert.deepEqual(steps('a'), ['preflight:ok', 'drain:ok', 'upgrade:ok', 'verify:ok', 'restore-traffic:ok', 'rollback:ok']);
    assert.deepEqual(steps('b'), ['preflight:ok', 'drain:ok', 'upgrade:failed', 'rollback:ok']);
    assert.deepEqual(steps('c'), ['preflight:ok']);
    for (const st of Object.values(rec.sites).flatMap((e) => e.steps ?? [])) assert.ok(Date.parse(st.endedAt) >= Date.parse(st.startedAt), `${st.name} ends after it starts`);
    // the same timeline as a Mermaid gantt in the summary: a failed step is `crit`
    assert.match(r.summary, /```mermaid\ngantt\n/);
    assert.match(r.summary, /section b\n {2}preflight [\d.]+s :\d+, \d+\n {2}drain [\d.]+s :\d+, \d+\n {2}upgrade [\d.]+s :crit, \d+, \d+\n {2}rollback /);
  });

  it('per-site commands driven by the record: the same failure, stage by stage', async () => {
    const w = await world();
    const stages = path.join(w.dir, 'artifacts');
    const stage = (name: string): Record<string, string> => ({ releaseId: 'run-77', chart: chart13, trafficProvider: 'fake', drainWaitSeconds: '0', recordPath: path.join(stages, `${name}.json`) });
    const records = (): Record<string, string> => ({ recordFiles: stages });
    // stage 1: preflight on each site's own agent (parallel jobs, separate copies of the record)
    for (const s of ['a', 'b', 'c']) {
      const r = await w.run({ ...stage(`preflight-${s}`), command: 'preflight', site: s });
      assert.equal(r.ok, true, r.failed);
      assert.equal(JSON.parse(r.outputs.record).sites[s].status, 'preflight-ok');
    }
    assert.equal(w.helm.calls().filter((c) => ['upgrade', 'rollback', 'uninstall'].includes(c.argv[0])).length, 0, 'preflight touches nothing');
    // upgrading before every preflight is in is refused
    const early = await w.run({ ...stage('x'), ...{ recordFiles: path.join(stages, 'preflight-a.json') }, command: 'upgrade', site: 'a' });
    assert.equal(early.ok, false);
    assert.match(early.failed!, /no preflight in the release record for b, c/);
    // stage 2: canary
    const ua = await w.run({ ...stage('upgrade-a'), ...records(), command: 'upgrade', site: 'a' });
    assert.equal(ua.ok, true, ua.failed);
    assert.equal(JSON.parse(ua.outputs.record).sites.a.status, 'succeeded');
    // the third site cannot jump the queue
    const jump = await w.run({ ...stage('x2'), ...records(), command: 'upgrade', site: 'c' });
    assert.equal(jump.ok, false);
    assert.match(jump.failed!, /sequential release: b is preflight-ok/);
    // stage 3: site b fails; rollback-all rolls b back in the same job and names a for the rollback stage
    w.fault('b', 'upgrade');
    const ub = await w.run({ ...stage('upgrade-b'), ...records(), command: 'upgrade', site: 'b' });
    assert.equal(ub.ok, false);
    assert.match(ub.failed!, /site b failed: helm upgrade: .*; b rolled back; roll back a with the rollback command/);
    assert.deepEqual(JSON.parse(ub.outputs.rollbackSites), ['a'], 'outputs are set although the step failed');
    assert.equal(JSON.parse(ub.outputs.record).sites.b.status, 'rolled-back');
    // site c refuses to go on
    const uc = await w.run({ ...stage('upgrade-c'), ...records(), command: 'upgrade', site: 'c' });
    assert.equal(uc.ok, false);
    assert.match(uc.failed!, /the release failed on b .*not upgrading c/);
    // stage 4: rollback on every site (the record says what each ran before)
    for (const s of ['a', 'b', 'c']) {
      const rb = await w.run({ ...stage(`rollback-${s}`), ...records(), command: 'rollback', site: s });
      assert.equal(rb.ok, true, `${s}: ${rb.failed}`);
    }
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0', c: '1.2.0' });
    assert.deepEqual(w.revisions(), { a: '1:superseded,2:superseded,3:deployed', b: '1:superseded,2:failed,3:deployed', c: '1:deployed' });
    assert.deepEqual(w.traffic!.ops, ['drain a', 'restore a', 'drain b', 'restore b']);
    // a second rollback of a is a verified no-op
    const again = await w.run({ ...stage('rollback-a-again'), ...records(), command: 'rollback', site: 'a' });
    assert.equal(again.ok, true, again.failed);
    assert.equal(w.callsOf('rollback', 'a').length, 1);
    const final = (JSON.parse(again.outputs.record) as ReleaseRecord);
    assert.deepEqual(final.siteOrder.map((n) => final.sites[n].status), ['rolled-back', 'rolled-back', 'preflight-ok']);
    assert.equal(final.releaseId, 'run-77');
  });

  it('per-site verify: the gates again at the recorded revision; a failed verification rolls the site back', async () => {
    const w = await world(['a', 'b'], { traffic: false, probes: true });
    const dir = path.join(w.dir, 'art');
    const st = (name: string): Record<string, string> => ({ chart: chart13, releaseId: 'v1', recordPath: path.join(dir, `${name}.json`), recordFiles: fs.existsSync(dir) ? dir : '' });
    for (const s of ['a', 'b']) assert.equal((await w.run({ ...st(`pre-${s}`), command: 'preflight', site: s })).ok, true);
    assert.equal((await w.run({ ...st('up-a'), command: 'upgrade', site: 'a' })).ok, true);
    const v = await w.run({ ...st('verify-a'), command: 'verify', site: 'a' });
    assert.equal(v.ok, true, v.failed);
    assert.deepEqual(JSON.parse(v.outputs.record).sites.a.gates.map((g: { name: string }) => g.name), ['wait', 'status', 'probe', 'verify status', 'verify probe']);
    const notYet = await w.run({ ...st('verify-b'), command: 'verify', site: 'b' });
    assert.match(notYet.failed!, /site b is preflight-ok: only an upgraded site can be verified/);
    broken.set('a', '1.3.0');
    const bad = await w.run({ ...st('verify-a2'), command: 'verify', site: 'a', probeTimeoutSeconds: '1' });
    assert.equal(bad.ok, false);
    assert.match(bad.failed!, /^site a failed its verification: verify: probe: .*HTTP 503/);
    assert.equal(JSON.parse(bad.outputs.record).sites.a.status, 'rolled-back');
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0' });
  });

  it('per-site: a record of another release or chart, or changed values, is refused before anything is touched', async () => {
    const w = await world(['a', 'b'], { traffic: false });
    const dir = path.join(w.dir, 'art');
    for (const s of ['a', 'b']) assert.equal((await w.run({ command: 'preflight', site: s, releaseId: 'r1', recordPath: path.join(dir, `${s}.json`) })).ok, true);
    w.helm.clearCalls();
    const other = await w.run({ command: 'upgrade', site: 'a', recordFiles: dir, chart: chart13 });
    assert.equal(other.ok, false);
    assert.match(other.failed!, /^input 'recordFiles': the record was made for chart ratings 1\.2\.0 .*not ratings 1\.3\.0/);
    const wrongId = await w.run({ command: 'upgrade', site: 'a', recordFiles: dir, releaseId: 'r2' });
    assert.match(wrongId.failed!, /^input 'recordFiles': the record belongs to release id 'r1', not 'r2'/);
    const wrongRelease = await w.run({ command: 'upgrade', site: 'a', recordFiles: dir, release: 'other' });
    assert.match(wrongRelease.failed!, /^input 'recordFiles': the record is for release 'ratings', not 'other'/);
    w.editSites((s) => ((s.set as Record<string, string>)['message'] = 'changed'));
    const changed = await w.run({ command: 'upgrade', site: 'a', recordFiles: dir });
    assert.match(changed.failed!, /^input 'recordFiles': the values of site a differ from those its preflight checked/);
    assert.equal(w.helm.calls().filter((c) => !['version'].includes(c.argv[0])).length, 0, 'no cluster call');
  });

  it('parallel: sites upgrade concurrently; a failure rolls back every changed site', async () => {
    const w = await world(['a', 'b', 'c', 'd'], { traffic: false });
    w.fault('c', 'upgrade');
    w.helm.meet('upgrade', 2); // the first two upgrades wait for each other: run one after the other, they never meet
    const r = await w.run({ chart: chart13, strategy: 'parallel', maxParallel: '2' });
    assert.equal(r.ok, false);
    const rec = r.record!;
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0', c: '1.2.0', d: '1.2.0' });
    for (const n of rec.siteOrder) {
      const e = rec.sites[n];
      if (e.changed) assert.equal(e.status, 'rolled-back', n);
      else assert.equal(e.status, 'skipped', n);
    }
    assert.equal(rec.sites.a.changed && rec.sites.b.changed && rec.sites.c.changed, true);
    const ups = w.callsOf('upgrade');
    const overlap = ups.some((x) => ups.some((y) => x !== y && x.start < y.end && y.start < x.end));
    assert.ok(overlap, 'two upgrades ran at the same time');
    const concurrent = Math.max(...ups.map((x) => ups.filter((y) => y.start < x.end && x.start < y.end).length));
    assert.ok(concurrent <= 2, `maxParallel 2, saw ${concurrent}`);
  });

  it('parallel with traffic coupling: maxParallel must leave one site serving', async () => {
    const w = await world(['a', 'b'], { fresh: true });
    const r = await w.run({ strategy: 'parallel', maxParallel: '2', trafficProvider: 'fake' });
    assert.equal(r.failed, "input 'maxParallel': with traffic coupling at most 1 sites may be drained at once (one must keep serving): lower maxParallel");
  });

  it('a first install failing is uninstalled everywhere it was made', async () => {
    const w = await world(['a', 'b'], { fresh: true, traffic: false });
    w.fault('b', 'upgrade');
    const r = await w.run();
    assert.equal(r.ok, false);
    assert.deepEqual(w.revisions(), { a: 'none', b: 'none' });
    assert.deepEqual(w.callsOf('uninstall').map((c) => c.site), ['b-ctx', 'a-ctx']);
    assert.ok(w.callsOf('uninstall').every((c) => c.argv.includes('--wait')));
    assert.equal(r.record!.sites.a.rollback?.action, 'uninstall');
    assert.match(r.summary, /\| a \| not installed → not installed \|/);
  });

  it('a history read failing stops the run and never uninstalls a live release', async () => {
    // in the preflight: nothing is touched
    const w = await world(['a', 'b'], { traffic: false });
    w.fault('b', 'history', { mode: 'unreachable' });
    const r = await w.run({ chart: chart13 });
    assert.equal(r.ok, false);
    assert.match(r.failed!, /preflight failed on b \(no site was touched\): b: state: site b: cannot read the state of release ratings \(helm history: helm failed with exit code 1: Error: Kubernetes cluster unreachable.*never taken for "not installed"/);
    assert.equal(w.helm.calls().filter((c) => ['upgrade', 'rollback', 'uninstall'].includes(c.argv[0])).length, 0);
    // right before the upgrade (after a good preflight): b fails unchanged, only a is rolled back; nobody uninstalled
    w.helm.clearFaults();
    w.fault('b', 'history', { mode: 'forbidden', skip: 1 });
    const r2 = await w.run({ chart: chart13 });
    assert.equal(r2.ok, false);
    assert.equal(w.callsOf('uninstall').length, 0);
    assert.equal(w.callsOf('upgrade', 'b').length, 0);
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0' });
    assert.equal(r2.record!.sites.b.changed, false);
    assert.match(r2.record!.sites.b.error!, /forbidden/);
  });

  it('a pending-upgrade release blocks the run with how to clear it', async () => {
    const w = await world(['a', 'b'], { fresh: true, traffic: false });
    w.helm.seed('b-ctx', NS, RELEASE, [{ status: 'deployed' }, { status: 'pending-upgrade', description: 'Preparing upgrade' }]);
    const r = await w.run();
    assert.equal(r.ok, false);
    assert.match(r.failed!, /b: state: site b: release ratings is pending-upgrade \(revision 2\): another helm operation is running or was killed\. When no helm operation is running on it, clear it with `helm rollback ratings 1 -n ratings`/);
    assert.equal(w.helm.calls().filter((c) => ['upgrade', 'rollback', 'uninstall'].includes(c.argv[0])).length, 0);
  });

  it('a failed rollback is reported loudly and the site is listed for an operator', async () => {
    const w = await world(['a', 'b']);
    w.fault('b', 'upgrade');
    w.fault('a', 'rollback');
    const r = await w.run({ chart: chart13, trafficProvider: 'fake', drainWaitSeconds: '0' });
    assert.equal(r.ok, false);
    assert.match(r.failed!, /ROLLBACK FAILED on a: an operator must restore it/);
    assert.match(r.log, /error: SITE a NEEDS AN OPERATOR: rollback of release ratings failed: .*it should run rev 1 \(1\.2\.0\)/);
    assert.match(r.summary, /\| a \|.*\*\*ROLLBACK FAILED: needs an operator\*\*/);
    assert.deepEqual(w.deployed(), { a: '1.3.0', b: '1.2.0' });
    assert.equal(r.outputs.result, 'rollback-failed');
    assert.deepEqual(JSON.parse(r.outputs.rollbackSites), ['a']);
    // a whole undo could put a broken site back: only the verified sites are restored (b, drained by its failure)
    assert.ok(!w.traffic!.ops.includes('undo'));
    assert.deepEqual(w.traffic!.ops, ['drain a', 'restore a', 'drain b', 'restore b']);
    assert.equal(r.record!.sites.a.steps?.at(-1)?.name, 'rollback');
    assert.equal(r.record!.sites.a.steps?.at(-1)?.outcome, 'failed');
    assert.match(r.summary, /section a NEEDS AN OPERATOR\n/);
  });

  it('a failing probe fails the site; the rollback is verified by the probe too', async () => {
    const w = await world(['a', 'b'], { traffic: false, probes: true });
    broken.set('b', '1.3.0');
    const r = await w.run({ chart: chart13, probeTimeoutSeconds: '1', probeSuccesses: '2' });
    assert.equal(r.ok, false);
    const rec = r.record!;
    assert.match(rec.sites.b.error!, /gate failed: probe: http:\/\/127\.0\.0\.1:\d+\/b\/healthz: not healthy within 1 s .*last: HTTP 503/);
    assert.deepEqual(rec.sites.a.gates!.map((g) => `${g.name}:${g.ok}`), ['wait:true', 'status:true', 'probe:true']);
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0' });
    assert.equal(rec.sites.b.status, 'rolled-back');
  });

  it('preflight failing at any site touches no site: LoadBalancers over 5, foreign registry, missing namespace', async () => {
    const w = await world(['a', 'b', 'c'], { traffic: false });
    w.api.clusters.get('a')!.namespaces.delete(NS);
    w.editSites((s, i) => {
      if (i === 1) (s.set as Record<string, unknown>)['sidecar.enabled'] = true;
      if (i === 2) (s.set as Record<string, unknown>)['extraLoadBalancers'] = 2;
    });
    const c = w.api.clusters.get('c')!;
    for (let i = 0; i < 4; i++) c.services.push({ namespace: 'other', name: `lb${i}`, type: 'LoadBalancer' });
    c.services.push({ namespace: NS, name: 'ratings-old', type: 'LoadBalancer', release: RELEASE });
    const r = await w.run({ chart: chart13 });
    assert.equal(r.ok, false);
    assert.match(r.failed!, /^preflight failed on a, b, c \(no site was touched\)/);
    assert.match(r.failed!, /a: namespace: namespace ratings does not exist: create it or set createNamespace/);
    assert.match(r.failed!, /b: images: outside allowedRegistries \(registry\.corp\.local\): docker\.io\/library\/busybox:1\.36 \(Deployment\/ratings\/ratings \(sidecar\)\)/);
    assert.match(r.failed!, /c: load balancers: 6 Services of type LoadBalancer would exceed 5 per cluster .*4 in the cluster \+ 2 in the chart/);
    assert.equal(w.helm.calls().filter((x) => ['upgrade', 'rollback', 'uninstall'].includes(x.argv[0])).length, 0);
    assert.equal(r.outputs.result, 'preflight-failed');
    assert.match(r.summary, /\| c \| \*\*failed\*\* \|.*✗ load balancers/);
    // createNamespace lets the missing namespace through; the other checks still fail
    const r2 = await w.run({ chart: chart13, createNamespace: 'true' });
    assert.doesNotMatch(r2.failed!, /a: namespace/);
  });

  it('no-op rerun: same chart version and values change nothing; force releases again', async () => {
    const w = await world(['a', 'b'], { traffic: false });
    const r = await w.run();
    assert.equal(r.ok, true, r.failed);
    assert.equal(r.outputs.result, 'unchanged');
    assert.equal(w.callsOf('upgrade').length, 0);
    assert.match(r.summary, /\| a \| rev 1 \(1\.2\.0\) → rev 1 \(1\.2\.0\) \| no change \|/);
    // a values change is not a no-op
    w.editSites((s, i) => i === 0 && ((s.set as Record<string, unknown>)['replicaCount'] = 5));
    const r2 = await w.run();
    assert.equal(r2.outputs.result, 'succeeded');
    assert.deepEqual(w.callsOf('upgrade').map((c) => c.site), ['a-ctx']);
    const f = await w.run({ force: 'true' });
    assert.equal(f.outputs.result, 'succeeded');
    assert.deepEqual(w.revisions(), { a: '1:superseded,2:superseded,3:deployed', b: '1:superseded,2:deployed' });
  });

  it('helm 4: --wait=watcher for upgrade and rollback, --rollback-on-failure, server-side apply note', async () => {
    const w = await world(['a', 'b'], { version: '4.1.4', traffic: false });
    w.fault('b', 'upgrade');
    const r = await w.run({ chart: chart13, atomic: 'true' });
    assert.equal(r.ok, false);
    const up = w.callsOf('upgrade');
    assert.ok(up.every((c) => c.argv.includes('--wait=watcher') && c.argv.includes('--rollback-on-failure') && !c.argv.includes('--atomic')), JSON.stringify(up.map((c) => c.argv)));
    assert.ok(w.callsOf('rollback').every((c) => c.argv.includes('--wait=watcher')));
    assert.match(r.summary, /helm 4\.1\.4/);
    assert.match(r.summary, /server-side apply/);
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0' });
    assert.doesNotMatch(r.log, /deprecated/);
  });

  it('onFailure stop: nothing rolled back, the failed site stays drained, later sites untouched', async () => {
    const w = await world();
    w.fault('b', 'upgrade');
    const r = await w.run({ chart: chart13, onFailure: 'stop', trafficProvider: 'fake', drainWaitSeconds: '0' });
    assert.equal(r.ok, false);
    assert.match(r.failed!, /release failed on b .*onFailure stop: nothing rolled back/);
    assert.deepEqual(w.deployed(), { a: '1.3.0', b: '1.2.0', c: '1.2.0' });
    assert.deepEqual(Object.fromEntries(w.traffic!.enabled), { a: true, b: false, c: true });
    assert.deepEqual(JSON.parse(r.outputs.rollbackSites), ['a', 'b']);
    assert.match(r.summary, /traffic: b stay drained/);
    assert.equal(w.callsOf('rollback').length, 0);
  });

  it('onFailure continue: the other sites go on', async () => {
    const w = await world(['a', 'b', 'c'], { traffic: false });
    w.fault('b', 'upgrade');
    const r = await w.run({ chart: chart13, onFailure: 'continue' });
    assert.equal(r.ok, false);
    assert.deepEqual(w.deployed(), { a: '1.3.0', b: '1.2.0', c: '1.3.0' });
    assert.equal(r.outputs.result, 'failed');
  });

  it('dry run stops after the preflight: diffs redacted in the summary, nothing changed', async () => {
    const w = await world(['a', 'b'], { traffic: false });
    w.editSites((s) => ((s.set as Record<string, unknown>)['database.password'] = `new-${s.name}-s3cret`));
    const r = await w.run({ chart: chart13, dryRun: 'true' });
    assert.equal(r.ok, true, r.failed);
    assert.equal(r.outputs.result, 'dry-run');
    assert.equal(w.helm.calls().filter((c) => ['upgrade', 'rollback', 'uninstall'].includes(c.argv[0])).length, 0);
    assert.match(r.summary, /<details><summary>a: 0 added, 1 changed, 0 removed \(Secret data and secret values redacted\)/);
    assert.match(r.summary, /- {2}password: <redacted>\n\+ {2}password: <redacted, changed>/);
    for (const leak of ['pw-a-s3cret', 'new-a-s3cret', 'new-b-s3cret']) assert.ok(!r.summary.includes(leak) && !r.log.includes(leak), leak);
  });

  it('helm test as a gate', async () => {
    const w = await world(['a', 'b'], { traffic: false });
    w.fault('b', 'test');
    const r = await w.run({ chart: chart13, helmTest: 'true' });
    assert.equal(r.ok, false);
    assert.deepEqual(r.record!.sites.a.gates!.map((g) => g.name), ['wait', 'status', 'helm test']);
    assert.match(r.record!.sites.b.error!, /helm test: .*failed/);
    assert.match(r.log, /Phase: +Succeeded/);
    assert.deepEqual(w.deployed(), { a: '1.2.0', b: '1.2.0' });
  });

  it('never prints values, rendered Secrets or kubeconfig secrets; helm dirs and kubeconfigs (0600) in the private temp dir', async () => {
    const w = await world(['a', 'b'], { fresh: true, traffic: false });
    const r = await w.run({ chart: chart13 });
    assert.equal(r.ok, true, r.failed);
    const text = `${r.log}\n${r.summary}\n${JSON.stringify(r.outputs)}\n${fs.readFileSync(r.outputs.recordFile, 'utf8')}`;
    for (const leak of ['pw-a-s3cret', 'pw-b-s3cret', 'secret-notes', api.token]) assert.ok(!text.includes(leak), `${leak} leaked`);
    // values reach the summary only inside the rendered-manifest diff (ConfigMaps), never the log
    assert.ok(!r.log.includes('hello from a'));
    assert.match(r.summary, /\+ {2}message: hello from a/);
    assert.doesNotMatch(r.log, /group-readable|world-readable/);
    const calls = w.helm.calls().filter((c) => c.site);
    assert.ok(calls.length > 0);
    for (const c of calls) {
      for (const k of ['HELM_CACHE_HOME', 'HELM_CONFIG_HOME', 'HELM_DATA_HOME']) assert.match(c.env[k] ?? '', /agent-temp\/stackhub-ha-[^/]+\/helm\//, k);
      const kc = c.argv[c.argv.indexOf('--kubeconfig') + 1];
      assert.match(kc, /agent-temp\/stackhub-ha-[^/]+\/kube\/[ab]\.yaml$/);
      assert.ok(!fs.existsSync(kc), 'the private temp dir is removed after the run');
    }
    const rec = r.record!;
    assert.ok(!JSON.stringify(rec).includes('s3cret'));
    assert.match(rec.sites.a.valuesHash!, /^sha256:/);
    assert.notEqual(rec.sites.a.valuesHash, rec.sites.b.valuesHash);
  });

  it('backup ids of the pre-release backup go into the record', async () => {
    const w = await world(['a', 'b'], { fresh: true, traffic: false });
    const r = await w.run({ backupIds: 'a=mongo-20250501-a\nb=mongo-20250501-b' });
    assert.deepEqual(r.record!.backups, { a: 'mongo-20250501-a', b: 'mongo-20250501-b' });
    assert.equal(r.record!.sites.b.backupId, 'mongo-20250501-b');
  });

  it('a traffic restore that is refused fails the site, which stays drained', async () => {
    const w = await world(['a', 'b'], { traffic: true });
    w.traffic!.failRestore.add('a');
    const r = await w.run({ chart: chart13, onFailure: 'stop', trafficProvider: 'fake', drainWaitSeconds: '0' });
    assert.equal(r.ok, false);
    assert.match(r.record!.sites.a.error!, /traffic restore: a is not healthy/);
    assert.equal(w.traffic!.enabled.get('a'), false);
    assert.equal(w.callsOf('upgrade', 'b').length, 0);
  });
});

