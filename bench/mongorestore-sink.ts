/**
 * A mongorestore stand-in in POSIX sh for the restore benches (issue 11: a sink whose own start-up and consumption
 * are not what is measured). It checks its argv against the real mongorestore 100.x contract of the calls a restore
 * makes (`--archive` on stdin or `--archive=<file>`, `--gzip`, `--config=<readable file>`, then only the flags
 * src/mongo/args.ts `mongorestoreArgs` emits: `--drop`, `--oplogReplay`, `--nsInclude/--nsFrom/--nsTo=…`; anything
 * else fails like the real option parser), then counts its whole input with `wc -c` (a compiled reader at memory
 * speed), appends `<bytes>` to `$MONGORESTORE_SINK_LOG` so the bench can check every plaintext byte arrived, and prints
 * the real tool's closing tally on stderr. The node double in tests/helpers/mongo-doubles (gunzip, BSON parse,
 * SHA-256 of stdin) stays the one the tests use; its consumption is measured apart in bench/mongo-restore-breakdown.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The installed sink. */
export interface RestoreSink {
  /** The directory to put first on PATH. */
  dir: string;
  /** The executable. */
  bin: string;
  /** Env that makes the sink log its byte counts. */
  env: NodeJS.ProcessEnv;
  /** The byte counts logged since the last call (and clears the log). */
  take(): number[];
}

/** The flags the sink accepts, with how the real tool takes them (tests/helpers/mongo-doubles/flags.json). */
const ACCEPTS: Record<string, string> = { '--archive': 'optional', '--gzip': 'bool', '--config': 'value', '--drop': 'bool', '--oplogReplay': 'bool', '--nsInclude': 'value', '--nsFrom': 'value', '--nsTo': 'value', '--version': 'bool' };

/** Writes `<dir>/mongorestore` (sh), after checking that every flag it accepts is the real tool's, taken the same way. */
export function installRestoreSink(dir: string): RestoreSink {
  const real = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'tests', 'helpers', 'mongo-doubles', 'flags.json'), 'utf8')) as { mongorestore: Record<string, string> }).mongorestore;
  for (const [flag, kind] of Object.entries(ACCEPTS)) {
    if (real[flag] !== kind) throw new Error(`bench sink: mongorestore 100.x takes ${flag} as ${real[flag] ?? 'no such flag'}, the sink as ${kind}`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, 'mongorestore');
  const log = path.join(dir, 'sink.log');
  fs.writeFileSync(
    bin,
    `#!/bin/sh
archive=''; gzip=''; cfg=''
for a in "$@"; do
  case "$a" in
    --version) echo 'mongorestore version: 100.10.0'; exit 0 ;;
    --archive) archive=- ;;
    --archive=*) archive=\${a#--archive=} ;;
    --gzip) gzip=1 ;;
    --config=*) cfg=\${a#--config=} ;;
    --drop|--oplogReplay|--nsInclude=*|--nsFrom=*|--nsTo=*) ;;
    *) echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	error parsing command line options: unknown option \\"$a\\"" >&2; exit 1 ;;
  esac
done
[ -n "$archive" ] || { echo 'bench sink: only --archive is implemented' >&2; exit 3; }
[ -n "$gzip" ] || { echo 'bench sink: the bench archives are gzip (--gzip expected)' >&2; exit 3; }
[ -n "$cfg" ] && [ -r "$cfg" ] || { echo "Failed: error opening config file: open $cfg: no such file or directory" >&2; exit 1; }
if [ "$archive" = - ]; then n=$(wc -c); else n=$(wc -c < "$archive"); fi || exit 1
[ -z "$MONGORESTORE_SINK_LOG" ] || echo "$n" >> "$MONGORESTORE_SINK_LOG"
echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	0 document(s) restored successfully. 0 document(s) failed to restore." >&2
`,
    { mode: 0o755 },
  );
  return {
    dir,
    bin,
    env: { MONGORESTORE_SINK_LOG: log },
    take() {
      const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      fs.rmSync(log, { force: true });
      return lines.map(Number);
    },
  };
}
