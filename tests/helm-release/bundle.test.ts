/**
 * The BUILT helm release bundles, run the way the agents run them, on Node 20 and Node 24: the ADO task (per-site
 * upgrade and rollback through a Kubernetes service connection, driven by the record), the GitHub Action (the
 * orchestrated run with a failure and rollback-all) and the CLI (`stackhub-ha release …`), against the helm double
 * and the real kubectl on a fake API server.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import YAML from 'yaml';
import { listFiles, requireBuilt, runAdoTask, runCli, runGitHubAction, runtimes } from '../helpers/harness';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/helm-double/kube-api';
import { World, chartVersion } from './world';

const TASK = 'StackHubHelmReleaseV1';
const ACTION = 'helm-release';
const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('helm-release bundles (ADO task, GitHub Action, CLI)', function () {
  this.timeout(180_000);
  let api: FakeKubeApi;
  let tmp: string;

  before(async function () {
    requireBuilt();
    if (!fs.existsSync(path.join(__dirname, '..', '..', 'tasks', TASK, 'dist', 'index.js'))) throw new Error(`build the task first: npx tsx scripts/build.ts --only helm-release`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-bundle-'));
    api = await startFakeKubeApi(path.join(tmp, 'tls'));
  });
  after(async () => {
    await api?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const rt of runtimes()) {
    describe(`on ${rt.name}`, () => {
      let w: World;
      beforeEach(async () => {
        w = await new World(['east', 'west']).start({ api });
      });
      afterEach(() => w.close());

      const common = (): Record<string, string> => {
        const i = w.inputs();
        return { sitesFile: i.sitesFile, release: i.release, chart: i.chart, helmPath: i.helmPath, kubectlPath: i.kubectlPath, allowedRegistries: i.allowedRegistries, timeoutSeconds: '60' };
      };

      it('ADO: per-site preflight, upgrade and rollback through a Kubernetes service connection and the record', async () => {
        await w.install();
        const chart13 = chartVersion(w.dir, '1.3.0', (d) => fs.appendFileSync(path.join(d, 'templates', 'configmap.yaml'), '  release: "1.3"\n'));
        const art = path.join(w.dir, 'artifacts');
        const endpoint = (site: string) => ({ id: `k8s-${site}`, scheme: 'None', parameters: { authorizationType: 'Kubeconfig', kubeconfig: api.kubeconfig(site, `${site}-ctx`), clusterContext: `${site}-ctx` } });
        // the sites file has no kubeconfig on ADO per-site jobs: the service connection gives it
        w.editSites((s) => delete (s.cluster as Record<string, unknown>).kubeconfig);
        const stage = async (command: string, site: string) =>
          runAdoTask({
            task: TASK,
            node: rt.path,
            inputs: { ...common(), chart: chart13, command, site, kubernetesConnection: `k8s-${site}`, releaseId: 'build-1234', recordFiles: fs.existsSync(art) ? art : '', recordPath: path.join(art, `${command}-${site}.json`) },
            endpoints: [endpoint(site)],
          });
        for (const s of ['east', 'west']) {
          const p = await stage('preflight', s);
          assert.equal(p.result, 'Succeeded', p.stdout + p.stderr);
          // only the connection's secrets are masked: the redacted diff still shows ordinary manifest lines
          const pre = p.attachments.find((a) => a.type === 'Distributedtask.Core.Summary')?.content ?? '';
          assert.match(pre, /^ kind: ConfigMap$/m);
          assert.match(pre, /^~ ConfigMap\/ratings\/ratings-config$/m);
          assert.match(pre, /^\+ {2}release: "1\.3"$/m);
        }
        const up = await stage('upgrade', 'east');
        assert.equal(up.result, 'Succeeded', up.stdout);
        assert.equal(up.variables.get('result')?.value, 'pending');
        assert.equal(up.variables.get('recordFile')?.value, path.join(art, 'upgrade-east.json'));
        assert.equal(up.variables.get('recordFile')?.isOutput, true);
        const summary = up.attachments.find((a) => a.type === 'Distributedtask.Core.Summary')?.content ?? '';
        assert.match(summary, /\| east \| rev 1 \(1\.2\.0\) → rev 2 \(1\.3\.0\) \| ✓ wait, ✓ status \|/);
        // the record is attached to the run under our type (the extension's release tab reads it), and the summary has the timeline
        const att = up.attachments.find((a) => a.type === 'stackhub-ha.release-record');
        assert.ok(att, 'release record attached');
        assert.equal(JSON.parse(att!.content ?? '{}').sites.east.steps.map((st: { name: string }) => st.name).join(','), 'preflight,upgrade,verify');
        assert.match(summary, /```mermaid\ngantt\n/);
        // the release page next to the record: its path is the reportFile output
        assert.equal(up.variables.get('reportFile')?.value, path.join(art, 'upgrade-east.html'));
        assert.match(fs.readFileSync(path.join(art, 'upgrade-east.html'), 'utf8'), /<li class="shr-lane"[^>]* data-site="east" data-status="succeeded"/);
        assert.ok(up.secrets.includes(api.token), 'the token is registered with the agent as a secret');
        assert.ok(!up.secrets.includes('apiVersion: v1'), 'ordinary kubeconfig lines are not');
        // (task-lib itself debug-logs endpoint parameters, which the agent masks as it knows them as secrets)
        const ours = up.stdout.split('\n').filter((l) => !l.includes('##vso[task.setsecret]') && !/##vso\[task\.debug\].* auth param /.test(l));
        assert.ok(!ours.join('\n').includes(api.token), 'the service connection token never printed');

        assert.equal(w.deployed().east, '1.3.0');
        // west fails its upgrade: rolled back in the same job; east is named for the rollback stage
        w.fault('west', 'upgrade');
        const bad = await stage('upgrade', 'west');
        assert.equal(bad.result, 'Failed');
        assert.match(bad.resultMessage ?? '', /site west failed: helm upgrade: .*west rolled back; roll back east with the rollback command/);
        noStack(bad.stdout);
        assert.equal(bad.variables.get('rollbackSites')?.value, '["east"]', 'outputs hold although the step failed');
        const rb = await stage('rollback', 'east');
        assert.equal(rb.result, 'Succeeded', rb.stdout);
        assert.deepEqual(w.deployed(), { east: '1.2.0', west: '1.2.0' });
        const rec = JSON.parse(fs.readFileSync(path.join(art, 'rollback-east.json'), 'utf8'));
        assert.equal(rec.sites.east.status, 'rolled-back');
        assert.equal(rec.sites.west.status, 'rolled-back');
        assert.equal(rec.result, 'rolled-back');
        // nothing left in the agent temp dir but the summaries
        assert.deepEqual(listFiles(rb.agentTemp).filter((f) => /^stackhub-ha-[^/]+\/$/.test(f) && !/summaries|secrets/.test(f)), []);
      });

      it('GitHub: the orchestrated run; a failure at the second site rolls back both; outputs and step summary', async () => {
        await w.install();
        w.fault('west', 'upgrade');
        const r = await runGitHubAction({ action: ACTION, node: rt.path, inputs: { ...common(), chart: chartVersion(w.dir, '1.3.0') }, env: w.env });
        assert.equal(r.exitCode, 1, r.stdout + r.stderr);
        assert.match(r.errors.join('\n'), /release failed on west \(helm upgrade: .*\); rolled back east, west/);
        noStack(r.stdout);
        assert.equal(r.outputs.get('result'), 'rolled-back');
        assert.deepEqual(JSON.parse(r.outputs.get('rollbackSites')!), []);
        const rec = JSON.parse(r.outputs.get('record')!);
        assert.equal(rec.sites.east.rollback.action, 'rollback');
        assert.match(r.summary, /## Stack Hub helm multi-site release/);
        assert.match(r.summary, /\| west \| rev 1 \(1\.2\.0\) → rev 3 \(1\.2\.0\) \|/);
        assert.match(fs.readFileSync(r.outputs.get('reportFile')!, 'utf8'), /data-site="west" data-status="rolled-back"/);
        assert.deepEqual(w.deployed(), { east: '1.2.0', west: '1.2.0' });
      });

      it('CLI: `release run` from a config file, then a no-op rerun; bad input exits 1 with one line', async () => {
        const cfg = path.join(w.dir, 'release.yaml');
        const { sitesFile, release, chart, helmPath, kubectlPath } = common();
        fs.writeFileSync(cfg, YAML.stringify({ sitesFile, release, chart, helmPath, kubectlPath, allowedRegistries: ['registry.corp.local'] }));
        const out = path.join(w.dir, 'outputs.json');
        const first = await runCli(['release', 'run', '--config', cfg, '--outputs-file', out], { node: rt.path, env: w.env });
        assert.equal(first.exitCode, 0, first.stderr);
        assert.match(first.stdout, /\| east \| not installed → rev 1 \(1\.2\.0\) \|/);
        // the CLI prints where the release page is; the page's inline script compiles as the bundle wrote it
        const page = /release page: (\S+\.html)/.exec(first.stderr)?.[1];
        assert.ok(page && fs.existsSync(page), first.stderr);
        assert.match(first.stderr, new RegExp(`output reportFile=${page.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        const html = fs.readFileSync(page, 'utf8');
        const script = /<script>([\s\S]*)<\/script>/.exec(html)![1];
        assert.doesNotThrow(() => new vm.Script(script), 'the keyboard script of the CLI bundle');
        assert.match(script, /shr-lane/);
        assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).result, 'succeeded');
        const again = await runCli(['release', 'run', '--config', cfg, '--outputs-file', out], { node: rt.path, env: w.env });
        assert.equal(again.exitCode, 0, again.stderr);
        assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).result, 'unchanged');
        assert.equal(w.callsOf('upgrade').length, 2, 'the rerun upgraded nothing');
        const bad = await runCli(['release', 'upgrade', '--config', cfg, '--site', 'east'], { node: rt.path, env: w.env });
        assert.equal(bad.exitCode, 1);
        assert.equal(bad.stderr.trim().split('\n').pop(), "error: input 'recordFiles': upgrade needs the release record of the earlier stages (recordFiles or record)");
      });
    });
  }
});
