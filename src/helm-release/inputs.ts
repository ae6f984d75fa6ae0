/**
 * Inputs of the helm multi-site release: definitions (task.json / action.yml are generated from them) and the
 * parser that validates EVERY input once, up front, with no side effects: the sites file, each needed site's
 * kubeconfig and context, the chart source and version, values files, the record of earlier stages, the traffic
 * coupling. Bad input → one InputError naming the input; nothing touched.
 */
import { withCommands } from '../platform/visibility';
import { parseMongoAccess, type MongoAccess } from '../traffic/mongo-gate';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import type { InputName, InputReader, OutputDef } from '../platform/inputs';
import { kubeconfigSecrets } from '../platform/kubeconfig';
import type { Platform } from '../platform/types';
import { readCaFile } from '../shared/ca';
import { InputError } from '../shared/errors';
import { findSite, loadSitesFile, readSecretRef, type Site, type SitesFile } from '../shared/sites';
import { parseChartSource, type ChartSource } from './chart';
import { mergeRecords, parseRecordText, readRecords, type ReleaseRecord } from './record';
import { parseTrafficCoupling, trafficInputs, type TrafficCoupling } from './traffic';
import { computeValues, escapeSetValue, readValuesFile, valuesHash, type SetArg, type Values } from './values';
import { defineInputs } from '../shared/inputs';

/** The operations. `run` is the orchestrated topology; the others act on one site (per-site topology). */
export const COMMANDS = ['run', 'preflight', 'upgrade', 'verify', 'rollback'] as const;
/** One of {@link COMMANDS}. */
export type Command = (typeof COMMANDS)[number];

const G_CHART = 'chart';
const G_ROLLOUT = 'rollout';
const G_GATES = 'gates';
const G_PREFLIGHT = 'preflight';
const G_RECORD = 'record';
const G_TRAFFIC = 'traffic';
const G_TOOLS = 'tools';

/** Task groups (task editor sections). */
export const helmReleaseGroups = [
  { name: G_CHART, displayName: 'Chart and values', isExpanded: true },
  { name: G_ROLLOUT, displayName: 'Rollout', isExpanded: true },
  { name: G_GATES, displayName: 'Gates and probes', isExpanded: false },
  { name: G_PREFLIGHT, displayName: 'Preflight checks', isExpanded: false },
  { name: G_RECORD, displayName: 'Release record', isExpanded: false },
  { name: G_TRAFFIC, displayName: 'Traffic coupling', isExpanded: false },
  // the traffic swap's health-probe inputs (group name from src/traffic/config.ts)
  { name: 'probe', displayName: 'Traffic coupling: health probe and DNS wait', isExpanded: false },
  { name: G_TOOLS, displayName: 'Tools', isExpanded: false },
];

