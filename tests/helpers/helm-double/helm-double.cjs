/**
 * A stateful test double of the `helm` CLI for the cluster operations that need a Kubernetes API server (none on this
 * machine): upgrade --install, rollback, uninstall, history, status, get values/manifest, test. It keeps per-site
 * release state in files, prints real helm's JSON shapes, accepts exactly the flags each major version accepts (helm
 * 4: deprecated --atomic/--force with helm's warning, --wait=<strategy>; helm 3: boolean --wait, rejecting
 * --wait=watcher like pflag does), and can be told to fail a given site at a given step.
 *
 * Everything that needs no cluster (lint, template, show, package, pull, registry, repo) is handed to the REAL helm
 * of the same major version (HELM_DOUBLE_REAL). The values and manifest a release stores come from the real helm 4's
 * offline `install --dry-run=client -o json` (HELM_DOUBLE_RENDER) when given, so `get values` returns exactly what
 * real helm would store.
 *
 * Configuration (environment, set by the wrapper script tests/helpers/helm-double/index.ts writes):
 *   HELM_DOUBLE_STATE    state dir: <site>/<namespace>/<release>.json, faults.json, calls.jsonl
 *   HELM_DOUBLE_VERSION  version to emulate, e.g. 3.17.3 or 4.1.4
 *   HELM_DOUBLE_REAL     real helm binary for the client-only commands (optional)
 *   HELM_DOUBLE_RENDER   real helm 4 binary to compute stored values and manifest (optional)
 *   HELM_DOUBLE_SLEEP_MS fixed time every call takes (bench)
 * The site is the --kube-context (the kubeconfig's current-context when absent).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const STATE = process.env.HELM_DOUBLE_STATE;
const VERSION = process.env.HELM_DOUBLE_VERSION || '3.17.3';
const MAJOR = Number(VERSION.split('.')[0]);
const REAL = process.env.HELM_DOUBLE_REAL;
const RENDER = process.env.HELM_DOUBLE_RENDER;
const SLEEP = Number(process.env.HELM_DOUBLE_SLEEP_MS || 0);
// per-site extra time (bench: one slow site), JSON {"<context>": ms}
const SLEEP_SITES = JSON.parse(process.env.HELM_DOUBLE_SLEEP_SITES || '{}');
// client-only commands answered by the double itself (bench: no real helm)
const STUB_CLIENT = process.env.HELM_DOUBLE_STUB_CLIENT === '1';
const started = Date.now();
const argv = process.argv.slice(2);

function sleepSync(ms) {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

let logged = false;
function logCall(site, code) {
  if (logged || !STATE) return;
  logged = true;
  const env = {};
  for (const k of ['HELM_CACHE_HOME', 'HELM_CONFIG_HOME', 'HELM_DATA_HOME', 'HELM_REGISTRY_CONFIG', 'KUBECONFIG']) env[k] = process.env[k];
  fs.appendFileSync(path.join(STATE, 'calls.jsonl'), JSON.stringify({ argv, site, code, start: started, end: Date.now(), env }) + '\n');
}

function exit(code, site) {
  sleepSync(SLEEP + (SLEEP_SITES[site] || 0) - (Date.now() - started));
  logCall(site, code);
  process.exit(code);
}

function fail(message, site, code = 1) {
  process.stderr.write(`Error: ${message}\n`);
  exit(code, site);
}

// ------------------------------------------------------------------------------------------------ flags

const GLOBAL_VALUE = ['kubeconfig', 'kube-context', 'namespace', 'kube-apiserver', 'kube-token', 'kube-as-user', 'kube-as-group', 'kube-ca-file', 'kube-tls-server-name', 'registry-config', 'repository-config', 'repository-cache', 'burst-limit', 'qps', ...(MAJOR === 4 ? ['content-cache', 'color', 'colour'] : [])];
const GLOBAL_BOOL = ['debug', 'kube-insecure-skip-tls-verify', 'help'];
const SHORT = { n: 'namespace', f: 'values', o: 'output', i: 'install', a: 'all', h: 'help', l: 'labels' };

const WAIT = MAJOR === 4 ? { wait: 'strategy' } : { wait: 'bool' };
const COMMANDS = {
  upgrade: {
    value: ['timeout', 'description', 'values', 'set', 'set-string', 'set-file', 'set-json', 'set-literal', 'version', 'history-max', 'output', 'labels', 'post-renderer', 'post-renderer-args', 'ca-file', 'cert-file', 'key-file', 'keyring', 'repo', 'username', 'password', ...(MAJOR === 4 ? ['server-side', 'dry-run'] : ['dry-run'])],
    bool: ['install', 'create-namespace', 'cleanup-on-fail', 'reset-values', 'reuse-values', 'reset-then-reuse-values', 'no-hooks', 'skip-crds', 'wait-for-jobs', 'devel', 'take-ownership', 'hide-notes', 'skip-schema-validation', 'render-subchart-notes', 'disable-openapi-validation', 'dependency-update', 'enable-dns', 'insecure-skip-tls-verify', 'pass-credentials', 'plain-http', 'verify', 'atomic', 'force', ...(MAJOR === 4 ? ['rollback-on-failure', 'force-replace', 'force-conflicts', 'hide-secret'] : ['hide-secret'])],
    ...WAIT,
  },
  rollback: {
    value: ['timeout', 'history-max', ...(MAJOR === 4 ? ['server-side', 'dry-run'] : [])],
    bool: ['cleanup-on-fail', 'no-hooks', 'wait-for-jobs', ...(MAJOR === 4 ? ['force-replace', 'force-conflicts', 'force'] : ['dry-run', 'force', 'recreate-pods'])],
    ...WAIT,
  },
  uninstall: { value: ['timeout', 'description', 'cascade'], bool: ['keep-history', 'no-hooks', 'ignore-not-found', 'dry-run'], ...WAIT },
  history: { value: ['max', 'output'], bool: [] },
  status: { value: ['output', 'revision'], bool: MAJOR === 4 ? [] : ['show-desc', 'show-resources'] },
  'get values': { value: ['output', 'revision'], bool: ['all'] },
  'get manifest': { value: ['revision'], bool: [] },
  test: { value: ['timeout', 'filter'], bool: ['logs', ...(MAJOR === 3 ? ['hide-notes'] : [])] },
  version: { value: ['template'], bool: ['short'] },
};
// cobra flag groups (MarkFlagsMutuallyExclusive) per command, checked after parsing like cobra does
const EXCLUSIVE = MAJOR === 4 ? { upgrade: [['force-replace', 'force-conflicts']], rollback: [['force-replace', 'force-conflicts']] } : {};
const DEPRECATED = MAJOR === 4 ? { atomic: 'rollback-on-failure', force: 'force-replace' } : {};
for (const [cmd, groups] of Object.entries(EXCLUSIVE)) COMMANDS[cmd].exclusive = groups;
// value flags with a NoOptDefVal (helm's --help shows them as `string[="x"]`)
COMMANDS.upgrade.optional = { 'dry-run': MAJOR === 4 ? 'unset' : 'client' };
if (MAJOR === 4) COMMANDS.rollback.optional = { 'dry-run': 'unset' };
// pflag value types whose Set() validates (everything else is a plain string); tests/contract/helm-double.test.ts
// derives them from the real helm's --help and checks every one
const TYPES = { timeout: 'duration', 'history-max': 'int', max: 'int', revision: 'int', 'burst-limit': 'int', qps: 'float32', output: 'format', labels: 'stringToString' };
const SHORT_OF = Object.fromEntries(Object.entries(SHORT).map(([s, l]) => [l, s]));

/** pflag's message for a value its Set() refuses. */
function invalid(name, value, why) {
  const shown = SHORT_OF[name] ? `-${SHORT_OF[name]}, --${name}` : `--${name}`;
  return new Error(`invalid argument "${value}" for "${shown}" flag: ${why}`);
}

