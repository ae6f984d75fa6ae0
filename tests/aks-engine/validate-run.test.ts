/**
 * `validate` and the bad-input list, run in process against the fake ADFS Hub and the aks-engine-azurestack double:
 * discovery into customCloudProfile.environment, get-versions and generate --parameters-only of the double,
 * marketplace prerequisites through the Hub's ARM, and one line naming the input for every bad input, with nothing
 * deployed and nothing written to the state store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SECRET_PLACEHOLDER } from '../../src/aks-engine/apimodel';
import { addImage } from '../helpers/aks-engine-double/hub';
import { CLIENT_ID, fsStore, hubInputs, runAks, SECRET, startFixture, stockMarketplace, walk, type Fixture } from './fixture';

const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('aks-engine validate (in process, fake Hub + double)', function () {
  this.timeout(60_000);
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => f?.close());
  beforeEach(() => {
    f.double.reset();
    f.adfs.requests.length = 0;
  });

  it('builds the final apimodel: environment from discovery, telemetry off, secrets replaced; checks versions, images and the extension', async () => {
    const r = await runAks(f, { command: 'validate', ...hubInputs(f) });
    assert.ok(r.ok, r.stderr);
    const model = JSON.parse(fs.readFileSync(r.outputs.apiModelPath, 'utf8'));
    assert.equal(fs.statSync(r.outputs.apiModelPath).mode & 0o777, 0o600);
    assert.equal(model.location, 'local');
    assert.deepEqual(model.properties.customCloudProfile, {
      portalURL: 'https://portal.local.azurestack.external/',
      identitySystem: 'adfs',
      authenticationMethod: 'client_certificate',
      environment: {
        name: 'AzureStackCloud',
        managementPortalURL: 'https://portal.local.azurestack.external/',
        serviceManagementEndpoint: f.adfs.audience,
        resourceManagerEndpoint: f.adfs.armEndpoint,
        activeDirectoryEndpoint: `${f.adfs.login.url}/`,
        graphEndpoint: 'https://graph.local.azurestack.external/',
        galleryEndpoint: 'https://providers.local.azurestack.external:30016/',
        storageEndpointSuffix: 'local.azurestack.external',
        keyVaultDNSSuffix: 'vault.local.azurestack.external',
        resourceManagerVMDNSSuffix: 'cloudapp.azurestack.external',
        tokenAudience: f.adfs.audience,
      },
    });
    assert.deepEqual(model.properties.featureFlags, { enableTelemetry: false });
    assert.deepEqual(model.properties.servicePrincipalProfile, { clientId: CLIENT_ID, secret: SECRET_PLACEHOLDER });
    assert.equal(model.properties.masterProfile.dnsPrefix, 'ratings-seattle');
    assert.ok(!fs.readFileSync(r.outputs.apiModelPath, 'utf8').includes(SECRET));
    assert.equal(r.outputs.apiServerFqdn, 'ratings-seattle.local.cloudapp.azurestack.external');

    const calls = f.double.calls();
    // get-versions, then one generate dry run per known distro (what this binary accepts), then the images
    assert.deepEqual(calls.map((c) => c.argv[0]), ['version', 'get-versions', 'generate', 'generate', 'generate']);
    assert.deepEqual(calls[1].argv, ['get-versions', '--azure-env', 'AzureStackCloud', '-o', 'json']);
    for (const c of calls.slice(2)) assert.equal(c.argv.at(-1), '--parameters-only');
    for (const c of calls) assert.ok(!c.argv.join(' ').includes(SECRET), `no secret on argv: ${c.argv.join(' ')}`);
    const arm = f.adfs.requests.filter((q) => q.server === 'arm').map((q) => `${q.method} ${q.path} ${q.query['api-version']}`);
    assert.deepEqual(arm, [
      'GET /metadata/endpoints 2015-01-01',
      'GET /subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Compute/locations/local/publishers/microsoft-aks/artifacttypes/vmimage/offers/aks/skus/aks-engine-azurestack-ubuntu-2204/versions 2020-06-01',
      'GET /subscriptions/11111111-2222-3333-4444-555555555555/providers/Microsoft.Compute/locations/local/publishers/Microsoft.Azure.Extensions/artifacttypes/vmextension/types/CustomScript/versions 2020-06-01',
    ]);
    assert.match(r.stdout, /\| AKS base image microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026\.139\.1 \(control plane, pool linuxpool\) \| yes \| in the marketplace \|/);
  });

  for (const [version, distro, k8s, sku, image] of [
    ['0.81.2', 'aks-ubuntu-20.04', '1.29.10', 'aks-engine-azurestack-ubuntu-2004', '2024.311.1'],
    ['0.85.0', 'aks-ubuntu-22.04', '1.33.10', 'aks-engine-azurestack-ubuntu-2204', '2026.139.1'],
  ]) {
    it(`default distro and version are ones the resolved binary (v${version}) accepts: ${distro}, Kubernetes ${k8s}; its generate takes the written apimodel`, async () => {
      f.double.control({ version });
      addImage(f.adfs, 'microsoft-aks', 'aks', sku, [image]);
      const { distro: _d, kubernetesVersion: _k, ...inputs } = hubInputs(f);
      const r = await runAks(f, { command: 'validate', ...inputs });
      assert.ok(r.ok, r.stderr);
      const written = JSON.parse(fs.readFileSync(r.outputs.apiModelPath, 'utf8'));
      assert.equal(written.properties.masterProfile.distro, distro);
      assert.equal(written.properties.agentPoolProfiles[0].distro, distro);
      assert.equal(written.properties.orchestratorProfile.orchestratorVersion, k8s);
      // the last generate is the images dry run on the final definition: the binary accepted it
      const last = f.double.calls().filter((c) => c.cmd === 'generate').at(-1)!;
      assert.equal(last.exit, 0, last.error);
      // and the real binary's check, run again on the file validate wrote (placeholders for secrets are fine)
      f.double.reset();
      f.double.control({ version });
      const out = path.join(f.dir, `regen-${version}`);
      const direct = spawnSync(f.double.binary, ['generate', '--api-model', r.outputs.apiModelPath, '--output-directory', out, '--parameters-only'], { env: { ...process.env, ...f.double.env }, encoding: 'utf8', cwd: f.dir });
      assert.equal(direct.status, 0, direct.stderr);
      assert.match(r.stdout + r.stderr, new RegExp(`aks-engine-azurestack v${version.replace(/\./g, '\\.')} creates Kubernetes .*; accepts ${distro}`));
    });
  }

  it('without Hub credentials: validates offline and says the marketplace was not checked', async () => {
    const { clientId: _a, clientSecret: _b, clientCertificatePath: _c, clientKeyPath: _d, ...inputs } = hubInputs(f);
    const r = await runAks(f, { command: 'validate', ...inputs });
    assert.ok(r.ok, r.stderr);
    assert.match(r.stdout, /Marketplace not checked \(no Hub credentials\): the cluster needs microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026\.139\.1/);
    assert.ok(f.adfs.requests.every((q) => q.path === '/metadata/endpoints'));
  });

  it('reports every problem of an apimodel file, one line each, and fails naming the input', async () => {
    const file = path.join(f.dir, 'bad-apimodel.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'vlabs',
        location: 'local',
        properties: {
          orchestratorProfile: { orchestratorVersion: '1.33.10', kubernetesConfig: { useCloudControllerManager: true, networkPlugin: 'flannel' } },
          masterProfile: { dnsPrefix: 'ok-prefix', count: 3, vmSize: 'Standard_DS2_v2', distro: 'aks-ubuntu-18.04' },
          agentPoolProfiles: [{ name: 'pool1', count: 2, vmSize: 'Standard_D2_v2', distro: 'aks-ubuntu-22.04', availabilityProfile: 'VirtualMachineScaleSets' }],
          linuxProfile: { adminUsername: 'azureuser', ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAAB3Nza k' }] } },
        },
      }),
    );
    const { dnsPrefix: _d, sshPublicKey: _s, ...inputs } = hubInputs(f);
    const r = await runAks(f, { command: 'validate', ...inputs, apiModel: file });
    assert.equal(r.ok, false);
    assert.equal(r.error, "input 'apiModel': kubernetesConfig.networkPlugin 'flannel': expected kubenet or azure (and 2 more problems: see the log)");
    assert.match(r.stderr, /error: masterProfile.distro 'aks-ubuntu-18.04' is no longer supported on Azure Stack Hub: use aks-ubuntu-22.04/);
    assert.match(r.stderr, /error: agentPoolProfiles\[0\].availabilityProfile 'VirtualMachineScaleSets': only AvailabilitySet is supported on Azure Stack Hub \(no scale sets\)/);
    assert.match(r.stdout, /Final apimodel \(secrets replaced\)/);
    noStack(r.stderr);
  });

  it('base image missing on the Hub: one line naming distro; nothing deployed', async () => {
    addImage(f.adfs, 'microsoft-aks', 'aks', 'aks-engine-azurestack-ubuntu-2204', ['2024.311.1']);
    try {
      const r = await runAks(f, { command: 'validate', ...hubInputs(f) });
      assert.equal(r.ok, false);
      assert.equal(
        r.error,
        `input 'distro': AKS base image microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026.139.1 (control plane, pool linuxpool) is not available on the Hub (the Hub has only 2024.311.1): "OS base image not available in target cloud" — ask the Hub operator to download it to the marketplace (aks-engine-azurestack v0.85.0 needs exactly this version)`,
      );
    } finally {
      stockMarketplace(f.adfs);
    }
  });

  describe('bad input: one line naming the input, non-zero, nothing deployed, nothing stored', () => {
    const store = (): Record<string, string> => fsStore(f, path.join(f.dir, 'bad-store'));
    const cases: [string, () => Record<string, string>, RegExp][] = [
      ['master count 2', () => ({ command: 'deploy', ...hubInputs(f), ...store(), masterCount: '2' }), /^input 'masterCount': expected 3 or 5 \(an odd etcd quorum; 1 only with allowNonHA\), got 2$/],
      ['master count 4', () => ({ command: 'validate', ...hubInputs(f), masterCount: '4' }), /^input 'masterCount': expected 3 or 5 .*got 4$/],
      ['workers 0', () => ({ command: 'deploy', ...hubInputs(f), ...store(), linuxPoolCount: '0' }), /^input 'linuxPoolCount': expected 2 to 1000 nodes, got 0$/],
      ['dnsPrefix invalid', () => ({ command: 'deploy', ...hubInputs(f), ...store(), dnsPrefix: '1bad_prefix' }), /^input 'dnsPrefix': '1bad_prefix' is invalid: 3 to 45 letters/],
      ['unknown distro', () => ({ command: 'validate', ...hubInputs(f), distro: 'ubuntu-24.04' }), /^input 'distro': expected aks-ubuntu-22\.04 or aks-ubuntu-20\.04, got 'ubuntu-24\.04'$/],
      ['version not on the list', () => ({ command: 'deploy', ...hubInputs(f), ...store(), kubernetesVersion: '1.30.1' }), /^input 'kubernetesVersion': Kubernetes 1\.30\.1 is not a version aks-engine-azurestack v0\.85\.0 can create on Azure Stack Hub: expected one of 1\.33\.10, 1\.34\.4, 1\.35\.0$/],
      ['unreadable certificate', () => ({ command: 'deploy', ...hubInputs(f), ...store(), clientCertificatePath: path.join(f.dir, 'missing.pem') }), /^input 'clientCertificatePath': expected a readable file/],
      ['key of another certificate', () => ({ command: 'deploy', ...hubInputs(f), ...store(), clientKeyPath: f.ca.keyFile }), /^input 'clientKeyPath': the private key does not belong to the certificate$/],
      ['ARM endpoint not https', () => ({ command: 'deploy', ...hubInputs(f), ...store(), armEndpoint: 'http://management.local.azurestack.external' }), /^input 'armEndpoint': expected an https:\/\/ URL/],
      ['metadata endpoint unreachable', () => ({ command: 'deploy', ...hubInputs(f), ...store(), armEndpoint: 'https://127.0.0.1:1' }), /^input 'armEndpoint': cannot reach the Hub metadata endpoint https:\/\/127\.0\.0\.1:1\/metadata\/endpoints/],
      ['location not the Hub region', () => ({ command: 'validate', ...hubInputs(f), location: 'dallas' }), /^input 'location': 'dallas' is not the Hub's region: expected 'local'/],
      ['store on the same Hub', () => ({ command: 'deploy', ...hubInputs(f), ...fsStore(f, path.join(f.dir, 'bad-store'), { storageLocation: 'local' }) }), /^input 'storageLocation': storage on the Hub it protects is refused/],
    ];
    for (const [name, inputs, expected] of cases) {
      it(name, async () => {
        const r = await runAks(f, inputs());
        assert.equal(r.ok, false, r.stderr);
        assert.match(r.error ?? '', expected);
        assert.equal((r.error ?? '').includes('\n'), false);
        noStack(r.stderr);
        assert.deepEqual(f.double.calls().filter((c) => ['deploy', 'scale', 'upgrade'].includes(c.cmd)), [], 'nothing deployed');
        assert.deepEqual(walk(path.join(f.dir, 'bad-store')), [], 'nothing stored');
      });
    }

    it('not an Azure Stack answer from the metadata endpoint', async () => {
      f.adfs.metadataOverride = { status: 200, body: JSON.stringify({ galleryEndpoint: 'https://gallery.azure.com/', graphEndpoint: 'https://graph.windows.net/', portalEndpoint: 'https://portal.azure.com/', authentication: { loginEndpoint: 'https://login.windows.net/', audiences: ['https://management.core.windows.net/'] } }) };
      try {
        const r = await runAks(f, { command: 'deploy', ...hubInputs(f), ...store() });
        assert.match(r.error ?? '', /^input 'armEndpoint': https:\/\/127\.0\.0\.1:\d+\/metadata\/endpoints is not an Azure Stack Hub metadata answer: portalEndpoint/);
        assert.deepEqual(walk(path.join(f.dir, 'bad-store')), []);
      } finally {
        f.adfs.metadataOverride = undefined;
      }
    });
  });
});
