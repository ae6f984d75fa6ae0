/**
 * Pure argv builders for mongodump, mongorestore, mongosh and kubectl (tested with tables of exact argv), the
 * `--config` YAML, the connection-string parser and the extra-argument allowlists. No I/O here.
 *
 * Rules the tools impose (and the builders keep):
 * - mongodump refuses `--oplog` unless the dump covers every database → `--oplog` only for scope instance;
 *   one `--collection` at most; `--excludeCollection` needs `--db` and excludes `--collection`.
 * - mongorestore refuses `--oplogReplay` with includes/excludes or renames → renames only for scope database.
 * - Credentials never on an argv: the tools read `uri:` and `password:` from a 0600 `--config` YAML file.
 */
import YAML from 'yaml';
import { InputError } from '../shared/errors';

/** Backup scope. */
export type Scope = 'instance' | 'database';
/** Where the tools run. */
export type Place = 'agent' | 'kubectl-exec';

/** The read preference modes mongodump accepts. */
export const READ_PREFERENCES = ['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'] as const;
export type ReadPreference = (typeof READ_PREFERENCES)[number];

/** A parsed MongoDB connection string (the password kept apart). */
export interface MongoUri {
  /** The URI without the password (user kept), for the `uri:` line of the config file. */
  uriWithoutPassword: string;
  /** The password, for the `password:` line (undefined when the URI has none). */
  password?: string;
  /** host[:port] entries, for the manifest and logs. */
  hosts: string[];
  /** The database in the path, if any. */
  database?: string;
  srv: boolean;
}

const URI_RE = /^(mongodb(?:\+srv)?):\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/;

/**
 * Parses a MongoDB connection string. The error names `input` and never quotes the value (it may hold a
 * password).
 */
export function parseMongoUri(raw: string, input: string): MongoUri {
  const v = raw.trim();
  const m = URI_RE.exec(v);
  if (!m) throw new InputError(input, 'expected a MongoDB connection string: mongodb://[user[:password]@]host[:port][,host…][/db][?options] or mongodb+srv://…');
  const [, scheme, user, pass, hostPart, pathPart, query] = m;
  const hosts = hostPart.split(',').map((h) => h.trim());
  for (const h of hosts) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/.test(h)) throw new InputError(input, 'has a malformed host list (expected host[:port],host[:port]…)');
  }
  if (scheme === 'mongodb+srv' && (hosts.length !== 1 || hosts[0].includes(':'))) {
    throw new InputError(input, 'a mongodb+srv:// connection string names exactly one host without a port');
  }
  const db = pathPart && pathPart !== '/' ? decodeURIComponent(pathPart.slice(1)) : undefined;
  const userPart = user !== undefined && user !== '' ? `${user}@` : '';
  return {
    uriWithoutPassword: `${scheme}://${userPart}${hostPart}${pathPart ?? ''}${query ?? ''}`,
    password: pass !== undefined && pass !== '' ? decodeURIComponent(pass) : undefined,
    hosts,
    database: db,
    srv: scheme === 'mongodb+srv',
  };
}

/**
 * The YAML for the tools' `--config` option: `uri:` (without password) and `password:`. Written with mode 0600 in a
 * private directory (agent) or into the pod's private temp dir; never passed on an argv.
 */
export function toolConfigYaml(uri: MongoUri): string {
  const doc: Record<string, string> = { uri: toolUri(uri) };
  if (uri.password !== undefined) doc.password = uri.password;
  return YAML.stringify(doc, { lineWidth: 0 });
}

/**
 * The URI the tools get. The real tools refuse a database in the URI path together with `--db` ("Cannot specify
 * different database in connection URI and command-line option") and `--nsInclude`; the path database only names
 * the authentication database, so it moves to `authSource` (unless one is given) and the path is dropped.
 */
