/** AKS Engine: one run's working set (binary, Hub, credentials, state store) and the outputs of a run. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunContext } from '../platform/capability';
import {
  ArmClient,
  discoverHub,
  hubCredential,
  type ClientAuth,
  type HubEndpoints,
  type HubHttpOptions,
} from '../shared/azure-stack';
import { InputError, PreconditionError, StackHubError, oneLine } from '../shared/errors';
import { netOf, type Net } from '../shared/net';
import type { Site } from '../shared/sites';
import { guardSameHub, openStorage, type Storage } from '../shared/storage';
import { currentPlatform, findTool } from '../shared/tools/catalog';
import { probeVersion, resolveTool } from '../shared/tools/resolve';
import { getVersionsArgs, type AksAuth, type HubArgs } from './args';
import { type AksEngineInputs } from './inputs';
import { AksEngineRunner } from './runner';
import { type RebootOutputs } from './reboot';
import { clusterKey } from './state';

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
export class Run {
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
