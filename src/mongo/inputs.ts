/** Inputs of Mongo backup: definitions (task.json / action.yml are checked against them) and the parser. */
import { withCommands, withWhen } from '../platform/visibility';
import * as path from 'node:path';
import { withSecureFiles, type InputDef, type InputName, type InputReader, type OutputDef } from '../platform/inputs';
import type { Platform } from '../platform/types';
import { InputError } from '../shared/errors';
import { kubeconfigSecrets } from '../platform/kubeconfig';
import { findSite, loadSitesFile, readSecretRef, type Site } from '../shared/sites';
import {
  encryptionInputs,
  guardSameHub,
  parseEncryption,
  parseStorageTarget,
  storageInputs,
  type ParsedEncryption,
  type ParsedStorage,
  type WriteEncryption,
} from '../shared/storage';
import {
  parseExtraArgs,
  parseMongoUri,
  READ_PREFERENCES,
  validCollectionName,
  validDatabaseName,
  type MongoUri,
  type Place,
  type ReadPreference,
  type Scope,
} from './args';
import { parsePrimaryOptions, primaryInputs, type PrimaryOptions } from './primary-inputs';
import { defineInputs } from '../shared/inputs';

export const COMMANDS = ['backup', 'restore', 'list', 'prune', 'drill', 'primary-status', 'primary-move'] as const;
export type MongoCommand = (typeof COMMANDS)[number];

const G_SOURCE = 'source';
const G_CLUSTER = 'cluster';
const G_RESTORE = 'restore';
const G_RETENTION = 'retention';

