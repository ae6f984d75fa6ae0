/**
 * A test world for the helm release: N sites, each with a cluster on the fake Kubernetes API (read by the REAL
 * kubectl), the stateful helm double (client-only commands by the REAL helm of the same major, stored values by the
 * real helm 4's offline render), a sites file with kubeconfig references, and an in-memory TrafficController. The
 * capability runs in-process on a recording platform.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import YAML from 'yaml';
import { upgradeArgs } from '../../src/helm-release/args';
import { escapeSetValue } from '../../src/helm-release/values';
import { loadSitesFile } from '../../src/shared/sites';
import { createHelmRelease, type HelmReleaseDeps } from '../../src/helm-release';
import { parseTrafficCoupling, type TrafficCoupling } from '../../src/helm-release/traffic';
import type { ManualClock } from '../helpers/manual-clock';
import { MaskingLogger } from '../../src/platform/logger';
import { runCapability } from '../../src/platform/run';
import type { Platform } from '../../src/platform/types';
import { Masker } from '../../src/shared/mask';
import type { TrafficController, TrafficOperationResult, TrafficState } from '../../src/traffic/api';
import { installHelmDouble, type HelmDouble } from '../helpers/helm-double';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/helm-double/kube-api';
import { ROOT } from '../helpers/harness';
import { layer, type Layer } from '../helpers/tool-fixtures';

export const CHART_DIR = path.join(ROOT, 'tests', 'fixtures', 'charts', 'ratings');
export const RELEASE = 'ratings';
export const NS = 'ratings';

/** A platform that records everything. */
export class RecordingPlatform implements Platform {
  readonly name: Platform['name'];
  readonly masker = new Masker();
  readonly lines: string[] = [];
  readonly outputs: Record<string, string> = {};
  summary = '';
  failed?: string;
  succeeded = false;
  readonly log: MaskingLogger;
  readonly paths: { agentTemp: string; toolCache: string };
  constructor(
    private readonly inputs: Record<string, string>,
    agentTemp: string,
    private readonly k8s?: { kubeconfig: string; context?: string },
    name: Platform['name'] = 'cli',
  ) {
    this.name = name;
    this.log = new MaskingLogger(
      {
        info: (l) => this.lines.push(l),
        debug: (l) => this.lines.push(`debug: ${l}`),
        warning: (l) => this.lines.push(`warning: ${l}`),
        error: (l) => this.lines.push(`error: ${l}`),
        startGroup: (n) => this.lines.push(`group: ${n}`),
        endGroup: () => undefined,
      },
      this.masker,
      true,
    );
    this.paths = { agentTemp, toolCache: path.join(agentTemp, 'tools') };
  }
  readonly debug = true;
  input(n: string): string | undefined {
    const v = this.inputs[n];
    return v === undefined || v === '' ? undefined : v;
  }
  kubernetesConnection(): { kubeconfig: string; context?: string } | undefined {
    return this.k8s;
  }
  azureRmConnection(): undefined {
    return undefined;
  }
  mask(s: string): void {
    this.masker.add(s);
  }
  setOutput(n: string, v: string): void {
    this.outputs[n] = v;
  }
  setVariable(): void {}
  addPath(): void {}
  async writeSummary(_t: string, md: string): Promise<void> {
    this.summary = md;
  }
  setFailed(m: string): void {
    this.failed = m;
  }
  setSucceeded(): void {
    this.succeeded = true;
  }
  agentProxy(): undefined {
    return undefined;
  }
  agentTls(): { caFile?: string } {
    return {};
  }
  get log_(): string {
    return this.lines.join('\n');
  }
}

