/** AKS Engine: builds and validates the final cluster definition (binary support, marketplace prerequisites, review copy). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import {
  customCloudEnvironment,
  type HubEndpoints,
} from '../shared/azure-stack';
import { InputError, PreconditionError, StackHubError, ToolError, oneLine } from '../shared/errors';
import { applyHub, buildApiModel, clone, redactApiModel, SECRET_PLACEHOLDER, type ApiModel, type PathSources } from './apimodel';
import { generateArgs } from './args';
import { EXAMPLE_APIMODEL, SUPPORTED_DISTROS } from './defaults';
import { checkMarketplace, imagesFromParameters, imageUrn, type ImageRef, type MarketplaceCheck } from './marketplace';
import { inputFor, validateApiModel, type Problem } from './validate';
import { Run } from './run';

/** Builds the final cluster definition for the Hub. */
export function buildModel(run: Run, e: HubEndpoints): { model: ApiModel; sources: PathSources } {
  const i = run.inputs;
  const { model, sources } = buildApiModel(i.shape, i.apiModelFile && { doc: i.apiModelFile.doc, input: 'apiModel' });
  const support = run.binarySupport;
  if (support && !i.apiModelFile) {
    // built from inputs: what the example leaves open comes from the resolved binary, not from a fixed default
    const p = model.properties;
    if (i.shape.kubernetesVersion === undefined && support.versions.length) {
      // the example's version when this binary can create it, else the newest it can
      const ex = EXAMPLE_APIMODEL.properties.orchestratorProfile.orchestratorVersion;
      const v = support.versions.includes(ex) ? ex : newestVersion(support.versions);
      p.orchestratorProfile = { ...(p.orchestratorProfile ?? {}), orchestratorVersion: v, orchestratorRelease: `${semver.major(v)}.${semver.minor(v)}` };
    }
    if (i.shape.distro === undefined && support.distros.length) {
      if (p.masterProfile) p.masterProfile.distro = support.distros[0];
      if (p.agentPoolProfiles?.[0]) p.agentPoolProfiles[0].distro = support.distros[0];
    }
  }
  applyHub(
    model,
    { location: i.location!, identitySystem: i.identitySystem ?? e.identitySystem, authMethod: i.authMethod, environment: customCloudEnvironment(e), endpoints: e },
    { clientId: i.clientId ?? '', secret: i.clientSecret },
  );
  return { model, sources };
}

function newestVersion(versions: string[]): string {
  return [...versions].filter((v) => semver.valid(v)).sort(semver.compare).pop() ?? versions[versions.length - 1];
}

/** aks-engine's own words when it rejects a distro (vlabs validation, or the Azure Stack check of loadAPIModel). */
const DISTRO_REJECTED = /The \S+ distro is (?:not supported|deprecated)|invalid (?:master|agent pool) profile distro/;

/**
 * Which Kubernetes versions and distros the resolved binary supports: get-versions, then one `generate
 * --parameters-only` dry run per known distro (newest first) on a minimal definition (the example with the newest
 * creatable version and the Hub's environment) in a private directory. A distro is supported when generate accepts it;
 * rejected when generate says so in its own words; any other failure is reported as it is.
 */
