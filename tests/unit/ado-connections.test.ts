/**
 * The Azure Pipelines adapter's service connections, with the real azure-pipelines-task-lib reading the agent's
 * ENDPOINT_* variables (in a child process: task-lib moves secrets into its vault when it loads).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import YAML from 'yaml';
import { ROOT } from '../helpers/harness';
import { makeCa, makeServerCert } from '../helpers/tls';

const AZ = '5a1b6c1e-0000-4000-8000-000000000001';
const KUBE = '5a1b6c1e-0000-4000-8000-000000000002';
const SA = '5a1b6c1e-0000-4000-8000-000000000003';

function endpoint(id: string, url: string, scheme: string, params: Record<string, string>, data: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    [`ENDPOINT_URL_${id}`]: url,
    [`ENDPOINT_AUTH_${id}`]: JSON.stringify({ scheme, parameters: params }),
    [`ENDPOINT_AUTH_SCHEME_${id}`]: scheme,
  };
  for (const [k, v] of Object.entries(params)) env[`ENDPOINT_AUTH_PARAMETER_${id}_${k.toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(data)) env[`ENDPOINT_DATA_${id}_${k.toUpperCase()}`] = v;
  return env;
}

describe('Azure Pipelines service connections', function () {
  this.timeout(30_000);
  let result: { azure: Record<string, string>; kube: { kubeconfig: string; context?: string }; sa: { kubeconfig: string }; none: null };
  let stdout: string;

  before(() => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AGENT_TEMPDIRECTORY: os.tmpdir(),
      INPUT_AZURESUBSCRIPTION: AZ,
      INPUT_KUBERNETESSERVICECONNECTION: KUBE,
      INPUT_SACONNECTION: SA,
      ...endpoint(AZ, 'https://management.local.azurestack.external/', 'ServicePrincipal', { serviceprincipalid: 'app-id', serviceprincipalkey: 'sp-Secret-123', tenantid: 'adfs', authenticationType: 'spnKey' }, { environment: 'AzureStack', environmentUrl: 'https://management.local.azurestack.external/', subscriptionId: 'sub-1' }),
      ...endpoint(KUBE, 'https://k8s.seattle:6443', 'Kubernetes', { authorizationType: 'Kubeconfig', kubeconfig: 'apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: kube-Token-456\n', clusterContext: 'seattle' }),
      ...endpoint(SA, 'https://k8s.dublin:6443', 'Kubernetes', { authorizationType: 'ServiceAccount', apiToken: Buffer.from('sa-Token-789').toString('base64'), serviceAccountCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' }),
    };
    stdout = execFileSync(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'tests', 'fixtures', 'ado-connections.ts')], { env, encoding: 'utf8', cwd: ROOT });
    result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)![1]);
  });

  it('reads an azurerm connection with environment=AzureStack (DATA) and the service principal (AUTH)', () => {
    assert.deepEqual(result.azure, {
      environment: 'AzureStack',
      environmentUrl: 'https://management.local.azurestack.external/',
      subscriptionId: 'sub-1',
      tenantId: 'adfs',
      scheme: 'ServicePrincipal',
      clientId: 'app-id',
      authenticationType: 'spnKey',
      clientSecret: 'sp-Secret-123',
    });
  });

  it('reads a kubeconfig connection with its context', () => {
    assert.equal(result.kube.context, 'seattle');
    assert.match(result.kube.kubeconfig, /token: kube-Token-456/);
  });

  it('builds a kubeconfig from a service-account connection', () => {
    const k = YAML.parse(result.sa.kubeconfig);
    assert.equal(k.clusters[0].cluster.server, 'https://k8s.dublin:6443');
    assert.equal(k.users[0].user.token, 'sa-Token-789');
    assert.equal(Buffer.from(k.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');
  });

  it('registers every connection secret with the agent', () => {
    for (const s of ['sp-Secret-123', 'sa-Token-789', Buffer.from('sa-Token-789').toString('base64'), 'kube-Token-456']) {
      assert.ok(stdout.includes(`##vso[task.setsecret]${s}`), `${s} registered`);
    }
  });

  it('an unset connection input is undefined', () => assert.equal(result.none, null));
});

describe('Azure Pipelines secret inputs', function () {
  this.timeout(30_000);

  it('are registered with the agent before task-lib could print them, even in debug mode', () => {
    const secret = 'Typed-In-Literal-9f3';
    const stdout = execFileSync(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'tests', 'fixtures', 'ado-secret-input.ts')], {
      env: { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: os.tmpdir(), SYSTEM_DEBUG: 'true', INPUT_PASSWORD: secret, INPUT_NOTE: 'hello' },
      encoding: 'utf8',
      cwd: ROOT,
    });
    const lines = stdout.split('\n');
    const registered = lines.indexOf(`##vso[task.setsecret]${secret}`);
    assert.ok(registered >= 0, stdout);
    const first = lines.findIndex((l) => l.includes(secret));
    assert.equal(first, registered, `the first line holding the secret must register it:\n${stdout}`);
    assert.ok(lines.includes('note: hello; password: ***'), stdout);
  });
});

describe('Azure Pipelines "Azure Stack Hub" connections (our endpoint type)', function () {
  this.timeout(60_000);
  const ARM = 'https://management.local.azurestack.external/';
  const SUB = '8c3f2e1a-5b6d-4c7e-9f80-1a2b3c4d5e6f';
  const ids = {
    hubSecret: '5a1b6c1e-0000-4000-8000-000000000011',
    hubCert: '5a1b6c1e-0000-4000-8000-000000000012',
    noArm: '5a1b6c1e-0000-4000-8000-000000000013',
    certNoKey: '5a1b6c1e-0000-4000-8000-000000000014',
    adfsTenant: '5a1b6c1e-0000-4000-8000-000000000015',
  };
  let tmp: string;
  let certPem: string;
  let keyPem: string;
  let caPem: string;
  let result: Record<string, { raw: Record<string, string> | null; checked: Record<string, unknown> & { error?: string } }>;
  let stdout: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-hubconn-'));
    const ca = makeCa(tmp);
    const leaf = makeServerCert(ca, tmp, ['sp.local']);
    certPem = leaf.certPem;
    keyPem = leaf.keyPem;
    caPem = ca.certPem;
    const data = (extra: Record<string, string> = {}): Record<string, string> => ({ identitySystem: 'adfs', subscriptionId: SUB, subscriptionName: 'ratings-prod', ...extra });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AGENT_TEMPDIRECTORY: tmp,
      HUB_INPUTS: Object.keys(ids).join(','),
      INPUT_AZURESUBSCRIPTION: AZ,
      ...endpoint(AZ, ARM, 'ServicePrincipal', { serviceprincipalid: 'app-id', serviceprincipalkey: 'rm-Secret-1', tenantid: 'adfs' }, { environment: 'AzureStack' }),
      ...endpoint(ids.hubSecret, ARM, 'UsernamePassword', { username: 'client-a', password: 'hub-Secret-123' }, data({ hubCaCertificate: caPem })),
      ...endpoint(ids.hubCert, ARM, 'Certificate', { servicePrincipalId: 'client-b', certificate: `${certPem}${keyPem}` }, data({ identitySystem: 'azure_ad', tenantId: 'contoso.onmicrosoft.com' })),
      ...endpoint(ids.noArm, '', 'UsernamePassword', { username: 'client-c', password: 'hub-Secret-456' }, data()),
      ...endpoint(ids.certNoKey, ARM, 'Certificate', { servicePrincipalId: 'client-d', certificate: certPem }, data()),
      ...endpoint(ids.adfsTenant, ARM, 'UsernamePassword', { username: 'client-e', password: 'hub-Secret-789' }, data({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' })),
    };
    for (const [input, id] of Object.entries(ids)) env[`INPUT_${input.toUpperCase()}`] = id;
    stdout = execFileSync(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'tests', 'fixtures', 'ado-hub-connection.ts')], { env, encoding: 'utf8', cwd: ROOT });
    result = JSON.parse(/^RESULT (.*)$/m.exec(stdout)![1]);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('service principal with secret: URL, endpoint data and the UsernamePassword authorization', () => {
    assert.deepEqual(result.hubSecret.raw, {
      armEndpoint: ARM,
      identitySystem: 'adfs',
      subscriptionId: SUB,
      subscriptionName: 'ratings-prod',
      caCertificatePem: caPem,
      scheme: 'UsernamePassword',
      clientId: 'client-a',
      clientSecret: 'hub-Secret-123',
    });
    const c = result.hubSecret.checked;
    assert.deepEqual(c.auth, { kind: 'client_secret', clientId: 'client-a', clientSecret: 'hub-Secret-123' });
    assert.equal(c.identitySystem, 'adfs');
    assert.equal(c.tenantId, undefined, 'ADFS has no tenant');
    assert.deepEqual(c.caCertificates, [caPem.trim()]);
  });

  it('service principal with certificate: the PEM with its key is split into certificate and key', () => {
    assert.equal(result.hubCert.raw?.scheme, 'Certificate');
    const c = result.hubCert.checked as { auth: { kind: string; clientId: string; certificatePem: string; privateKeyPem: string }; tenantId: string; identitySystem: string };
    assert.equal(c.auth.kind, 'client_certificate');
    assert.equal(c.auth.clientId, 'client-b');
    assert.equal(c.auth.certificatePem.trim(), certPem.trim());
    assert.equal(c.auth.privateKeyPem.trim(), keyPem.trim());
    assert.equal(c.identitySystem, 'azure_ad');
    assert.equal(c.tenantId, 'contoso.onmicrosoft.com');
  });

  it('registers the secret and every line of the certificate key with the agent', () => {
    assert.ok(stdout.includes('##vso[task.setsecret]hub-Secret-123'));
    const keyLine = keyPem.split('\n').find((l) => l.length > 40 && !l.startsWith('-----'))!;
    assert.ok(stdout.includes(`##vso[task.setsecret]${keyLine}`), 'a line of the private key is registered');
  });

  it('bad connections fail with one line naming the input and the field', () => {
    const cases: [keyof typeof ids, RegExp][] = [
      ['noArm', /^input 'noArm': Azure Stack Hub connection field 'Hub ARM endpoint' is empty/],
      ['certNoKey', /^input 'certNoKey': Azure Stack Hub connection field 'Certificate and private key \(PEM\)' expected an unencrypted PEM PRIVATE KEY/],
      ['adfsTenant', /^input 'adfsTenant': Azure Stack Hub connection field 'Directory \(tenant\) id' must be empty for an ADFS Hub/],
    ];
    for (const [name, re] of cases) {
      const err = result[name].checked.error ?? '';
      assert.match(err, re, name);
      assert.ok(!err.includes('\n'), `${name}: one line`);
      assert.ok(!/hub-Secret|PRIVATE KEY-----/.test(err), `${name}: no secret in the message`);
    }
  });

  it('an azurerm and an Azure Stack Hub connection for the same Hub are refused together', () => {
    assert.match(String((result.both as { error?: string }).error), /^input 'hubSecret': set either azureSubscription or hubSecret, not both$/);
  });
});
