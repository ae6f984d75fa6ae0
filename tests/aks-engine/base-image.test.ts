/**
 * `upgrade` with baseImageOnly (in process): the fake ADFS Hub lists the cluster's VMs (Compute 2020-06-01, their
 * storageProfile.imageReference) and the marketplace versions; the aks-engine-azurestack double pins its image
 * (generate --parameters-only) and records the upgrade argv. Microsoft's documented way: same version + --force.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { compareImageVersions, newestImageVersion } from '../../src/aks-engine/base-image';
import { addClusterVms, addImage } from '../helpers/aks-engine-double/hub';
import { fsStore, hubInputs, runAks, startFixture, stockMarketplace, type Fixture } from './fixture';

const IMG = { publisher: 'microsoft-aks', offer: 'aks', sku: 'aks-engine-azurestack-ubuntu-2204' };
const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('aks-engine upgrade baseImageOnly (fake Hub + double)', function () {
  this.timeout(60_000);
  let f: Fixture;
  let store: Record<string, string>;
  before(async () => {
    f = await startFixture();
    store = fsStore(f, path.join(f.dir, 'store'));
    const r = await runAks(f, { command: 'deploy', ...hubInputs(f), ...store });
    assert.ok(r.ok, r.stderr);
  });
  after(async () => f?.close());
  beforeEach(() => {
    f.double.reset();
    f.adfs.images.clear();
    stockMarketplace(f.adfs);
    f.adfs.requests.length = 0;
  });
  const upgrade = (extra: Record<string, string> = {}): ReturnType<typeof runAks> => runAks(f, { command: 'upgrade', ...hubInputs(f), ...store, baseImageOnly: 'true', ...extra });
  const upgradeCalls = (): string[][] => f.double.calls().filter((c) => c.cmd === 'upgrade').map((c) => c.argv);

  it('image versions compare numerically per part', () => {
    assert.equal(compareImageVersions('2026.139.1', '2024.311.1'), 1);
    assert.equal(compareImageVersions('2026.9.1', '2026.10.1'), -1);
    assert.equal(compareImageVersions('2026.139.1', '2026.139.1'), 0);
    assert.equal(newestImageVersion(['2024.311.1', '2026.9.1', '2026.10.0', 'latest']), '2026.10.0');
  });

  it('nodes on an older image: upgrade --upgrade-version <current> --force; the summary names both images', async () => {
    addClusterVms(f.adfs, 'ratings-seattle', { pool: 'linuxpool', masters: 3, workers: 3, image: { ...IMG, version: '2024.311.1' } });
    const r = await upgrade();
    assert.ok(r.ok, r.stderr);
    const calls = upgradeCalls();
    assert.equal(calls.length, 1);
    const argv = calls[0];
    assert.equal(argv[argv.indexOf('--upgrade-version') + 1], '1.33.10', 'the Kubernetes version the cluster already runs');
    assert.equal(argv.at(-1), '--force');
    assert.equal(r.outputs.clusterVersion, '1.33.10');
    assert.equal(r.outputs.baseImageStatus, 'upgraded');
    const vmReq = f.adfs.requests.find((q) => q.path.endsWith('/virtualMachines'))!;
    assert.equal(vmReq.path, '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/ratings-seattle/providers/Microsoft.Compute/virtualMachines');
    assert.equal(vmReq.query['api-version'], '2020-06-01');
    assert.match(r.stdout, /\| microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204 \| 2024\.311\.1 \(6 nodes\) \| 2026\.139\.1 \| 2026\.139\.1 \|/);
    assert.match(r.stdout, /Distro aks-ubuntu-22\.04 · Kubernetes 1\.33\.10 \(unchanged\)/);
  });

  it('every node already on the binary\'s image, the newest on the Hub: refused, names the current image; nothing upgraded', async () => {
    addClusterVms(f.adfs, 'ratings-seattle', { pool: 'linuxpool', masters: 3, workers: 3, image: { ...IMG, version: '2026.139.1' } });
    const r = await upgrade();
    assert.equal(r.ok, false);
    assert.equal(r.error, "no newer base image: every node already runs microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026.139.1, the image aks-engine-azurestack v0.85.0 uses for Kubernetes 1.33.10 and the newest the Hub's marketplace offers");
    assert.deepEqual(upgradeCalls(), []);
    noStack(r.stderr);
  });

  it('ifNoNewerImage succeed (the scheduled check): nothing upgraded, the run succeeds, baseImageStatus current', async () => {
    addClusterVms(f.adfs, 'ratings-seattle', { pool: 'linuxpool', masters: 3, workers: 3, image: { ...IMG, version: '2026.139.1' } });
    const r = await upgrade({ ifNoNewerImage: 'succeed' });
    assert.ok(r.ok, r.stderr);
    assert.equal(r.outputs.baseImageStatus, 'current');
    assert.equal(r.outputs.clusterVersion, '1.33.10');
    assert.deepEqual(upgradeCalls(), []);
    assert.match(r.stdout, /Nothing to upgrade: no newer base image: every node already runs microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026\.139\.1/);
  });

  it('ifNoNewerImage succeed does not hide other refusals (image not in the marketplace)', async () => {
    addClusterVms(f.adfs, 'ratings-seattle', { pool: 'linuxpool', masters: 3, workers: 3, image: { ...IMG, version: '2024.311.1' } });
    addImage(f.adfs, IMG.publisher, IMG.offer, IMG.sku, ['2024.311.1']);
    const r = await upgrade({ ifNoNewerImage: 'succeed' });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /which is not in the Hub's marketplace/);
  });

  it('a newer image in the marketplace that this release does not use: refused, says a later release pins it', async () => {
    addClusterVms(f.adfs, 'ratings-seattle', { pool: 'linuxpool', masters: 3, workers: 3, image: { ...IMG, version: '2026.139.1' } });
    addImage(f.adfs, IMG.publisher, IMG.offer, IMG.sku, ['2026.139.1', '2026.200.1']);
    const r = await upgrade();
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^no newer base image: every node already runs microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026\.139\.1, the image aks-engine-azurestack v0\.85\.0 uses for Kubernetes 1\.33\.10; the marketplace also holds 2026\.200\.1, which aks-engine-azurestack v0\.85\.0 does not use \(a later aks-engine-azurestack release pins it\)$/);
    assert.deepEqual(upgradeCalls(), []);
  });

  it('the binary\'s image is not in the marketplace: refused, asks for the operator to syndicate it', async () => {
    addClusterVms(f.adfs, 'ratings-seattle', { pool: 'linuxpool', masters: 3, workers: 3, image: { ...IMG, version: '2024.311.1' } });
    addImage(f.adfs, IMG.publisher, IMG.offer, IMG.sku, ['2024.311.1']);
    const r = await upgrade();
    assert.equal(r.ok, false);
    assert.equal(r.error, "aks-engine-azurestack v0.85.0 upgrades nodes to the AKS base image microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026.139.1, which is not in the Hub's marketplace (it has 2024.311.1): ask the Hub operator to download it to the marketplace first; the cluster runs 2024.311.1");
    assert.deepEqual(upgradeCalls(), []);
  });

  it('nodes newer than the binary\'s image: refused (would downgrade)', async () => {
    addClusterVms(f.adfs, 'ratings-seattle', { pool: 'linuxpool', masters: 1, workers: 2, image: { ...IMG, version: '2026.200.1' } });
    const r = await upgrade();
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^nodes k8s-linuxpool-12345678-0, k8s-linuxpool-12345678-1, k8s-master-12345678-0 run microsoft-aks:aks:aks-engine-azurestack-ubuntu-2204:2026\.200\.1, newer than the 2026\.139\.1 that aks-engine-azurestack v0\.85\.0 would put on them/);
    assert.deepEqual(upgradeCalls(), []);
  });

  it('upgradeVersion other than the cluster\'s version: one line naming upgradeVersion, nothing run', async () => {
    const r = await upgrade({ upgradeVersion: '1.34.4' });
    assert.equal(r.ok, false);
    assert.equal(r.error, "input 'upgradeVersion': is 1.34.4, but baseImageOnly keeps the cluster's Kubernetes 1.33.10: leave upgradeVersion empty or set it to 1.33.10");
    assert.deepEqual(upgradeCalls(), []);
  });

  it('upgrade without upgradeVersion and without baseImageOnly: one line naming upgradeVersion', async () => {
    const r = await runAks(f, { command: 'upgrade', ...hubInputs(f), ...store });
    assert.equal(r.ok, false);
    assert.equal(r.error, "input 'upgradeVersion': is required for upgrade (or set baseImageOnly: true to upgrade only the base OS image)");
  });
});