const mongoInputDefs = defineInputs([
  {
    name: 'command',
    label: 'Command',
    type: 'pickList',
    required: true,
    default: 'backup',
    options: COMMANDS,
    help: '`backup` (dump → age → off-Hub storage, manifest last), `restore` (latest or backupId; verified before mongorestore starts), `list`, `prune` (retention, interrupted backups), `drill` (restore the latest backup into a scratch target, compare counts, drop it, report RPO/RTO), `primary-status` (per replica-set member: site, state, priority, optime lag, health), `primary-move` (make a member of `site` the primary: raise its priority, `replSetStepDown` with catch-up, wait until it is primary and majority-committed, then the configured priorities led by it). The primary commands need no storage inputs; they run mongosh where the tools run (`place`).',
  },
  {
    name: 'site',
    label: 'Site',
    type: 'string',
    required: true,
    help: 'The site whose MongoDB is backed up (a name from the sites file, [a-z0-9-]); the first path segment of every backup. primary-move: the site that gets the primary (its connection / pod is used, so run it on that site\'s agent).',
  },
  {
    name: 'sitesFile',
    label: 'Sites file',
    type: 'filePath',
    help: 'The sites file: gives the site\'s Hub (for the same-Hub guard: its domain and IP ranges), the cluster kubeconfig reference and `mongo.pod` / `mongo.connection` defaults. Without it, only a filesystem target declared on the site is refused.',
  },
  {
    name: 'scope',
    label: 'Scope',
    type: 'pickList',
    options: ['instance', 'database'],
    default: 'instance',
    group: G_SOURCE,
    help: '`instance`: every database with `--oplog` (a consistent replica-set snapshot; restored with `--oplogReplay`, admin users included). `database`: one database (no oplog), optionally one collection or some excluded; restore may rename it.',
  },
  { name: 'database', label: 'Database', type: 'string', group: G_SOURCE, help: 'The database (scope database).' },
  {
    name: 'collection',
    label: 'Only this collection',
    type: 'string',
    group: G_SOURCE,
    help: 'Dump only this collection of the database (mongodump takes one `--collection`). Scope database only.',
  },
  {
    name: 'excludeCollections',
    label: 'Exclude collections',
    type: 'list',
    group: G_SOURCE,
    help: 'Collections of the database to leave out (`--excludeCollection`). Scope database only; not with collection.',
  },
  {
    name: 'place',
    label: 'Where the tools run',
    type: 'pickList',
    options: ['agent', 'kubectl-exec'],
    default: 'agent',
    group: G_SOURCE,
    help: '`agent`: mongodump/mongorestore on the agent (from tool setup) reach the database over the network. `kubectl-exec`: the tools run inside a pod of the cluster (`kubectl exec`, no TTY) and the archive streams over stdout/stdin; the database is never exposed to the agent network. Needs RBAC `create` on `pods/exec`.',
  },
  {
    name: 'connectionString',
    label: 'Connection string',
    type: 'secret',
    group: G_SOURCE,
    help: 'MongoDB connection string (mongodb://user:password@host/…). Reaches the tools only through a 0600 `--config` file (never an argv). With kubectl-exec it is written into the pod\'s private temp dir and removed after; set podConfigPath instead to keep it out of the agent entirely. Default: the site\'s `mongo.connection` reference. The user needs the built-in `backup` role (restore: `restore`).',
  },
  {
    name: 'readPreference',
    label: 'Read preference',
    type: 'pickList',
    options: READ_PREFERENCES,
    group: G_SOURCE,
    help: 'mongodump `--readPreference`, e.g. `secondary` to keep the load off the primary.',
  },
  {
    name: 'dumpExtraArgs',
    label: 'Extra mongodump arguments',
    type: 'list',
    group: G_SOURCE,
    help: 'Allowed: --numParallelCollections=N, -j=N, --forceTableScan, --viewsAsCollections, --verbose[=N], -v, --quiet.',
  },
  {
    name: 'restoreExtraArgs',
    label: 'Extra mongorestore arguments',
    type: 'list',
    group: G_SOURCE,
    help: 'Allowed: --numParallelCollections=N, -j=N, --numInsertionWorkersPerCollection=N, --stopOnError, --maintainInsertionOrder, --noIndexRestore, --noOptionsRestore, --bypassDocumentValidation, --preserveUUID, --writeConcern=…, --verbose[=N], -v, --quiet.',
  },
  {
    name: 'kubernetesConnection',
    label: 'Kubernetes service connection',
    type: 'kubernetesConnection',
    group: G_CLUSTER,
    channels: ['azure-pipelines'],
    help: 'The site\'s cluster (kubectl-exec). Default: the site\'s `cluster.kubeconfig` reference in the sites file.',
  },
  {
    name: 'kubeconfig',
    label: 'Kubeconfig',
    type: 'secret',
    group: G_CLUSTER,
    channels: ['github-actions', 'cli'],
    help: 'Kubeconfig content of the site\'s cluster (kubectl-exec). Default: the site\'s `cluster.kubeconfig` reference in the sites file.',
  },
  { name: 'kubeContext', label: 'Kube context', type: 'string', group: G_CLUSTER, help: 'Context in the kubeconfig (default: the site\'s `cluster.context`, else the current context).' },
  { name: 'podNamespace', label: 'Pod namespace', type: 'string', group: G_CLUSTER, help: 'Namespace of the MongoDB pod (default: the site\'s `mongo.pod.namespace`).' },
  { name: 'podName', label: 'Pod name', type: 'string', group: G_CLUSTER, help: 'The pod to exec into (or podSelector).' },
  {
    name: 'podSelector',
    label: 'Pod label selector',
    type: 'string',
    group: G_CLUSTER,
    help: 'Label selector of the MongoDB pods, e.g. `app=ratings-mongodb` (a running pod is picked; the connection string decides which member is read).',
  },
  { name: 'podContainer', label: 'Container', type: 'string', group: G_CLUSTER, help: 'Container holding the MongoDB Database Tools (default: the pod\'s first).' },
  {
    name: 'podConfigPath',
    label: 'Config file in the pod',
    type: 'string',
    group: G_CLUSTER,
    help: 'Path, inside the pod, of a tools config YAML (`uri:`, `password:`) mounted from a Kubernetes Secret. Then no credential passes through the agent at all.',
  },
  {
    name: 'backupId',
    label: 'Backup id',
    type: 'string',
    default: 'latest',
    group: G_RESTORE,
    help: 'Backup to restore: `latest` (the newest complete backup of the scope) or an id from `list`.',
  },
  {
    name: 'drop',
    label: 'Drop before restoring',
    type: 'boolean',
    group: G_RESTORE,
    help: 'mongorestore `--drop`: drop each collection before restoring it. Required explicitly (true or false) for scope instance, whose restore also replaces the `admin` users and roles.',
  },
  {
    name: 'targetDatabase',
    label: 'Restore as database',
    type: 'string',
    group: G_RESTORE,
    help: 'Restore a database backup under this name (`--nsFrom <db>.* --nsTo <name>.*`). Scope database only.',
  },
  {
    name: 'workDirectory',
    label: 'Download directory',
    type: 'string',
    group: G_RESTORE,
    help: 'Where restore and drill download the archive (a private 0700 directory is made in it and removed after). Default: the agent\'s temp dir. Free space is checked first.',
  },
  {
    name: 'drillTarget',
    label: 'Drill target',
    type: 'pickList',
    options: ['scratch', 'same-instance'],
    default: 'scratch',
    group: G_RESTORE,
    help: '`scratch`: a separate scratch instance (scratchConnectionString, or scratchPod* with kubectl-exec). `same-instance` (scope database only): the backed-up instance, the database renamed `<db>_drill_<id>`.',
  },
  { name: 'scratchConnectionString', label: 'Scratch connection string', type: 'secret', group: G_RESTORE, help: 'Connection string of the scratch instance (drill, scratch target); handled like connectionString.' },
  { name: 'scratchPodNamespace', label: 'Scratch pod namespace', type: 'string', group: G_RESTORE, help: 'Namespace of the scratch MongoDB pod (kubectl-exec; default podNamespace).' },
  { name: 'scratchPodName', label: 'Scratch pod name', type: 'string', group: G_RESTORE, help: 'Scratch MongoDB pod (kubectl-exec).' },
  { name: 'scratchPodSelector', label: 'Scratch pod selector', type: 'string', group: G_RESTORE, help: 'Label selector of the scratch MongoDB pod (kubectl-exec).' },
  { name: 'scratchPodContainer', label: 'Scratch container', type: 'string', group: G_RESTORE, help: 'Container of the scratch pod.' },
  { name: 'scratchPodConfigPath', label: 'Scratch config file in the pod', type: 'string', group: G_RESTORE, help: 'Tools config YAML mounted in the scratch pod from a Secret.' },
  { name: 'keepLast', label: 'Keep the newest N', type: 'number', group: G_RETENTION, help: 'prune: keep the newest N complete backups.' },
  { name: 'keepDays', label: 'Keep younger than (days)', type: 'number', decimal: true, group: G_RETENTION, help: 'prune: keep complete backups younger than this many days. A backup is kept when either rule keeps it; the newest complete backup is never deleted.' },
  {
    name: 'orphanGraceHours',
    label: 'Interrupted backups grace (hours)',
    type: 'number',
    decimal: true,
    default: '24',
    group: G_RETENTION,
    help: 'prune: backup prefixes without a manifest, and incomplete multipart uploads, older than this are interrupted backups: reported and removed.',
  },
  { name: 'dryRun', label: 'Dry run', type: 'boolean', default: 'false', group: G_RETENTION, help: 'prune: report what would be deleted, delete nothing.' },
  ...primaryInputs,
  { name: 'timeoutMinutes', label: 'Tool timeout (minutes)', type: 'number', default: '240', help: 'Longest a dump or restore may run; the tool\'s process tree is killed after it.' },
  ...storageInputs({ what: 'backups' }),
  ...encryptionInputs({ writes: true, reads: true }),
]);

