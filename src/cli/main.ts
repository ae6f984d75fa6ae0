/**
 * `stackhub-ha`: the operator CLI for jump boxes and the AKS Engine helper VM. One bundled file that runs on any
 * Node >= 20. `stackhub-ha <group> <command> [--flag value ...]`, `--help` at every level.
 */
import { CAPABILITIES } from '../capabilities';
import { runFromCommandLine } from '../platform/cli';

declare const STACKHUB_VERSION: string;
const version = typeof STACKHUB_VERSION === 'string' ? STACKHUB_VERSION : 'dev';

function overview(): string {
  const lines = [`stackhub-ha ${version}: highly available apps on Azure Stack Hub sites`, '', 'Usage: stackhub-ha <group> <command> [options]', '', 'Commands:'];
  for (const e of CAPABILITIES) {
    for (const c of e.cli.commands) lines.push(`  ${`${e.cli.group} ${c.name}`.padEnd(28)}${c.description}`);
  }
  lines.push('', 'Run `stackhub-ha <group> <command> --help` for the options of a command.');
  return lines.join('\n') + '\n';
}

/** Dispatches argv (without node and the script) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [group, first, ...more] = argv;
  // two-word commands (`mongo primary status`)
  const entry0 = CAPABILITIES.find((e) => e.cli.group === group);
  const two = more[0] !== undefined && entry0?.cli.commands.some((c) => c.name === `${first} ${more[0]}`);
  const command = two ? `${first} ${more[0]}` : first;
  const rest = two ? more.slice(1) : more;
  if (!group || group === '--help' || group === '-h' || group === 'help') {
    process.stdout.write(overview());
    return group ? 0 : 2;
  }
  if (group === '--version' || group === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const entry = CAPABILITIES.find((e) => e.cli.group === group);
  if (!entry) {
    process.stderr.write(`error: unknown command '${group}'\n\n${overview()}`);
    return 2;
  }
  const cmd = entry.cli.commands.find((c) => c.name === command);
  if (!cmd) {
    const list = entry.cli.commands.map((c) => `  ${group} ${c.name}`).join('\n');
    if (command === '--help' || command === undefined) {
      process.stdout.write(`Commands of ${group}:\n${list}\n`);
      return command ? 0 : 2;
    }
    process.stderr.write(`error: unknown command '${group} ${command}'; expected one of:\n${list}\n`);
    return 2;
  }
  return runFromCommandLine(`${group} ${cmd.name}`, entry.capability, rest, cmd.fixed);
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
