/**
 * `reboot` through the BUILT bundles on every Node runtime of the machine: the CLI (dist/cli/stackhub-ha.js, the one
 * file with client-node embedded) — a real rollout of one node against the HTTPS Kubernetes API stand-in (real
 * clock: the node is back at the first poll), outside the window, a bad input — and the ADO task of a per-site job
 * (the site's Kubernetes service connection instead of the sites file's kubeconfig).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { requireBuilt, runAdoTask, runCli, runtimes } from '../helpers/harness';
import { startKubeStandIn, type KubeStandIn } from '../helpers/aks-engine-double/kube';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';
import { kubeconfigFor, stockCluster, TOKEN } from './reboot-fixture';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const hhmm = (d: Date): string => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;

describe('aks-engine reboot through the built CLI', function () {
  this.timeout(120_000);
  let dir: string;
  let ca: TestCa;
  let tls: { key: string; cert: string };
  let kube: KubeStandIn;
  before(function () {
    requireBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reboot-cli-'));
    ca = makeCa(path.join(dir, 'tls'));
    const cert = makeServerCert(ca, path.join(dir, 'tls'));
    tls = { key: cert.keyPem, cert: cert.certPem };
  });
  beforeEach(async () => {
    kube = await startKubeStandIn({ tls, token: TOKEN, namespaces: ['kube-system', 'ratings'] });
    kube.world.rebootReads = 0;
    fs.writeFileSync(path.join(dir, 'seattle.kubeconfig'), kubeconfigFor(kube, ca), { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'sites.yaml'), YAML.stringify({ sites: [{ name: 'seattle', cluster: { kubeconfig: { file: 'seattle.kubeconfig' } } }] }));
  });
  afterEach(async () => kube.close());
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function cli(node: string, config: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; outputs: Record<string, string> }> {
    const cfg = path.join(dir, 'config.yaml');
    fs.writeFileSync(cfg, YAML.stringify({ sitesFile: path.join(dir, 'sites.yaml'), rebootHelperImage: 'registry.contoso.local/tools/reboot-helper:1.0', minWorkers: '1', ...config }));
    const out = path.join(dir, 'outputs.json');
    fs.rmSync(out, { force: true });
    const r = await runCli(['cluster', 'reboot', '--config', cfg, '--outputs-file', out], { node, cwd: dir });
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, outputs: fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : {} };
  }

  for (const rt of runtimes()) {
    describe(`on ${rt.name}`, () => {
      it('inside the window: reboots the one node that needs it', async () => {
        stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-2'] });
        const now = Date.now();
        const window = `daily ${hhmm(new Date(now - 3600_000))}-${hhmm(new Date(now + 3600_000))} UTC`;
        const r = await cli(rt.path, { rebootWindow: window });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.outputs.rebootStatus, 'done');
        assert.equal(r.outputs.rebootedNodes, 'seattle/k8s-linuxpool-0-2');
        assert.equal(kube.world.nodes.get('k8s-linuxpool-0-2')!.reboots.length, 1);
        assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
      });

      it('outside the window: nothing is touched, says when it opens', async () => {
        stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-2'] });
        const day = DAYS[(new Date().getUTCDay() + 3) % 7];
        const r = await cli(rt.path, { rebootWindow: `${day} 01:00-05:00 Europe/Berlin` });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.outputs.rebootStatus, 'outside-window');
        assert.match(r.outputs.nextRebootWindow, new RegExp(`^${day} \\d{4}-\\d\\d-\\d\\d 01:00 Europe/Berlin \\(`));
        assert.deepEqual(kube.requests, []);
      });

      it('ADO task, per-site job: the Kubernetes service connection reaches the cluster; outputs as task variables', async () => {
        stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-1'] });
        fs.writeFileSync(path.join(dir, 'sites.yaml'), YAML.stringify({ sites: [{ name: 'seattle' }, { name: 'dublin' }] }));
        const now = Date.now();
        const r = await runAdoTask({
          task: 'StackHubAksEngineV1',
          node: rt.path,
          inputs: {
            command: 'reboot',
            sitesFile: path.join(dir, 'sites.yaml'),
            rebootSites: 'seattle',
            kubernetesConnection: 'k8s-seattle',
            rebootHelperImage: 'registry.contoso.local/tools/reboot-helper:1.0',
            minWorkers: '1',
            rebootWindow: `daily ${hhmm(new Date(now - 3600_000))}-${hhmm(new Date(now + 3600_000))} UTC`,
          },
          endpoints: [{ id: 'k8s-seattle', scheme: 'None', parameters: { authorizationType: 'Kubeconfig', kubeconfig: kubeconfigFor(kube, ca), clusterContext: 'seattle' } }],
        });
        assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
        assert.equal(r.variables.get('rebootedNodes')?.value, 'seattle/k8s-linuxpool-0-1');
        assert.equal(r.variables.get('rebootStatus')?.value, 'done');
        assert.equal(kube.world.nodes.get('k8s-linuxpool-0-1')!.reboots.length, 1);
        // task-lib's own debug line of the endpoint's auth parameter is masked by the agent, which registers every
        // service connection authorization parameter as a secret before the task starts
        const leaks = r.stdout.split('\n').filter((l) => l.includes(TOKEN) && !l.startsWith('##vso[task.setsecret]') && !l.startsWith('##vso[task.debug]k8s-seattle auth param'));
        assert.deepEqual(leaks, [], 'the connection\'s token only reaches the agent as a secret to mask');
        assert.ok(r.stdout.includes(`##vso[task.setsecret]${TOKEN}`), 'and it is registered with the agent');
      });

      it('bad input: one line naming the input, exit 1, no stack', async () => {
        const r = await cli(rt.path, { rebootWindow: 'Sat 01:00-05:00 Mars/Olympus' });
        assert.equal(r.code, 1);
        assert.match(r.stderr, /^error: input 'rebootWindow': 'Sat 01:00-05:00 Mars\/Olympus': 'Mars\/Olympus' is not an IANA time zone \(e\.g\. Europe\/Berlin, UTC\)$/m);
        assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/);
      });
    });
  }
});