/** Every input of the release (task.json and action.yml are generated from these). */
const helmReleaseInputDefs = defineInputs([
  {
    name: 'command',
    label: 'Command',
    type: 'pickList',
    required: true,
    default: 'run',
    options: COMMANDS,
    help: '`run`: every site in one run (one agent reaches every cluster). Per-site topology (each site\'s agent reaches only its own cluster): `preflight` (one site, or all when `site` is empty), `upgrade`, `verify`, `rollback` (to the revision the release record holds for the site), each driven by the release record.',
  },
  {
    name: 'sitesFile',
    label: 'Sites file',
    type: 'filePath',
    required: true,
    help: 'The sites file (YAML/JSON, src/shared/sites.schema.json): per site the cluster (kubeconfig reference, context, namespace, kubeVersion, apiVersions), values files, set values, timeoutSeconds, and the traffic endpoint and probeUrl. Sites in file order; the first is the canary.',
  },
  {
    name: 'site',
    label: 'Site',
    type: 'string',
    help: 'The site a per-site command acts on (required for upgrade, verify and rollback; preflight checks every site when empty).',
  },
  {
    name: 'kubernetesConnection',
    label: 'Kubernetes service connection',
    type: 'kubernetesConnection',
    channels: ['azure-pipelines'],
    help: 'Per-site jobs on Azure Pipelines: the site\'s Kubernetes service connection (Kubeconfig or Service Account). Used instead of the kubeconfig reference of `site` in the sites file.',
  },
  {
    name: 'release',
    label: 'Release name',
    type: 'string',
    required: true,
    help: 'The helm release name (the same on every site): lower-case letters, digits, dashes and dots, at most 53 characters.',
  },
  {
    name: 'chart',
    label: 'Chart',
    type: 'string',
    required: true,
    group: G_CHART,
    help: 'A chart directory, a packaged `.tgz`, an OCI reference on an internal registry (`oci://registry.corp.local/charts/ratings`, version in chartVersion), or a chart name in the repository at repoUrl. Located once per run; every site gets the same bytes.',
  },
  { name: 'chartVersion', label: 'Chart version', type: 'string', group: G_CHART, help: 'Chart version (or range for oci/repo charts). For a local chart, the version its Chart.yaml must have.' },
  { name: 'repoUrl', label: 'Chart repository URL', type: 'string', group: G_CHART, help: 'Classic chart repository URL (index.yaml) when chart is a chart name.' },
  { name: 'registryUsername', label: 'Registry / repository user', type: 'string', group: G_CHART, help: 'User for the OCI registry (`helm registry login`) or the chart repository.' },
  {
    name: 'registryPassword',
    label: 'Registry / repository password',
    type: 'secret',
    group: G_CHART,
    help: 'Password or token for the OCI registry or chart repository; given to helm on stdin (`--password-stdin`), never on its command line.',
  },
  { name: 'registryCaFile', label: 'Registry CA file', type: 'filePath', group: G_CHART, help: 'PEM CA that signed the registry\'s / repository\'s certificate (`--ca-file`).' },
  { name: 'valuesFiles', label: 'Shared values files', type: 'multiline', group: G_CHART, help: 'Values files for every site, one per line, before each site\'s own `values` from the sites file.' },
  { name: 'set', label: 'Shared --set values', type: 'multiline', group: G_CHART, help: '`key=value` lines passed as `--set` to every site (helm syntax), before the site\'s own `set`.' },
  { name: 'namespace', label: 'Default namespace', type: 'string', group: G_CHART, help: 'Namespace for sites whose `cluster.namespace` is not set.' },
  { name: 'createNamespace', label: 'Create the namespace', type: 'boolean', default: 'false', group: G_CHART, help: 'Create a missing namespace (`--create-namespace`). Without it, a missing namespace fails the preflight.' },
  {
    name: 'strategy',
    label: 'Strategy',
    type: 'pickList',
    default: 'sequential',
    options: ['sequential', 'parallel'],
    group: G_ROLLOUT,
    help: '`sequential`: one site after the other in file order (the first is the canary). `parallel`: up to maxParallel sites at once.',
  },
  { name: 'maxParallel', label: 'Max parallel sites', type: 'number', default: '2', group: G_ROLLOUT, help: 'Sites upgraded at once with the parallel strategy (at least 1).' },
  {
    name: 'onFailure',
    label: 'On failure',
    type: 'pickList',
    default: 'rollback-all',
    options: ['rollback-all', 'stop', 'continue'],
    group: G_ROLLOUT,
    help: '`rollback-all`: roll back every site this release changed to its recorded revision (uninstall where it was not installed), restore traffic. `stop`: leave everything as it is and report. `continue`: go on with the other sites.',
  },
  { name: 'timeoutSeconds', label: 'Timeout per site (seconds)', type: 'number', default: '600', group: G_ROLLOUT, help: 'helm --timeout of each site\'s upgrade, test and rollback (a site\'s `timeoutSeconds` in the sites file wins).' },
  { name: 'wait', label: 'Wait for resources', type: 'boolean', default: 'true', group: G_ROLLOUT, help: 'Wait until the resources are ready (helm 3 `--wait`, helm 4 `--wait=watcher`).' },
  { name: 'atomic', label: 'helm rolls back a failed site itself', type: 'boolean', default: 'false', group: G_ROLLOUT, help: 'Pass helm 3 `--atomic` / helm 4 `--rollback-on-failure` (the failed site is rolled back by helm; the other sites by onFailure).' },
  { name: 'forceReplace', label: 'Replace resources', type: 'boolean', default: 'false', group: G_ROLLOUT, help: 'Pass helm 3 `--force` / helm 4 `--force-replace` (delete and recreate resources that cannot be patched).' },
  { name: 'force', label: 'Release again when unchanged', type: 'boolean', default: 'false', group: G_ROLLOUT, help: 'Upgrade a site that already runs the same chart version with the same values (otherwise it is a no-op).' },
  { name: 'dryRun', label: 'Dry run', type: 'boolean', default: 'false', group: G_ROLLOUT, help: 'Stop after the preflight of every site (checks and diffs in the summary).' },
  { name: 'helmTest', label: 'Run helm test', type: 'boolean', default: 'false', group: G_GATES, help: 'Run `helm test` on each site as a gate.' },
  { name: 'probe', label: 'HTTP probe', type: 'boolean', default: 'true', group: G_GATES, help: 'Probe each site\'s `traffic.probeUrl` (sites file) as a gate; sites without probeUrl are not probed.' },
  { name: 'probeTimeoutSeconds', label: 'Probe timeout (seconds)', type: 'number', default: '120', group: G_GATES, help: 'How long a site\'s probe may take to pass.' },
  { name: 'probeIntervalSeconds', label: 'Probe interval (seconds)', type: 'number', decimal: true, default: '5', group: G_GATES, help: 'Time between probe requests.' },
  { name: 'probeSuccesses', label: 'Probe successes in a row', type: 'number', default: '3', group: G_GATES, help: 'Consecutive good answers a probe needs.' },
  { name: 'probeExpectedStatus', label: 'Probe expected status', type: 'string', default: '200-399', group: G_GATES, help: 'HTTP status codes that count as healthy: codes and ranges, comma-separated (e.g. `200,204` or `200-399`).' },
  { name: 'probeCaFile', label: 'Probe CA file', type: 'filePath', group: G_GATES, help: 'PEM CA that signed the probe URLs\' certificates.' },
  {
    name: 'allowedRegistries',
    label: 'Allowed image registries',
    type: 'list',
    group: G_PREFLIGHT,
    help: 'Registries images may come from (disconnected sites pull only from internal registries): hosts (`registry.corp.local:5000`), `*.corp.local`, or host/path prefixes. Empty: not checked.',
  },
  {
    name: 'maxLoadBalancers',
    label: 'LoadBalancer services per cluster',
    type: 'number',
    default: '5',
    group: G_PREFLIGHT,
    help: 'Most Services of type LoadBalancer a cluster may have, counting those already there and the chart\'s (Azure Stack Hub\'s Basic load balancer: 5 frontend IPs). Use an ingress instead.',
  },
  {
    name: 'mongoConnectionString',
    label: 'MongoDB connection string (primary in the record)',
    type: 'secret',
    group: G_RECORD,
    help: 'When set, the release record and the summary show where the MongoDB replica set\'s primary was before the release and after it (read with mongosh, `primary-status` of Mongo backup; a user with `clusterMonitor`). Reaches mongosh only through a 0600 file.',
  },
  {
    name: 'mongoPlace',
    label: 'Where mongosh runs',
    type: 'pickList',
    options: ['agent', 'kubectl-exec'],
    default: 'agent',
    group: G_RECORD,
    help: '`agent`, or `kubectl-exec` into the site\'s MongoDB pod (`mongo.pod`, through the site\'s `cluster.kubeconfig` reference).',
  },
  {
    name: 'backupIds',
    label: 'Pre-release backup ids',
    type: 'multiline',
    group: G_RECORD,
    help: 'Ids of the pre-release backups (Mongo backup step), stored in the release record: `site=id` lines, or one id for every site.',
  },
  {
    name: 'recordFiles',
    label: 'Release record files',
    type: 'multiline',
    group: G_RECORD,
    help: 'The release record of earlier stages (docs/release-record.md): files, or directories holding them (downloaded artifacts), one per line; copies from parallel per-site jobs are merged.',
  },
  { name: 'record', label: 'Release record (JSON)', type: 'string', group: G_RECORD, help: 'The release record as JSON (the `record` output of an earlier step), instead of recordFiles.' },
  {
    name: 'recordPath',
    label: 'Write the record to',
    type: 'string',
    group: G_RECORD,
    help: 'Where to write the updated record (default `<agent temp>/stackhub-ha-release/<release>-<site or all>.json`); its path is the recordFile output.',
  },
  {
    name: 'releaseId',
    label: 'Release id',
    type: 'string',
    group: G_RECORD,
    help: 'Id shared by every stage of one release, e.g. the pipeline run id; copies of the record with another id are refused. Default: the record\'s, or a new one.',
  },
  ...trafficInputs(G_TRAFFIC),
  { name: 'helmPath', label: 'helm', type: 'string', group: G_TOOLS, help: 'The helm binary (3.13 or later, or 4); default `helm` on PATH (see the tool setup task).' },
  { name: 'kubectlPath', label: 'kubectl', type: 'string', group: G_TOOLS, help: 'The kubectl binary for the preflight\'s cluster reads (namespace, LoadBalancer services); default `kubectl` on PATH.' },
]);

