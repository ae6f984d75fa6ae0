/** AKS Engine command upgrade: Kubernetes version upgrades and base-image-only upgrades. */
import * as path from 'node:path';
import * as semver from 'semver';
import { InputError, PreconditionError, oneLine } from '../shared/errors';
import { type Storage } from '../shared/storage';
import { clone, clusterInfo, type ApiModel, type ClusterInfo } from './apimodel';
import { upgradeArgs } from './args';
import { checkMarketplace, imageUrn } from './marketplace';
import { clusterNodeImages, imageRows, NoNewerImageError, planBaseImageUpgrade } from './base-image';
import { Run, type AksEngineOutputs } from './run';
import { requiredImages, marketplaceProblems, reportProblems } from './definition';
import { infoRows, readJson, adminKubeconfig, loadState, storeState, withOutputs, hashFile } from './cluster-io';

export async function doUpgrade(run: Run): Promise<AksEngineOutputs> {
  const { ctx, inputs } = run;
  await run.hub();
  const { storage, key } = await run.store();
  const state = await loadState(run, storage, key);
  const before = clusterInfo(state.model);
  const current = before.version;
  if (!semver.valid(current)) throw new PreconditionError(`cluster state ${state.id} has no valid orchestratorVersion ('${current}')`);
  if (inputs.baseImageOnly) return upgradeBaseImage(run, storage, key, state, before);
  const target = inputs.upgradeVersion!;
  const list = (await run.versions(current)).find((v) => v.version === current)?.upgrades ?? [];
  const nextMinorOnly = semver.major(target) === semver.major(current) && semver.minor(target) <= semver.minor(current) + 1;
  if (!list.includes(target) || !nextMinorOnly || semver.lte(target, current)) {
    const why = semver.lte(target, current)
      ? `is not newer than the cluster's ${current}`
      : !nextMinorOnly
        ? `skips a minor version (the cluster runs ${current}; upgrade one minor at a time)`
        : `is not on the upgrade list of ${current} for aks-engine-azurestack v${run.binaryVersion}: expected one of ${list.join(', ') || '(none)'}`;
    if (!inputs.force) throw new InputError('upgradeVersion', `Kubernetes ${target} ${why}; set force: true to override`);
    ctx.log.warning(`Kubernetes ${target} ${why}: going on because force is set`);
  }
  // the base image the target needs must be on the Hub
  const probe = clone(state.model);
  probe.properties.orchestratorProfile = { ...(probe.properties.orchestratorProfile ?? {}), orchestratorVersion: target, orchestratorRelease: `${semver.major(target)}.${semver.minor(target)}` };
  const images = await requiredImages(run, probe);
  const m = await marketplaceProblems(run, images, 'upgradeVersion');
  if (m.checks) ctx.summary.heading('Marketplace prerequisites', 4).table(['item', 'available', 'detail'], m.checks.map((c) => [c.item, c.ok ? 'yes' : 'NO', c.detail]));
  reportProblems(run, m.problems, new Map([['upgradeVersion', 'upgradeVersion']]), 'upgradeVersion');

  ctx.log.progress(undefined, `upgrading ${run.clusterName()} from ${current} to ${target}`);
  return runUpgrade(run, storage, key, state, before, target, inputs.force);
}

/** Runs `aks-engine-azurestack upgrade` on the fetched state, stores the rewritten state, reports before/after. */
async function runUpgrade(
  run: Run,
  storage: Storage,
  key: string,
  state: { dir: string; model: ApiModel; id: string },
  before: ClusterInfo,
  target: string,
  force: boolean,
): Promise<AksEngineOutputs> {
  const { ctx, inputs } = run;
  const file = path.join(state.dir, 'apimodel.json');
  const h0 = hashFile(file);
  const rg = inputs.resourceGroup ?? run.clusterName();
  let failure: unknown;
  try {
    await (await run.binary()).run(
      upgradeArgs({ ...run.hubArgs(file, rg), upgradeVersion: target, vmTimeoutMinutes: inputs.vmTimeoutMinutes, cordonDrainTimeoutMinutes: inputs.cordonDrainTimeoutMinutes, force }),
      { label: 'upgrade' },
    );
  } catch (err) {
    failure = err;
  }
  let stateVersion: string | undefined;
  if (hashFile(file) !== h0) stateVersion = await storeState(run, storage, key, state.dir, failure ? 'upgrade-failed' : 'upgraded', state.id, failure ? oneLine(failure) : undefined);
  const after = clusterInfo(readJson(file));
  ctx.summary.table(['', 'before', 'after'], infoRows(before, after));
  if (failure) {
    ctx.log.error('aks-engine-azurestack upgrade is idempotent: rerun the same upgrade to continue');
    throw withOutputs(failure, { stateVersion: stateVersion ?? state.id });
  }
  const kc = adminKubeconfig(state.dir);
  return { kubeconfigPath: kc ? ctx.secretFile('kubeconfig', kc) : undefined, apiServerFqdn: after.fqdn, stateVersion: stateVersion ?? state.id, clusterVersion: after.version };
}

