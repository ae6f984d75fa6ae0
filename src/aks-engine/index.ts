/**
 * AKS Engine on Azure Stack Hub: validate, deploy, scale, upgrade and diagnose clusters with aks-engine-azurestack,
 * with HA rules, marketplace prerequisites checked through the Hub's ARM, and the cluster state (apimodel.json and
 * its keys) kept only encrypted in an off-Hub store.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import type { Capability, RunContext } from '../platform/capability';
import {
  ArmClient,
  customCloudEnvironment,
  discoverHub,
  hubCredential,
  type ClientAuth,
  type HubEndpoints,
  type HubHttpOptions,
} from '../shared/azure-stack';
import { InputError, PreconditionError, StackHubError, ToolError, oneLine } from '../shared/errors';
import { netOf, type Net } from '../shared/net';
import type { Site } from '../shared/sites';
import { guardSameHub, openStorage, type Storage } from '../shared/storage';
import { currentPlatform, findTool } from '../shared/tools/catalog';
import { probeVersion, resolveTool } from '../shared/tools/resolve';
import { applyHub, buildApiModel, clone, clusterInfo, redactApiModel, SECRET_PLACEHOLDER, type ApiModel, type ClusterInfo, type PathSources } from './apimodel';
import { deployArgs, generateArgs, getLogsArgs, getVersionsArgs, scaleArgs, upgradeArgs, type AksAuth, type HubArgs } from './args';
import { aksEngineInputs, aksEngineOutputs, parseAksEngineInputs, aksEngineSecretSources, type AksEngineInputs, type AksEngineInputName } from './inputs';
import { EXAMPLE_APIMODEL, SUPPORTED_DISTROS } from './defaults';
import { DEFAULT_ROLE_RULES, ensureServiceAccount } from './k8s-credentials';
import { checkMarketplace, imagesFromParameters, imageUrn, type ImageRef, type MarketplaceCheck } from './marketplace';
import { clusterNodeImages, imageRows, NoNewerImageError, planBaseImageUpgrade } from './base-image';
import { AksEngineRunner } from './runner';
import { runReboot, type RebootOutputs } from './reboot';
import { clusterKey, fetchState, latestState, LOGS_KIND, putDirectory, STATE_KIND, type StateData } from './state';
import { inputFor, validateApiModel, type Problem } from './validate';

/** Outputs (never a secret: the kubeconfig travels as a 0600 file path). */
export interface AksEngineOutputs extends RebootOutputs {
  kubeconfigPath?: string;
  apiServerFqdn?: string;
  stateVersion?: string;
  clusterVersion?: string;
  apiModelPath?: string;
  versions?: unknown;
  /** upgrade with baseImageOnly: `upgraded`, or `current` (ifNoNewerImage: succeed and nothing newer). */
  baseImageStatus?: 'upgraded' | 'current';
}

/** What get-versions says. */
export interface VersionTable {
  aksEngineVersion: string;
  create: string[];
  upgrades: Record<string, string[]>;
}

/** Parses `get-versions -o json`. */
export function parseGetVersions(stdout: string): { version: string; upgrades: string[] }[] {
  let doc: { orchestrators?: { orchestratorVersion?: string; upgrades?: { orchestratorVersion?: string }[] }[] };
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new StackHubError('aks-engine-azurestack get-versions printed no JSON');
  }
  return (doc.orchestrators ?? [])
    .filter((o) => typeof o.orchestratorVersion === 'string')
    .map((o) => ({ version: o.orchestratorVersion!, upgrades: (o.upgrades ?? []).map((u) => String(u.orchestratorVersion ?? '')).filter(Boolean) }));
}

/** One run's working set. */
class Run {
  readonly http: HubHttpOptions;
  /** The run's network trusting the capability's CAs too. */
  readonly net: Net;
  readonly deadline: number;
  runner?: AksEngineRunner;
  binaryVersion = '';
  endpoints?: HubEndpoints;
  /** What the resolved binary supports, asked once per run: creatable versions and accepted distros (newest first). */
  binarySupport?: { versions: string[]; distros: string[] };
  private arm?: ArmClient;
  /** The same-Hub guard of the state store ran (once per run: deploy runs it before anything else). */
  private storeGuarded = false;

  constructor(
    readonly inputs: AksEngineInputs,
    readonly ctx: RunContext,
  ) {
    this.deadline = Date.now() + inputs.timeoutMs;
    this.net = netOf(ctx).withCa(inputs.caCertificates);
    this.http = this.net.http();
  }

