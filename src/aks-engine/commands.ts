/** AKS Engine commands: versions, validate, deploy, scale, credentials and get-logs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, PreconditionError, oneLine } from '../shared/errors';
import { clusterInfo } from './apimodel';
import { deployArgs, getLogsArgs, scaleArgs } from './args';
import { DEFAULT_ROLE_RULES, ensureServiceAccount } from './k8s-credentials';
import { latestState, LOGS_KIND, putDirectory } from './state';
import { Run, type AksEngineOutputs, type VersionTable } from './run';
import { buildModel, validateDefinition, writeReviewCopy } from './definition';
import { infoRows, readJson, adminKubeconfig, loadState, storeState, withOutputs, hashFile, infoFromData } from './cluster-io';

// ------------------------------------------------------------------------------------------------ operations

export async function doVersions(run: Run): Promise<AksEngineOutputs> {
  const list = await run.versions();
  const table: VersionTable = { aksEngineVersion: run.binaryVersion, create: list.map((v) => v.version), upgrades: Object.fromEntries(list.map((v) => [v.version, v.upgrades])) };
  run.ctx.summary.text(`aks-engine-azurestack v${run.binaryVersion} (Azure Stack Hub)`).table(['Kubernetes', 'can upgrade to'], list.map((v) => [v.version, v.upgrades.join(', ') || '—']));
  return { versions: table };
}

export async function doValidate(run: Run): Promise<AksEngineOutputs> {
  let result: Awaited<ReturnType<typeof validateDefinition>> | undefined;
  try {
    result = await validateDefinition(run);
    return { apiModelPath: writeReviewCopy(run, result.model), apiServerFqdn: clusterInfo(result.model).fqdn, clusterVersion: clusterInfo(result.model).version };
  } finally {
    if (!result && run.endpoints) {
      // on failure still hand reviewers the final definition (secrets replaced)
      try {
        const { model } = buildModel(run, run.endpoints);
        run.ctx.summary.text(`Final apimodel (secrets replaced): \`${writeReviewCopy(run, model)}\``);
      } catch {
        /* the failure itself is reported */
      }
    }
  }
}

export async function doDeploy(run: Run): Promise<AksEngineOutputs> {
  const { ctx, inputs } = run;
  const e = await run.hub();
  // refuse a store on this Hub before anything else
  run.guardStore();
  const { model } = await validateDefinition(run);
  if (!model.properties.servicePrincipalProfile?.secret) {
    throw new InputError('clientSecret', 'is required for deploy: the cluster\'s cloud provider signs in with the service principal secret (kept in the 0600 apimodel, off the command line with certificate auth)');
  }
  const { storage, key } = await run.store();
  const existing = await latestState(storage, key);
  if (existing && !inputs.force) {
    throw new PreconditionError(`cluster state for '${run.clusterName()}' already exists (${storage.location(`${existing.dir}`)}): use command scale or upgrade, or set force: true to deploy anyway`);
  }
  const work = run.runnerDir('deploy');
  const apiModel = path.join(work, 'apimodel.json');
  fs.writeFileSync(apiModel, JSON.stringify(model, null, 2), { mode: 0o600 });
  const out = path.join(work, 'out');
  const rg = inputs.resourceGroup ?? run.clusterName();
  const runner = await run.binary();
  ctx.log.progress(undefined, `deploying ${run.clusterName()} to ${e.resourceManager} (resource group ${rg})`);
  let failure: unknown;
  try {
    await runner.run(deployArgs({ ...run.hubArgs(apiModel, rg), outputDirectory: out }), { label: 'deploy' });
  } catch (err) {
    failure = err;
  }
  let stateVersion: string | undefined;
  if (fs.existsSync(path.join(out, 'apimodel.json'))) {
    stateVersion = await storeState(run, storage, key, out, failure ? 'deploy-failed' : 'deployed', existing?.manifest?.id, failure ? oneLine(failure) : undefined);
  } else if (failure) {
    ctx.log.warning('aks-engine-azurestack deploy failed before it wrote its output directory: no state to store');
  }
  const after = fs.existsSync(path.join(out, 'apimodel.json')) ? clusterInfo(readJson(path.join(out, 'apimodel.json'))) : undefined;
  ctx.summary.table(['', 'before', 'after'], infoRows(existing?.manifest ? infoFromData(existing.manifest.data) : undefined, after));
  if (failure) throw withOutputs(failure, { stateVersion });
  const kc = adminKubeconfig(out);
  return {
    kubeconfigPath: kc ? ctx.secretFile('kubeconfig', kc) : undefined,
    apiServerFqdn: after?.fqdn,
    stateVersion,
    clusterVersion: after?.version,
  };
}