/** An in-memory TrafficController with the contract's safety rule (never drain the last serving site). */
export class FakeTraffic implements TrafficController {
  readonly provider = 'fake';
  readonly ops: string[] = [];
  enabled: Map<string, boolean>;
  failRestore = new Set<string>();
  constructor(sites: string[]) {
    this.enabled = new Map(sites.map((s) => [s, true]));
  }
  state(): TrafficState {
    return {
      provider: 'fake',
      routing: 'multi',
      sites: [...this.enabled].map(([site, enabled]) => ({ site, endpoint: `${site}-ep`, enabled })),
      capturedAt: new Date().toISOString(),
    };
  }
  private result(op: string, prev: TrafficState, noChange = false): TrafficOperationResult {
    return { operation: op, previousState: prev, state: this.state(), checks: [], noChange };
  }
  async status(): Promise<TrafficState> {
    return this.state();
  }
  async drain(site: string): Promise<TrafficOperationResult> {
    const prev = this.state();
    const serving = [...this.enabled].filter(([, e]) => e).map(([s]) => s);
    if (serving.length === 1 && serving[0] === site) throw new Error(`refused: ${site} is the last site serving traffic`);
    this.ops.push(`drain ${site}`);
    this.enabled.set(site, false);
    return this.result('drain', prev);
  }
  async restore(site: string): Promise<TrafficOperationResult> {
    const prev = this.state();
    if (this.failRestore.has(site)) throw new Error(`${site} is not healthy`);
    this.ops.push(`restore ${site}`);
    this.enabled.set(site, true);
    return this.result('restore', prev);
  }
  async undo(state: TrafficState): Promise<TrafficOperationResult> {
    const prev = this.state();
    this.ops.push('undo');
    for (const s of state.sites) this.enabled.set(s.site, s.enabled);
    return this.result('undo', prev);
  }
  async failover(): Promise<TrafficOperationResult> {
    throw new Error('not used');
  }
  async weights(): Promise<TrafficOperationResult> {
    throw new Error('not used');
  }
  async swap(): Promise<TrafficOperationResult> {
    throw new Error('not used');
  }
}

/** Outcome of one in-process run. */
export interface RunResult {
  ok: boolean;
  platform: RecordingPlatform;
  outputs: Record<string, string>;
  record: import('../../src/helm-release/record').ReleaseRecord | undefined;
  summary: string;
  log: string;
  failed?: string;
}

/** The shared, expensive part: real helm layers (created once per process). */
let layers: Promise<{ v31: Layer; v34: Layer }> | undefined;
export function helmLayers(): Promise<{ v31: Layer; v34: Layer }> {
  layers ??= (async () => ({ v31: await layer('v31'), v34: await layer('v34') }))();
  return layers;
}

/** A world: sites, clusters, the helm double. */
export class World {
  readonly dir: string;
  api!: FakeKubeApi;
  helm!: HelmDouble;
  sitesFile!: string;
  traffic?: FakeTraffic;
  /** use the REAL traffic controller (src/traffic) with this clock (no real TTL waits) */
  realTraffic?: { clock: ManualClock };
  sleeps: number[] = [];
  env: NodeJS.ProcessEnv = {};
  layers!: { v31: Layer; v34: Layer };
  private ownApi = true;