const DATA = ['backup', 'restore', 'drill'];
const READS = ['restore', 'drill'];
const PRIMARY = ['primary-status', 'primary-move'];
/** Commands that touch the MongoDB instance (the data commands and the primary commands). */
const INSTANCE = [...DATA, ...PRIMARY];
/** Commands that use the storage target and the encryption settings (all but the primary commands). */
const STORED = COMMANDS.filter((c) => !PRIMARY.includes(c));
const storedOnly = (defs: readonly InputDef[]): Record<string, readonly string[]> => Object.fromEntries(defs.map((d) => [d.name, d.commands ?? STORED]));
/** Every input of the Mongo capability; the task form shows each for the commands it applies to. */
const POD = { place: ['kubectl-exec'] };
const SCRATCH = { drillTarget: ['scratch'] };
export const mongoInputs = withSecureFiles(withWhen(withCommands(mongoInputDefs, {
  collection: ['backup'],
  excludeCollections: ['backup'],
  place: INSTANCE,
  connectionString: INSTANCE,
  readPreference: ['backup'],
  dumpExtraArgs: ['backup'],
  restoreExtraArgs: READS,
  kubeContext: INSTANCE,
  podNamespace: INSTANCE,
  podName: INSTANCE,
  podSelector: INSTANCE,
  podContainer: INSTANCE,
  podConfigPath: INSTANCE,
  backupId: READS,
  drop: ['restore'],
  targetDatabase: ['restore'],
  workDirectory: READS,
  drillTarget: ['drill'],
  scratchConnectionString: ['drill'],
  scratchPodNamespace: ['drill'],
  scratchPodName: ['drill'],
  scratchPodSelector: ['drill'],
  scratchPodContainer: ['drill'],
  scratchPodConfigPath: ['drill'],
  keepLast: ['prune'],
  keepDays: ['prune'],
  orphanGraceHours: ['prune'],
  dryRun: ['prune'],
  timeoutMinutes: INSTANCE,
  ...Object.fromEntries(primaryInputs.map((d) => [d.name, ['primary-move']])),
  ...storedOnly(storageInputs({ what: 'backups' })),
  ...storedOnly(encryptionInputs({ writes: true, reads: true })),
  encryption: ['backup'],
  encryptionRecipients: ['backup'],
  signingKey: ['backup'],
  ageIdentity: READS,
  verifyKey: ['restore', 'drill', 'list'],
}), {
  kubeContext: POD,
  podNamespace: POD,
  podName: POD,
  podSelector: POD,
  podContainer: POD,
  podConfigPath: POD,
  collection: { scope: ['database'] },
  excludeCollections: { scope: ['database'] },
  targetDatabase: { scope: ['database'] },
  scratchConnectionString: SCRATCH,
  scratchPodNamespace: { ...SCRATCH, ...POD },
  scratchPodName: { ...SCRATCH, ...POD },
  scratchPodSelector: { ...SCRATCH, ...POD },
  scratchPodContainer: { ...SCRATCH, ...POD },
  scratchPodConfigPath: { ...SCRATCH, ...POD },
}), ['kubeconfig', 'signingKey', 'ageIdentity']);