  /** Finds aks-engine-azurestack (aksEnginePath, PATH, tool cache) and its version. */
  async binary(): Promise<AksEngineRunner> {
    if (this.runner) return this.runner;
    const spec = findTool('aks-engine-azurestack')!;
    let bin: string;
    if (this.inputs.aksEnginePath) {
      bin = this.inputs.aksEnginePath;
      try {
        this.binaryVersion = await probeVersion(spec, bin, this.ctx);
      } catch (e) {
        throw new InputError('aksEnginePath', `${bin} does not report an aks-engine-azurestack version: ${oneLine(e)}`);
      }
    } else {
      try {
        const r = await resolveTool(
          { tool: spec, range: '*', spec: spec.id },
          { target: currentPlatform('unknown'), explicit: new Map(), searchPath: true, pathEnv: process.env.PATH, cacheRoot: this.ctx.platform.paths.toolCache },
          this.ctx,
        );
        bin = r.binaries[spec.binaries[0]];
        this.binaryVersion = r.version;
      } catch (e) {
        throw new PreconditionError(`${oneLine(e)} — run the tool setup step (tools: aks-engine-azurestack) first, or set aksEnginePath`);
      }
    }
    const proxy = this.inputs.armEndpoint ? this.net.proxyFor(new URL(this.inputs.armEndpoint)) : undefined;
    this.runner = new AksEngineRunner(this.ctx, { binary: bin, caCertificates: this.inputs.caCertificates, proxy, deadline: this.deadline });
    this.ctx.log.info(`aks-engine-azurestack v${this.binaryVersion}: ${bin}`);
    return this.runner;
  }

  /** get-versions of the resolved binary (optionally for one current version). */
  async versions(current?: string): Promise<{ version: string; upgrades: string[] }[]> {
    const r = await (await this.binary()).run(getVersionsArgs(current), { capture: true, label: 'get-versions', timeoutMs: 120_000 });
    return parseGetVersions(r.stdout);
  }

  /** Discovers the Hub (once) and checks the identity system and location inputs against it. */
  async hub(): Promise<HubEndpoints> {
    if (this.endpoints) return this.endpoints;
    const i = this.inputs;
    const e = await discoverHub(i.armEndpoint!, { input: i.armEndpointInput, http: this.http });
    if (i.identitySystem && i.identitySystem !== e.identitySystem) {
      throw new InputError('identitySystem', `is ${i.identitySystem}, but the Hub at ${e.resourceManager} uses ${e.identitySystem} (login endpoint ${e.loginEndpoint})`);
    }
    if (i.location && i.location !== e.region) {
      throw new InputError('location', `'${i.location}' is not the Hub's region: expected '${e.region}' (its portal is ${e.portal})`);
    }
    this.ctx.log.info(`Hub ${e.resourceManager}: region ${e.region}, identity system ${e.identitySystem}`);
    this.endpoints = e;
    return e;
  }

  /** The service principal for our own ARM calls, when the inputs hold one. */
  clientAuth(): ClientAuth | undefined {
    const i = this.inputs;
    if (!i.clientId) return undefined;
    if (i.certificate && (i.authMethod === 'client_certificate' || !i.clientSecret)) {
      return { kind: 'client_certificate', clientId: i.clientId, ...i.certificate };
    }
    if (i.clientSecret) return { kind: 'client_secret', clientId: i.clientId, clientSecret: i.clientSecret };
    return undefined;
  }

  /** The Hub's ARM client (for marketplace checks), or undefined without credentials. */
  async armClient(): Promise<ArmClient | undefined> {
    if (this.arm) return this.arm;
    const auth = this.clientAuth();
    if (!auth || !this.inputs.subscriptionId) return undefined;
    const e = await this.hub();
    const credential = hubCredential(e, auth, {
      http: this.http,
      tenantId: this.inputs.tenantId,
      tenantInput: this.inputs.armEndpointInput === 'armEndpoint' ? 'tenantId' : this.inputs.armEndpointInput,
      onToken: (t) => this.ctx.mask(t),
      debug: (l) => this.ctx.log.debug(l),
    });
    this.arm = new ArmClient({ endpoint: e.resourceManager, credential, http: this.http });
    return this.arm;
  }

  /** The files aks-engine needs to sign in: 0600 cert/key files (certificate), or the secret (argv). */
  aksAuth(): AksAuth {
    const i = this.inputs;
    if (i.authMethod === 'client_secret') return { method: 'client_secret', clientId: i.clientId!, clientSecret: i.clientSecret! };
    const dir = this.runnerDir('sp');
    const certificatePath = path.join(dir, 'client.crt');
    const privateKeyPath = path.join(dir, 'client.key');
    fs.writeFileSync(certificatePath, i.certificate!.certificatePem, { mode: 0o600 });
    fs.writeFileSync(privateKeyPath, i.certificate!.privateKeyPem, { mode: 0o600 });
    return { method: 'client_certificate', clientId: i.clientId!, certificatePath, privateKeyPath };
  }

  runnerDir(name: string): string {
    const d = fs.mkdtempSync(path.join(this.ctx.tempDir, `${name}-`));
    fs.chmodSync(d, 0o700);
    return d;
  }