export function toolUri(uri: MongoUri): string {
  if (uri.database === undefined) return uri.uriWithoutPassword;
  const m = /^([^/]*\/\/[^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(uri.uriWithoutPassword);
  if (!m) return uri.uriWithoutPassword;
  const query = (m[3] ?? '').replace(/^\?/, '');
  const params = query ? query.split('&') : [];
  if (!params.some((p) => /^authSource=/i.test(p))) params.push(`authSource=${encodeURIComponent(uri.database)}`);
  return `${m[1]}/?${params.join('&')}`;
}

/** MongoDB database-name rules: no `/\. "$*<>:|?` and fewer than 64 bytes. */
export function validDatabaseName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name, 'utf8') < 64 && !/[/\\. "$*<>:|?]/.test(name) && !name.includes('\u0000');
}

/** A collection name: not empty, no `$` or NUL, not starting with `system.`. */
export function validCollectionName(name: string): boolean {
  return name.length > 0 && !name.includes('$') && !name.includes('\u0000') && !name.startsWith('system.') && Buffer.byteLength(name, 'utf8') < 255;
}

/** Extra flags accepted for each tool (with `=value` where the tool takes one). Anything else is refused. */
export const EXTRA_ARGS = {
  mongodump: {
    '--numParallelCollections': /^\d{1,3}$/,
    '-j': /^\d{1,3}$/,
    '--forceTableScan': null,
    '--viewsAsCollections': null,
    '--verbose': /^\d$/,
    '-v': null,
    '--quiet': null,
  },
  mongorestore: {
    '--numParallelCollections': /^\d{1,3}$/,
    '-j': /^\d{1,3}$/,
    '--numInsertionWorkersPerCollection': /^\d{1,3}$/,
    '--stopOnError': null,
    '--maintainInsertionOrder': null,
    '--noIndexRestore': null,
    '--noOptionsRestore': null,
    '--bypassDocumentValidation': null,
    '--preserveUUID': null,
    '--writeConcern': /^[A-Za-z0-9{}:'", ]{1,100}$/,
    '--verbose': /^\d$/,
    '-v': null,
    '--quiet': null,
  },
} as const satisfies Record<string, Record<string, RegExp | null>>;

/**
 * Validates extra arguments against the tool's allowlist: `--flag` or `--flag=value`. Values go in the same item.
 * @throws InputError(input, …) naming the refused argument and the allowed ones.
 */
export function parseExtraArgs(items: readonly string[], tool: keyof typeof EXTRA_ARGS, input: string): string[] {
  const allowed = EXTRA_ARGS[tool] as Record<string, RegExp | null>;
  const out: string[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    const flag = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    if (!(flag in allowed)) {
      throw new InputError(input, `'${flag}' is not allowed for ${tool} (allowed: ${Object.keys(allowed).join(', ')}); connection, scope and archive options come from the other inputs`);
    }
    const re = allowed[flag];
    if (re === null && value !== undefined) throw new InputError(input, `'${flag}' takes no value`);
    if (re !== null && value !== undefined && !re.test(value)) throw new InputError(input, `'${item}': value not accepted for ${flag}`);
    if (re !== null && value === undefined && flag !== '--verbose') throw new InputError(input, `'${flag}' needs a value: ${flag}=<value>`);
    out.push(item);
  }
  return out;
}

/** What mongodump is asked to do. */
export interface DumpSpec {
  scope: Scope;
  database?: string;
  /** One collection to dump (mongodump takes at most one `--collection`). */
  collection?: string;
  excludeCollections?: string[];
  readPreference?: ReadPreference;
  /** Path of the `--config` YAML as the tool sees it (agent path or in-pod path). */
  configPath: string;
  extraArgs?: string[];
}

/**
 * mongodump's argv: `--archive` to stdout, `--gzip`, `--config`, and the scope. Throws Error (a bug) for
 * combinations the parser must have refused already.
 */
export function mongodumpArgs(s: DumpSpec): string[] {
  const args = ['--archive', '--gzip', `--config=${s.configPath}`];
  if (s.scope === 'instance') {
    if (s.database || s.collection || s.excludeCollections?.length) throw new Error('bug: instance scope with a database filter');
    args.push('--oplog');
  } else {
    if (!s.database) throw new Error('bug: database scope without database');
    if (s.collection && s.excludeCollections?.length) throw new Error('bug: --collection with --excludeCollection');
    args.push(`--db=${s.database}`);
    if (s.collection) args.push(`--collection=${s.collection}`);
    for (const c of s.excludeCollections ?? []) args.push(`--excludeCollection=${c}`);
  }
  if (s.readPreference) args.push(`--readPreference=${s.readPreference}`);
  args.push(...(s.extraArgs ?? []));
  return args;
}

/** What mongorestore is asked to do. */
export interface RestoreSpec {
  /** The scope of the backup being restored. */
  scope: Scope;
  /** The backup's database (scope database). */
  database?: string;
  /** Restore the database under another name (`--nsFrom db.* --nsTo target.*`), scope database only. */
  targetDatabase?: string;
  drop: boolean;
  configPath: string;
  extraArgs?: string[];
}

/** mongorestore's argv: the archive from stdin, `--gzip`, `--config`, `--oplogReplay` for instance backups. */
export function mongorestoreArgs(s: RestoreSpec): string[] {
  const args = ['--archive', '--gzip', `--config=${s.configPath}`];
  if (s.drop) args.push('--drop');
  if (s.scope === 'instance') {
    if (s.targetDatabase) throw new Error('bug: rename of an instance restore');
    args.push('--oplogReplay');
  } else {
    if (!s.database) throw new Error('bug: database restore without database');
    args.push(`--nsInclude=${s.database}.*`);
    if (s.targetDatabase && s.targetDatabase !== s.database) args.push(`--nsFrom=${s.database}.*`, `--nsTo=${s.targetDatabase}.*`);
  }
  args.push(...(s.extraArgs ?? []));
  return args;
}

/** mongosh reads its script from stdin: no credentials or script on its argv. */
export function mongoshArgs(): string[] {
  return ['--nodb', '--quiet'];
}

/**
 * mongosh running a script file (0600, in the private temp dir or the pod's): `--nodb` (the script connects itself,
 * reading the URI and password from the 0600 tools config file, so no credential is on an argv or in the script),
 * `--quiet`, `--norc` (no ~/.mongoshrc.js of whoever owns the agent), `--file`.
 */
export function mongoshFileArgs(scriptPath: string): string[] {
  return ['--nodb', '--quiet', '--norc', '--file', scriptPath];
}

/** The in-pod command that makes a private temp dir (0700) and prints it (configPath mode has no config to write). */
export const POD_MKTEMP = ['sh', '-c', 'umask 077 && mktemp -d'];

/** The in-pod command that writes stdin to a 0600 file. */
export function podWriteFile(file: string): string[] {
  if (!/^\/[A-Za-z0-9._/-]+$/.test(file) || file.includes('..')) throw new Error('bug: unexpected pod file path');
  return ['sh', '-c', 'umask 077 && cat > "$1"', 'sh', file];
}

/** Where kubectl talks to. */
export interface KubeTarget {
  kubeconfig: string;
  context?: string;
  namespace: string;
}

function kubeGlobal(t: KubeTarget): string[] {
  return ['--kubeconfig', t.kubeconfig, ...(t.context ? ['--context', t.context] : []), '--namespace', t.namespace];
}

/** `kubectl get pod <name> -o json` or `kubectl get pods -l <selector> -o json`. */
export function kubectlGetPodsArgs(t: KubeTarget, pod: { name?: string; selector?: string }): string[] {
  if (pod.name) return [...kubeGlobal(t), 'get', 'pod', pod.name, '--output', 'json'];
  if (!pod.selector) throw new Error('bug: no pod name or selector');
  return [...kubeGlobal(t), 'get', 'pods', '--selector', pod.selector, '--output', 'json'];
}

/** `kubectl auth can-i create pods/exec` (answers yes/no on stdout). */
export function kubectlCanIExecArgs(t: KubeTarget): string[] {
  return [...kubeGlobal(t), 'auth', 'can-i', 'create', 'pods/exec'];
}

/**
 * `kubectl exec` into a container. `stdin` adds `-i` (restore streams the archive in); `-t` is NEVER used: a TTY
 * would corrupt the binary archive stream.
 */
export function kubectlExecArgs(t: KubeTarget, pod: string, container: string | undefined, stdin: boolean, command: readonly string[]): string[] {
  return [...kubeGlobal(t), 'exec', ...(stdin ? ['-i'] : []), pod, ...(container ? ['--container', container] : []), '--', ...command];
}

/** The in-pod command that makes a private temp dir (mktemp -d: 0700), writes stdin to a 0600 file in it, prints the dir. */
export const POD_WRITE_CONFIG = ['sh', '-c', 'umask 077 && d="$(mktemp -d)" && cat > "$d/config.yaml" && printf "%s\\n" "$d"'];

/** The in-pod command that removes the private temp dir again. */
export function podRemoveDir(dir: string): string[] {
  if (!/^\/[A-Za-z0-9._/-]+$/.test(dir) || dir.includes('..')) throw new Error('bug: unexpected pod temp dir');
  return ['rm', '-rf', '--', dir];
}

/** The drill database name: `<db>_drill_<shortid>`, the db part shortened so the name stays under 64 bytes. */
export function drillDatabaseName(db: string, id: string): string {
  const suffix = `_drill_${id}`;
  let base = db;
  while (Buffer.byteLength(base + suffix, 'utf8') > 63) base = base.slice(0, -1);
  return base + suffix;
}

/**
 * mongosh script (read from stdin) that counts the documents of every collection of `databases` and, when `drop`,
 * drops those databases; prints one JSON line `STACKHUB_RESULT {"counts":{"db.coll":n},"dropped":[…]}`. The
 * connection comes from the first lines: a URI without password and the password, or a config file path in the pod
 * (read with fs, never echoed).
 */
export function mongoshCountScript(opts: {
  databases: string[];
  drop: boolean;
  connection: { uri: MongoUri } | { configPath: string };
}): string {
  const job = { databases: opts.databases, drop: opts.drop };
  const conn =
    'uri' in opts.connection
      ? `const __uri = ${JSON.stringify(opts.connection.uri.uriWithoutPassword)}; const __pwd = ${JSON.stringify(opts.connection.uri.password ?? null)};`
      : `const __cfg = require('fs').readFileSync(${JSON.stringify(opts.connection.configPath)}, 'utf8');
const __line = (k) => { const m = new RegExp('^' + k + ':\\\\s*(.*)$', 'm').exec(__cfg); if (!m) return null; const v = m[1].trim(); return /^["']/.test(v) ? JSON.parse(v.replace(/^'(.*)'$/, '"$1"')) : v; };
const __uri = __line('uri'); const __pwd = __line('password');`;
  return [
    `// stackhub-ha drill job: ${JSON.stringify(job)}`,
    conn,
    `const __job = ${JSON.stringify(job)};`,
    `const __full = __pwd === null ? __uri : __uri.replace(/^(mongodb(?:\\+srv)?:\\/\\/)([^:@/]+)@/, (m, s, u) => s + u + ':' + encodeURIComponent(__pwd) + '@');`,
    `const __m = new Mongo(__full);`,
    `const __counts = {};`,
    `for (const d of __job.databases) { const db = __m.getDB(d); for (const c of db.getCollectionNames()) { if (!c.startsWith('system.')) __counts[d + '.' + c] = db.getCollection(c).countDocuments({}); } }`,
    `const __dropped = [];`,
    `if (__job.drop) { for (const d of __job.databases) { __m.getDB(d).dropDatabase(); __dropped.push(d); } }`,
    `print('STACKHUB_RESULT ' + JSON.stringify({ counts: __counts, dropped: __dropped }));`,
    '',
  ].join('\n');
}