/** The names of the Mongo capability's inputs. */
export type MongoInputName = InputName<typeof mongoInputs>;

export const mongoOutputs: readonly OutputDef[] = [
  { name: 'backupId', description: 'Id of the backup written (backup), restored (restore) or drilled (drill).' },
  { name: 'location', description: 'Where the backup is (URL or path, never with a SAS or key).' },
  { name: 'sizeBytes', description: 'Stored size of the archive in bytes.' },
  { name: 'sha256', description: 'SHA-256 of the stored archive.' },
  { name: 'durationSeconds', description: 'Duration of the operation in seconds.' },
  { name: 'rpoSeconds', description: 'drill: age of the latest backup (recovery point objective) in seconds.' },
  { name: 'rtoSeconds', description: 'drill: time to download, verify and restore it (recovery time objective) in seconds.' },
  { name: 'verified', description: 'drill: true when the restored per-collection counts match the manifest.' },
  { name: 'backups', description: 'list: JSON array of the backups (id, time, sizeBytes, scope, database, signed, status).' },
  { name: 'deleted', description: 'prune: number of backups deleted (or that would be, with dryRun).' },
  { name: 'primaryBefore', description: 'primary-status / primary-move: the primary before, `host (site)` (empty when there was none).' },
  { name: 'primaryAfter', description: 'primary-move: the primary after, `host (site)`.' },
  { name: 'primarySite', description: 'primary-status / primary-move: the site of the primary at the end (empty when none or unmapped).' },
  { name: 'members', description: 'primary-status / primary-move: JSON array of the members at the end (host, site, state, priority, votes, lagSeconds, healthy).' },
];

