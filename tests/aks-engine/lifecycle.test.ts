/**
 * deploy → scale → upgrade → credentials → get-logs with state custody, through the BUILT CLI on Node 20: the
 * aks-engine-azurestack double on a private CWD/TMPDIR, the fake ADFS Hub, Azurite (real Azure Blob API) and the
 * filesystem store, and a local HTTP stand-in of the Kubernetes API.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerClient } from '@azure/storage-blob';
import { requireBuilt } from '../helpers/harness';
import { startAzurite, type AzuriteServer } from '../helpers/storage-servers';
import { startKubeStandIn, type KubeStandIn } from '../helpers/aks-engine-double/kube';
import { fsStore, hubInputs, runCliAks, SECRET, startFixture, walk, type Fixture } from './fixture';

const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('aks-engine lifecycle with state custody (built CLI, Azurite, filesystem)', function () {
  this.timeout(120_000);
  let f: Fixture;
  let azurite: AzuriteServer;
  let kube: KubeStandIn;
  const container = 'clusters';

  before(async function () {
    this.timeout(120_000);
    requireBuilt();
    f = await startFixture();
    azurite = await startAzurite();
    await azurite.createContainer(container);
    kube = await startKubeStandIn();
  });
  after(async () => {
    await kube?.close();
    await azurite?.stop();
    await f?.close();
  });
  beforeEach(() => f.double.reset());

  const blobStore = (): Record<string, string> => ({
    storageKind: 'azure-blob',
    storageConnectionString: azurite.connectionString,
    storageContainer: container,
    storagePrefix: 'aks',
    encryptionRecipients: f.age.recipient,
    ageIdentity: f.age.identity,
  });

  async function blobs(): Promise<{ name: string; body: Buffer }[]> {
    const c = new ContainerClient(azurite.connectionString.replace(/;$/, ''), container);
    const out: { name: string; body: Buffer }[] = [];
    for await (const b of c.listBlobsFlat()) out.push({ name: b.name, body: await c.getBlockBlobClient(b.name).downloadToBuffer() });
    return out;
  }

  const versions = async (): Promise<string[]> =>
    (await blobs()).map((b) => /^aks\/local\/ratings-seattle\/ratings-seattle\/state\/([^/]+)\/manifest\.json$/.exec(b.name)?.[1]).filter((x): x is string => !!x).sort();

  it('deploy: private CWD/TMPDIR, SSL_CERT_FILE with the Hub root, no secret on argv; state stored encrypted in Azurite', async () => {
    const r = await runCliAks(f, { command: 'deploy', ...hubInputs(f), ...blobStore() });
    assert.equal(r.code, 0, r.stderr);
    const deploy = f.double.calls().find((c) => c.cmd === 'deploy')!;
    const tmp = deploy.env.TMPDIR;
    assert.match(tmp, new RegExp(`^${r.agentTemp}/stackhub-ha-[^/]+/aks-tmp-[0-9a-f]+$`));
    assert.match(deploy.cwd, new RegExp(`^${r.agentTemp}/stackhub-ha-[^/]+/aks-cwd-[0-9a-f]+$`));
    assert.equal(deploy.env.HOME, deploy.cwd);
    assert.ok(deploy.cloudFile?.startsWith(`${tmp}/azurestackcloud.json`), 'aks-engine wrote its cloud profile into the private TMPDIR');
    assert.ok(!fs.existsSync(tmp) && !fs.existsSync(deploy.cwd), 'private dirs removed');
    assert.deepEqual(fs.readdirSync(r.agentTemp).filter((d) => /^stackhub-ha-[^s]/.test(d)), [], 'the run\'s temp dir is gone');
    assert.ok(deploy.sslCertFile?.includes(f.ca.certPem.trim()), 'SSL_CERT_FILE holds the Hub root');
    assert.ok((deploy.sslCertFile?.match(/BEGIN CERTIFICATE/g) ?? []).length > 10, 'SSL_CERT_FILE holds the system bundle too');
    assert.deepEqual(deploy.argv.slice(0, 13), ['deploy', '--azure-env', 'AzureStackCloud', '--api-model', deploy.argv[4], '--location', 'local', '--resource-group', 'ratings-seattle', '--subscription-id', '11111111-2222-3333-4444-555555555555', '--identity-system', 'adfs']);
    assert.deepEqual(deploy.argv.slice(13, 17), ['--auth-method', 'client_certificate', '--client-id', '3f2b8c1e-9a4d-4e5f-8b7c-6d5e4f3a2b1c']);
    for (const c of f.double.calls()) {
      assert.ok(!c.argv.join(' ').includes(SECRET), `no secret on argv of ${c.cmd}`);
      assert.ok(!Object.values(c.env).some((v) => v.includes(SECRET)), `no secret in the environment of ${c.cmd}`);
    }
    assert.equal(r.outputs.clusterVersion, '1.33.10');
    assert.equal(r.outputs.apiServerFqdn, 'ratings-seattle.local.cloudapp.azurestack.external');
    assert.equal(fs.statSync(r.outputs.kubeconfigPath).mode & 0o777, 0o600);
    const stored = await blobs();
    assert.deepEqual(stored.map((b) => b.name.replace(/state\/[^/]+\//, 'state/<v>/')).sort(), ['aks/local/ratings-seattle/ratings-seattle/state/<v>/manifest.json', 'aks/local/ratings-seattle/ratings-seattle/state/<v>/state.tar.gz.age']);
    for (const b of stored) {
      assert.ok(!b.body.includes(SECRET) && !b.body.includes('PRIVATE KEY') && !b.body.includes('ssh-rsa'), `${b.name} holds no plaintext state`);
    }
    const manifest = JSON.parse(stored.find((b) => b.name.endsWith('manifest.json'))!.body.toString());
    assert.equal(manifest.kind, 'aks-engine-state');
    assert.equal(manifest.data.status, 'deployed');
    assert.equal(r.outputs.stateVersion, manifest.id);
    assert.match(r.stdout, /\| Kubernetes \| — \| 1\.33\.10 \|/);
  });

  it('deploy again: refused while state exists (points to scale/upgrade); nothing deployed, nothing stored', async () => {
    const before = await versions();
    const r = await runCliAks(f, { command: 'deploy', ...hubInputs(f), ...blobStore() });
    assert.equal(r.code, 1);
    assert.match(r.error ?? '', /^cluster state for 'ratings-seattle' already exists \(.*\): use command scale or upgrade, or set force: true to deploy anyway$/);
    assert.equal(f.double.calls().filter((c) => c.cmd === 'deploy').length, 0);
    assert.deepEqual(await versions(), before);
    noStack(r.stderr);
  });

  it('scale: fetches + decrypts the state, drains through --apiserver, stores a new version', async () => {
    const r = await runCliAks(f, { command: 'scale', ...hubInputs(f), ...blobStore(), nodeCount: '4' });
    assert.equal(r.code, 0, r.stderr);
    const scale = f.double.calls().find((c) => c.cmd === 'scale')!;
    assert.deepEqual(scale.argv.slice(-6), ['--node-pool', 'linuxpool', '--new-node-count', '4', '--apiserver', 'ratings-seattle.local.cloudapp.azurestack.external']);
    assert.match(scale.argv[4], new RegExp(`^${r.agentTemp}/stackhub-ha-[^/]+/state-[^/]+/apimodel.json$`), 'state decrypted only inside the private temp dir');
    assert.equal((await versions()).length, 2);
    assert.match(r.stdout, /\| workers \| linuxpool: 3 \| linuxpool: 4 \|/);
  });

  it('upgrade: refuses a target off the upgrade list, then upgrades to the next minor and stores a new version', async () => {
    const bad = await runCliAks(f, { command: 'upgrade', ...hubInputs(f), ...blobStore(), upgradeVersion: '1.35.0' });
    assert.equal(bad.code, 1);
    assert.equal(bad.error, "input 'upgradeVersion': Kubernetes 1.35.0 skips a minor version (the cluster runs 1.33.10; upgrade one minor at a time); set force: true to override");
    assert.equal(f.double.calls().filter((c) => c.cmd === 'upgrade').length, 0);
    f.double.reset();
    const r = await runCliAks(f, { command: 'upgrade', ...hubInputs(f), ...blobStore(), upgradeVersion: '1.34.4' });
    assert.equal(r.code, 0, r.stderr);
    const up = f.double.calls().find((c) => c.cmd === 'upgrade')!;
    assert.deepEqual(up.argv.slice(-6), ['--upgrade-version', '1.34.4', '--vm-timeout', '20', '--cordon-drain-timeout', '60']);
    assert.deepEqual(f.double.calls().map((c) => c.cmd), ['version', 'get-versions', 'generate', 'upgrade']);
    assert.deepEqual(f.double.calls()[1].argv, ['get-versions', '--azure-env', 'AzureStackCloud', '-o', 'json', '--version', '1.33.10']);
    assert.equal(r.outputs.clusterVersion, '1.34.4');
    const v = await versions();
    assert.equal(v.length, 3, 'deploy, scale and upgrade each kept a version');
    assert.equal(r.outputs.stateVersion, v[2]);
  });

  it('credentials: a namespace-limited service account through the Kubernetes API; idempotent; 0600 kubeconfig', async () => {
    const inputs = { command: 'credentials', dnsPrefix: 'ratings-seattle', location: 'local', ...blobStore(), namespaces: 'ratings, ratings-canary', apiServerUrl: kube.url };
    const r = await runCliAks(f, inputs);
    assert.equal(r.code, 0, r.stderr);
    const file = r.outputs.kubeconfigPath;
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const token = kube.tokens.get('ratings/stackhub-ha-deployer-token')!;
    assert.ok(fs.readFileSync(file, 'utf8').includes(`token: ${token}`));
    assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), 'the token is never printed');
    assert.deepEqual(
      [...kube.objects.keys()].sort(),
      [
        'namespaces//ratings',
        'namespaces//ratings-canary',
        'rolebindings/ratings-canary/stackhub-ha-deployer',
        'rolebindings/ratings/stackhub-ha-deployer',
        'roles/ratings-canary/stackhub-ha-deployer',
        'roles/ratings/stackhub-ha-deployer',
        'secrets/ratings/stackhub-ha-deployer-token',
        'serviceaccounts/ratings/stackhub-ha-deployer',
      ],
    );
    const binding = kube.objects.get('rolebindings/ratings-canary/stackhub-ha-deployer') as unknown as { subjects: unknown[]; roleRef: { kind: string } };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'stackhub-ha-deployer', namespace: 'ratings' }]);
    assert.equal(binding.roleRef.kind, 'Role', 'never a ClusterRole');
    const writes = kube.requests.filter((q) => !q.startsWith('GET')).length;
    const again = await runCliAks(f, inputs);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(kube.requests.filter((q) => !q.startsWith('GET')).length, writes, 'a second run writes nothing');
    assert.doesNotMatch(again.stdout, /\| created \|/);
  });

  it('get-logs: runs get-logs with the key and stores the archive encrypted with the state', async () => {
    const r = await runCliAks(f, { command: 'get-logs', ...hubInputs(f), ...blobStore(), sshPrivateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n' });
    assert.equal(r.code, 0, r.stderr);
    const call = f.double.calls().find((c) => c.cmd === 'get-logs')!;
    assert.equal(call.argv[call.argv.indexOf('--ssh-host') + 1], 'ratings-seattle.local.cloudapp.azurestack.external');
    const logs = (await blobs()).filter((b) => b.name.includes('/logs/'));
    assert.deepEqual(logs.map((b) => path.basename(b.name)).sort(), ['logs.tar.gz.age', 'manifest.json']);
    assert.ok(!logs.some((b) => b.body.includes('logs of master')));
  });

  it('a failed deploy still stores its output directory (filesystem store); no plaintext state outside the private temp dir', async () => {
    const root = path.join(f.dir, 'fs-store');
    f.double.control({ fail: { deploy: 'Code="InvalidTemplateDeployment" OS base image not available in target cloud' }, ansi: true });
    const r = await runCliAks(f, { command: 'deploy', ...hubInputs(f, { dnsPrefix: 'ratings-dallas' }), ...fsStore(f, root) });
    assert.equal(r.code, 1);
    assert.match(r.error ?? '', /^aks-engine-azurestack deploy failed with exit code 1: Error: Code="InvalidTemplateDeployment" OS base image not available in target cloud$/);
    assert.ok(!r.stderr.includes('\u001b['), 'ANSI stripped');
    const files = walk(root);
    assert.deepEqual(files.map((x) => path.basename(x)).sort(), ['manifest.json', 'state.tar.gz.age']);
    const manifest = JSON.parse(fs.readFileSync(files.find((x) => x.endsWith('manifest.json'))!, 'utf8'));
    assert.equal(manifest.data.status, 'deploy-failed');
    assert.match(manifest.data.error, /OS base image not available/);
    assert.equal(r.outputs.stateVersion, manifest.id, 'the failed run still outputs the stored version');
    for (const x of files) assert.ok(!fs.readFileSync(x).includes('PRIVATE KEY') && !fs.readFileSync(x).includes(SECRET));
    // what stays is the summary and the CLI's V8 code cache (compiled code of the bundle, keyed by its hash): no state
    const left = walk(r.agentTemp).filter((x) => !x.includes('stackhub-ha-summaries'));
    for (const x of left) assert.ok(!fs.readFileSync(x).includes(SECRET), x); // (the code holds the string PRIVATE KEY)
    assert.deepEqual(left.filter((x) => !/\/stackhub-ha\.v8-cache\.\d+\/[0-9a-f]+-v[\d.]+-\w+\/[\w.-]+\.bin$/.test(x)), [], 'nothing but the code cache left in the agent temp dir');
    noStack(r.stderr);
  });

  it('client_secret auth: --client-secret on argv (documented), masked in the log', async () => {
    const root = path.join(f.dir, 'fs-store-secret');
    const { clientCertificatePath: _c, clientKeyPath: _k, ...inputs } = hubInputs(f, { dnsPrefix: 'ratings-secret' });
    const r = await runCliAks(f, { command: 'deploy', ...inputs, authMethod: 'client_secret', ...fsStore(f, root) });
    assert.equal(r.code, 0, r.stderr);
    const deploy = f.double.calls().find((c) => c.cmd === 'deploy')!;
    assert.equal(deploy.argv[deploy.argv.indexOf('--client-secret') + 1], SECRET);
    assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET));
  });

  for (const [command, extra] of [['scale', { nodeCount: '3' }], ['upgrade', { upgradeVersion: '1.34.4' }]] as const) {
    it(`state missing for ${command}: one line naming dnsPrefix, nothing deployed, nothing stored`, async () => {
      const root = path.join(f.dir, 'fs-empty');
      const r = await runCliAks(f, { command, ...hubInputs(f, { dnsPrefix: 'nosuchcluster' }), ...fsStore(f, root), ...extra });
      assert.equal(r.code, 1);
      assert.match(r.error ?? '', /^input 'dnsPrefix': no cluster state for 'nosuchcluster' in .*: deploy the cluster first/);
      assert.deepEqual(walk(root), []);
      assert.deepEqual(f.double.calls().filter((c) => ['deploy', 'scale', 'upgrade'].includes(c.cmd)), []);
      noStack(r.stderr);
    });
  }
});
