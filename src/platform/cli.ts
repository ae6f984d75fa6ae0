/**
 * The operator CLI adapter: `stackhub-ha <group> [command] --flag value`, or `--config file.yaml` (flags win).
 * Logs go to stderr; the run summary goes to stdout. Secret inputs are never taken from argv (other processes can
 * read it): they come from `--<flag>-file <path>`, `--<flag>-env <VAR>`, or `{file: …}` / `{env: …}` in the config.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { InputError, StackHubError } from '../shared/errors';
import { Masker } from '../shared/mask';
import { isSecretReference } from '../shared/secrets/reference';
import type { AnyCapability } from './capability';
import { flagName, helpOptions, renderCommandHelp } from './cli-help';
import { type InputDef, onChannel } from './inputs';
import { MaskingLogger } from './logger';
import { runCapability } from './run';
import type { AgentTls, AzureRmConnection, KubernetesConnection, Platform, ProxySettings } from './types';

export { flagName };

/** Options every CLI command takes besides its inputs. */
export interface CliGlobals {
  debug: boolean;
  config?: string;
  outputsFile?: string;
  exportsFile?: string;
  toolCache?: string;
  help: boolean;
}

/** Wrong usage of the CLI (exit code 2). */
export class UsageError extends StackHubError {}

function secretRef(def: InputDef, ref: unknown, where: string, env: NodeJS.ProcessEnv, cwd: string): string {
  // a secret reference (keyvault://, k8s://, vault://) is not a secret: accepted on argv and in the config file
  if (typeof ref === 'string' && isSecretReference(ref)) return ref;
  const r = (ref ?? {}) as { file?: string; env?: string };
  if (typeof r === 'object' && typeof r.file === 'string') {
    const file = path.resolve(cwd, r.file);
    try {
      return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new InputError(def.name, `cannot read the secret file ${file}`);
    }
  }
  if (typeof r === 'object' && typeof r.env === 'string') {
    const v = env[r.env];
    if (v === undefined || v === '') throw new InputError(def.name, `environment variable ${r.env} is not set`);
    return v;
  }
  throw new InputError(
    def.name,
    `secret values are not accepted ${where}; use --${flagName(def.name)}-file <path> or --${flagName(def.name)}-env <VARIABLE>` +
      (where === 'in the config file' ? ' (or {file: …} / {env: …})' : ''),
  );
}

/** Turns a config-file value into the string an input holds. */
function configString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join('\n');
  if (typeof v === 'object') return YAML.stringify(v);
  return String(v);
}

/**
 * Parses the argv of one command into input values and global options. Unknown flags, a secret on argv and a flag
 * without a value are errors that name the flag.
 */