/** Where to find a MongoDB instance and how its tools get credentials. */
export type MongoEndpoint =
  | { place: 'agent'; uri: MongoUri; input: string }
  | {
      place: 'kubectl-exec';
      pod: { namespace: string; name?: string; selector?: string; container?: string };
      /** Credentials: written into the pod (uri) or already mounted there (configPath). */
      config: { uri: MongoUri; input: string } | { configPath: string };
      /** Input names for messages. */
      inputs: { namespace: string; pod: string };
    };

/** The commands that touch the storage (every one but the primary commands). */
export type MongoStorageCommand = Exclude<MongoCommand, 'primary-status' | 'primary-move'>;

/** Parsed inputs: one shape per kind of command, so a command's run finds what it needs without assertions. */
export type MongoInputs = MongoPrimaryInputs<'primary-status'> | MongoPrimaryInputs<'primary-move'> | MongoBackupInputs | MongoStoredInputs;

/** A primary command: it touches no storage. */
export interface MongoPrimaryInputs<C extends 'primary-status' | 'primary-move' = 'primary-status' | 'primary-move'> extends MongoCommonInputs {
  command: C;
  storage?: undefined;
  enc?: undefined;
}

/** The storage commands (backup, restore, drill, list, prune): a ready storage target, already guarded. */
export interface MongoStorageInputs extends MongoCommonInputs {
  command: MongoStorageCommand;
  storage: ParsedStorage;
  enc: ParsedEncryption;
  /** Set when allowSameHub let a target on the site's Hub through: `run` logs it. */
  sameHubWarning?: string;
}

/** backup: the encryption to write with is known. */
export interface MongoBackupInputs extends MongoStorageInputs {
  command: 'backup';
  enc: ParsedEncryption & { write: WriteEncryption };
}

/** restore, drill, list, prune. */
export interface MongoStoredInputs extends MongoStorageInputs {
  command: Exclude<MongoStorageCommand, 'backup'>;
}

