/**
 * Pure parts of the AKS Engine capability: the argv tables of every aks-engine-azurestack call, the validation table
 * of good and bad cluster definitions with their exact messages, the defaults against the official example, and the
 * double's flag contract against the help texts (both read from ../shared/reference when it is there).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyHub, buildApiModel, clone, redactApiModel, SECRET_PLACEHOLDER, type ApiModel } from '../../src/aks-engine/apimodel';
import { authArgs, deployArgs, generateArgs, getLogsArgs, getVersionsArgs, scaleArgs, upgradeArgs, type HubArgs } from '../../src/aks-engine/args';
import { EXAMPLE_APIMODEL } from '../../src/aks-engine/defaults';
import { parseGetVersions } from '../../src/aks-engine';
import { imagesFromParameters } from '../../src/aks-engine/marketplace';
import { validateApiModel, type ValidationContext } from '../../src/aks-engine/validate';
import { aksEngineInputs } from '../../src/aks-engine/inputs';
import { flagName } from '../../src/platform/cli';
import { customCloudEnvironment, parseMetadata } from '../../src/shared/azure-stack';

const REF = path.resolve(__dirname, '..', '..', '..', 'shared', 'reference', 'aks-engine-azurestack');
const haveRef = fs.existsSync(REF);
const DOUBLE = path.resolve(__dirname, '..', 'helpers', 'aks-engine-double', 'double.js');

const cert: HubArgs = {
  apiModel: '/w/apimodel.json',
  location: 'local',
  resourceGroup: 'rg1',
  subscriptionId: 'sub',
  identitySystem: 'adfs',
  auth: { method: 'client_certificate', clientId: 'cid', certificatePath: '/w/sp/client.crt', privateKeyPath: '/w/sp/client.key' },
};
const hubFlags = ['--azure-env', 'AzureStackCloud', '--api-model', '/w/apimodel.json', '--location', 'local', '--resource-group', 'rg1', '--subscription-id', 'sub', '--identity-system', 'adfs'];
const certFlags = ['--auth-method', 'client_certificate', '--client-id', 'cid', '--certificate-path', '/w/sp/client.crt', '--private-key-path', '/w/sp/client.key'];

describe('aks-engine argv tables', function () {
  this.timeout(60_000);
  const table: [string, string[], string[]][] = [
    ['get-versions', getVersionsArgs(), ['get-versions', '--azure-env', 'AzureStackCloud', '-o', 'json']],
    ['get-versions of a version', getVersionsArgs('1.33.10'), ['get-versions', '--azure-env', 'AzureStackCloud', '-o', 'json', '--version', '1.33.10']],
    ['generate --parameters-only', generateArgs({ apiModel: '/a.json', outputDirectory: '/o', parametersOnly: true }), ['generate', '--api-model', '/a.json', '--output-directory', '/o', '--parameters-only']],
    ['deploy (certificate)', deployArgs({ ...cert, outputDirectory: '/w/out' }), ['deploy', ...hubFlags, ...certFlags, '--output-directory', '/w/out']],
    ['deploy --force-overwrite', deployArgs({ ...cert, outputDirectory: '/w/out', forceOverwrite: true }), ['deploy', ...hubFlags, ...certFlags, '--output-directory', '/w/out', '--force-overwrite']],
    ['scale', scaleArgs({ ...cert, nodePool: 'linuxpool', newNodeCount: 5, apiServer: 'c.local.cloudapp.x' }), ['scale', ...hubFlags, ...certFlags, '--node-pool', 'linuxpool', '--new-node-count', '5', '--apiserver', 'c.local.cloudapp.x']],
    ['upgrade', upgradeArgs({ ...cert, upgradeVersion: '1.34.4', vmTimeoutMinutes: 20, cordonDrainTimeoutMinutes: 60 }), ['upgrade', ...hubFlags, ...certFlags, '--upgrade-version', '1.34.4', '--vm-timeout', '20', '--cordon-drain-timeout', '60']],
    ['upgrade --force', upgradeArgs({ ...cert, upgradeVersion: '1.35.0', vmTimeoutMinutes: 5, cordonDrainTimeoutMinutes: 7, force: true }), ['upgrade', ...hubFlags, ...certFlags, '--upgrade-version', '1.35.0', '--vm-timeout', '5', '--cordon-drain-timeout', '7', '--force']],
    ['get-logs', getLogsArgs({ apiModel: '/s/apimodel.json', location: 'local', sshHost: 'h', sshPrivateKeyPath: '/k', outputDirectory: '/l' }), ['get-logs', '--location', 'local', '--api-model', '/s/apimodel.json', '--ssh-host', 'h', '--linux-ssh-private-key', '/k', '--output-directory', '/l']],
    ['client_secret auth (the documented exception)', authArgs({ method: 'client_secret', clientId: 'cid', clientSecret: 's3cr3t' }), ['--auth-method', 'client_secret', '--client-id', 'cid', '--client-secret', 's3cr3t']],
  ];
  for (const [name, got, want] of table) it(name, () => assert.deepEqual(got, want));

  it('every argv parses under the double\'s flag contract (an extra unknown flag is the first error)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-argv-'));
    try {
      for (const [name, argv] of table.slice(0, 9)) {
        let stderr = '';
        try {
          execFileSync(process.execPath, [DOUBLE, ...argv, '--zz-unknown'], { env: { AKS_DOUBLE_DIR: dir, PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
        } catch (e) {
          stderr = String((e as { stderr?: Buffer }).stderr);
        }
        assert.match(stderr, /^Error: unknown flag: --zz-unknown\n/, `${name}: ${stderr}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with certificate auth no argv holds a secret', () => {
    for (const argv of [deployArgs({ ...cert, outputDirectory: '/o' }), scaleArgs({ ...cert, nodePool: 'p', newNodeCount: 2, apiServer: 'a' }), upgradeArgs({ ...cert, upgradeVersion: '1.34.4', vmTimeoutMinutes: 1, cordonDrainTimeoutMinutes: 1 })]) {
      assert.ok(!argv.includes('--client-secret'));
      assert.ok(!argv.some((a) => a.includes('PRIVATE KEY')));
    }
  });
});

describe('aks-engine inputs', () => {
  it('every CLI flag is unique (secret inputs add -file/-env flags)', () => {
    const flags = aksEngineInputs.flatMap((d) => (d.type === 'secret' ? [flagName(d.name), `${flagName(d.name)}-file`, `${flagName(d.name)}-env`] : [flagName(d.name)]));
    assert.deepEqual(flags.filter((x, i) => flags.indexOf(x) !== i), []);
  });
});

describe('the double: flag contract of aks-engine-azurestack (cobra/pflag)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-double-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]): { code: number; stderr: string } => {
    try {
      execFileSync(process.execPath, [DOUBLE, ...args], { env: { AKS_DOUBLE_DIR: dir, PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
      return { code: 0, stderr: '' };
    } catch (e) {
      return { code: (e as { status: number }).status, stderr: String((e as { stderr: Buffer }).stderr) };
    }
  };
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['deploy', '--bogus'], /^Error: unknown flag: --bogus\n/],
    ['unknown shorthand', ['scale', '-z', '1'], /^Error: unknown shorthand flag: 'z' in -z\n/],
    ['flag without its value', ['deploy', '--location'], /^Error: flag needs an argument: --location\n/],
    ['bad int', ['scale', '--new-node-count', 'three'], /^Error: invalid argument "three" for "-c, --new-node-count" flag: strconv.ParseInt: parsing "three": invalid syntax/],
    ['--vm-timeout only on upgrade', ['scale', '--vm-timeout', '5'], /^Error: unknown flag: --vm-timeout/],
    ['missing --client-id', ['scale', '--azure-env', 'AzureStackCloud', '--auth-method', 'client_secret', '--client-secret', 'x'], /^Error: parsing --client-id: invalid UUID length: 0\n/],
    ['missing --client-secret', ['scale', '--auth-method', 'client_secret', '--client-id', '3f2b8c1e-9a4d-4e5f-8b7c-6d5e4f3a2b1c'], /^Error: --client-secret must be specified when --auth-method="client_secret"\n/],
    ['missing certificate paths', ['upgrade', '--auth-method', 'client_certificate', '--client-id', '3f2b8c1e-9a4d-4e5f-8b7c-6d5e4f3a2b1c'], /^Error: --certificate-path and --private-key-path must be specified when --auth-method="client_certificate"\n/],
    ['unknown command', ['frobnicate'], /^Error: unknown command "frobnicate" for "aks-engine-azurestack"/],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      const r = run(args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, re);
    });
  }

  it('knows exactly the flags of each help text (reference), no more and no less', function () {
    if (!haveRef) {
      console.log(`    (skipped: ${REF} is not there)`);
      this.skip();
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the double is a plain CommonJS executable without types
    const { COMMANDS } = require(DOUBLE) as { COMMANDS: Record<string, { flags: Record<string, { t: string; short?: string }> }> };
    for (const cmd of ['deploy', 'generate', 'get-versions', 'scale', 'upgrade']) {
      const help = fs.readFileSync(path.join(REF, `help-${cmd}.txt`), 'utf8');
      const local = help.slice(help.indexOf('Flags:'), help.indexOf('Global Flags:'));
      const want = [...local.matchAll(/^\s+(?:-(\w), )?--([\w-]+)( \w+)?/gm)]
        .filter((m) => m[2] !== 'help')
        .map((m) => `${m[1] ? `-${m[1]} ` : ''}--${m[2]}`)
        .sort();
      const got = Object.entries(COMMANDS[cmd].flags).map(([k, v]) => `${v.short ? `-${v.short} ` : ''}--${k}`).sort();
      assert.deepEqual(got, want, `flags of ${cmd}`);
    }
  });
});

// --------------------------------------------------------------------------------------------- validation table

const hub = parseMetadata(
  'https://management.local.azurestack.external/',
  {
    galleryEndpoint: 'https://providers.local.azurestack.external:30016/',
    graphEndpoint: 'https://graph.local.azurestack.external/',
    portalEndpoint: 'https://portal.local.azurestack.external/',
    authentication: { loginEndpoint: 'https://adfs.local.azurestack.external/adfs/', audiences: ['https://management.adfs.azurestack.external/abc'] },
  },
  'armEndpoint',
);

function good(): ApiModel {
  const { model } = buildApiModel({ dnsPrefix: 'ratings-seattle', sshPublicKey: 'ssh-rsa AAAAB3NzaC1yc2E key' });
  return applyHub(model, { location: 'local', identitySystem: 'adfs', authMethod: 'client_certificate', environment: customCloudEnvironment(hub), endpoints: hub }, { clientId: 'cid', secret: 's' });
}
const ctx: ValidationContext = { location: 'local', allowNonHA: false, creatableVersions: ['1.33.10', '1.34.4', '1.35.0'], aksEngineVersion: 'v0.85.0' };

describe('aks-engine validation table', () => {
  const table: [string, (m: ApiModel) => void, Partial<ValidationContext>, string[]][] = [
    ['the example built from inputs', () => undefined, {}, []],
    ['5 masters', (m) => (m.properties.masterProfile!.count = 5), {}, []],
    ['2 masters', (m) => (m.properties.masterProfile!.count = 2), {}, ['error properties.masterProfile.count: masterProfile.count is 2: expected 3 or 5 (an odd etcd quorum; 1 only with allowNonHA)']],
    ['4 masters', (m) => (m.properties.masterProfile!.count = 4), {}, ['error properties.masterProfile.count: masterProfile.count is 4: expected 3 or 5 (an odd etcd quorum; 1 only with allowNonHA)']],
    ['1 master', (m) => (m.properties.masterProfile!.count = 1), {}, ['error properties.masterProfile.count: masterProfile.count is 1: expected 3 or 5 for a highly available control plane (set allowNonHA: true for a test cluster)']],
    ['1 master with allowNonHA', (m) => (m.properties.masterProfile!.count = 1), { allowNonHA: true }, ['warning properties.masterProfile.count: masterProfile.count is 1: the control plane is not highly available (allowed by allowNonHA)']],
    ['1 worker', (m) => (m.properties.agentPoolProfiles![0].count = 1), {}, ['error properties.agentPoolProfiles[0].count: the cluster has 1 worker: expected at least 2 so that workloads survive a node failure']],
    ['0 workers', (m) => (m.properties.agentPoolProfiles![0].count = 0), {}, ['error properties.agentPoolProfiles[0].count: agentPoolProfiles[0].count is 0: expected 1 to 1000']],
    ['60 nodes', (m) => (m.properties.agentPoolProfiles![0].count = 57), {}, ['warning properties.agentPoolProfiles: the cluster has 60 nodes: the Azure Stack Hub guidance is at most 50 nodes per subscription']],
    ['dnsPrefix with underscore', (m) => (m.properties.masterProfile!.dnsPrefix = 'bad_prefix'), {}, ["error properties.masterProfile.dnsPrefix: masterProfile.dnsPrefix 'bad_prefix' is invalid: 3 to 45 letters, digits and hyphens, starting with a letter and not ending with a hyphen"]],
    ['dnsPrefix ending in a hyphen', (m) => (m.properties.masterProfile!.dnsPrefix = 'abc-'), {}, ["error properties.masterProfile.dnsPrefix: masterProfile.dnsPrefix 'abc-' is invalid: 3 to 45 letters, digits and hyphens, starting with a letter and not ending with a hyphen"]],
    ['distro 18.04', (m) => (m.properties.agentPoolProfiles![0].distro = 'aks-ubuntu-18.04'), {}, ["error properties.agentPoolProfiles[0].distro: agentPoolProfiles[0].distro 'aks-ubuntu-18.04' is no longer supported on Azure Stack Hub: use aks-ubuntu-22.04"]],
    ['unknown distro', (m) => (m.properties.masterProfile!.distro = 'ubuntu'), {}, ["error properties.masterProfile.distro: masterProfile.distro 'ubuntu' is unknown: expected aks-ubuntu-22.04 or aks-ubuntu-20.04"]],
    ['VMSS pool', (m) => (m.properties.agentPoolProfiles![0].availabilityProfile = 'VirtualMachineScaleSets'), {}, ["error properties.agentPoolProfiles[0].availabilityProfile: agentPoolProfiles[0].availabilityProfile 'VirtualMachineScaleSets': only AvailabilitySet is supported on Azure Stack Hub (no scale sets)"]],
    ['accelerated networking', (m) => (m.properties.agentPoolProfiles![0].AcceleratedNetworkingEnabled = true), {}, ['error properties.agentPoolProfiles[0].AcceleratedNetworkingEnabled: agentPoolProfiles[0].AcceleratedNetworkingEnabled must be false on Azure Stack Hub']],
    ['pool name with capitals', (m) => (m.properties.agentPoolProfiles![0].name = 'LinuxPool'), {}, ["error properties.agentPoolProfiles[0].name: agentPoolProfiles[0].name 'LinuxPool' is invalid: 1 to 12 lower-case letters and digits, starting with a letter"]],
    ['duplicate pool names', (m) => m.properties.agentPoolProfiles!.push(clone(m.properties.agentPoolProfiles![0])), {}, ["error properties.agentPoolProfiles[1].name: agentPoolProfiles[1].name 'linuxpool' is used by another pool"]],
    ['version not creatable', (m) => (m.properties.orchestratorProfile!.orchestratorVersion = '1.32.9'), {}, [
      "error properties.orchestratorProfile.orchestratorRelease: orchestratorProfile.orchestratorRelease '1.33' does not match orchestratorVersion 1.32.9",
      'error properties.orchestratorProfile.orchestratorVersion: Kubernetes 1.32.9 is not a version aks-engine-azurestack v0.85.0 can create on Azure Stack Hub: expected one of 1.33.10, 1.34.4, 1.35.0',
    ]],
    ['cloud controller manager off', (m) => (m.properties.orchestratorProfile!.kubernetesConfig!.useCloudControllerManager = false), {}, ['error properties.orchestratorProfile.kubernetesConfig.useCloudControllerManager: kubernetesConfig.useCloudControllerManager must be true for Kubernetes 1.21 and later (version 1.33.10)']],
    ['docker runtime', (m) => (m.properties.orchestratorProfile!.kubernetesConfig!.containerRuntime = 'docker'), {}, ['error properties.orchestratorProfile.kubernetesConfig.containerRuntime: kubernetesConfig.containerRuntime docker is not supported for Kubernetes 1.24 and later: use containerd']],
    ['instance metadata', (m) => (m.properties.orchestratorProfile!.kubernetesConfig!.useInstanceMetadata = true), {}, ['error properties.orchestratorProfile.kubernetesConfig.useInstanceMetadata: kubernetesConfig.useInstanceMetadata must be false on Azure Stack Hub (there is no instance metadata service)']],
    ['network plugin', (m) => (m.properties.orchestratorProfile!.kubernetesConfig!.networkPlugin = 'cilium'), {}, ["error properties.orchestratorProfile.kubernetesConfig.networkPlugin: kubernetesConfig.networkPlugin 'cilium': expected kubenet or azure"]],
    ['azure network plugin', (m) => (m.properties.orchestratorProfile!.kubernetesConfig!.networkPlugin = 'azure'), {}, []],
    ['Standard load balancer', (m) => (m.properties.orchestratorProfile!.kubernetesConfig!.loadBalancerSku = 'Standard'), {}, ["warning properties.orchestratorProfile.kubernetesConfig.loadBalancerSku: kubernetesConfig.loadBalancerSku 'Standard' is replaced by Basic on Azure Stack Hub (at most 5 Services of type LoadBalancer per cluster: use an ingress controller)"]],
    ['location mismatch', (m) => (m.location = 'dallas'), {}, [
      "error location: location 'dallas' does not match the location input 'local'",
      "error properties.customCloudProfile.portalURL: customCloudProfile.portalURL 'https://portal.local.azurestack.external/' must start with https://portal.dallas.",
    ]],
    ['identity system', (m) => (m.properties.customCloudProfile!.identitySystem = 'ldap'), {}, ["error properties.customCloudProfile.identitySystem: customCloudProfile.identitySystem 'ldap': expected azure_ad or adfs"]],
    ['authentication method', (m) => (m.properties.customCloudProfile!.authenticationMethod = 'password'), {}, ["error properties.customCloudProfile.authenticationMethod: customCloudProfile.authenticationMethod 'password': expected client_secret or client_certificate"]],
    ['no ssh key', (m) => (m.properties.linuxProfile!.ssh!.publicKeys![0].keyData = ''), {}, ['error properties.linuxProfile.ssh.publicKeys[0].keyData: linuxProfile.ssh.publicKeys[0].keyData is required (an ssh-rsa public key)']],
    ['custom VNet without the static IP', (m) => {
      m.properties.masterProfile!.vnetSubnetId = '/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/m';
      m.properties.agentPoolProfiles![0].vnetSubnetId = '/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/a';
    }, {}, ['error properties.masterProfile.firstConsecutiveStaticIP: masterProfile.firstConsecutiveStaticIP is required with masterProfile.vnetSubnetId (an existing VNet)']],
    ['unattended upgrades on bootstrap', (m) => (m.properties.linuxProfile!.runUnattendedUpgradesOnBootstrap = true), {}, ['warning properties.linuxProfile.runUnattendedUpgradesOnBootstrap: linuxProfile.runUnattendedUpgradesOnBootstrap is true: it needs internet access and fails or stalls on a disconnected Hub']],
  ];
  for (const [name, mutate, c, want] of table) {
    it(name, () => {
      const m = good();
      mutate(m);
      assert.deepEqual(validateApiModel(m, { ...ctx, ...c }).map((p) => `${p.severity} ${p.path}: ${p.message}`), want);
    });
  }

  it('redacts the SP secret and PKI keys, keeps public data', () => {
    const m = good();
    m.properties.certificateProfile = { caCertificate: 'PUBLIC', caPrivateKey: 'K1', etcdPeerPrivateKeys: ['K2', 'K3'] };
    const r = redactApiModel(m);
    assert.equal(r.properties.servicePrincipalProfile!.secret, SECRET_PLACEHOLDER);
    assert.deepEqual(r.properties.certificateProfile, { caCertificate: 'PUBLIC', caPrivateKey: SECRET_PLACEHOLDER, etcdPeerPrivateKeys: [SECRET_PLACEHOLDER, SECRET_PLACEHOLDER] });
    assert.equal(r.properties.linuxProfile!.ssh!.publicKeys![0].keyData, 'ssh-rsa AAAAB3NzaC1yc2E key');
    assert.equal(m.properties.servicePrincipalProfile!.secret, 's', 'the original is untouched');
  });

  it('reads osImage* of the control plane and each pool from azuredeploy.parameters.json', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'params-'));
    const p = (v: string): { value: string } => ({ value: v });
    fs.writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ parameters: {
      osImagePublisher: p('microsoft-aks'), osImageOffer: p('aks'), osImageSKU: p('aks-engine-azurestack-ubuntu-2004'), osImageVersion: p('2024.311.1'),
      linuxpoolosImagePublisher: p('microsoft-aks'), linuxpoolosImageOffer: p('aks'), linuxpoolosImageSKU: p('aks-engine-azurestack-ubuntu-2004'), linuxpoolosImageVersion: p('2024.311.1'),
      gpuosImagePublisher: p('microsoft-aks'), gpuosImageOffer: p('aks'), gpuosImageSKU: p('aks-engine-azurestack-ubuntu-2204'), gpuosImageVersion: p('2026.139.1'),
    } }));
    assert.deepEqual(imagesFromParameters(path.join(dir, 'p.json'), ['linuxpool', 'gpu']), [
      { publisher: 'microsoft-aks', offer: 'aks', sku: 'aks-engine-azurestack-ubuntu-2004', version: '2024.311.1', usedBy: ['control plane', 'pool linuxpool'] },
      { publisher: 'microsoft-aks', offer: 'aks', sku: 'aks-engine-azurestack-ubuntu-2204', version: '2026.139.1', usedBy: ['pool gpu'] },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('parses get-versions JSON', () => {
    assert.deepEqual(parseGetVersions('{"orchestrators":[{"orchestratorType":"Kubernetes","orchestratorVersion":"1.33.10","upgrades":[{"orchestratorType":"Kubernetes","orchestratorVersion":"1.34.4"}]},{"orchestratorType":"Kubernetes","orchestratorVersion":"1.35.0"}]}'), [
      { version: '1.33.10', upgrades: ['1.34.4'] },
      { version: '1.35.0', upgrades: [] },
    ]);
  });

  it('the defaults in src/ are the official example (reference)', function () {
    if (!haveRef) {
      console.log(`    (skipped: ${REF} is not there)`);
      this.skip();
    }
    const example = JSON.parse(fs.readFileSync(path.join(REF, 'example-kubernetes-azurestack.json'), 'utf8'));
    assert.deepEqual(clone(EXAMPLE_APIMODEL), example);
  });
});
