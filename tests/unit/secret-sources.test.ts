/**
 * Where each capability's keyvault:// references sign in (issue 13 §3: "authenticated with the same Hub
 * credential/connection"): Mongo through the storage account's Hub credential, the traffic swap through the Hub DNS
 * provider's connection, never through the public-cloud Traffic Manager credential. The sources a capability returns
 * are fed to the real resolver against the local Hub (ADFS) + Key Vault stand-ins.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mongoBackup } from '../../src/mongo';
import { createInputReader } from '../../src/platform/inputs';
import type { AzureStackHubConnection, Platform } from '../../src/platform/types';
import { proxyFromEnv } from '../../src/shared/http';
import { resolveSecretInputs, type SecretSources } from '../../src/shared/secrets';
import { trafficSwap } from '../../src/traffic';
import { startFakeHub, type FakeHub } from '../helpers/aks-engine-double/hub';
import { putKvSecret, startFakeKeyVault, type FakeKeyVault } from '../helpers/secret-stores';
import { startConnectProxy, type TestProxy } from '../helpers/servers';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';

const SUB = '11111111-2222-3333-4444-555555555555';

/** Just enough of a Platform for secretSources: inputs and the two connection readers. */
function platform(hub?: AzureStackHubConnection): Platform {
  return {
    azureRmConnection: () => undefined,
    azureStackHubConnection: (n: string) => (n === 'storageHubConnection' || n === 'trafficHubConnection' ? hub : undefined),
    kubernetesConnection: () => undefined,
    agentTls: () => ({}),
  } as unknown as Platform;
}

function sources(cap: typeof mongoBackup | typeof trafficSwap, values: Record<string, string>, p: Platform): SecretSources {
  const read = createInputReader(cap.inputs, (n) => values[n], () => undefined);
  return cap.secretSources!(read, p);
}

describe('keyvault:// sources of each capability', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: TestCa;
  let hub: FakeHub;
  let kv: FakeKeyVault;
  let proxy: TestProxy;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-sources-'));
    ca = makeCa(dir);
    const cert = makeServerCert(ca, dir, ['127.0.0.1', 'localhost', '*.vault.local.azurestack.external']);
    hub = await startFakeHub({ ca, cert, identity: 'adfs', clients: { 'backup-app': { secret: 'Storage-Arm-Secret-1' } } });
    kv = await startFakeKeyVault({ cert, domain: 'local.azurestack.external', loginEndpoint: hub.loginEndpoint, tokenAudience: (t) => hub.tokenAudiences.get(t) });
    putKvSecret(kv, 'ops', 'age-identity', 'AGE-SECRET-KEY-FROM-KV');
    proxy = await startConnectProxy({ map: kv.proxyMap() });
    fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
  });
  after(async () => {
    await Promise.all([hub?.close(), kv?.close(), proxy?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const resolveWith = (src: () => SecretSources, value: string) =>
    resolveSecretInputs([{ name: 'ageIdentity', value }], {
      env: {},
      mask: () => undefined,
      proxyFor: (u) => proxyFromEnv(u, { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }),
      sources: () => src(),
      sleep: async () => undefined,
    });

  it('mongo: the storage account\'s Hub service principal (storageArm* inputs, storageCaCertificate) reads the Hub Key Vault', async () => {
    const values = { site: 'seattle', storageArmEndpoint: hub.armEndpoint, storageArmClientId: 'backup-app', storageArmClientSecret: 'Storage-Arm-Secret-1', storageCaCertificate: path.join(dir, 'ca.pem') };
    const src = sources(mongoBackup, values, platform());
    assert.deepEqual({ ...src.hub, ca: src.hub?.ca?.length }, { armEndpoint: hub.armEndpoint, armEndpointInput: 'storageArmEndpoint', auth: { kind: 'client_secret', clientId: 'backup-app', clientSecret: 'Storage-Arm-Secret-1' }, tenantId: undefined, tenantInput: 'storageArmTenantId', ca: 1 });
    const got = await resolveWith(() => src, 'keyvault://ops/age-identity');
    assert.equal(got.get('ageIdentity'), 'AGE-SECRET-KEY-FROM-KV');
  });

  it('mongo: the storage Hub connection (ADO) wins and carries its root CA; nothing set → no Hub, keyvault:// refused naming the input', async () => {
    const conn: AzureStackHubConnection = { armEndpoint: 'https://management.seattle.contoso.local', identitySystem: 'adfs', subscriptionId: SUB, scheme: 'UsernamePassword', clientId: 'c1', clientSecret: 's1', caCertificatePem: ca.certPem };
    const src = sources(mongoBackup, { site: 'seattle' }, platform(conn));
    assert.equal(src.hub?.armEndpointInput, 'storageHubConnection');
    assert.equal(src.hub?.armEndpoint.replace(/\/$/, ''), 'https://management.seattle.contoso.local');
    assert.equal(src.hub?.ca?.length, 1);
    const none = sources(mongoBackup, { site: 'seattle' }, platform());
    assert.equal(none.hub, undefined);
    await assert.rejects(resolveWith(() => none, 'keyvault://ops/age-identity'), /^SecretReferenceError: input 'ageIdentity': keyvault:\/\/ops\/age-identity: keyvault:\/\/ needs the Hub/);
  });

  it('traffic: only the azure-stack-dns provider\'s Hub connection; the Traffic Manager (public cloud) credential is never used for a Hub Key Vault', () => {
    const conn: AzureStackHubConnection = { armEndpoint: 'https://management.seattle.contoso.local', identitySystem: 'adfs', subscriptionId: SUB, scheme: 'UsernamePassword', clientId: 'c1', clientSecret: 's1' };
    assert.equal(sources(trafficSwap, { trafficProvider: 'azure-stack-dns' }, platform(conn)).hub?.armEndpointInput, 'trafficHubConnection');
    assert.deepEqual(sources(trafficSwap, { trafficProvider: 'azure-traffic-manager' }, platform(conn)), {});
    assert.deepEqual(sources(trafficSwap, { trafficProvider: 'azure-stack-dns' }, platform()), { hub: undefined });
  });
});