/** What every command's inputs hold. */
export interface MongoCommonInputs {
  site: string;
  siteDef?: Site;
  /** Every site of the sites file (member → site mapping of the primary commands); [] without one. */
  sites: Site[];
  scope: Scope;
  database?: string;
  collection?: string;
  excludeCollections: string[];
  place: Place;
  /** The instance backed up / restored into. Undefined for list and prune. */
  source?: MongoEndpoint;
  /** drill: the scratch instance (undefined for same-instance). */
  scratch?: MongoEndpoint;
  kube?: { kubeconfig: string; context?: string };
  readPreference?: ReadPreference;
  dumpExtraArgs: string[];
  restoreExtraArgs: string[];
  backupId: string;
  drop?: boolean;
  targetDatabase?: string;
  workDirectory?: string;
  drillTarget: 'scratch' | 'same-instance';
  retention: { keepLast?: number; keepDays?: number; orphanGraceHours: number; dryRun: boolean };
  /** The primary commands' settings. */
  primary: PrimaryOptions;
  timeoutMs: number;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SELECTOR = /^[A-Za-z0-9._/=!,() -]+$/;

function endpoint<N extends string>(
  read: InputReader<N>,
  place: Place,
  names: { conn: N; ns: N; pod: N; selector: N; container: N; config: N },
  defaults: { conn?: string; pod?: NonNullable<Site['mongo']>['pod'] },
  required: boolean,
): MongoEndpoint | undefined {
  const connRaw = read.secret(names.conn) ?? defaults.conn;
  if (place === 'agent') {
    if (!connRaw) {
      if (!required) return undefined;
      throw new InputError(names.conn, 'is required with place agent (or set the site\'s mongo.connection in the sites file)');
    }
    return { place, uri: parseMongoUri(connRaw, names.conn), input: names.conn };
  }
  const namespace = read.string(names.ns) ?? defaults.pod?.namespace;
  const name = read.string(names.pod) ?? (read.string(names.selector) ? undefined : defaults.pod?.name);
  const selector = read.string(names.selector) ?? (name ? undefined : defaults.pod?.selector);
  const container = read.string(names.container) ?? defaults.pod?.container;
  const configPath = read.string(names.config);
  if (!namespace && !name && !selector && !connRaw && !configPath && !required) return undefined;
  if (!namespace) throw new InputError(names.ns, 'is required with place kubectl-exec (or set the site\'s mongo.pod.namespace)');
  if (!K8S_NAME.test(namespace)) throw new InputError(names.ns, `expected a namespace name, got '${namespace}'`);
  if (!name && !selector) throw new InputError(names.pod, `set ${names.pod} or ${names.selector} (or the site's mongo.pod) with place kubectl-exec`);
  if (name && read.string(names.selector)) throw new InputError(names.selector, `set either ${names.pod} or ${names.selector}, not both`);
  if (name && !K8S_NAME.test(name)) throw new InputError(names.pod, `expected a pod name, got '${name}'`);
  if (selector && !SELECTOR.test(selector)) throw new InputError(names.selector, `expected a label selector such as app=mongodb, got '${selector}'`);
  if (container && !K8S_NAME.test(container)) throw new InputError(names.container, `expected a container name, got '${container}'`);
  let config: { uri: MongoUri; input: string } | { configPath: string };
  if (configPath) {
    if (!/^\/[A-Za-z0-9._/-]+$/.test(configPath) || configPath.includes('..')) throw new InputError(names.config, `expected an absolute path inside the pod, got '${configPath}'`);
    if (read.secret(names.conn)) throw new InputError(names.conn, `set either ${names.conn} or ${names.config}, not both`);
    config = { configPath };
  } else {
    if (!connRaw) throw new InputError(names.conn, `is required with place kubectl-exec unless ${names.config} names a config file mounted in the pod`);
    config = { uri: parseMongoUri(connRaw, names.conn), input: names.conn };
  }
  return { place, pod: { namespace, name, selector, container }, config, inputs: { namespace: names.ns, pod: name ? names.pod : names.selector } };
}

/** Parses and validates every input. No side effects. */
export function parseMongoInputs(read: InputReader<MongoInputName>, platform: Platform): MongoInputs {
  const command = read.choice<MongoCommand>('command') ?? 'backup';
  const site = read.requiredString('site');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(site)) throw new InputError('site', `expected a site name ([a-z0-9-]), got '${site}'`);
  const sitesFile = read.filePath('sitesFile');
  const sitesDoc = sitesFile ? loadSitesFile(sitesFile, 'sitesFile') : undefined;
  const siteDef = sitesDoc ? findSite(sitesDoc, site, 'site') : undefined;
  const sitesDir = sitesFile ? path.dirname(sitesFile) : process.cwd();