  constructor(readonly sites: string[], readonly helmVersion = '3.17.3') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-release-world-'));
  }

  /** Starts the API server, installs the double, writes the sites file. */
  async start(opts: { siteExtra?: (site: string, i: number) => Record<string, unknown>; api?: FakeKubeApi } = {}): Promise<this> {
    this.layers = await helmLayers();
    this.ownApi = !opts.api;
    this.api = opts.api ?? (await startFakeKubeApi(path.join(this.dir, 'tls')));
    const real = this.helmVersion.startsWith('4') ? this.layers.v34.helm : this.layers.v31.helm;
    this.helm = installHelmDouble({ dir: path.join(this.dir, 'helm'), version: this.helmVersion, real, render: this.layers.v34.helm });
    const valuesDir = path.join(this.dir, 'values');
    fs.mkdirSync(valuesDir, { recursive: true });
    const sites = this.sites.map((s, i) => {
      this.api.clusters.set(s, { namespaces: new Set([NS, 'kube-system']), services: [{ namespace: 'kube-system', name: 'dns', type: 'ClusterIP' }] });
      const kc = path.join(this.dir, 'kube', `${s}.yaml`);
      fs.mkdirSync(path.dirname(kc), { recursive: true });
      fs.writeFileSync(kc, this.api.kubeconfig(s, `${s}-ctx`), { mode: 0o644 });
      fs.writeFileSync(path.join(valuesDir, `${s}.yaml`), `message: hello from ${s}\nreplicaCount: ${i + 1}\n`);
      // the second site's kubeconfig comes from an environment variable, the others from files
      const ref = i === 1 ? { env: `KUBECONFIG_${s.toUpperCase().replace(/-/g, '_')}` } : { file: path.relative(this.dir, kc) };
      if (i === 1) this.env[`KUBECONFIG_${s.toUpperCase().replace(/-/g, '_')}`] = fs.readFileSync(kc, 'utf8');
      return {
        name: s,
        cluster: { kubeconfig: ref, context: `${s}-ctx`, namespace: NS, kubeVersion: '1.31' },
        traffic: { endpoint: `${s}-ep` },
        values: [`values/${s}.yaml`],
        set: { 'image.tag': '2.4.1', 'database.password': `pw-${s}-s3cret` },
        ...(opts.siteExtra?.(s, i) ?? {}),
      };
    });
    this.sitesFile = path.join(this.dir, 'sites.yaml');
    fs.writeFileSync(this.sitesFile, YAML.stringify({ sites }));
    return this;
  }

  /**
   * Installs the release on every site directly through the double (what a previous successful release left), with
   * the values the task would pass, so a test starts from an installed state without a full run.
   */
  async install(chart = CHART_DIR): Promise<void> {
    const sites = loadSitesFile(this.sitesFile, 'sitesFile');
    const kdir = path.join(this.dir, 'kube-0600');
    fs.mkdirSync(kdir, { recursive: true, mode: 0o700 });
    await Promise.all(
      sites.sites.map(async (s) => {
        const kc = path.join(kdir, `${s.name}.yaml`);
        fs.writeFileSync(kc, this.api.kubeconfig(s.name, `${s.name}-ctx`), { mode: 0o600 });
        const args = upgradeArgs({
          major: this.helmVersion.startsWith('4') ? 4 : 3,
          release: RELEASE,
          chart,
          target: { kubeconfig: kc, context: `${s.name}-ctx`, namespace: NS },
          valuesFiles: s.values ?? [],
          sets: Object.entries(s.set ?? {}).map(([k, v]) => (typeof v === 'string' ? { kind: 'set-string' as const, expr: `${k}=${escapeSetValue(v)}` } : { kind: 'set' as const, expr: `${k}=${String(v)}` })),
          timeoutSeconds: 60,
          wait: true,
          createNamespace: false,
          atomic: false,
          forceReplace: false,
        });
        await new Promise<void>((resolve, reject) =>
          execFile(this.helm.bin, args, { env: { PATH: process.env.PATH } }, (e, _o, err) => (e ? reject(new Error(err)) : resolve())),
        );
      }),
    );
    this.helm.clearCalls();
  }

  /** Rewrites the sites file with a change to every site. */
  editSites(fn: (site: Record<string, unknown>, i: number) => void): void {
    const doc = YAML.parse(fs.readFileSync(this.sitesFile, 'utf8')) as { sites: Record<string, unknown>[] };
    doc.sites.forEach(fn);
    fs.writeFileSync(this.sitesFile, YAML.stringify(doc));
  }

  /** The default inputs of a run. */
  inputs(extra: Record<string, string> = {}): Record<string, string> {
    return {
      command: 'run',
      sitesFile: this.sitesFile,
      release: RELEASE,
      chart: CHART_DIR,
      helmPath: this.helm.bin,
      kubectlPath: this.layers.v31.kubectl,
      allowedRegistries: 'registry.corp.local',
      probe: 'true',
      probeIntervalSeconds: '0',
      probeTimeoutSeconds: '5',
      probeSuccesses: '1',
      timeoutSeconds: '60',
      ...extra,
    };
  }

  /** Runs the capability in-process. */
  async run(extra: Record<string, string> = {}, opts: { k8s?: { kubeconfig: string; context?: string }; platform?: Platform['name'] } = {}): Promise<RunResult> {
    const agentTemp = path.join(this.dir, 'agent-temp');
    fs.mkdirSync(agentTemp, { recursive: true });
    const p = new RecordingPlatform(this.inputs(extra), agentTemp, opts.k8s, opts.platform);
    const deps: Partial<HelmReleaseDeps> = {
      sleep: async (ms) => {
        this.sleeps.push(ms);
      },
      env: () => this.env,
    };
    if (this.realTraffic) {
      const clock = this.realTraffic.clock;
      deps.parseTraffic = (read, platform, sites) => parseTrafficCoupling(read, platform, sites, (c) => void (c.clock = clock));
    } else if (this.traffic) {
      const t = this.traffic;
      deps.parseTraffic = (read): TrafficCoupling | undefined => {
        const provider = read.string('trafficProvider');
        const wait = read.number('drainWaitSeconds', { min: 0 }) ?? 0;
        return provider ? { provider, drainWaitMs: wait * 1000, create: () => t } : undefined;
      };
    }
    const cap = createHelmRelease(deps);
    const ok = await runCapability(p, cap, p.masker);
    process.exitCode = 0;
    const recordFile = p.outputs.recordFile;
    return {
      ok,
      platform: p,
      outputs: p.outputs,
      record: recordFile && fs.existsSync(recordFile) ? JSON.parse(fs.readFileSync(recordFile, 'utf8')) : undefined,
      summary: p.summary,
      log: p.lines.join('\n'),
      failed: p.failed,
    };
  }

  /** Scripts a helm failure at a site (by name) and step. */
  fault(site: string, step: import('../helpers/helm-double').HelmStep, extra: Partial<import('../helpers/helm-double').HelmFault> = {}): void {
    this.helm.fault({ site: site === '*' ? '*' : `${site}-ctx`, step, ...extra });
  }

  /** helm calls of a kind (argv[0], or 'get values'), per site name. */
  callsOf(kind: string, site?: string): import('../helpers/helm-double').DoubleCall[] {
    return this.helm.calls().filter((c) => (kind.includes(' ') ? c.argv.slice(0, 2).join(' ') === kind : c.argv[0] === kind) && (!site || c.site === `${site}-ctx`));
  }

  /** Deployed revision numbers and statuses per site, e.g. {a: '1:superseded,2:deployed'}. */
  revisions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of this.sites) {
      const r = this.helm.release(`${s}-ctx`, NS, RELEASE);
      out[s] = r ? r.revisions.map((x) => `${x.revision}:${x.status}`).join(',') : 'none';
    }
    return out;
  }

  /** The chart version each site's deployed revision runs ('none' when not installed). */
  deployed(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of this.sites) {
      const r = this.helm.release(`${s}-ctx`, NS, RELEASE);
      const d = r?.revisions.filter((x) => x.status === 'deployed').pop();
      out[s] = d ? `${d.meta.version}` : 'none';
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.ownApi) await this.api?.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A copy of the fixture chart with another version (and optional template change). */
export function chartVersion(dir: string, version: string, edit?: (chartDir: string) => void): string {
  const out = path.join(dir, `ratings-${version}-${Math.random().toString(36).slice(2, 7)}`);
  fs.cpSync(CHART_DIR, out, { recursive: true });
  const cy = path.join(out, 'Chart.yaml');
  fs.writeFileSync(cy, fs.readFileSync(cy, 'utf8').replace(/^version: .*$/m, `version: ${version}`));
  edit?.(out);
  return out;
}
