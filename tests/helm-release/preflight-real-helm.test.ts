/**
 * Preflight and chart location with the REAL helm 3.17 and 4.1 (no double): lint and template with the site's
 * --kube-version and --api-versions, `helm history` against a fake API server (real "release: not found" and a real
 * RBAC failure), the LoadBalancer and registry checks, and every chart source: directory, `helm package`d .tgz, an
 * OCI registry (login with --password-stdin and the CA file) and a classic repository with credentials. A spy wrapper
 * records every argv helm was given: no password may be on it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startChartRepo, startOciRegistry, type ChartServer } from '../helpers/helm-double/chart-servers';
import { makeCa, makeServerCert, type ServerCert, type TestCa } from '../helpers/tls';
import { CHART_DIR, World, helmLayers } from './world';

const PASSWORD = 'Registry-P4ssw0rd-xyz';

describe('helm-release preflight with the real helm', function () {
  this.timeout(180_000);
  let w: World;
  let tgz: string;
  let ca: TestCa;
  let cert: ServerCert;
  let oci: ChartServer;
  let repo: ChartServer;
  const spies: Record<string, { bin: string; log: string }> = {};

  before(async () => {
    const layers = await helmLayers();
    w = await new World(['east', 'west']).start();
    // spy wrappers: record argv, then run the real helm
    for (const [name, real] of [['3', layers.v31.helm], ['4', layers.v34.helm]] as const) {
      const bin = path.join(w.dir, `spy-helm${name}`, 'helm');
      const log = path.join(w.dir, `spy-helm${name}.log`);
      fs.mkdirSync(path.dirname(bin), { recursive: true });
      fs.writeFileSync(bin, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
      spies[name] = { bin, log };
    }
    const pkgDir = path.join(w.dir, 'pkg');
    execFileSync(layers.v31.helm, ['package', CHART_DIR, '--destination', pkgDir], { env: { PATH: '/usr/bin:/bin', HOME: w.dir } });
    tgz = path.join(pkgDir, 'ratings-1.2.0.tgz');
    ca = makeCa(path.join(w.dir, 'tls'), { name: 'registry-ca' });
    cert = makeServerCert(ca, path.join(w.dir, 'tls'), ['127.0.0.1', 'localhost'], { name: 'registry' });
    const served = [{ repo: 'charts/ratings', name: 'ratings', version: '1.2.0', appVersion: '2.4.1', tgz }];
    oci = await startOciRegistry(served, { tls: cert, auth: { user: 'ci', pass: PASSWORD } });
    repo = await startChartRepo(served, { tls: cert, auth: { user: 'ci', pass: PASSWORD } });
    fs.writeFileSync(path.join(w.dir, 'registry-password'), `${PASSWORD}\n`);
  });
  after(async () => {
    await oci?.close();
    await repo?.close();
    await w?.close();
  });

  const argvLog = (v: '3' | '4'): string => (fs.existsSync(spies[v].log) ? fs.readFileSync(spies[v].log, 'utf8') : '');

  for (const v of ['3', '4'] as const) {
    describe(`helm ${v === '3' ? '3.17.3' : '4.1.4'}`, () => {
      it('dry run: lint and template per site with its kube version and api versions; not installed from "release: not found"; nothing changed', async () => {
        w.editSites((s, i) => {
          (s.cluster as Record<string, unknown>).kubeVersion = i === 0 ? '1.29' : '1.31';
          if (i === 1) (s.cluster as Record<string, unknown>).apiVersions = ['monitoring.coreos.com/v1'];
        });
        const r = await w.run({ helmPath: spies[v].bin, dryRun: 'true' });
        assert.equal(r.ok, true, r.failed);
        assert.equal(r.outputs.result, 'dry-run');
        assert.match(r.summary, new RegExp(`helm ${v === '3' ? '3\\.17\\.3' : '4\\.1\\.4'}`));
        assert.match(r.summary, /\| east \| passed \| ✓ state: not installed<br>✓ lint: passed<br>✓ template: 5 objects for Kubernetes 1\.29/);
        // east renders for 1.29 (legacy), west for 1.31 with the monitoring API (modern, on)
        const east = /<summary>east:[\s\S]*?<\/details>/.exec(r.summary)![0];
        const west = /<summary>west:[\s\S]*?<\/details>/.exec(r.summary)![0];
        assert.match(east, /\+ {2}kube: legacy/);
        assert.doesNotMatch(east, /monitoring/);
        assert.match(west, /\+ {2}kube: modern/);
        assert.match(west, /\+ {2}monitoring: "on"/);
        assert.ok(!r.summary.includes('pw-east-s3cret'));
        const calls = argvLog(v);
        assert.match(calls, /^history ratings --namespace ratings --kubeconfig \S+\/kube\/east\.yaml --kube-context east-ctx --output json$/m);
        assert.match(calls, /^lint \S+ --values \S+ --set-string image\.tag=2\.4\.1 --set-string database\.password=pw-east-s3cret --kube-version 1\.29$/m);
        assert.match(calls, /^template ratings \S+ --namespace ratings .*--kube-version 1\.31 --api-versions monitoring\.coreos\.com\/v1$/m);
        assert.doesNotMatch(calls, /^(upgrade|rollback|uninstall)/m);
        w.editSites((s) => {
          delete (s.cluster as Record<string, unknown>).apiVersions;
          (s.cluster as Record<string, unknown>).kubeVersion = '1.31';
        });
      });

      it('a history read the API server forbids fails the preflight; it is never taken for "not installed"', async () => {
        w.api.clusters.get('west')!.forbid = ['/api/v1/namespaces/ratings/secrets'];
        try {
          const r = await w.run({ helmPath: spies[v].bin, dryRun: 'true' });
          assert.equal(r.ok, false);
          assert.match(r.failed!, /preflight failed on west \(no site was touched\): west: state: site west: cannot read the state of release ratings \(helm history: .*secrets is forbidden/);
        } finally {
          delete w.api.clusters.get('west')!.forbid;
        }
      });

      it('a packaged .tgz (helm package) is the chart', async () => {
        const r = await w.run({ helmPath: spies[v].bin, chart: tgz, chartVersion: '1.2.0', command: 'preflight', site: 'east', recordPath: path.join(w.dir, `tgz-${v}.json`) });
        assert.equal(r.ok, true, r.failed);
        const rec = JSON.parse(r.outputs.record);
        assert.deepEqual({ source: rec.chart.source, ref: rec.chart.ref, version: rec.chart.version, app: rec.chart.appVersion }, { source: 'tgz', ref: 'ratings-1.2.0.tgz', version: '1.2.0', app: '2.4.1' });
      });

      it('OCI on an internal registry: login with --password-stdin and the CA file, pulled once; the password on no argv', async () => {
        const before = oci.requests.length;
        fs.rmSync(spies[v].log, { force: true });
        const host = oci.url.replace('https://', '');
        const r = await w.run({
          helmPath: spies[v].bin,
          dryRun: 'true',
          chart: `oci://${host}/charts/ratings`,
          chartVersion: '1.2.0',
          registryUsername: 'ci',
          registryPassword: PASSWORD,
          registryCaFile: ca.certFile,
        });
        assert.equal(r.ok, true, r.failed);
        const calls = argvLog(v);
        assert.match(calls, new RegExp(`^registry login ${host.replace(/\./g, '\\.')} --username ci --password-stdin --ca-file \\S+$`, 'm'));
        assert.match(calls, new RegExp(`^pull oci://${host.replace(/\./g, '\\.')}/charts/ratings --version 1\\.2\\.0 --destination \\S+ --ca-file \\S+$`, 'm'));
        assert.equal(calls.match(/^pull /gm)!.length, 1, 'located once for both sites');
        assert.equal(calls.match(/^template /gm)!.length, 2);
        assert.ok(!calls.includes(PASSWORD), 'no password on any argv');
        assert.ok(!r.log.includes(PASSWORD) && !r.summary.includes(PASSWORD));
        const reqs = oci.requests.slice(before);
        assert.ok(reqs.some((q) => q.path === '/v2/' && q.auth), 'logged in with credentials');
        assert.ok(reqs.some((q) => /\/blobs\/sha256:/.test(q.path)), 'pulled the chart');
        assert.equal(JSON.parse(r.outputs.record).chart.ref, `oci://${host}/charts/ratings`);
        // lint/template used the pulled chart from the private temp dir
        assert.match(calls, /^lint \S+\/stackhub-ha-[^/]+\/chart-[^/]+\/ratings-1\.2\.0\.tgz /m);
      });

      it('OCI: a version the registry does not have is "chart not found", before any site is touched', async () => {
        fs.rmSync(spies[v].log, { force: true });
        const host = oci.url.replace('https://', '');
        const r = await w.run({ helmPath: spies[v].bin, chart: `oci://${host}/charts/ratings`, chartVersion: '9.9.9', registryUsername: 'ci', registryPassword: PASSWORD, registryCaFile: ca.certFile });
        assert.equal(r.ok, false);
        assert.match(r.failed!, new RegExp(`^input 'chart': chart not found or not readable: oci://${host.replace(/\./g, '\\.')}/charts/ratings 9\\.9\\.9: `));
        assert.doesNotMatch(argvLog(v), /^(history|lint|template|upgrade)/m);
      });

      it('a classic chart repository with credentials (repo add --password-stdin) and a CA', async () => {
        fs.rmSync(spies[v].log, { force: true });
        const r = await w.run({ helmPath: spies[v].bin, command: 'preflight', site: 'east', recordPath: path.join(w.dir, `repo-${v}.json`), chart: 'ratings', repoUrl: repo.url, chartVersion: '~1.2', registryUsername: 'ci', registryPassword: PASSWORD, registryCaFile: ca.certFile });
        assert.equal(r.ok, true, r.failed);
        const calls = argvLog(v);
        assert.match(calls, /^repo add stackhub-ha-charts https:\/\/127\.0\.0\.1:\d+ --username ci --password-stdin --ca-file \S+ --force-update$/m);
        assert.match(calls, /^pull stackhub-ha-charts\/ratings --version ~1\.2 --destination \S+ --ca-file \S+$/m);
        assert.ok(!calls.includes(PASSWORD));
        assert.equal(JSON.parse(r.outputs.record).chart.version, '1.2.0');
        assert.ok(repo.requests.some((q) => q.path === '/charts/ratings-1.2.0.tgz' && q.auth));
      });
    });
  }

  it('LoadBalancers: the cluster\'s plus the chart\'s, above 5 fails; the release\'s own are not counted twice (real helm 3)', async () => {
    const east = w.api.clusters.get('east')!;
    const saved = [...east.services];
    try {
      for (let i = 0; i < 3; i++) east.services.push({ namespace: 'ingress', name: `lb${i}`, type: 'LoadBalancer' });
      east.services.push({ namespace: 'ratings', name: 'ratings-lb-0', type: 'LoadBalancer', release: 'ratings' });
      w.editSites((s) => ((s.set as Record<string, unknown>).extraLoadBalancers = 2));
      const ok = await w.run({ helmPath: spies['3'].bin, dryRun: 'true' });
      assert.equal(ok.ok, true, ok.failed);
      assert.match(ok.summary, /✓ load balancers: 5 of 5 \(3 in the cluster \+ 2 in the chart\)/);
      east.services.push({ namespace: 'ingress', name: 'lb3', type: 'LoadBalancer' });
      const bad = await w.run({ helmPath: spies['3'].bin, dryRun: 'true' });
      assert.equal(bad.ok, false);
      assert.match(bad.failed!, /east: load balancers: 6 Services of type LoadBalancer would exceed 5 per cluster \(Azure Stack Hub Basic load balancer\): 4 in the cluster \+ 2 in the chart \(Service\/ratings\/ratings-lb-0, Service\/ratings\/ratings-lb-1\); use an ingress/);
      assert.doesNotMatch(bad.failed!, /west/);
    } finally {
      east.services = saved;
      w.editSites((s) => delete (s.set as Record<string, unknown>).extraLoadBalancers);
    }
  });
});