  /** Shared flags of deploy/scale/upgrade. */
  hubArgs(apiModel: string, resourceGroup: string): HubArgs {
    const e = this.endpoints!;
    return {
      apiModel,
      location: this.inputs.location!,
      resourceGroup,
      subscriptionId: this.inputs.subscriptionId!,
      identitySystem: this.inputs.identitySystem ?? e.identitySystem,
      auth: this.aksAuth(),
    };
  }

  /** The cluster's name (dnsPrefix) for the state store. */
  clusterName(): string {
    const n = this.inputs.shape.dnsPrefix ?? this.inputs.apiModelFile?.doc.properties.masterProfile?.dnsPrefix;
    if (!n) throw new InputError('dnsPrefix', `is required for ${this.inputs.command}: it names the cluster in the state store`);
    return n;
  }

  site(): Site {
    const name = this.inputs.siteName ?? this.inputs.location ?? 'default';
    return { name, hub: this.endpoints ? { domain: this.endpoints.domain } : undefined } as Site;
  }

  /** Refuses a state store on this Hub (InputError naming its input), or logs why allowSameHub let it through; once. */
  guardStore(): void {
    if (this.storeGuarded) return;
    guardSameHub(this.inputs.storage!, this.site(), this.ctx.log);
    this.storeGuarded = true;
  }

  async store(): Promise<{ storage: Storage; key: string }> {
    const i = this.inputs;
    this.guardStore();
    const storage = await openStorage(i.storage!, { mask: (s) => this.ctx.mask(s), net: this.net });
    const name = this.clusterName();
    return { storage, key: clusterKey(this.site().name, i.resourceGroup ?? name, name) };
  }
}