async function binarySupport(run: Run, e: HubEndpoints): Promise<{ versions: string[]; distros: string[] }> {
  if (run.binarySupport) return run.binarySupport;
  const versions = (await run.versions()).map((v) => v.version);
  const distros: string[] = [];
  const rejected: string[] = [];
  for (const distro of SUPPORTED_DISTROS) {
    const probe = clone(EXAMPLE_APIMODEL) as unknown as ApiModel;
    const p = probe.properties;
    const v = newestVersion(versions);
    if (v) p.orchestratorProfile = { ...p.orchestratorProfile, orchestratorVersion: v, orchestratorRelease: `${semver.major(v)}.${semver.minor(v)}` };
    p.masterProfile!.dnsPrefix = 'distroprobe';
    p.masterProfile!.distro = distro;
    p.agentPoolProfiles![0].distro = distro;
    p.linuxProfile!.ssh!.publicKeys = [{ keyData: PROBE_SSH_KEY }];
    applyHub(probe, { location: run.inputs.location!, identitySystem: run.inputs.identitySystem ?? e.identitySystem, authMethod: run.inputs.authMethod, environment: customCloudEnvironment(e), endpoints: e }, { clientId: PLACEHOLDER_CLIENT_ID, secret: SECRET_PLACEHOLDER });
    try {
      await generateParameters(run, probe, `generate --parameters-only (distro ${distro})`);
      distros.push(distro);
    } catch (err) {
      if (err instanceof ToolError && DISTRO_REJECTED.test(err.message)) {
        rejected.push(distro);
        run.ctx.log.debug(`aks-engine-azurestack v${run.binaryVersion} rejects ${distro}: ${err.message}`);
        continue;
      }
      throw new StackHubError(`checking which distros aks-engine-azurestack v${run.binaryVersion} accepts: ${oneLine(err)}`);
    }
  }
  if (distros.length === 0) {
    throw new PreconditionError(`aks-engine-azurestack v${run.binaryVersion} accepts none of ${SUPPORTED_DISTROS.join(', ')}: use a release that supports one of them`);
  }
  run.ctx.log.info(`aks-engine-azurestack v${run.binaryVersion} creates Kubernetes ${versions.join(', ')}; accepts ${distros.join(', ')}${rejected.length ? ` (rejects ${rejected.join(', ')})` : ''}`);
  run.binarySupport = { versions, distros };
  return run.binarySupport;
}

/** A syntactically valid ssh-rsa public key for dry runs (no one holds its private key: it is not a key at all). */
const PROBE_SSH_KEY = `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ${'A'.repeat(64)} distro-probe`;