function executable(p) {
  const dirs = p.includes('/') ? [''] : (process.env.PATH || '').split(':');
  return dirs.some((d) => {
    try {
      const f = d ? path.join(d, p) : p;
      fs.accessSync(f, fs.constants.X_OK);
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** Checks a value the way the flag's pflag type does. */
function checkValue(name, value) {
  const t = TYPES[name];
  if (t === 'duration' && !/^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$/.test(value)) {
    throw invalid(name, value, /^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? `time: missing unit in duration "${value}"` : `time: invalid duration "${value}"`);
  }
  if (t === 'int' && !/^[-+]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*)$/.test(value)) throw invalid(name, value, `strconv.ParseInt: parsing "${value}": invalid syntax`);
  if (t === 'float32' && (value.trim() === '' || !Number.isFinite(Number(value)))) throw invalid(name, value, `strconv.ParseFloat: parsing "${value}": invalid syntax`);
  if (t === 'format' && !['table', 'json', 'yaml'].includes(value)) throw invalid(name, value, 'invalid format type');
  // helm 4 resolves --post-renderer to an installed postrenderer plugin when the flag is set; the double has none
  if (name === 'post-renderer' && MAJOR === 4) throw invalid(name, value, `plugin: {Name:${value} Type:postrenderer/v1} not found`);
  // helm 3 resolves it to an executable (on PATH, else the path itself)
  if (name === 'post-renderer' && !executable(value)) throw invalid(name, value, `unable to find binary at ${value}: exec: "${value}": executable file not found in $PATH`);
  if (t === 'stringToString') {
    for (const kv of value.split(',')) if (value !== '' && !kv.includes('=')) throw invalid(name, value, `${kv} must be formatted as key=value`);
  }
}

function parse(spec, args) {
  const flags = {};
  const pos = [];
  const add = (k, v) => {
    if (k === 'values' || k === 'set' || k === 'set-string' || k === 'set-file' || k === 'set-json' || k === 'set-literal') (flags[k] = flags[k] || []).push(v);
    else flags[k] = v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      pos.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      pos.push(a);
      continue;
    }
    let name;
    let value;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      value = eq > 0 ? a.slice(eq + 1) : undefined;
    } else {
      const s = a[1];
      name = SHORT[s];
      if (!name) throw new Error(`unknown shorthand flag: '${s}' in ${a}`);
      if (a.length > 2) value = a.slice(a[2] === '=' ? 3 : 2);
    }
    const isValue = GLOBAL_VALUE.includes(name) || spec.value.includes(name);
    const isBool = GLOBAL_BOOL.includes(name) || spec.bool.includes(name);
    const waitKind = name === 'wait' ? spec.wait : undefined;
    if (!isValue && !isBool && !waitKind) throw new Error(`unknown flag: --${name}`);
    // a value flag with a NoOptDefVal (`--dry-run string[="client"]`): bare, it takes that value, never the next word
    if (isValue && value === undefined && spec.optional && spec.optional[name] !== undefined) value = spec.optional[name];
    if (DEPRECATED[name]) process.stderr.write(`Flag --${name} has been deprecated, use --${DEPRECATED[name]} instead\n`);
    if (waitKind === 'strategy') {
      const v = value === undefined ? 'watcher' : value;
      if (!['watcher', 'hookOnly', 'legacy'].includes(v)) throw new Error(`invalid argument "${v}" for "--wait" flag: invalid wait input "${v}". Valid inputs are watcher, hookOnly, and legacy`);
      add('wait', v);
    } else if (isBool || waitKind === 'bool') {
      if (value !== undefined && !/^(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.test(value)) {
        throw new Error(`invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
      }
      add(name, value === undefined ? true : /^(true|1|t)$/i.test(value));
    } else {
      if (value === undefined) {
        if (i + 1 >= args.length) throw new Error(`flag needs an argument: --${name}`);
        value = args[++i];
      }
      checkValue(name, value);
      add(name, value);
    }
  }
  for (const group of spec.exclusive || []) {
    const set = group.filter((g) => flags[g] !== undefined);
    if (set.length > 1) throw new Error(`if any flags in the group [${group.join(' ')}] are set none of the others can be; [${set.sort().join(' ')}] were all set`);
  }
  return { flags, pos };
}

// ------------------------------------------------------------------------------------------------ state

function loadYaml() {
  return require('yaml');
}

function kubeSite(flags) {
  const kc = flags.kubeconfig || process.env.KUBECONFIG;
  if (!kc || !fs.existsSync(kc)) fail(`Kubernetes cluster unreachable: invalid configuration: no configuration has been provided`, undefined);
  const mode = fs.statSync(kc).mode & 0o777;
  if (mode & 0o077) process.stderr.write(`WARNING: Kubernetes configuration file is ${mode & 0o070 ? 'group' : 'world'}-readable. This is insecure. Location: ${kc}\n`);
  // the context names, without a YAML parser (node start-up time matters in the bench): kubeconfigs written by
  // YAML.stringify / kubectl list them as `- name: x` under `contexts:`
  const text = fs.readFileSync(kc, 'utf8');
  if (!/^clusters:/m.test(text) && !/"clusters"/.test(text)) fail(`Kubernetes cluster unreachable: error loading config file "${kc}": no clusters`);
  const block = /^contexts:\n((?:[ -].*\n?)*)/m.exec(text);
  const flow = /^contexts:\s*\[(.*)\]\s*$/m.exec(text);
  const names = block
    ? [...block[1].matchAll(/^\s*-?\s*name:\s*"?([^"\s]+)"?\s*$/gm)].map((m) => m[1])
    : flow
      ? [...flow[1].matchAll(/\{\s*name:\s*"?([^",}\s]+)/g)].map((m) => m[1])
      : [];
  const cur = /^current-context:\s*"?([^"\s]+)"?\s*$/m.exec(text);
  const ctx = flags['kube-context'] || (cur && cur[1]);
  if (!ctx || !names.includes(ctx)) fail(`Kubernetes cluster unreachable: context "${ctx || ''}" does not exist`, ctx);
  return ctx;
}

function faults() {
  const f = path.join(STATE, 'faults.json');
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : [];
}

/** The first matching fault (and uses up one of its `count`). */
function fault(site, step) {
  const list = faults();
  const i = list.findIndex((x) => (x.site === site || x.site === '*') && x.step === step && (x.count === undefined || x.count > 0));
  if (i < 0) return undefined;
  const hit = list[i];
  if (hit.skip) {
    // let the first `skip` matching calls pass
    list[i] = { ...hit, skip: hit.skip - 1 };
    fs.writeFileSync(path.join(STATE, 'faults.json'), JSON.stringify(list, null, 2));
    return undefined;
  }
  if (hit.count !== undefined) {
    list[i] = { ...hit, count: hit.count - 1 };
    fs.writeFileSync(path.join(STATE, 'faults.json'), JSON.stringify(list, null, 2));
  }
  return hit;
}

/**
 * A rendezvous (meet.json, {"<step>": {"peers": n, "ms": bound}}): a call of that step waits until n calls of it
 * have started (or `ms` passed), so a test can tell concurrent calls from serial ones without timing anything:
 * serial calls never meet, and each waits out the bound.
 */
function meet(site, step) {
  const file = path.join(STATE, 'meet.json');
  if (!STATE || !fs.existsSync(file)) return;
  const m = JSON.parse(fs.readFileSync(file, 'utf8'))[step];
  if (!m) return;
  const dir = path.join(STATE, `meet-${step}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${site}-${process.pid}`), '');
  const until = Date.now() + (m.ms || 30_000);
  while (fs.readdirSync(dir).length < m.peers && Date.now() < until) sleepSync(10);
}

function faultError(site, step, f) {
  if (f.mode === 'unreachable') fail(`Kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": dial tcp 10.0.0.1:6443: connect: connection refused`, site);
  if (f.mode === 'forbidden') fail(`query: failed to query with labels: secrets is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "secrets" in API group "" in the namespace "${f.namespace || 'default'}"`, site);
  if (f.mode === 'timeout') fail(`context deadline exceeded`, site);
  fail(f.message || `${step} failed (injected)`, site);
}

function relFile(site, ns, rel) {
  return path.join(STATE, site, ns, `${rel}.json`);
}

function load(site, ns, rel) {
  const f = relFile(site, ns, rel);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
}

function save(site, ns, rel, r) {
  const f = relFile(site, ns, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, JSON.stringify(r, null, 2));
}

function ts() {
  // helm prints nanoseconds
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1123456Z');
}

function latest(r) {
  return r.revisions[r.revisions.length - 1];
}

function supersede(r) {
  for (const x of r.revisions) if (x.status === 'deployed') x.status = 'superseded';
}

// ------------------------------------------------------------------------------------------------ rendering

function chartMeta(chart) {
  const Y = loadYaml();
  if (fs.statSync(chart).isDirectory()) return Y.parse(fs.readFileSync(path.join(chart, 'Chart.yaml'), 'utf8'));
  // .tgz: the first */Chart.yaml
  const tar = require('tar');
  let text;
  tar.t({ file: chart, sync: true, onReadEntry: (e) => {
    if (/^[^/]+\/Chart\.yaml$/.test(e.path)) {
      const chunks = [];
      e.on('data', (c) => chunks.push(c));
      e.on('end', () => (text = Buffer.concat(chunks).toString('utf8')));
    } else e.resume();
  } });
  return Y.parse(text);
}

function render(rel, chart, ns, flags) {
  if (RENDER) {
    const args = ['install', rel, chart, '--dry-run=client', '-o', 'json', '--namespace', ns];
    for (const k of ['values', 'set', 'set-string', 'set-file', 'set-json', 'set-literal']) for (const v of flags[k] || []) args.push(`--${k}`, v);
    const r = spawnSync(RENDER, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      return { error: (r.stderr.split('\n').find((l) => l.startsWith('Error:')) || 'render failed').replace(/^Error: /, '') };
    }
    const j = JSON.parse(r.stdout);
    return { config: j.config || null, manifest: j.manifest || '', meta: j.chart.metadata, notes: j.info.notes || '' };
  }
  // without a renderer: values files merged, --set as strings (enough for the bench)
  const Y = loadYaml();
  let config = {};
  const merge = (a, b) => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b || {})) out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? merge(out[k], v) : v;
    return out;
  };
  for (const f of flags.values || []) config = merge(config, Y.parse(fs.readFileSync(f, 'utf8')) || {});
  for (const s of [...(flags.set || []), ...(flags['set-string'] || [])]) {
    const [k, ...rest] = s.split('=');
    let cur = config;
    const parts = k.split('.');
    for (const p of parts.slice(0, -1)) cur = cur[p] = cur[p] && typeof cur[p] === 'object' ? cur[p] : {};
    cur[parts[parts.length - 1]] = rest.join('=');
  }
  const meta = chartMeta(chart);
  return { config: Object.keys(config).length ? config : null, manifest: `---\n# Source: ${meta.name}/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${rel}\n`, meta, notes: '' };
}

function releaseJson(r, rev, ns) {
  return {
    name: r.name,
    info: { first_deployed: r.revisions[0].updated, last_deployed: rev.updated, deleted: '', description: rev.description, status: rev.status, notes: rev.notes || '' },
    chart: { metadata: rev.meta, lock: null, templates: [], values: {}, schema: null, files: [] },
    config: rev.config,
    manifest: rev.manifest,
    hooks: [],
    version: rev.revision,
    namespace: ns,
    ...(MAJOR === 4 ? { apply_method: rev.applyMethod || 'ssa' } : {}),
  };
}

// ------------------------------------------------------------------------------------------------ commands

/** The command path (`history`, `get values`, ...) of an argv: its first positionals, skipping the values of global flags. */
function commandOf(args) {
  const words = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i];
    if (a === '--') break;
    if (!a.startsWith('-') || a === '-') words.push(a);
    else if (!a.includes('=') && (GLOBAL_VALUE.includes(a.replace(/^--/, '')) || (a.length === 2 && GLOBAL_VALUE.includes(SHORT[a[1]])))) i++;
  }
  return { first: words[0], cmd: words[0] === 'get' ? `get ${words[1]}` : words[0] };
}

/**
 * Parse-only modes for tests/contract/helm-double.test.ts (the double's flag contract against the real helm):
 *   HELM_DOUBLE_DUMP_FLAGS=1  prints the flags the double accepts per command, as JSON
 *   HELM_DOUBLE_PARSE_ONLY=1  reads a JSON array of argvs on stdin and prints, per argv, {ok, flags} or {ok: false,
 *                             error} after flag parsing only ({delegated: true} for commands handed to the real helm)
 */
function parseOnlyModes() {
  if (process.env.HELM_DOUBLE_DUMP_FLAGS === '1') {
    const out = {};
    for (const [cmd, spec] of Object.entries(COMMANDS)) {
      const long = { ...Object.fromEntries([...GLOBAL_VALUE, ...spec.value].map((n) => [n, TYPES[n] || 'string'])), ...Object.fromEntries([...GLOBAL_BOOL, ...spec.bool].map((n) => [n, 'bool'])), ...(spec.wait ? { wait: spec.wait === 'bool' ? 'bool' : 'WaitStrategy' } : {}) };
      const short = Object.fromEntries(Object.entries(SHORT).filter(([, l]) => long[l]));
      out[cmd] = { long, short };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(0);
  }
  if (process.env.HELM_DOUBLE_PARSE_ONLY === '1') {
    const batch = JSON.parse(fs.readFileSync(0, 'utf8'));
    const out = batch.map((args) => {
      const spec = COMMANDS[commandOf(args).cmd];
      if (!spec) return { delegated: true };
      const warn = process.stderr.write;
      try {
        process.stderr.write = () => true; // deprecation warnings
        return { ok: true, flags: parse(spec, args).flags };
      } catch (e) {
        return { ok: false, error: e.message };
      } finally {
        process.stderr.write = warn;
      }
    });
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(0);
  }
}

function main() {
  parseOnlyModes();
  if (!STATE) {
    process.stderr.write('helm double: HELM_DOUBLE_STATE is not set\n');
    process.exit(2);
  }
  fs.mkdirSync(STATE, { recursive: true });
  // the command path: first positionals, with flags allowed anywhere
  const { first, cmd } = commandOf(argv);
  const spec = COMMANDS[cmd];
  if (!spec && STUB_CLIENT && (first === 'lint' || first === 'template')) {
    // a fixed answer that passes every preflight check
    if (first === 'lint') process.stdout.write('==> Linting chart\n1 chart(s) linted, 0 chart(s) failed\n');
    else process.stdout.write('---\n# Source: ratings/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ratings\ndata:\n  a: b\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ratings\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.corp.local/apps/ratings:1\n');
    return exit(0);
  }
  if (!spec) {
    // client-only commands go to the real helm
    if (!REAL) fail(`helm double: '${first}' needs HELM_DOUBLE_REAL`, undefined, 2);
    const r = spawnSync(REAL, argv, { stdio: ['inherit', 'inherit', 'inherit'] });
    exit(r.status === null ? 1 : r.status, undefined);
    return;
  }
  let parsed;
  try {
    parsed = parse(spec, argv);
  } catch (e) {
    fail(e.message, undefined);
  }
  const { flags, pos } = parsed;
  const args = pos.slice(cmd.split(' ').length);

  if (cmd === 'version') {
    process.stdout.write(flags.short ? `v${VERSION}+g0123abc\n` : `version.BuildInfo{Version:"v${VERSION}", GitCommit:"0123abc", GitTreeState:"clean", GoVersion:"go1.24.2"}\n`);
    return exit(0);
  }

  const site = kubeSite(flags);
  const ns = flags.namespace || 'default';
  const rel = args[0];
  if (!rel) fail(`"helm ${cmd}" requires at least 1 argument`, site);
  const step = cmd.replace(' ', '-');
  meet(site, step);
  const f = fault(site, step);
  if (f && f.mode === 'hang') sleepSync(f.ms || 60_000);
  const r = load(site, ns, rel);

  switch (cmd) {
    case 'history': {
      if (f) faultError(site, step, f);
      if (!r) fail('release: not found', site);
      const out = r.revisions.map((x) => ({ revision: x.revision, updated: x.updated, status: x.status, chart: `${x.meta.name}-${x.meta.version}`, app_version: x.meta.appVersion || '', description: x.description }));
      process.stdout.write(flags.output === 'json' ? JSON.stringify(out) + '\n' : out.map((x) => `${x.revision}\t${x.updated}\t${x.status}\t${x.chart}\t${x.app_version}\t${x.description}`).join('\n') + '\n');
      return exit(0, site);
    }
    case 'status': {
      if (f) faultError(site, step, f);
      if (!r) fail('release: not found', site);
      const rev = flags.revision ? r.revisions.find((x) => x.revision === Number(flags.revision)) : latest(r);
      if (flags.output !== 'json') fail('the double prints status only with -o json', site);
      process.stdout.write(JSON.stringify(releaseJson(r, rev, ns)) + '\n');
      return exit(0, site);
    }
    case 'get values': {
      if (f) faultError(site, step, f);
      if (!r) fail('release: not found', site);
      const rev = flags.revision ? r.revisions.find((x) => x.revision === Number(flags.revision)) : latest(r);
      if (flags.output !== 'json') fail('the double prints values only with -o json', site);
      process.stdout.write(JSON.stringify(rev.config ?? null) + '\n');
      return exit(0, site);
    }
    case 'get manifest': {
      if (f) faultError(site, step, f);
      if (!r) fail('release: not found', site);
      process.stdout.write(latest(r).manifest + '\n');
      return exit(0, site);
    }
    case 'upgrade': {
      if (!flags.install) fail('the double only does upgrade --install', site);
      const chart = args[1];
      if (!chart || !fs.existsSync(chart)) fail(`path "${chart}" not found`, site);
      if (flags['dry-run']) fail('the double does not do dry runs', site);
      if (f && (f.mode === 'unreachable' || f.mode === 'forbidden')) faultError(site, step, f);
      const out = render(rel, chart, ns, flags);
      if (out.error) fail(`${r ? 'UPGRADE' : 'INSTALLATION'} FAILED: ${out.error}`, site);
      const rec = r || { name: rel, namespace: ns, revisions: [] };
      const installing = !r || !r.revisions.some((x) => x.status === 'deployed' || x.status === 'superseded');
      const revision = (rec.revisions.length ? latest(rec).revision : 0) + 1;
      const entry = { revision, updated: ts(), status: 'deployed', meta: out.meta, config: out.config, manifest: out.manifest, notes: `${out.notes}\nsecret-notes: ${JSON.stringify(out.config)}`, description: flags.description || (installing ? 'Install complete' : 'Upgrade complete'), applyMethod: installing ? 'ssa' : latest(rec).applyMethod || 'csa' };
      if (f && f.step === 'upgrade' && f.mode === 'pending') {
        entry.status = installing ? 'pending-install' : 'pending-upgrade';
        entry.description = installing ? 'Initial install underway' : 'Preparing upgrade';
        rec.revisions.push(entry);
        save(site, ns, rel, rec);
        fail('context canceled', site);
      }
      if (f) {
        // a failed upgrade leaves a failed revision (or, with --atomic / --rollback-on-failure, rolls back)
        const reason = f.message || 'resource Deployment/ratings not ready: context deadline exceeded';
        entry.status = 'failed';
        entry.description = `${installing ? 'Release' : 'Upgrade'} "${rel}" failed: ${reason}`;
        rec.revisions.push(entry);
        const atomic = flags.atomic || flags['rollback-on-failure'];
        if (atomic && installing) {
          fs.rmSync(relFile(site, ns, rel), { force: true });
          fail(`INSTALLATION FAILED: release ${rel} failed, and has been uninstalled due to ${MAJOR === 4 ? 'rollback-on-failure' : 'atomic'} being set: ${reason}`, site);
        }
        if (atomic) {
          const prev = [...rec.revisions].reverse().find((x) => x.status === 'deployed');
          supersede(rec);
          rec.revisions.push({ ...prev, revision: revision + 1, updated: ts(), status: 'deployed', description: `Rollback to ${prev.revision}` });
          save(site, ns, rel, rec);
          fail(`UPGRADE FAILED: release ${rel} failed, and has been rolled back due to ${MAJOR === 4 ? 'rollback-on-failure' : 'atomic'} being set: ${reason}`, site);
        }
        save(site, ns, rel, rec);
        fail(`${installing ? 'INSTALLATION' : 'UPGRADE'} FAILED: ${reason}`, site);
      }
      supersede(rec);
      rec.revisions.push(entry);
      save(site, ns, rel, rec);
      process.stdout.write(`${installing ? `Release "${rel}" has been installed` : `Release "${rel}" has been upgraded`}. Happy Helming!\nNAME: ${rel}\nLAST DEPLOYED: ${entry.updated}\nNAMESPACE: ${ns}\nSTATUS: deployed\nREVISION: ${revision}\nNOTES:\n${entry.notes}\n`);
      return exit(0, site);
    }
    case 'rollback': {
      if (!r) fail('release: not found', site);
      const to = Number(args[1] || 0) || (r.revisions.length > 1 ? r.revisions[r.revisions.length - 2].revision : 0);
      const target = r.revisions.find((x) => x.revision === to);
      if (!target) fail(`release has no ${to} version`, site);
      const revision = latest(r).revision + 1;
      if (f) {
        r.revisions.push({ ...target, revision, updated: ts(), status: 'failed', description: `Rollback "${rel}" failed: ${f.message || 'timed out waiting for the condition'}` });
        save(site, ns, rel, r);
        faultError(site, step, { ...f, message: f.message || 'timed out waiting for the condition' });
      }
      supersede(r);
      r.revisions.push({ ...target, revision, updated: ts(), status: 'deployed', description: `Rollback to ${to}` });
      save(site, ns, rel, r);
      process.stdout.write('Rollback was a success! Happy Helming!\n');
      return exit(0, site);
    }
    case 'uninstall': {
      if (f) faultError(site, step, f);
      if (!r) {
        if (flags['ignore-not-found']) return exit(0, site);
        fail(`uninstall: Release not loaded: ${rel}: release: not found`, site);
      }
      fs.rmSync(relFile(site, ns, rel), { force: true });
      process.stdout.write(`release "${rel}" uninstalled\n`);
      return exit(0, site);
    }
    case 'test': {
      if (!r) fail('release: not found', site);
      const rev = latest(r);
      if (f) {
        process.stdout.write(`NAME: ${rel}\nTEST SUITE:     ${rel}-test-connection\nPhase:          Failed\n`);
        fail(`1 error occurred:\n\t* pod ${rel}-test-connection failed`, site);
      }
      process.stdout.write(`NAME: ${rel}\nLAST DEPLOYED: ${rev.updated}\nNAMESPACE: ${ns}\nSTATUS: deployed\nREVISION: ${rev.revision}\nTEST SUITE:     ${rel}-test-connection\nLast Started:   ${ts()}\nLast Completed: ${ts()}\nPhase:          Succeeded\nNOTES:\n${rev.notes}\n`);
      return exit(0, site);
    }
  }
}

main();
