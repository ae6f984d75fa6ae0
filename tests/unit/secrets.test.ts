/**
 * src/shared/secrets: reference parsing, and the resolver against a local HTTPS Hub (ADFS) + Key Vault stand-in
 * (reached through a CONNECT proxy that resolves the vault names, as a site's proxy does) and a Vault KV v2
 * stand-in (token and AppRole). Bad references fail with one line naming the input and the reference, never the value.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSecretValue, resolveSecretInputs, type SecretSources } from '../../src/shared/secrets';
import { InputError } from '../../src/shared/errors';
import { proxyFromEnv } from '../../src/shared/http';
import { startFakeHub, type FakeHub } from '../helpers/aks-engine-double/hub';
import { putKvSecret, startFakeKeyVault, startFakeKubeSecrets, startFakeVault, type FakeKeyVault, type FakeKubeSecrets, type FakeVault } from '../helpers/secret-stores';
import { startConnectProxy, type TestProxy } from '../helpers/servers';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';

const CLIENT = 'kv-reader';
const SP_SECRET = 'Sp-Secret-For-KeyVault-1';

describe('shared/secrets: references', () => {
  const table: [string, unknown][] = [
    ['plain-password', { literal: 'plain-password' }],
    ['mongodb://u:p@h/db', { literal: 'mongodb://u:p@h/db' }],
    ['literal:vault://not/a#ref', { literal: 'vault://not/a#ref' }],
    ['literal:literal:x', { literal: 'literal:x' }],
    ['literal:plain', { literal: 'literal:plain' }],
    ['keyvault://kv1/db-pass', { reference: { scheme: 'keyvault', text: 'keyvault://kv1/db-pass', vault: 'kv1', secret: 'db-pass', version: undefined } }],
    ['k8s://ratings/mongo/password', { reference: { scheme: 'k8s', text: 'k8s://ratings/mongo/password', namespace: 'ratings', secret: 'mongo', key: 'password' } }],
    ['vault://secret/app/db?version=2#password', { reference: { scheme: 'vault', text: 'vault://secret/app/db?version=2#password', mount: 'secret', path: 'app/db', version: 2, key: 'password' } }],
  ];
  for (const [raw, want] of table) it(`parses ${raw}`, () => assert.deepEqual(parseSecretValue(raw, 'x'), want));
  const bad: [string, RegExp][] = [
    ['keyvault://kv1', /input 'pw': keyvault:\/\/kv1: expected keyvault:\/\/<vault>\/<secret>/],
    ['keyvault://kv1/s/notahex', /not a Key Vault secret version/],
    ['k8s://ns/name', /expected k8s:\/\/<namespace>\/<secret>\/<key>/],
    ['vault://secret/app', /expected vault:\/\/<mount>\/<path>/],
    ['azkv://Hunter2-secret', /input 'pw': azkv:\/\/…: unknown secret reference scheme/],
  ];
  for (const [raw, re] of bad) {
    it(`refuses ${raw} in one line`, () => {
      assert.throws(() => parseSecretValue(raw, 'pw'), (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('\n') && !e.message.includes('Hunter2'));
    });
  }
});

describe('shared/secrets: resolver against the stores', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: TestCa;
  let hub: FakeHub;
  let kv: FakeKeyVault;
  let vault: FakeVault;
  let proxy: TestProxy;
  let kube: FakeKubeSecrets;
  let versionId: string;
  const masked: string[] = [];
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ VAULT_ADDR: vault.url, VAULT_CACERT: ca.certFile, ...extra });
  const sources = (): SecretSources => ({ hub: { armEndpoint: hub.armEndpoint, armEndpointInput: 'armEndpoint', auth: { kind: 'client_secret', clientId: CLIENT, clientSecret: SP_SECRET }, ca: [ca.certPem] } });
  const resolve = (inputs: Record<string, string>, e: NodeJS.ProcessEnv = env(), src: () => SecretSources = sources) =>
    resolveSecretInputs(Object.entries(inputs).map(([name, value]) => ({ name, value })), {
      env: e,
      mask: (s) => masked.push(s),
      proxyFor: (u) => proxyFromEnv(u, { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }),
      sources: () => src(),
      sleep: async () => undefined,
    });
  const fails = async (p: Promise<unknown>, re: RegExp, secret?: string): Promise<void> => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      if (secret) assert.ok(!e.message.includes(secret), e.message);
      return true;
    });
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
    ca = makeCa(dir);
    const cert = makeServerCert(ca, dir, ['127.0.0.1', 'localhost', '*.vault.local.azurestack.external']);
    hub = await startFakeHub({ ca, cert, identity: 'adfs', clients: { [CLIENT]: { secret: SP_SECRET } } });
    kv = await startFakeKeyVault({ cert, domain: 'local.azurestack.external', loginEndpoint: hub.loginEndpoint, tokenAudience: (t) => hub.tokenAudiences.get(t) });
    putKvSecret(kv, 'kv1', 'db-pass', 'Old-Db-Password-1');
    versionId = putKvSecret(kv, 'kv1', 'db-pass', 'Db-Password-From-KV');
    putKvSecret(kv, 'kv1', 'old-key', 'Disabled-Value-9', false);
    putKvSecret(kv, 'kv1', 'locked', 'Locked-Value-8');
    kv.denied.add('kv1/locked');
    proxy = await startConnectProxy({ map: kv.proxyMap() });
    vault = await startFakeVault(cert);
    vault.kv.set('secret/app/db', [{ password: 'Vault-Pw-v1' }, { password: 'Vault-Pw-v2', user: 'app' }]);
    vault.tokens.set('hvs.root-token-1', ['secret/']);
    vault.roles.set('role-1', { secretId: 'Approle-Secret-Id-1', paths: ['secret/app'] });
    kube = await startFakeKubeSecrets(cert, ca.certPem);
    kube.secrets.set('ratings/mongo', { password: 'Kube-Mongo-Pw-7', user: 'ratings' });
    kube.secrets.set('other/token', { token: 'Forbidden-Value-6' });
    kube.forbidden.add('other');
  });
  after(async () => {
    await Promise.all([hub?.close(), kv?.close(), vault?.close(), proxy?.close(), kube?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keyvault://: 401 challenge, token for https://vault.<region>.<fqdn> from the Hub credential, api-version 2016-10-01; masked; literals untouched', async () => {
    kv.requests.length = 0;
    const got = await resolve({ a: 'keyvault://kv1/db-pass', b: `keyvault://kv1/db-pass/${versionId}`, c: 'literal-pw' });
    assert.deepEqual(Object.fromEntries(got), { a: 'Db-Password-From-KV', b: 'Db-Password-From-KV', c: 'literal-pw' });
    assert.ok(masked.includes('Db-Password-From-KV') && masked.includes('literal-pw'));
    assert.equal(kv.requests[0].token, undefined, 'first request is the challenge');
    assert.ok(kv.requests.every((r) => r.apiVersion === '2016-10-01' && r.host === 'kv1.vault.local.azurestack.external'));
    assert.ok([...hub.tokenAudiences.values()].includes('https://vault.local.azurestack.external'));
    assert.ok(proxy.connects.includes('kv1.vault.local.azurestack.external:443'), 'through the proxy');
  });

  it('keyvault:// faults: disabled, denied, not found, unknown vault, no Hub — one line, no value', async () => {
    await fails(resolve({ pw: 'keyvault://kv1/old-key' }), /^input 'pw': keyvault:\/\/kv1\/old-key: secret 'old-key' in vault 'kv1' is disabled: Operation get is not allowed on a disabled secret\.$/, 'Disabled-Value-9');
    await fails(resolve({ pw: 'keyvault://kv1/locked' }), /input 'pw': keyvault:\/\/kv1\/locked: access to secret 'locked' in vault 'kv1' denied \(403 AccessDenied\)/, 'Locked-Value-8');
    await fails(resolve({ pw: 'keyvault://kv1/nope' }), /input 'pw': keyvault:\/\/kv1\/nope: secret 'nope' in vault 'kv1' not found \(SecretNotFound\)/);
    await fails(resolve({ pw: 'keyvault://kv9/x' }), /input 'pw': keyvault:\/\/kv9\/x: vault 'kv9' not found on this Hub/);
    await fails(resolve({ pw: 'keyvault://kv1/db-pass' }, env(), () => ({})), /input 'pw': keyvault:\/\/kv1\/db-pass: keyvault:\/\/ needs the Hub/);
  });

  it('vault://: token and AppRole (one login), versions, namespace header; the AppRole secret id and token masked', async () => {
    vault.requests.length = 0;
    assert.equal((await resolve({ pw: 'vault://secret/app/db#password' }, env({ VAULT_TOKEN: 'hvs.root-token-1', VAULT_NAMESPACE: 'team-a' }))).get('pw'), 'Vault-Pw-v2');
    assert.equal(vault.requests[0].namespace, 'team-a');
    vault.requests.length = 0;
    const got = await resolve({ a: 'vault://secret/app/db?version=1#password', b: 'vault://secret/app/db#user', c: 'vault://secret/app/db#password' }, env({ VAULT_ROLE_ID: 'role-1', VAULT_SECRET_ID: 'Approle-Secret-Id-1' }));
    assert.deepEqual(Object.fromEntries(got), { a: 'Vault-Pw-v1', b: 'app', c: 'Vault-Pw-v2' });
    assert.equal(vault.requests.filter((r) => r.path === '/v1/auth/approle/login').length, 1);
    assert.equal(vault.requests.filter((r) => r.method === 'GET').length, 2, 'one read per secret version');
    assert.ok(masked.includes('Approle-Secret-Id-1'));
    assert.ok(masked.some((m) => m.startsWith('hvs.')));
  });

  it('vault:// faults: missing key, not found, 403, no address, no credentials — one line, no value', async () => {
    const tok = env({ VAULT_TOKEN: 'hvs.root-token-1' });
    await fails(resolve({ pw: 'vault://secret/app/db#nokey' }, tok), /^input 'pw': vault:\/\/secret\/app\/db#nokey: secret secret\/app\/db has no key 'nokey' \(keys: password, user\)$/, 'Vault-Pw');
    await fails(resolve({ pw: 'vault://secret/app/none#k' }, tok), /secret secret\/app\/none not found/);
    await fails(resolve({ pw: 'vault://kv/other#k' }, tok), /access to secret kv\/other denied \(403\): 1 error occurred: \* permission denied/);
    await fails(resolve({ pw: 'vault://secret/app/db#password' }, { VAULT_TOKEN: 'x' }), /VAULT_ADDR is not set/);
    await fails(resolve({ pw: 'vault://secret/app/db#password' }, env()), /neither VAULT_TOKEN nor VAULT_ROLE_ID/);
    await fails(resolve({ pw: 'vault://secret/app/db#password' }, env({ VAULT_ROLE_ID: 'role-1', VAULT_SECRET_ID: 'Wrong-Secret-Id' })), /AppRole sign-in .* failed \(400\): invalid role or secret ID/, 'Wrong-Secret-Id');
  });

  it('a secret needed to reach the Key Vault cannot itself be a keyvault:// reference', async () => {
    await fails(
      resolveSecretInputs([{ name: 'clientSecret', value: 'keyvault://kv1/db-pass' }], { env: env(), mask: () => undefined, sources: (value) => ({ hub: { armEndpoint: hub.armEndpoint, armEndpointInput: 'armEndpoint', auth: { kind: 'client_secret', clientId: CLIENT, clientSecret: value('clientSecret')! } } }) }),
      /input 'clientSecret': keyvault:\/\/kv1\/db-pass: this input is needed to reach the Hub's Key Vault itself/,
    );
  });

  const withKube = (kubeconfig: string, context?: string) => (): SecretSources => ({ kube: { kubeconfig, context } });

  it('k8s://: one GET per Secret through the site\'s kubeconfig (CA pinned, bearer token), base64 decoded, masked', async () => {
    kube.requests.length = 0;
    const got = await resolve({ a: 'k8s://ratings/mongo/password', b: 'k8s://ratings/mongo/user', c: 'plain' }, env(), withKube(kube.kubeconfig('seattle'), 'seattle'));
    assert.deepEqual(Object.fromEntries(got), { a: 'Kube-Mongo-Pw-7', b: 'ratings', c: 'plain' });
    assert.deepEqual(kube.requests, [{ method: 'GET', path: '/api/v1/namespaces/ratings/secrets/mongo', auth: true }], 'one read for both keys');
    assert.ok(masked.includes('Kube-Mongo-Pw-7'));
  });

  it('k8s:// faults: missing key, not found, 403, bad token, unknown context, no kubeconfig — one line, no value', async () => {
    const kc = withKube(kube.kubeconfig('seattle'));
    await fails(resolve({ pw: 'k8s://ratings/mongo/nokey' }, env(), kc), /^input 'pw': k8s:\/\/ratings\/mongo\/nokey: Secret ratings\/mongo has no key 'nokey' \(keys: password, user\)$/, 'Kube-Mongo-Pw-7');
    await fails(resolve({ pw: 'k8s://ratings/none/k' }, env(), kc), /input 'pw': k8s:\/\/ratings\/none\/k: Secret ratings\/none not found at https:\/\/127\.0\.0\.1:\d+: secrets "none" not found$/);
    await fails(resolve({ pw: 'k8s://other/token/token' }, env(), kc), /reading Secret other\/token is forbidden .*cannot get resource "secrets".*: the kubeconfig's user needs get on secrets in other$/, 'Forbidden-Value-6');
    await fails(resolve({ pw: 'k8s://ratings/mongo/password' }, env(), withKube(kube.kubeconfig('seattle', 'wrong-token'))), /rejected the kubeconfig's credentials \(401\)/, 'Kube-Mongo-Pw-7');
    await fails(resolve({ pw: 'k8s://ratings/mongo/password' }, env(), withKube(kube.kubeconfig('seattle'), 'boston')), /input 'pw': k8s:\/\/ratings\/mongo\/password: the kubeconfig has no context 'boston'$/);
    await fails(resolve({ pw: 'k8s://ratings/mongo/password' }, env(), () => ({})), /input 'pw': k8s:\/\/ratings\/mongo\/password: k8s:\/\/ needs the site's kubeconfig/);
  });
});