const PER_SITE = ['preflight', 'upgrade', 'verify', 'rollback'];
const CHART = ['run', 'preflight', 'upgrade'];
const CHANGES = ['run', 'upgrade'];
const GATES = ['run', 'preflight', 'verify'];
const LATER_STAGES = ['preflight', 'upgrade', 'verify', 'rollback'];
const MOVES_TRAFFIC = ['run', 'upgrade', 'verify', 'rollback'];
// the provider's own inputs are shown by provider (src/traffic/config.ts); the release's traffic knobs by command
const traffic = trafficInputs(G_TRAFFIC)
  .filter((d) => !d.when?.trafficProvider)
  .map((d) => d.name);
/** Every input of the release; the task form shows each for the commands it applies to. */
export const helmReleaseInputs = withCommands(helmReleaseInputDefs, {
  site: PER_SITE,
  kubernetesConnection: PER_SITE,
  chart: CHART,
  chartVersion: CHART,
  repoUrl: CHART,
  registryUsername: CHART,
  registryPassword: CHART,
  registryCaFile: CHART,
  valuesFiles: CHART,
  set: CHART,
  namespace: CHART,
  createNamespace: CHANGES,
  strategy: ['run', 'upgrade'],
  maxParallel: ['run'],
  onFailure: ['run', 'upgrade', 'verify'],
  timeoutSeconds: ['run', 'upgrade', 'verify', 'rollback'],
  wait: CHANGES,
  atomic: CHANGES,
  forceReplace: CHANGES,
  force: CHANGES,
  dryRun: ['run'],
  helmTest: ['run', 'verify'],
  probe: GATES,
  probeTimeoutSeconds: GATES,
  probeIntervalSeconds: GATES,
  probeSuccesses: GATES,
  probeExpectedStatus: GATES,
  probeCaFile: GATES,
  allowedRegistries: ['run', 'preflight'],
  maxLoadBalancers: ['run', 'preflight'],
  backupIds: ['run', 'preflight', 'upgrade'],
  recordFiles: LATER_STAGES,
  record: LATER_STAGES,
  ...Object.fromEntries(traffic.map((n) => [n, MOVES_TRAFFIC])),
});

