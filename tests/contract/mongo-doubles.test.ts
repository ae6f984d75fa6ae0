/**
 * The mongodump / mongorestore doubles (tests/helpers/mongo-doubles) decide like the REAL MongoDB Database Tools
 * 100.8.0 (../shared/tools) for EVERY flag of the real tools' table (their `--help` plus the hidden flags,
 * flags.json), not only the ones src/mongo uses:
 * - every flag with a valid value, in each form (`--f=v`, `--f v`, `--f`, `--f=v` for optional values, `-x v`, `-xv`,
 *   `-x=v`): the real tool gets past parsing and fails only at connecting (127.0.0.1, a closed port), and so does the
 *   double (batched: one argv per form);
 * - every bool flag given a value, every value flag given a non-number (int flags refuse it), a value flag without
 *   its value, an unknown flag, a flag in the wrong case, an unknown shorthand, `--verbose 2`: the same outcome
 *   (refused at parsing / past parsing / refused after parsing) from both, one argv each;
 * - `--help` and `--version` succeed in both.
 * Skipped with a printed reason where ../shared/tools is absent.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pool } from '../helpers/flag-contract';
import { ROOT } from '../helpers/harness';
import { closedPort, realMongoTools, runTool, type FlagKind, type RealMongoTools, type ToolRun } from '../helpers/real-mongo-tools';
import { makeCa } from '../helpers/tls';

const DOUBLES = path.join(ROOT, 'tests', 'helpers', 'mongo-doubles');
type Tool = 'mongodump' | 'mongorestore';
type Outcome = 'ok' | 'connect' | 'parse' | 'other';

/** Where a run stopped: succeeded, at connecting (everything parsed), refused at parsing, or refused after it. */
function outcome(r: ToolRun): Outcome {
  if (r.code === 0) return 'ok';
  if (/error parsing command line options|error parsing positional arguments/.test(r.stderr)) return 'parse';
  if (r.code === 1 && r.stderr.trim() === '') return 'connect'; // --quiet
  if (/can't create session|error connecting to host/.test(r.stderr)) return 'connect';
  return 'other';
}

interface Row {
  label: string;
  argv: string[];
}

describe('contract: the mongo doubles decide like the real tools 100.8.0 for every flag of their --help', function () {
  this.timeout(300_000);
  let tools: RealMongoTools;
  let work: string;
  let port: number;
  let uri: string;
  let cfg: string;
  let pem: string;
  let caFile: string;
  const table = JSON.parse(fs.readFileSync(path.join(DOUBLES, 'flags.json'), 'utf8')) as Record<Tool, Record<string, FlagKind>>;

  before(async function () {
    tools = realMongoTools(this);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-flags-'));
    port = await closedPort();
    uri = `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=1`;
    cfg = path.join(work, 'config.yaml');
    fs.writeFileSync(cfg, `uri: ${uri}\n`, { mode: 0o600 });
    const ca = makeCa(work);
    caFile = ca.certFile;
    pem = path.join(work, 'client.pem');
    fs.writeFileSync(pem, fs.readFileSync(ca.certFile, 'utf8') + fs.readFileSync(ca.keyFile, 'utf8'));
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  /** A value the real tool takes for the flag (parsing and option checks pass; only connecting fails). */
  function sample(flag: string, kind: FlagKind): string {
    const byName: Record<string, string> = {
      '--uri': uri, '--host': `127.0.0.1:${port}`, '-h': `127.0.0.1:${port}`, '--port': String(port), '--config': cfg, '--archive': path.join(work, 'a.archive'),
      '--authenticationDatabase': 'admin', '--authenticationMechanism': 'SCRAM-SHA-256', '--readPreference': 'primary', '--verbose': '2',
      '--sslCAFile': caFile, '--sslCRLFile': caFile, '--sslPEMKeyFile': pem, '--out': path.join(work, 'out'), '-o': path.join(work, 'out'),
      '--dir': path.join(work, 'dir'), '--oplogFile': path.join(work, 'oplog.bson'), '--oplogLimit': '1', '--query': '{}', '-q': '{}',
      '--queryFile': path.join(work, 'q.json'), '--writeConcern': 'majority', '--compressors': 'none', '--nsInclude': 'a.*', '--nsExclude': 'b.*',
      '--nsFrom': 'a.*', '--nsTo': 'c.*', '--db': 'ratings', '-d': 'ratings', '--collection': 'reviews', '-c': 'reviews',
    };
    return byName[flag] ?? (flag === '--serverSelectionTimeout' ? '1' : kind === 'int' ? '2' : 'x');
  }

  /** Runs each argv through the real tool and the double, `--archive --uri=<closed port>` first. */
  async function both(tool: Tool, rows: Row[]): Promise<{ real: ToolRun; dbl: ToolRun }[]> {
    const base = (argv: string[]): string[] => ['--archive', ...(argv.some((a) => a.startsWith('--uri') || a.startsWith('--config')) ? [] : [`--uri=${uri}`]), ...argv];
    // most runs sit out the 1 s server selection: many at a time cost little CPU
    const real = await pool(rows, 12, (r) => runTool(tools.bin[tool], base(r.argv), { cwd: work, input: Buffer.alloc(0), killAfterMs: 60_000 }));
    const dbl = await pool(rows, 4, (r) =>
      runTool(process.execPath, [path.join(DOUBLES, tool), ...base(r.argv)], { cwd: work, input: Buffer.alloc(0), env: { PATH: '/usr/bin:/bin', MONGO_DOUBLE_SERVERS: path.join(work, 'no-servers') } }),
    );
    return rows.map((_r, i) => ({ real: real[i], dbl: dbl[i] }));
  }

  function compare(rows: Row[], runs: { real: ToolRun; dbl: ToolRun }[], want?: Outcome): string[] {
    const first = (r: ToolRun): string => r.stderr.split('\n').find((l) => l.trim()) ?? `exit ${r.code}`;
    const problems: string[] = [];
    rows.forEach((r, i) => {
      const a = outcome(runs[i].real);
      const b = outcome(runs[i].dbl);
      if (want && a !== want) problems.push(`${r.label}: the real tool ${a} (expected ${want}): ${first(runs[i].real)}`);
      if (a !== b) problems.push(`${r.label}: real ${a} (${first(runs[i].real)}), double ${b} (${first(runs[i].dbl)})`);
    });
    return problems;
  }

  for (const tool of ['mongodump', 'mongorestore'] as const) {
    it(`${tool}: every flag with a valid value, in every form, is past parsing in both`, async () => {
      const flags = Object.entries(table[tool]).filter(([f]) => f !== '--help' && f !== '--version' && f !== '--quiet');
      const long = flags.filter(([f]) => f.startsWith('--'));
      const short = flags.filter(([f]) => !f.startsWith('--'));
      const rows: Row[] = [
        { label: 'every long flag as --f=v / --f', argv: long.flatMap(([f, k]) => (k === 'bool' || k === 'optional' ? [f] : [`${f}=${sample(f, k)}`])) },
        { label: 'every long flag as --f v / --f=v (optional values)', argv: long.flatMap(([f, k]) => (k === 'bool' ? [f] : k === 'optional' ? [`${f}=${sample(f, k)}`] : [f, sample(f, k)])) },
        { label: 'every shorthand as -x v', argv: short.flatMap(([f, k]) => (k === 'bool' ? [f] : [f, sample(f, k)])) },
        { label: 'every shorthand as -xv / -x=v', argv: short.map(([f, k]) => (k === 'bool' ? f : k === 'int' ? `${f}${sample(f, k)}` : `${f}=${sample(f, k)}`)) },
        { label: '-vvv', argv: ['-vvv'] },
        { label: '--quiet', argv: ['--quiet'] },
      ];
      const problems = compare(rows, await both(tool, rows), 'connect');
      if (problems.length) {
        // which flag: each alone (a SCRAM mechanism needs a user name and password: checked before connecting)
        const companions: Record<string, string[]> = { '--authenticationMechanism': ['--username=u', '--password=p'] };
        const alone = long.map(([f, k]): Row => ({ label: `${f} alone`, argv: [k === 'bool' || k === 'optional' ? f : `${f}=${sample(f, k)}`, ...(companions[f] ?? [])] }));
        problems.push(...compare(alone, await both(tool, alone), 'connect'));
      }
      assert.deepEqual(problems, []);
    });

    it(`${tool}: bad values, missing values, unknown flags, wrong case, --help and --version: the same outcome from both`, async () => {
      const rows: Row[] = [];
      const entries = Object.entries(table[tool]);
      for (const [f, k] of entries) {
        if (k === 'bool' && f.startsWith('--')) rows.push({ label: `${f}=true`, argv: [`${f}=true`] });
        if (k === 'value' || k === 'int') rows.push({ label: `${f}=x`, argv: [`${f}=x`] });
      }
      const value = entries.find(([f, k]) => k === 'value' && f.startsWith('--') && f !== '--uri');
      const int = entries.find(([f, k]) => k === 'int' && f.startsWith('--'));
      rows.push(
        { label: `${value![0]} without its value`, argv: [value![0]] },
        { label: `${int![0]} without its value`, argv: [int![0]] },
        { label: `${int![0]} followed by a flag`, argv: [int![0], '--gzip'] },
        { label: 'an unknown flag', argv: ['--no-such-flag'] },
        { label: 'a flag in the wrong case', argv: ['--GZIP'] },
        { label: 'an unknown shorthand', argv: ['-Z'] },
        { label: '--verbose 2 (an optional value needs =)', argv: ['--verbose', '2'] },
        { label: '--verbose=x', argv: ['--verbose=x'] },
        { label: '-v=2', argv: ['-v=2'] },
        { label: '-v2', argv: ['-v2'] },
        { label: '-vv=x', argv: ['-vv=x'] },
        { label: '--authenticationMechanism without a user name', argv: ['--authenticationMechanism=SCRAM-SHA-256'] },
        { label: '--host without the port of the URI', argv: ['--host=127.0.0.1'] },
        { label: '--uri and --config', argv: [`--uri=${uri}`, `--config=${cfg}`] },
        { label: 'two positionals', argv: ['a', 'b'] },
        { label: '--help', argv: ['--help'] },
        { label: '--version', argv: ['--version'] },
      );
      const runs = await both(tool, rows);
      const problems = compare(rows, runs);
      assert.deepEqual(problems, []);
      const seen = new Set(runs.map((r) => outcome(r.real)));
      assert.ok(seen.has('parse') && seen.has('connect'), 'the rows have both outcomes, so the comparison can fail either way');
    });
  }
});
