/**
 * Secret references (issue 13 §3) as users run them: the built CLI, ADO task and GitHub Action of Mongo backup
 * take their connection string from HashiCorp Vault (vault://, token and AppRole) and their storage credential from
 * a Kubernetes Secret (k8s://, through the same kubeconfig / Kubernetes service connection the capability uses).
 * The resolved values are masked before anything logs; a bad reference fails in one line naming the input and the
 * reference, never the value, and nothing is written to storage.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listFiles, requireBuilt, runAdoTask, runCli, runGitHubAction } from '../helpers/harness';
import { startFakeKubeSecrets, startFakeVault, type FakeKubeSecrets, type FakeVault } from '../helpers/secret-stores';
import { startAzurite, type AzuriteServer } from '../helpers/storage-servers';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';
import { World } from './world';

describe('mongo-backup bundles: secret references (vault://, k8s://)', function () {
  this.timeout(180_000);
  let w: World;
  let az: AzuriteServer;
  let dir: string;
  let ca: TestCa;
  let vault: FakeVault;
  let kube: FakeKubeSecrets;
  let kubeconfigFile: string;
  const TOKEN = 'hvs.ci-token-Secret-77';

  before(async function () {
    this.timeout(120_000);
    requireBuilt();
    w = await new World().init();
    az = await startAzurite();
    await az.createContainer('backups');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-refs-'));
    ca = makeCa(dir);
    const cert = makeServerCert(ca, dir, ['127.0.0.1', 'localhost']);
    vault = await startFakeVault(cert);
    vault.kv.set('secret/ratings/mongo', [{ uri: w.uri() }]);
    vault.tokens.set(TOKEN, ['secret/ratings']);
    vault.roles.set('ci-role', { secretId: 'Approle-Id-Secret-5', paths: ['secret/ratings'] });
    kube = await startFakeKubeSecrets(cert, ca.certPem);
    kube.secrets.set('ratings/backup-storage', { connectionString: az.connectionString, accountKey: az.key });
    kubeconfigFile = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfigFile, kube.kubeconfig('seattle'), { mode: 0o600 });
  });
  after(async () => {
    await Promise.all([az?.stop(), vault?.close(), kube?.close()]);
    w?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const vaultEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ ...w.env(), VAULT_ADDR: vault.url, VAULT_CACERT: ca.certFile, ...extra });
  /** Secrets shown in a run's output, not counting the lines that register them for masking (the CI system consumes those). */
  const revealed = (out: string): string[] => {
    const shown = out.split('\n').filter((l) => !l.startsWith('::add-mask::') && !l.includes('##vso[task.setsecret]')).join('\n');
    return [w.password, az.key, TOKEN, 'Approle-Id-Secret-5'].filter((s) => shown.includes(s));
  };

  it('CLI: connection string from vault:// (token), storage connection string from k8s://; nothing revealed', async () => {
    const cwd = fs.mkdtempSync(path.join(dir, 'cli-'));
    const r = await runCli(
      ['mongo', 'backup', '--site', 'refs-cli', '--storage-kind', 'azure-blob', '--storage-container', 'backups', '--storage-connection-string', 'k8s://ratings/backup-storage/connectionString', '--storage-prefix', 'refs', '--kubeconfig-file', kubeconfigFile, '--connection-string', 'vault://secret/ratings/mongo#uri', '--encryption-recipients', w.recipient, '--outputs-file', 'out.json', '--debug'],
      { env: vaultEnv({ VAULT_TOKEN: TOKEN }), cwd },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const out = JSON.parse(fs.readFileSync(path.join(cwd, 'out.json'), 'utf8')) as Record<string, string>;
    assert.match(out.backupId, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    assert.deepEqual(revealed(r.stdout + r.stderr), []);
    assert.ok(vault.requests.some((q) => q.path === '/v1/secret/data/ratings/mongo' && q.token === TOKEN));
    assert.ok(kube.requests.some((q) => q.path === '/api/v1/namespaces/ratings/secrets/backup-storage' && q.auth));
  });

  it('ADO task: vault:// (AppRole) and k8s:// through the Kubernetes service connection; values registered as secrets', async () => {
    const r = await runAdoTask({
      task: 'StackHubMongoBackupV1',
      inputs: { command: 'backup', site: 'refs-ado', connectionString: 'vault://secret/ratings/mongo#uri', scope: 'database', database: 'ratings', storageKind: 'azure-blob', storageAccountUrl: az.blobEndpoint, storageContainer: 'backups', storageAccountKey: 'k8s://ratings/backup-storage/accountKey', storagePrefix: 'refs', encryptionRecipients: w.recipient, kubernetesConnection: 'k8s-seattle' },
      endpoints: [{ id: 'k8s-seattle', scheme: 'None', parameters: { authorizationType: 'Kubeconfig', kubeconfig: kube.kubeconfig('seattle'), clusterContext: 'seattle' } }],
      env: vaultEnv({ VAULT_ROLE_ID: 'ci-role', VAULT_SECRET_ID: 'Approle-Id-Secret-5' }),
      debug: true,
    });
    assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
    assert.deepEqual(revealed(r.stdout + r.stderr), []);
    for (const s of [w.uri(), az.key]) assert.ok(r.secrets.includes(s), 'resolved value registered with task.setsecret');
    const before = r.stdout.split('\n');
    const firstMaskOf = (s: string) => before.findIndex((l) => l.includes('task.setsecret') && l.endsWith(s));
    for (const s of [w.uri(), az.key]) {
      const i = firstMaskOf(s);
      assert.ok(i >= 0 && !before.slice(0, i).some((l) => l.includes(s)), 'masked before it could be logged');
    }
  });

  it('GitHub Action: a bad reference fails in one line naming the input and the reference; nothing stored', async () => {
    const store = fs.mkdtempSync(path.join(dir, 'gh-store-'));
    const base = { command: 'backup', site: 'refs-gh', storagePath: store, storageLocation: 'off-hub', scope: 'database', database: 'ratings', encryptionRecipients: w.recipient, kubeconfig: kube.kubeconfig('seattle') };
    const cases: [Record<string, string>, Record<string, string>, RegExp][] = [
      [{ connectionString: 'vault://secret/ratings/mongo#nokey' }, { VAULT_TOKEN: TOKEN }, /^input 'connectionString': vault:\/\/secret\/ratings\/mongo#nokey: secret secret\/ratings\/mongo has no key 'nokey' \(keys: uri\)$/],
      [{ connectionString: 'vault://secret/other/x#uri' }, { VAULT_TOKEN: TOKEN }, /^input 'connectionString': vault:\/\/secret\/other\/x#uri: access to secret secret\/other\/x denied \(403\)/],
      [{ connectionString: 'k8s://ratings/missing/uri' }, {}, /^input 'connectionString': k8s:\/\/ratings\/missing\/uri: Secret ratings\/missing not found at /],
      [{ connectionString: 'azkv://x/y' }, {}, /^input 'connectionString': azkv:\/\/…: unknown secret reference scheme/],
    ];
    for (const [inputs, env, re] of cases) {
      const r = await runGitHubAction({ action: 'mongo-backup', inputs: { ...base, ...inputs }, env: vaultEnv(env) });
      assert.equal(r.exitCode, 1, r.stdout);
      assert.equal(r.errors.length, 1, r.stdout);
      assert.match(r.errors[0], re);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack');
      assert.deepEqual(revealed(r.stdout + r.stderr), [], r.stdout + r.stderr);
    }
    assert.deepEqual(listFiles(store), [], 'nothing written to storage');
  });
});