/** The names of the release's inputs. */
export type HelmReleaseInputName = InputName<typeof helmReleaseInputs>;

/** The release's outputs. */
export const helmReleaseOutputs: readonly OutputDef[] = [
  { name: 'result', description: 'pending, dry-run, preflight-failed, succeeded, unchanged, failed, rolled-back or rollback-failed.' },
  { name: 'record', description: 'The release record (JSON) after this step.' },
  { name: 'recordFile', description: 'Path of the release record written by this step (publish it as an artifact for later stages).' },
  { name: 'reportFile', description: 'Path of the release page written next to the record: one self-contained HTML file (no network, light and dark) with a lane per site, its steps, helm revisions, GSLB state and backups. The GitHub workflows upload it as an artifact.' },
  { name: 'rollbackSites', description: 'JSON list of the sites this release changed that are not rolled back (the sites a rollback stage must run on).' },
];

/** Probe settings. */
export interface ProbeOptions {
  enabled: boolean;
  timeoutMs: number;
  intervalMs: number;
  successes: number;
  expected: [number, number][];
  ca: string[];
}

/** Where a site's kubeconfig comes from (read at parse time, written 0600 into the private temp dir at run time). */
export interface SiteCluster {
  kubeconfig: string;
  context?: string;
  namespace: string;
  kubeVersion?: string;
  apiVersions: string[];
}

/** One site the release acts on, ready for the run: everything the steps need about it, joined when parsed. */
export interface ReleaseSite {
  name: string;
  site: Site;
  /** Its cluster access. */
  cluster: SiteCluster;
  /** Its values files and set expressions (shared first, then the site's own). */
  valueArgs: { valuesFiles: string[]; sets: SetArg[] };
  /** Its desired user values (as helm will store them). */
  desired: Values;
  /** {@link valuesHash} of `desired` (what a per-site stage compares with its preflight's). */
  valuesHash: string;
  /** helm's `--timeout` for the site (its `timeoutSeconds`, else the input's). */
  timeoutSeconds: number;
  /** The site's traffic endpoint that the gates probe (`traffic.probeUrl` in the sites file), if any. */
  probeUrl?: string;
}

