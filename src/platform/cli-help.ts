/**
 * The CLI's help, rendered from a table derived from the input definitions ({@link helpTable}). The table is plain
 * data, so the one-file CLI embeds it at build time and prints `--help` at every level without loading any core.
 * No imports but types: this module is part of the CLI's start-up code.
 */
import type { AnyCapability } from './capability';
import type { InputDef } from './inputs';
import { conditionsOf } from './visibility';

/** kebab-case of a camelCase input name. */
export function flagName(input: string): string {
  return input.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** One option line of a command's help. */
export interface HelpOption {
  /** `--flag <value>` or `--x-file <path> | --x-env <VAR>` */
  flag: string;
  /** help text with its `(required; default: …)` note */
  text: string;
}

/** One command: what `<group> <command> --help` prints. */
export interface HelpCommand {
  name: string;
  description: string;
  /** inputs the command fixes (e.g. `command: backup`); not options */
  fixed?: Record<string, string>;
}

/** One command group (one capability). */
export interface HelpGroup {
  group: string;
  title: string;
  commands: HelpCommand[];
}

/** Every group with its commands: enough for the overview and the group lists. */
export interface HelpTable {
  version: string;
  groups: HelpGroup[];
}

/** The options of every command of every group: `options[group][command]`. */
export type HelpOptions = Record<string, Record<string, HelpOption[]>>;

/** The entries of src/capabilities.ts as far as help needs them. */
export interface HelpSource {
  capability: Pick<AnyCapability, 'title' | 'inputs'>;
  cli: { group: string; commands: HelpCommand[] };
}

function onCli(d: InputDef): boolean {
  return !d.channels || d.channels.includes('cli');
}

/** True when `d` applies under the inputs a command fixes (its `commands`/`when` conditions on them hold). */
function appliesTo(d: InputDef, fixed: Record<string, string>): boolean {
  for (const [name, values] of conditionsOf(d)) if (name in fixed && !values.includes(fixed[name])) return false;
  return true;
}

/**
 * The option lines of one command, from its input definitions: inputs the command fixes are left out, and so are
 * inputs that do not apply to it (the same `commands`/`when` conditions that hide them on the task form).
 */
export function helpOptions(inputs: readonly InputDef[], fixed: Record<string, string> = {}): HelpOption[] {
  return inputs
    .filter((d) => onCli(d) && !(d.name in fixed) && appliesTo(d, fixed))
    .map((d) => {
      const f =
        d.type === 'secret'
          ? `--${flagName(d.name)}-file <path> | --${flagName(d.name)}-env <VAR>`
          : `--${flagName(d.name)} <${d.type === 'boolean' ? 'true|false' : d.type === 'pickList' ? (d.options ?? []).join('|') : 'value'}>`;
      const extra = [d.required ? 'required' : '', d.default !== undefined && d.default !== '' ? `default: ${d.default}` : ''].filter(Boolean).join('; ');
      return { flag: f, text: `${d.help.replace(/\s+/g, ' ')}${extra ? ` (${extra})` : ''}` };
    });
}

/** The help table and the options of every command, from the capability entries. */
export function helpTable(entries: readonly HelpSource[], version: string): { table: HelpTable; options: HelpOptions } {
  const options: HelpOptions = {};
  const groups = entries.map((e) => {
    options[e.cli.group] = Object.fromEntries(e.cli.commands.map((c) => [c.name, helpOptions(e.capability.inputs, c.fixed)]));
    return { group: e.cli.group, title: e.capability.title, commands: e.cli.commands.map((c) => ({ name: c.name, description: c.description, ...(c.fixed ? { fixed: c.fixed } : {}) })) };
  });
  return { table: { version, groups }, options };
}

/** `stackhub-ha --help`. */
export function renderOverview(t: HelpTable): string {
  const lines = [`stackhub-ha ${t.version}: highly available apps on Azure Stack Hub sites`, '', 'Usage: stackhub-ha <group> <command> [options]', '', 'Commands:'];
  for (const g of t.groups) for (const c of g.commands) lines.push(`  ${`${g.group} ${c.name}`.padEnd(28)}${c.description}`);
  lines.push('', 'Run `stackhub-ha <group> <command> --help` for the options of a command.');
  return lines.join('\n') + '\n';
}

/** The command list of a group (`stackhub-ha <group> --help`, and the error for an unknown command). */
export function renderGroupList(g: HelpGroup): string {
  return g.commands.map((c) => `  ${g.group} ${c.name}`).join('\n');
}

/** `stackhub-ha <usage> --help` for one command. */
export function renderCommandHelp(usage: string, title: string, options: readonly HelpOption[]): string {
  const lines = [`Usage: stackhub-ha ${usage} [options]`, '', title, '', 'Options:'];
  for (const o of options) lines.push(`  ${o.flag}`, `      ${o.text}`);
  lines.push(
    '',
    'Common options:',
    '  --config <file.yaml>     input values by name (flags win; secrets only as {file: …} or {env: …})',
    '  --outputs-file <path>    write the outputs as JSON',
    '  --exports-file <path>    append `export` lines (PATH, variables) for later shell steps',
    '  --tool-cache <dir>       tool cache (default ~/.cache/stackhub-ha/tools)',
    '  --debug                  debug logging and stack traces',
  );
  return lines.join('\n') + '\n';
}