/** Runs `generate --parameters-only` offline on a copy of the model in a private directory; the parameters file. */
async function generateParameters(run: Run, model: ApiModel, label = 'generate --parameters-only'): Promise<{ doc: string; dir: string }> {
  const runner = await run.binary();
  const dir = run.runnerDir('generate');
  const copy = clone(model);
  const spp = (copy.properties.servicePrincipalProfile ??= {});
  if (!spp.clientId) spp.clientId = PLACEHOLDER_CLIENT_ID;
  if (!spp.secret) spp.secret = SECRET_PLACEHOLDER;
  const file = path.join(dir, 'apimodel.json');
  fs.writeFileSync(file, JSON.stringify(copy, null, 2), { mode: 0o600 });
  const out = path.join(dir, 'out');
  try {
    await runner.run(generateArgs({ apiModel: file, outputDirectory: out, parametersOnly: true }), { label, timeoutMs: 300_000, capture: true });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { doc: path.join(out, 'azuredeploy.parameters.json'), dir };
}

/** Runs `generate --parameters-only` offline on a copy of the model and reads the images it needs. */
export async function requiredImages(run: Run, model: ApiModel): Promise<ImageRef[]> {
  const { doc, dir } = await generateParameters(run, model);
  try {
    return imagesFromParameters(doc, (model.properties.agentPoolProfiles ?? []).map((a) => String(a.name)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Marketplace problems (as validation problems), or undefined when there are no Hub credentials. */
export async function marketplaceProblems(run: Run, images: ImageRef[], imagePath: string): Promise<{ checks?: MarketplaceCheck[]; problems: Problem[] }> {
  const arm = await run.armClient();
  if (!arm) return { problems: [] };
  run.ctx.log.progress(undefined, 'checking the marketplace prerequisites on the Hub');
  const checks = await checkMarketplace(arm, run.inputs.subscriptionId!, run.inputs.location!, images);
  const problems: Problem[] = [];
  for (const c of checks.filter((x) => !x.ok)) {
    const isImage = c.item.startsWith('AKS base image');
    problems.push({
      severity: 'error',
      path: isImage ? imagePath : 'armEndpoint',
      message: `${c.item} is not available on the Hub (${c.detail}): "OS base image not available in target cloud" — ask the Hub operator to download it to the marketplace${isImage ? ` (aks-engine-azurestack v${run.binaryVersion} needs exactly this version)` : ''}`,
    });
  }
  return { checks, problems };
}

/** Reports problems (log + summary); throws the first error as an InputError naming its input. */
export function reportProblems(run: Run, problems: Problem[], sources: PathSources, fallback: string): void {
  const { log, summary } = run.ctx;
  const rows = problems.map((p) => [p.severity, inputFor(p, sources, p.path === 'armEndpoint' ? run.inputs.armEndpointInput : fallback), p.message]);
  for (const p of problems) (p.severity === 'error' ? log.error : log.warning).call(log, p.message);
  if (rows.length) summary.heading('Validation', 4).table(['severity', 'input', 'problem'], rows);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    const first = errors[0];
    const input = inputFor(first, sources, first.path === 'armEndpoint' ? run.inputs.armEndpointInput : fallback);
    throw new InputError(input, `${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''}: see the log)` : ''}`);
  }
}

/** The whole validation of a cluster definition (validate, and the first half of deploy). */
export async function validateDefinition(run: Run): Promise<{ model: ApiModel; sources: PathSources; images: ImageRef[]; checks?: MarketplaceCheck[] }> {
  const e = await run.hub();
  const support = await binarySupport(run, e);
  const { model, sources } = buildModel(run, e);
  const fallback = run.inputs.apiModelFile ? 'apiModel' : 'dnsPrefix';
  const problems = validateApiModel(model, {
    location: run.inputs.location!,
    allowNonHA: run.inputs.allowNonHA,
    creatableVersions: support.versions,
    supportedDistros: support.distros,
    aksEngineVersion: `v${run.binaryVersion}`,
  });
  let images: ImageRef[] = [];
  let checks: MarketplaceCheck[] | undefined;
  if (!problems.some((p) => p.severity === 'error')) {
    images = await requiredImages(run, model);
    const m = await marketplaceProblems(run, images, 'properties.masterProfile.distro');
    checks = m.checks;
    problems.push(...m.problems);
  }
  const { summary } = run.ctx;
  if (checks) summary.heading('Marketplace prerequisites', 4).table(['item', 'available', 'detail'], checks.map((c) => [c.item, c.ok ? 'yes' : 'NO', c.detail]));
  else if (images.length) summary.text(`Marketplace not checked (no Hub credentials): the cluster needs ${images.map(imageUrn).join(', ')} and the Custom Script for Linux 2.0 extension.`);
  reportProblems(run, problems, sources, fallback);
  return { model, sources, images, checks };
}

/**
 * Writes the final apimodel with every secret replaced by a placeholder — a file `generate` accepts offline (an
 * absent SP secret or client id gets a placeholder too) — to a 0600 file that outlives the run.
 */
export function writeReviewCopy(run: Run, model: ApiModel): string {
  const copy = redactApiModel(model);
  const spp = (copy.properties.servicePrincipalProfile ??= {});
  if (!spp.secret) spp.secret = SECRET_PLACEHOLDER;
  if (!spp.clientId) {
    spp.clientId = PLACEHOLDER_CLIENT_ID;
    run.ctx.summary.text(`No clientId was given: the apimodel carries the placeholder \`${PLACEHOLDER_CLIENT_ID}\`.`);
  }
  return run.ctx.secretFile('apimodel.json', JSON.stringify(copy, null, 2) + '\n');
}

/** Client id placed in copies when none was given (aks-engine treats the all-zero GUID as unset). */
export const PLACEHOLDER_CLIENT_ID = '00000000-0000-0000-0000-000000000001';
