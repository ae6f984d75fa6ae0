/**
 * The Azure Pipelines adapter's service connections, with the real azure-pipelines-task-lib reading the agent's
 * ENDPOINT_* variables (in a child process: task-lib moves secrets into its vault when it loads).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { ROOT } from '../helpers/harness';

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