/** Parsed inputs. */
export interface HelmReleaseInputs {
  command: Command;
  sites: SitesFile;
  /** The sites this run acts on, in file order, each ready for the run. */
  targets: ReleaseSite[];
  release: string;
  chart: ChartSource;
  registry?: { username?: string; password?: string; caFile?: string };
  createNamespace: boolean;
  strategy: 'sequential' | 'parallel';
  maxParallel: number;
  onFailure: 'rollback-all' | 'stop' | 'continue';
  wait: boolean;
  atomic: boolean;
  forceReplace: boolean;
  force: boolean;
  dryRun: boolean;
  helmTest: boolean;
  probe: ProbeOptions;
  allowedRegistries: string[];
  maxLoadBalancers: number;
  backups: Record<string, string>;
  record?: ReleaseRecord;
  /** the input the record came from (for messages) */
  recordInput: 'record' | 'recordFiles';
  recordPath: string;
  releaseId: string;
  traffic?: TrafficCoupling;
  /** Reading the MongoDB primary for the record (mongoConnectionString set). */
  mongo?: MongoAccess;
  helmPath: string;
  kubectlPath: string;
}

const RELEASE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses `200-399,404` into ranges. */
export function parseStatusList(text: string, input: string): [number, number][] {
  const out: [number, number][] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599 || lo > hi) throw new InputError(input, `expected HTTP status codes or ranges like 200-399, got '${part}'`);
    out.push([lo, hi]);
  }
  if (out.length === 0) throw new InputError(input, 'expected at least one HTTP status code or range');
  return out;
}

/** Reads a kubeconfig document and checks the context; errors name `input`. */
export function checkKubeconfig(text: string, context: string | undefined, input: string, what: string): void {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    throw new InputError(input, `${what} is not a valid kubeconfig (not YAML)`);
  }
  const d = doc as { contexts?: { name?: string }[]; 'current-context'?: string; clusters?: unknown[] } | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.clusters) || !Array.isArray(d.contexts)) {
    throw new InputError(input, `${what} is not a valid kubeconfig (no clusters or contexts)`);
  }
  const names = d.contexts.map((c) => c?.name).filter((n): n is string => typeof n === 'string');
  const want = context ?? d['current-context'];
  if (!want) throw new InputError(input, `${what} has no current-context: set cluster.context in the sites file`);
  if (!names.includes(want)) throw new InputError(input, `${what}: context '${want}' does not exist (contexts: ${names.join(', ') || 'none'})`);
}