export async function doScale(run: Run): Promise<AksEngineOutputs> {
  const { ctx, inputs } = run;
  await run.hub();
  const { storage, key } = await run.store();
  const state = await loadState(run, storage, key);
  const before = clusterInfo(state.model);
  const pools = state.model.properties.agentPoolProfiles ?? [];
  const pool = inputs.nodePool ?? String(pools[0]?.name ?? '');
  if (!pools.some((p) => p.name === pool)) throw new InputError('nodePool', `'${pool}' is not a pool of the cluster: expected one of ${pools.map((p) => p.name).join(', ')}`);
  if (!before.fqdn) throw new PreconditionError(`cluster state ${state.id} has no API server FQDN (masterProfile.fqdn): cannot drain nodes`);
  const file = path.join(state.dir, 'apimodel.json');
  const h0 = hashFile(file);
  const rg = inputs.resourceGroup ?? run.clusterName();
  ctx.log.progress(undefined, `scaling pool ${pool} of ${run.clusterName()} to ${inputs.nodeCount} nodes`);
  let failure: unknown;
  try {
    await (await run.binary()).run(scaleArgs({ ...run.hubArgs(file, rg), nodePool: pool, newNodeCount: inputs.nodeCount!, apiServer: before.fqdn }), { label: 'scale' });
  } catch (err) {
    failure = err;
  }
  let stateVersion: string | undefined;
  if (hashFile(file) !== h0) stateVersion = await storeState(run, storage, key, state.dir, failure ? 'scale-failed' : 'scaled', state.id, failure ? oneLine(failure) : undefined);
  const after = clusterInfo(readJson(file));
  ctx.summary.table(['', 'before', 'after'], infoRows(before, after));
  if (failure) throw withOutputs(failure, { stateVersion: stateVersion ?? state.id });
  const kc = adminKubeconfig(state.dir);
  return { kubeconfigPath: kc ? ctx.secretFile('kubeconfig', kc) : undefined, apiServerFqdn: after.fqdn, stateVersion: stateVersion ?? state.id, clusterVersion: after.version };
}

export async function doCredentials(run: Run): Promise<AksEngineOutputs> {
  const { ctx, inputs } = run;
  if (inputs.armEndpoint) await run.hub();
  const { storage, key } = await run.store();
  const state = await loadState(run, storage, key);
  const admin = adminKubeconfig(state.dir);
  if (!admin) throw new PreconditionError(`cluster state ${state.id} holds no kubeconfig/kubeconfig.<location>.json`);
  ctx.mask(admin);
  const info = clusterInfo(state.model);
  ctx.log.progress(undefined, `creating service account ${inputs.serviceAccount} for ${inputs.namespaces.join(', ')}`);
  const r = await ensureServiceAccount({
    adminKubeconfig: admin,
    server: inputs.apiServerUrl,
    serviceAccount: inputs.serviceAccount,
    namespaces: inputs.namespaces,
    rules: inputs.roleRules ?? DEFAULT_ROLE_RULES,
    mask: (s) => ctx.mask(s),
  });
  ctx.summary.table(['namespace', 'object', 'action'], r.actions.map((a) => [a.namespace, a.object, a.action]));
  return { kubeconfigPath: ctx.secretFile('kubeconfig', r.kubeconfig), apiServerFqdn: info.fqdn, stateVersion: state.id, clusterVersion: info.version };
}

export async function doGetLogs(run: Run): Promise<AksEngineOutputs> {
  const { ctx, inputs } = run;
  await run.hub();
  const { storage, key } = await run.store();
  const state = await loadState(run, storage, key);
  const info = clusterInfo(state.model);
  let keyFile: string;
  if (inputs.sshPrivateKey) {
    keyFile = path.join(run.runnerDir('ssh'), 'id_rsa');
    fs.writeFileSync(keyFile, inputs.sshPrivateKey.replace(/\r?\n?$/, '\n'), { mode: 0o600 });
  } else {
    const admin = state.model.properties.linuxProfile?.adminUsername ?? 'azureuser';
    keyFile = path.join(state.dir, `${admin}_rsa`);
    if (!fs.existsSync(keyFile)) throw new InputError('sshPrivateKey', `is required: the cluster state holds no ${admin}_rsa (deploy was given sshPublicKey)`);
  }
  const sshHost = inputs.sshHost ?? info.fqdn;
  if (!sshHost) throw new InputError('sshHost', 'is required: the cluster state names no API server FQDN');
  const out = path.join(run.runnerDir('logs'), 'logs');
  await (await run.binary()).run(getLogsArgs({ apiModel: path.join(state.dir, 'apimodel.json'), location: inputs.location!, sshHost, sshPrivateKeyPath: keyFile, outputDirectory: out }), { label: 'get-logs' });
  if (!fs.existsSync(out)) throw new PreconditionError('aks-engine-azurestack get-logs wrote no logs');
  const m = await putDirectory(storage, key, 'logs', out, inputs.encryption!, { kind: LOGS_KIND, site: run.site().name, data: { state: state.id, files: fs.readdirSync(out).sort() } }, ctx.tempDir);
  ctx.summary.text(`Logs \`${m.id}\` (${m.encryption.format === 'age' ? 'age-encrypted' : 'NOT encrypted'}) stored with the state: ${storage.location(`${key}/logs/${m.id}`)}`);
  return { apiServerFqdn: info.fqdn, stateVersion: state.id, clusterVersion: info.version };
}