/**
 * `upgrade` with baseImageOnly: the nodes' images (ARM), the image the binary would use (generate dry run at the
 * current version), the marketplace's versions of it; refuses when no node would get a newer image; else
 * `upgrade --upgrade-version <current> --force` (Microsoft's documented way to apply a new AKS base image).
 */
async function upgradeBaseImage(run: Run, storage: Storage, key: string, state: { dir: string; model: ApiModel; id: string }, before: ClusterInfo): Promise<AksEngineOutputs> {
  const { ctx, inputs } = run;
  const current = before.version;
  if (inputs.upgradeVersion !== undefined && inputs.upgradeVersion !== current) {
    throw new InputError('upgradeVersion', `is ${inputs.upgradeVersion}, but baseImageOnly keeps the cluster's Kubernetes ${current}: leave upgradeVersion empty or set it to ${current}`);
  }
  const arm = await run.armClient();
  if (!arm) throw new InputError('clientId', 'is required for upgrade with baseImageOnly: the nodes\' images and the marketplace are read through the Hub\'s ARM');
  const distros = [...new Set([state.model.properties.masterProfile?.distro, ...(state.model.properties.agentPoolProfiles ?? []).map((a) => a.distro)].filter(Boolean))];
  const target = await requiredImages(run, state.model);
  const rg = inputs.resourceGroup ?? run.clusterName();
  ctx.log.progress(undefined, `reading the base image of every node in resource group ${rg}`);
  const nodes = await clusterNodeImages(arm, inputs.subscriptionId!, rg);
  const checks = await checkMarketplace(arm, inputs.subscriptionId!, inputs.location!, target);
  const marketplace = new Map(target.map((t, i) => [`${t.publisher}:${t.offer}:${t.sku}`.toLowerCase(), checks[i].found]));
  let plan: ReturnType<typeof planBaseImageUpgrade> | undefined;
  try {
    plan = planBaseImageUpgrade({ nodes, target, marketplace, binaryVersion: run.binaryVersion, kubernetesVersion: current });
  } catch (e) {
    if (!(e instanceof NoNewerImageError) || inputs.ifNoNewerImage !== 'succeed') throw e;
    ctx.log.info(e.message);
    ctx.summary.text(`Nothing to upgrade: ${e.message}.`);
    return { apiServerFqdn: before.fqdn, stateVersion: state.id, clusterVersion: current, baseImageStatus: 'current' };
  } finally {
    const rows = imageRows(nodes, target, marketplace);
    ctx.summary
      .heading('Base OS image', 4)
      .text(`Distro ${distros.join(', ')} · Kubernetes ${current} (unchanged) · aks-engine-azurestack v${run.binaryVersion}`)
      .table(['image', 'nodes run', `v${run.binaryVersion} upgrades to`, 'newest in the marketplace'], rows);
  }
  const extOk = checks[checks.length - 1];
  if (!extOk.ok) throw new PreconditionError(`${extOk.item} is not available on the Hub (${extOk.detail}): ask the Hub operator to download it to the marketplace`);
  ctx.log.progress(undefined, `upgrading the base image of ${plan.outdated.length} nodes of ${run.clusterName()} to ${plan.target.map(imageUrn).join(', ')} (Kubernetes ${current} unchanged: --force)`);
  return { ...(await runUpgrade(run, storage, key, state, before, current, true)), baseImageStatus: 'upgraded' };
}