  const scope = read.choice<Scope>('scope') ?? 'instance';
  let database = read.string('database');
  const collection = read.string('collection');
  const excludeCollections = read.list('excludeCollections');
  if (scope === 'instance') {
    if (database) throw new InputError('database', 'is set but scope is instance: mongodump --oplog needs every database (set scope: database for one database, without oplog)');
    if (collection) throw new InputError('collection', 'applies to scope database only');
    if (excludeCollections.length) throw new InputError('excludeCollections', 'applies to scope database only (--oplog needs every collection)');
  } else {
    if (!database) throw new InputError('database', 'is required with scope database');
    if (!validDatabaseName(database)) throw new InputError('database', `'${database}' is not a valid MongoDB database name (no /\\. "$*<>:|? and under 64 bytes)`);
    if (collection && excludeCollections.length) throw new InputError('excludeCollections', 'cannot be combined with collection (mongodump refuses --collection with --excludeCollection)');
    if (collection && !validCollectionName(collection)) throw new InputError('collection', `'${collection}' is not a valid collection name`);
    for (const c of excludeCollections) if (!validCollectionName(c)) throw new InputError('excludeCollections', `'${c}' is not a valid collection name`);
  }
  database = database || undefined;
  const place = read.choice<Place>('place') ?? 'agent';

  // defaults from the sites file (secret references are data, read here)
  const siteConn = siteDef?.mongo?.connection ? readSecretRef(siteDef.mongo.connection, 'connectionString', process.env, sitesDir) : undefined;
  if (siteConn) platform.mask(siteConn);

  const isPrimary = command === 'primary-status' || command === 'primary-move';
  const needsSource = isPrimary || command === 'backup' || command === 'restore' || (command === 'drill' && read.string('drillTarget') === 'same-instance');
  const source = needsSource
    ? endpoint(read, place, { conn: 'connectionString', ns: 'podNamespace', pod: 'podName', selector: 'podSelector', container: 'podContainer', config: 'podConfigPath' }, { conn: siteConn, pod: siteDef?.mongo?.pod }, true)
    : undefined;

  const drillTarget = read.choice<'scratch' | 'same-instance'>('drillTarget') ?? 'scratch';
  let scratch: MongoEndpoint | undefined;
  if (command === 'drill') {
    if (drillTarget === 'same-instance') {
      if (scope !== 'database') throw new InputError('drillTarget', 'same-instance is only possible for scope database (the drill restores under <db>_drill_<id>); use a scratch instance for scope instance');
    } else {
      const podNs = read.string('scratchPodNamespace') ?? read.string('podNamespace') ?? siteDef?.mongo?.pod?.namespace;
      scratch = endpoint(
        read,
        place,
        { conn: 'scratchConnectionString', ns: 'scratchPodNamespace', pod: 'scratchPodName', selector: 'scratchPodSelector', container: 'scratchPodContainer', config: 'scratchPodConfigPath' },
        { pod: podNs ? { namespace: podNs } : undefined },
        true,
      );
    }
  }

  // a password taken out of a URI is a secret of its own (the whole URI is masked already)
  for (const ep of [source, scratch]) {
    const uri = ep?.place === 'agent' ? ep.uri : ep && 'uri' in ep.config ? ep.config.uri : undefined;
    if (uri?.password) platform.mask(uri.password);
  }

  let kube: MongoInputs['kube'];
  const usesKube = (source?.place ?? scratch?.place) === 'kubectl-exec';
  if (usesKube) {
    const conn = platform.kubernetesConnection('kubernetesConnection');
    let kubeconfig = conn?.kubeconfig ?? read.secret('kubeconfig');
    if (!kubeconfig && siteDef?.cluster?.kubeconfig) kubeconfig = readSecretRef(siteDef.cluster.kubeconfig, 'kubeconfig', process.env, sitesDir);
    if (!kubeconfig) throw new InputError(platform.name === 'azure-pipelines' ? 'kubernetesConnection' : 'kubeconfig', `is required with place kubectl-exec (${platform.name === 'azure-pipelines' ? 'or kubeconfigSecureFile, ' : ''}or set the site's cluster.kubeconfig in the sites file)`);
    // the secret parts only (a token, a key): masking every line would hide ordinary words in all logs
    for (const secret of kubeconfigSecrets(kubeconfig)) platform.mask(secret);
    if (!/apiVersion|clusters/.test(kubeconfig)) throw new InputError('kubeconfig', 'expected a kubeconfig document (YAML with clusters, users, contexts)');
    kube = { kubeconfig, context: read.string('kubeContext') ?? conn?.context ?? siteDef?.cluster?.context };
  }

