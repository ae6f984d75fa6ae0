/**
 * Entry of the one-file CLI (bundled by scripts/bundle-cli.ts): the dispatcher, the help table the build derived from
 * the input definitions, and the loader of the embedded modules. A command group's core is compiled only when one of
 * its commands runs; `--help` at any level compiles none.
 */
import type { HelpOption, HelpTable } from '../platform/cli-help';
import { createLoader, type Payload } from './loader';
import { main } from './main';

declare const __stackhub_payload: Payload;
declare const STACKHUB_CLI_TABLE: HelpTable;

/** What a group module (`group:<name>`) exports. */
interface GroupModule {
  run(usage: string, argv: readonly string[], fixed: Record<string, string> | undefined): Promise<number>;
}

if (process.env.STACKHUB_HA_TRACE_LOAD) {
  const u = process.cpuUsage();
  process.stderr.write(`stackhub-ha start: ${((u.user + u.system) / 1000).toFixed(1)} ms cpu before the entry ran (node, reading and compiling this file)\n`);
}
const loader = createLoader(__stackhub_payload, __filename, module);
(globalThis as { __stackhub_vendor?: (name: string) => unknown }).__stackhub_vendor = (name) => loader.require(`vendor:${name}`);

main(process.argv.slice(2), {
  table: STACKHUB_CLI_TABLE,
  options: (group, command) => (loader.json('help-options') as Record<string, Record<string, HelpOption[]>>)[group][command],
  run: (group, usage, argv, fixed) => (loader.require(`group:${group}`) as GroupModule).run(usage, argv, fixed),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = 1;
  },
);