export function parseCommandLine(
  argv: readonly string[],
  defs: readonly InputDef[],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): { values: Map<string, string>; globals: CliGlobals } {
  const cliDefs = defs.filter((d) => onChannel(d, 'cli'));
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    debug: { type: 'boolean' },
    help: { type: 'boolean' },
    config: { type: 'string' },
    'outputs-file': { type: 'string' },
    'exports-file': { type: 'string' },
    'tool-cache': { type: 'string' },
  };
  for (const d of cliDefs) {
    const f = flagName(d.name);
    if (d.type === 'secret') {
      options[`${f}-file`] = { type: 'string' };
      options[`${f}-env`] = { type: 'string' };
    }
    options[f] = { type: 'string' };
  }
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const byFlag = new Map(cliDefs.map((d) => [flagName(d.name), d]));
  const flagValues = new Map<string, string>();
  const globals: CliGlobals = { debug: false, help: false };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'positional') throw new UsageError(`unexpected argument '${t.value}'`);
    if (t.kind !== 'option') continue;
    let name = t.name;
    let value = t.value;
    // camelCase flags are accepted too
    if (/[A-Z]/.test(name)) name = flagName(name);
    if (name === 'debug' || name === 'help') {
      globals[name] = true;
      continue;
    }
    const def = byFlag.get(name);
    let negated = false;
    if (!def && !(name in options) && name.startsWith('no-') && byFlag.get(name.slice(3))?.type === 'boolean') {
      negated = true;
    }
    const target = negated ? byFlag.get(name.slice(3))! : def;
    if (!(name in options) && !negated) throw new UsageError(`unknown option --${t.name} (see --help)`);
    if (value === undefined) {
      if (negated) value = 'false';
      else if (target?.type === 'boolean') {
        const next = tokens[i + 1];
        if (next?.kind === 'positional' && /^(true|false)$/i.test(next.value)) {
          value = next.value;
          i++;
        } else value = 'true';
      } else {
        const next = tokens[i + 1];
        if (next?.kind === 'positional') {
          value = next.value;
          i++;
        } else throw new UsageError(`option --${name} needs a value`);
      }
    }
    if (name === 'config') globals.config = path.resolve(cwd, value);
    else if (name === 'outputs-file') globals.outputsFile = path.resolve(cwd, value);
    else if (name === 'exports-file') globals.exportsFile = path.resolve(cwd, value);
    else if (name === 'tool-cache') globals.toolCache = path.resolve(cwd, value);
    else if (target?.type === 'secret' || (!target && (name.endsWith('-file') || name.endsWith('-env')))) {
      const base = byFlag.get(name.replace(/-(file|env)$/, ''));
      if (!base) throw new UsageError(`unknown option --${name}`);
      if (target === base) flagValues.set(base.name, secretRef(base, value, 'on the command line', env, cwd));
      else {
        flagValues.set(
          base.name,
          secretRef(base, name.endsWith('-file') ? { file: value } : { env: value }, 'on the command line', env, cwd),
        );
      }
    } else flagValues.set(target!.name, value);
  }

  const values = new Map<string, string>();
  if (globals.config) {
    let doc: unknown;
    try {
      doc = YAML.parse(fs.readFileSync(globals.config, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read the config file ${globals.config}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (doc !== null && (typeof doc !== 'object' || Array.isArray(doc))) {
      throw new UsageError(`config file ${globals.config}: expected a mapping of input names to values`);
    }
    const cfgDir = path.dirname(globals.config);
    for (const [k, v] of Object.entries((doc ?? {}) as Record<string, unknown>)) {
      const def = cliDefs.find((d) => d.name === k || flagName(d.name) === k);
      if (!def) throw new UsageError(`config file ${globals.config}: unknown key '${k}'`);
      values.set(def.name, def.type === 'secret' ? secretRef(def, v, 'in the config file', env, cfgDir) : configString(v));
    }
  }
  for (const [k, v] of flagValues) values.set(k, v);
  return { values, globals };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The CLI platform. */
export class CliPlatform implements Platform {
  readonly name = 'cli' as const;
  readonly masker = new Masker();
  readonly log: MaskingLogger;
  readonly paths: { agentTemp: string; toolCache: string };
  readonly debug: boolean;
  readonly outputs: Record<string, string> = {};

  constructor(
    private readonly values: Map<string, string>,
    private readonly globals: CliGlobals,
    env: NodeJS.ProcessEnv = process.env,
    private readonly stdout: (s: string) => void = (s) => process.stdout.write(s),
    private readonly stderr: (s: string) => void = (s) => process.stderr.write(s),
  ) {
    this.debug = globals.debug;
    const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    this.paths = {
      agentTemp: os.tmpdir(),
      toolCache: globals.toolCache ?? path.join(cacheHome, 'stackhub-ha', 'tools'),
    };
    this.log = new MaskingLogger(
      {
        info: (l) => this.stderr(`${l}\n`),
        debug: (l) => this.stderr(`debug: ${l}\n`),
        warning: (l) => this.stderr(`warning: ${l}\n`),
        error: (l) => this.stderr(`error: ${l}\n`),
        startGroup: (n) => this.stderr(`== ${n}\n`),
        endGroup: () => undefined,
      },
      this.masker,
      this.debug,
    );
  }

  input(name: string): string | undefined {
    const v = this.values.get(name);
    return v === undefined || v === '' ? undefined : v;
  }
  mask(secret: string): void {
    this.masker.add(secret);
  }
  kubernetesConnection(): KubernetesConnection | undefined {
    return undefined;
  }
  azureRmConnection(): AzureRmConnection | undefined {
    return undefined;
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
    this.stderr(`output ${name}=${this.masker.scrub(value)}\n`);
  }
  private appendEnvFile(line: string): void {
    if (this.globals.exportsFile) fs.appendFileSync(this.globals.exportsFile, `${line}\n`, { mode: 0o600 });
  }
  setVariable(name: string, value: string): void {
    process.env[name] = value;
    this.appendEnvFile(`export ${name}=${shellQuote(value)}`);
    if (!this.globals.exportsFile) this.stderr(`set for later commands: export ${name}=${shellQuote(this.masker.scrub(value))}\n`);
  }
  addPath(dir: string): void {
    process.env.PATH = `${dir}${path.delimiter}${process.env.PATH ?? ''}`;
    this.appendEnvFile(`export PATH=${shellQuote(dir)}:"$PATH"`);
    if (!this.globals.exportsFile) this.stderr(`add to PATH for later commands: ${dir}\n`);
  }
  async writeSummary(title: string, markdown: string): Promise<void> {
    this.stdout(`## ${title}\n\n${markdown}`);
  }
  setFailed(message: string): void {
    this.stderr(`error: ${this.masker.scrub(message)}\n`);
    this.writeOutputs();
  }
  setSucceeded(): void {
    this.writeOutputs();
  }
  private writeOutputs(): void {
    if (this.globals.outputsFile) {
      fs.writeFileSync(this.globals.outputsFile, JSON.stringify(this.outputs, null, 2) + '\n', { mode: 0o600 });
    }
  }
  agentProxy(): ProxySettings | undefined {
    return undefined;
  }
  agentTls(): AgentTls {
    return {};
  }
}

/** Renders `--help` for one command from its input definitions (inputs the subcommand fixes are not options). */
export function commandHelp(usage: string, capability: AnyCapability, fixed: Record<string, string> = {}): string {
  return renderCommandHelp(usage, capability.title, helpOptions(capability.inputs, fixed));
}

/** Runs one capability from the command line. Returns the process exit code. */
export async function runFromCommandLine(
  usage: string,
  capability: AnyCapability,
  argv: readonly string[],
  fixed: Record<string, string> = {},
): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, capability.inputs.filter((d) => !(d.name in fixed)));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  if (parsed.globals.help) {
    process.stdout.write(commandHelp(usage, capability, fixed));
    return 0;
  }
  for (const [k, v] of Object.entries(fixed)) parsed.values.set(k, v);
  const platform = new CliPlatform(parsed.values, parsed.globals);
  return (await runCapability(platform, capability, platform.masker)) ? 0 : 1;
}