/** Parses every input (see the module comment). `env` holds the variables the sites file's `{env: …}` refer to. */
export function parseHelmReleaseInputs(
  read: InputReader<HelmReleaseInputName>,
  platform: Platform,
  env: NodeJS.ProcessEnv = process.env,
  parseTraffic: typeof parseTrafficCoupling = parseTrafficCoupling,
): HelmReleaseInputs {
  const command = read.choice<Command>('command') ?? 'run';
  const sitesPath = read.filePath('sitesFile')!;
  const sites = loadSitesFile(sitesPath, 'sitesFile');
  const siteName = read.string('site');
  if (siteName !== undefined) findSite(sites, siteName, 'site');
  if ((command === 'upgrade' || command === 'verify' || command === 'rollback') && !siteName) {
    throw new InputError('site', `is required for ${command}: name the site this job acts on (${sites.sites.map((s) => s.name).join(', ')})`);
  }
  if (command === 'run' && siteName) throw new InputError('site', 'is for the per-site commands; run acts on every site of the sites file');
  const targetSites = siteName ? [findSite(sites, siteName, 'site')] : sites.sites;

  const release = read.requiredString('release');
  if (!RELEASE_RE.test(release) || release.length > 53) {
    throw new InputError('release', `expected a helm release name (lower-case letters, digits, '-' and '.', at most 53 characters), got '${release}'`);
  }

  const chart = parseChartSource(read.requiredString('chart'), read.string('repoUrl'), read.string('chartVersion'));
  const username = read.string('registryUsername');
  const password = read.secret('registryPassword');
  const caFile = read.filePath('registryCaFile');
  if (caFile) readCaFile(caFile, 'registryCaFile');
  if (password && !username) throw new InputError('registryUsername', 'is required with registryPassword');
  if (username && !password) throw new InputError('registryPassword', 'is required with registryUsername');
  if ((username || caFile) && chart.kind !== 'oci' && chart.kind !== 'repo') {
    throw new InputError(username ? 'registryUsername' : 'registryCaFile', 'is only for oci:// charts and chart repositories (repoUrl)');
  }

  // values: shared files and --set lines, then each site's own
  const sharedFiles = read.multiline('valuesFiles').map((f) => path.resolve(f));
  for (const f of sharedFiles) readValuesFile(f, 'valuesFiles');
  const sharedSets: SetArg[] = read.multiline('set').map((line) => {
    if (!/^[^=]+=/.test(line)) throw new InputError('set', `expected key=value, got '${line}'`);
    return { kind: 'set', expr: line };
  });
  computeValues({ files: [], sets: sharedSets }, 'set');
  const defaultNs = read.string('namespace');
  if (defaultNs !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(defaultNs)) throw new InputError('namespace', `expected a Kubernetes namespace name, got '${defaultNs}'`);

  const defaultTimeout = read.number('timeoutSeconds', { min: 1, integer: true })!;
  // the values of every targeted site, computed now: a bad file or --set fails before anything is touched
  const siteValues = targetSites.map((s) => {
    const siteSets: SetArg[] = Object.entries(s.set ?? {}).map(([k, v]) =>
      typeof v === 'string' ? { kind: 'set-string', expr: `${k}=${escapeSetValue(v)}` } : { kind: 'set', expr: `${k}=${String(v)}` },
    );
    const v = { files: [...sharedFiles, ...(s.values ?? [])], sets: [...sharedSets, ...siteSets] };
    for (const f of s.values ?? []) readValuesFile(f, 'sitesFile');
    const desired = computeValues(v, 'sitesFile');
    return { valueArgs: { valuesFiles: v.files, sets: v.sets }, desired, valuesHash: valuesHash(desired), timeoutSeconds: s.timeoutSeconds ?? defaultTimeout };
  });

  // cluster access of every targeted site
  const connection = platform.kubernetesConnection('kubernetesConnection');
  if (connection && targetSites.length !== 1) throw new InputError('kubernetesConnection', 'is for per-site jobs: set site as well');
  const targets = targetSites.map((s, i): ReleaseSite => {
    const namespace = s.cluster?.namespace ?? defaultNs;
    if (!namespace) throw new InputError('namespace', `site ${s.name} has no cluster.namespace in the sites file: set it there or set namespace`);
    let kubeconfig: string;
    let context = s.cluster?.context;
    let input = 'sitesFile';
    if (connection) {
      kubeconfig = connection.kubeconfig;
      context = connection.context ?? context;
      input = 'kubernetesConnection';
    } else {
      if (!s.cluster?.kubeconfig) {
        throw new InputError('sitesFile', `site ${s.name} has no cluster.kubeconfig ({env: VARIABLE} or {file: path})${platform.name === 'azure-pipelines' ? ' and no kubernetesConnection is set' : ''}`);
      }
      kubeconfig = readSecretRef(s.cluster.kubeconfig, 'sitesFile', env, sites.file ? path.dirname(sites.file) : process.cwd());
      for (const secret of kubeconfigSecrets(kubeconfig)) platform.mask(secret);
    }
    checkKubeconfig(kubeconfig, context, input, `the kubeconfig of site ${s.name}`);
    const cluster: SiteCluster = { kubeconfig, context, namespace, kubeVersion: s.cluster?.kubeVersion, apiVersions: s.cluster?.apiVersions ?? [] };
    return { name: s.name, site: s, cluster, ...siteValues[i], probeUrl: s.traffic?.probeUrl };
  });

  const strategy = read.choice<'sequential' | 'parallel'>('strategy') ?? 'sequential';
  const maxParallel = read.number('maxParallel', { min: 1, integer: true }) ?? 2;
  const onFailure = read.choice<'rollback-all' | 'stop' | 'continue'>('onFailure') ?? 'rollback-all';

  const probeCa = read.filePath('probeCaFile');
  const probe: ProbeOptions = {
    enabled: read.boolean('probe'),
    timeoutMs: read.number('probeTimeoutSeconds', { min: 1, integer: true })! * 1000,
    intervalMs: read.number('probeIntervalSeconds', { min: 0, max: 3600 })! * 1000,
    successes: read.number('probeSuccesses', { min: 1, max: 100, integer: true })!,
    expected: parseStatusList(read.string('probeExpectedStatus') ?? '200-399', 'probeExpectedStatus'),
    ca: probeCa ? readCaFile(probeCa, 'probeCaFile') : [],
  };

  const allowedRegistries = read.list('allowedRegistries');
  for (const r of allowedRegistries) {
    if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d+)?(\/[A-Za-z0-9._/-]+)?$/.test(r)) {
      throw new InputError('allowedRegistries', `expected a registry host, *.domain or host/path, got '${r}'`);
    }
  }
  const maxLoadBalancers = read.number('maxLoadBalancers', { min: 0, integer: true })!;

  const backups: Record<string, string> = {};
  for (const line of read.multiline('backupIds')) {
    const eq = line.indexOf('=');
    if (eq > 0 && sites.sites.some((s) => s.name === line.slice(0, eq).trim())) backups[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    else if (eq > 0 && /^[a-z0-9-]+$/.test(line.slice(0, eq).trim())) {
      throw new InputError('backupIds', `unknown site '${line.slice(0, eq).trim()}' in '${line}'`);
    } else for (const s of sites.sites) backups[s.name] ??= line;
  }

  // the record of earlier stages
  const recordFiles = read.multiline('recordFiles').map((f) => path.resolve(f));
  const recordText = read.string('record');
  if (recordFiles.length && recordText) throw new InputError('record', 'set recordFiles or record, not both');
  const record = recordText ? parseRecordText(recordText, 'record') : mergeRecords(readRecords(recordFiles, 'recordFiles'), 'recordFiles');
  const recordInput = recordText ? 'record' : 'recordFiles';
  if (record) {
    if (record.release !== release) throw new InputError(recordInput, `the record is for release '${record.release}', not '${release}'`);
    const names = sites.sites.map((s) => s.name);
    if (record.siteOrder.join(',') !== names.join(',')) {
      throw new InputError(recordInput, `the record's sites (${record.siteOrder.join(', ')}) differ from the sites file's (${names.join(', ')})`);
    }
  } else if (command === 'upgrade' || command === 'verify' || command === 'rollback') {
    throw new InputError('recordFiles', `${command} needs the release record of the earlier stages (recordFiles or record)`);
  }
  const releaseIdInput = read.string('releaseId');
  if (releaseIdInput !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(releaseIdInput)) {
    throw new InputError('releaseId', `expected letters, digits, '.', '_', ':' or '-' (at most 128), got '${releaseIdInput}'`);
  }
  if (record && releaseIdInput && record.releaseId !== releaseIdInput) {
    throw new InputError(recordInput, `the record belongs to release id '${record.releaseId}', not '${releaseIdInput}'`);
  }
  const releaseId = record?.releaseId ?? releaseIdInput ?? crypto.randomUUID();
  const recordPath = path.resolve(
    read.string('recordPath') ?? path.join(platform.paths.agentTemp, 'stackhub-ha-release', `${release}-${siteName ?? 'all'}.json`),
  );
  if (fs.existsSync(recordPath) && fs.statSync(recordPath).isDirectory()) throw new InputError('recordPath', `${recordPath} is a directory: name a file`);

  const traffic = parseTraffic(read, platform, sites);
  const mongo = parseMongoAccess(read, platform, sites, (siteName ? sites.sites.find((x) => x.name === siteName) : undefined)?.name ?? sites.sites[0].name);
  if (traffic && strategy === 'parallel' && command === 'run' && maxParallel >= sites.sites.length) {
    throw new InputError('maxParallel', `with traffic coupling at most ${sites.sites.length - 1} sites may be drained at once (one must keep serving): lower maxParallel`);
  }

  return {
    mongo,
    command,
    sites,
    targets,
    release,
    chart,
    registry: username || caFile ? { username, password, caFile } : undefined,
    createNamespace: read.boolean('createNamespace'),
    strategy,
    maxParallel,
    onFailure,
    wait: read.boolean('wait'),
    atomic: read.boolean('atomic'),
    forceReplace: read.boolean('forceReplace'),
    force: read.boolean('force'),
    dryRun: read.boolean('dryRun'),
    helmTest: read.boolean('helmTest'),
    probe,
    allowedRegistries,
    maxLoadBalancers,
    backups,
    record,
    recordInput,
    recordPath,
    releaseId,
    traffic,
    helmPath: read.string('helmPath') ?? 'helm',
    kubectlPath: read.string('kubectlPath') ?? 'kubectl',
  };
}