/** Builds the final cluster definition for the Hub. */
function buildModel(run: Run, e: HubEndpoints): { model: ApiModel; sources: PathSources } {
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
async function requiredImages(run: Run, model: ApiModel): Promise<ImageRef[]> {
  const { doc, dir } = await generateParameters(run, model);
  try {
    return imagesFromParameters(doc, (model.properties.agentPoolProfiles ?? []).map((a) => String(a.name)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Marketplace problems (as validation problems), or undefined when there are no Hub credentials. */
async function marketplaceProblems(run: Run, images: ImageRef[], imagePath: string): Promise<{ checks?: MarketplaceCheck[]; problems: Problem[] }> {
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
function reportProblems(run: Run, problems: Problem[], sources: PathSources, fallback: string): void {
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
async function validateDefinition(run: Run): Promise<{ model: ApiModel; sources: PathSources; images: ImageRef[]; checks?: MarketplaceCheck[] }> {
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

function infoRows(before: ClusterInfo | undefined, after: ClusterInfo | undefined): (string | number)[][] {
  const v = (x: ClusterInfo | undefined, k: keyof ClusterInfo): string | number => (x ? (x[k] as string | number) : '—');
  return [
    ['control plane nodes', v(before, 'masters'), v(after, 'masters')],
    ['workers', before ? before.pools.map((p) => `${p.name}: ${p.count}`).join(', ') : '—', after ? after.pools.map((p) => `${p.name}: ${p.count}`).join(', ') : '—'],
    ['Kubernetes', v(before, 'version'), v(after, 'version')],
  ];
}

function readJson(file: string): ApiModel {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ApiModel;
}

function adminKubeconfig(dir: string): string | undefined {
  const d = path.join(dir, 'kubeconfig');
  if (!fs.existsSync(d)) return undefined;
  const f = fs.readdirSync(d).filter((x) => x.startsWith('kubeconfig.')).sort()[0];
  return f ? fs.readFileSync(path.join(d, f), 'utf8') : undefined;
}

function stateData(run: Run, model: ApiModel, status: string, previous?: string, error?: string): StateData {
  const info = clusterInfo(model);
  const name = run.clusterName();
  return {
    cluster: { site: run.site().name, resourceGroup: run.inputs.resourceGroup ?? name, dnsPrefix: name, location: run.inputs.location ?? model.location ?? '' },
    status,
    command: run.inputs.command,
    kubernetesVersion: info.version,
    masters: info.masters,
    workers: info.workers,
    pools: info.pools,
    apiServerFqdn: info.fqdn,
    aksEngineVersion: run.binaryVersion,
    previous,
    error,
  };
}

/** Fetches the latest state of the cluster into a private dir; InputError naming dnsPrefix when there is none. */
async function loadState(run: Run, storage: Storage, key: string): Promise<{ dir: string; model: ApiModel; id: string }> {
  const entry = await latestState(storage, key);
  if (!entry) {
    throw new InputError('dnsPrefix', `no cluster state for '${run.clusterName()}' in ${storage.location(key)}: deploy the cluster first (or check dnsPrefix, resourceGroup, siteName and storagePrefix)`);
  }
  const dir = run.runnerDir('state');
  run.ctx.log.progress(undefined, `fetching cluster state ${entry.name}`);
  const m = await fetchState(storage, entry, run.inputs.encryption!, dir, run.ctx.tempDir);
  const file = path.join(dir, 'apimodel.json');
  if (!fs.existsSync(file)) throw new PreconditionError(`cluster state ${m.id} holds no apimodel.json`);
  return { dir, model: readJson(file), id: m.id };
}

async function storeState(run: Run, storage: Storage, key: string, dir: string, status: string, previous?: string, error?: string): Promise<string> {
  const model = readJson(path.join(dir, 'apimodel.json'));
  run.ctx.log.progress(undefined, `encrypting and storing the cluster state (${status})`);
  const m = await putDirectory(storage, key, 'state', dir, run.inputs.encryption!, { kind: STATE_KIND, site: run.site().name, data: stateData(run, model, status, previous, error) }, run.ctx.tempDir);
  run.ctx.log.info(`cluster state stored: ${storage.location(`${key}/state/${m.id}`)}`);
  run.ctx.summary.text(`Cluster state version \`${m.id}\` stored (${m.encryption.format === 'age' ? 'age-encrypted' : 'NOT encrypted'}${m.signature ? ', signed' : ''}): ${storage.location(`${key}/state/${m.id}`)}`);
  return m.id;
}

function withOutputs(e: unknown, outputs: Record<string, unknown>): unknown {
  if (e instanceof StackHubError) e.outputs = { ...(e.outputs ?? {}), ...outputs };
  return e;
}

function hashFile(file: string): string {
  return fs.existsSync(file) ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') : '';
}

// ------------------------------------------------------------------------------------------------ operations

async function doVersions(run: Run): Promise<AksEngineOutputs> {
  const list = await run.versions();
  const table: VersionTable = { aksEngineVersion: run.binaryVersion, create: list.map((v) => v.version), upgrades: Object.fromEntries(list.map((v) => [v.version, v.upgrades])) };
  run.ctx.summary.text(`aks-engine-azurestack v${run.binaryVersion} (Azure Stack Hub)`).table(['Kubernetes', 'can upgrade to'], list.map((v) => [v.version, v.upgrades.join(', ') || '—']));
  return { versions: table };
}

async function doValidate(run: Run): Promise<AksEngineOutputs> {
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

/**
 * Writes the final apimodel with every secret replaced by a placeholder — a file `generate` accepts offline (an
 * absent SP secret or client id gets a placeholder too) — to a 0600 file that outlives the run.
 */
function writeReviewCopy(run: Run, model: ApiModel): string {
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

async function doDeploy(run: Run): Promise<AksEngineOutputs> {
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

function infoFromData(d: StateData): ClusterInfo {
  return { masters: d.masters, workers: d.workers, version: d.kubernetesVersion, pools: d.pools, dnsPrefix: d.cluster.dnsPrefix, fqdn: d.apiServerFqdn };
}

async function doScale(run: Run): Promise<AksEngineOutputs> {
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

async function doUpgrade(run: Run): Promise<AksEngineOutputs> {
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

async function doCredentials(run: Run): Promise<AksEngineOutputs> {
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

async function doGetLogs(run: Run): Promise<AksEngineOutputs> {
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

export const aksEngine: Capability<AksEngineInputs, AksEngineOutputs, AksEngineInputName> = {
  name: 'aks-engine',
  title: 'Stack Hub AKS Engine',
  inputs: aksEngineInputs,
  outputs: aksEngineOutputs,
  parse: (read, platform) => parseAksEngineInputs(read, platform),
  secretSources: (read, platform) => aksEngineSecretSources(read, platform),
  secretSourcesDoc: { keyvault: 'the Hub this task signs in to: the Azure Stack Hub / azurerm connection (`azureStackConnection`), else `armEndpoint` with the service principal inputs (ADFS or Azure AD); a secret needed to reach the Hub cannot itself be a keyvault:// reference' },
  async run(inputs, ctx) {
    const run = new Run(inputs, ctx);
    ctx.summary.text(`Operation: **${inputs.command}**${inputs.location ? ` · location \`${inputs.location}\`` : ''}`);
    switch (inputs.command) {
      case 'versions':
        return doVersions(run);
      case 'validate':
        return doValidate(run);
      case 'deploy':
        return doDeploy(run);
      case 'scale':
        return doScale(run);
      case 'upgrade':
        return doUpgrade(run);
      case 'credentials':
        return doCredentials(run);
      case 'get-logs':
        return doGetLogs(run);
      case 'reboot':
        return runReboot(inputs.reboot!, { drainTimeoutMinutes: inputs.cordonDrainTimeoutMinutes, force: inputs.force }, ctx);
    }
  },
};