  const readPreference = read.choice<ReadPreference>('readPreference');
  const dumpExtraArgs = parseExtraArgs(read.list('dumpExtraArgs'), 'mongodump', 'dumpExtraArgs');
  const restoreExtraArgs = parseExtraArgs(read.list('restoreExtraArgs'), 'mongorestore', 'restoreExtraArgs');

  const backupId = read.string('backupId') ?? 'latest';
  if (backupId !== 'latest' && !/^[0-9A-Za-z-]{4,64}$/.test(backupId)) throw new InputError('backupId', `expected 'latest' or a backup id from list, got '${backupId}'`);
  const dropRaw = read.raw('drop');
  const drop = dropRaw === undefined || dropRaw === '' ? undefined : read.boolean('drop');
  if (command === 'restore' && scope === 'instance' && drop === undefined) {
    throw new InputError('drop', 'must be set explicitly (true or false) to restore scope instance: the restore also replaces the admin users and roles, and drop: true drops every restored collection first');
  }
  const targetDatabase = read.string('targetDatabase');
  if (targetDatabase) {
    if (scope !== 'database') throw new InputError('targetDatabase', 'applies to scope database only (mongorestore refuses --oplogReplay with --nsFrom/--nsTo)');
    if (!validDatabaseName(targetDatabase)) throw new InputError('targetDatabase', `'${targetDatabase}' is not a valid MongoDB database name`);
  }
  const workDirectory = read.string('workDirectory');

  const keepLast = read.number('keepLast', { min: 1, integer: true });
  const keepDays = read.number('keepDays', { min: 0 });
  const orphanGraceHours = read.number('orphanGraceHours', { min: 0 }) ?? 24;
  const dryRun = read.boolean('dryRun');
  if (command === 'prune' && keepLast === undefined && keepDays === undefined) {
    throw new InputError('keepLast', 'prune needs a retention rule: keepLast and/or keepDays');
  }
  const timeoutMs = (read.number('timeoutMinutes', { min: 1, max: 7 * 24 * 60, integer: true }) ?? 240) * 60_000;

  const primary = parsePrimaryOptions(read);

  const common: MongoCommonInputs = {
    site,
    siteDef,
    sites: sitesDoc?.sites ?? [],
    scope,
    database,
    collection,
    excludeCollections,
    place,
    source,
    scratch,
    kube,
    readPreference,
    dumpExtraArgs,
    restoreExtraArgs,
    backupId,
    drop,
    targetDatabase,
    workDirectory: workDirectory ? path.resolve(workDirectory) : undefined,
    drillTarget,
    retention: { keepLast, keepDays, orphanGraceHours, dryRun },
    primary,
    timeoutMs,
  };
  if (command === 'primary-status' || command === 'primary-move') return { ...common, command };

  const storage = parseStorageTarget(read, platform);
  // the one same-Hub guard: refuses here, before anything runs; an allowed target's warning is logged by run
  const sameHubWarning = guardSameHub(storage, siteDef ?? { name: site });
  const enc = parseEncryption(read, { write: command === 'backup', identity: false }, (s) => platform.mask(s));
  if (command !== 'backup') return { ...common, command, storage, enc, sameHubWarning };
  const write = enc.write;
  if (!write) throw new Error('bug: backup without write encryption');
  return { ...common, command, storage, enc: { ...enc, write }, sameHubWarning };
}
