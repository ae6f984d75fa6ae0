/**
 * `stackhub-ha`: the operator CLI for jump boxes and the AKS Engine helper VM. One bundled file that runs on any
 * Node >= 20. `stackhub-ha <group> <command> [--flag value ...]`, `--help` at every level.
 *
 * The dispatcher knows the commands from a help table (derived from the input definitions) and loads a group's core
 * only when one of its commands runs: `--help` at any level loads no core (see scripts/bundle-cli.ts).
 */
import { type HelpOption, type HelpTable, renderCommandHelp, renderGroupList, renderOverview } from '../platform/cli-help';

/** What the dispatcher needs: the table, the options of a command, and a way to run a command of a group. */
export interface CliRuntime {
  table: HelpTable;
  /** The option lines of `<group> <command> --help`. */
  options(group: string, command: string): HelpOption[];
  /** Runs one command (loads its group's core); resolves to the exit code. */
  run(group: string, usage: string, argv: readonly string[], fixed: Record<string, string> | undefined): Promise<number>;
}

/** Dispatches argv (without node and the script) and resolves to the exit code. */
export async function main(argv: readonly string[], rt: CliRuntime): Promise<number> {
  const [group, first, ...more] = argv;
  // two-word commands (`mongo primary status`)
  const two = more[0] !== undefined && !!rt.table.groups.find((g) => g.group === group)?.commands.some((c) => c.name === `${first} ${more[0]}`);
  const command = two ? `${first} ${more[0]}` : first;
  const rest = two ? more.slice(1) : more;
  const overview = (): string => renderOverview(rt.table);
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    process.stdout.write(overview());
    return group ? 0 : 2;
  }
  if (group === '--version' || group === '-v') {
    process.stdout.write(`${rt.table.version}\n`);
    return 0;
  }
  const entry = rt.table.groups.find((g) => g.group === group);
  if (!entry) {
    process.stderr.write(`error: unknown command '${group}'\n\n${overview()}`);
    return 2;
  }
  const cmd = entry.commands.find((c) => c.name === command);
  if (!cmd) {
    const list = renderGroupList(entry);
    if (command === '--help' || command === undefined) {
      process.stdout.write(`Commands of ${group}:\n${list}\n`);
      return command ? 0 : 2;
    }
    process.stderr.write(`error: unknown command '${group} ${command}'; expected one of:\n${list}\n`);
    return 2;
  }
  const usage = `${group} ${cmd.name}`;
  if (rest.includes('--help')) {
    process.stdout.write(renderCommandHelp(usage, entry.title, rt.options(group, cmd.name)));
    return 0;
  }
  return rt.run(group, usage, rest, cmd.fixed);
}
