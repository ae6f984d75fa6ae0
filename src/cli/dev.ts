/**
 * The CLI from the sources (`tsx src/cli/dev.ts <group> <command> ...`): the same dispatcher as the bundled file,
 * with the help table computed from src/capabilities.ts and every core imported up front.
 */
import { CAPABILITIES } from '../capabilities';
import { runFromCommandLine } from '../platform/cli';
import { helpTable } from '../platform/cli-help';
import { type CliRuntime, main } from './main';

/** The runtime over the capability entries themselves. */
export function sourceRuntime(version = 'dev'): CliRuntime {
  const { table, options } = helpTable(CAPABILITIES, version);
  return {
    table,
    options: (group, command) => options[group][command],
    run: (group, usage, argv, fixed) => runFromCommandLine(usage, CAPABILITIES.find((e) => e.cli.group === group)!.capability, argv, fixed),
  };
}

if (require.main === module) {
  void main(process.argv.slice(2), sourceRuntime()).then((code) => {
    process.exitCode = code;
  });
}
