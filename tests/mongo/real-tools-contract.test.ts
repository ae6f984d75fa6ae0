/**
 * Contract with the REAL MongoDB Database Tools 100.8.0 (../shared/tools, verified against SHA256SUMS):
 * - every argv and `--config` file src/mongo/ produces (scopes, --oplog/--oplogReplay, include/exclude,
 *   --nsFrom/--nsTo, --drop, read preference, TLS/CA options in the URI, extra args, the agent place and the argv of
 *   the tool inside the pod) gets past the real tool's flag, config and URI parsing and fails only at connecting
 *   (a closed port on 127.0.0.1). The config keys must be ones the tools honour.
 * - the doubles in tests/helpers/mongo-doubles accept and reject exactly what the real tools accept and reject, and
 *   their flag table (flags.json) is the one derived from the real tools' --help.
 * - version detection (the catalog's parseVersion) reads the real `--version` output.
 *
 * Note (mongo-tools 100.8.0, common/db/db.go): `serverSelectionTimeoutMS` / `connectTimeoutMS` in the URI are
 * applied as SECONDS (`time.Duration(n) * time.Second`), so the tests use serverSelectionTimeoutMS=1 (one second).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import {
  EXTRA_ARGS,
  kubectlExecArgs,
  mongodumpArgs,
  mongorestoreArgs,
  parseMongoUri,
  READ_PREFERENCES,
  toolConfigYaml,
  type DumpSpec,
  type RestoreSpec,
} from '../../src/mongo/args';
import { findTool } from '../../src/shared/tools/catalog';
import { ROOT } from '../helpers/harness';
import { closedPort, flagTable, HIDDEN_FLAGS, realMongoTools, runTool, type RealMongoTools, type ToolRun } from '../helpers/real-mongo-tools';
import { makeCa } from '../helpers/tls';

const DOUBLES = path.join(ROOT, 'tests', 'helpers', 'mongo-doubles');
/** The keys mongodump/mongorestore take from --config (common/options/options.go ParseConfigFile; destinationPassword is mongomirror's). */
const HONOURED_CONFIG_KEYS = ['uri', 'password', 'sslPEMKeyPassword'];

type Outcome = 'connect' | 'parse' | 'other';
/** Where a run stopped: at connecting (everything parsed), at parsing (refused), or elsewhere. */
function outcome(r: ToolRun): Outcome {
  if (r.code === 0) return 'other';
  // --quiet: the tool prints nothing once parsing is done (parse errors are logged before verbosity is set)
  if (r.code === 1 && r.stderr.trim() === '') return 'connect';
  if (/error parsing|unknown option|cannot have an argument|expected argument for flag|Enter password/.test(r.stderr)) return 'parse';
  if (/can't create session|error connecting to host/.test(r.stderr)) return 'connect';
  return 'other';
}

/** Runs jobs with at most `n` at a time (the tools take ~1 s each to give up connecting). */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

describe('mongo: the real MongoDB Database Tools 100.8.0 accept what src/mongo produces', function () {
  this.timeout(300_000);
  let tools: RealMongoTools;
  let work: string;
  let port: number;
  let caFile: string;

  before(async function () {
    tools = realMongoTools(this);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-real-'));
    port = await closedPort();
    caFile = makeCa(work).certFile;
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  const uris = (): [string, string][] => [
    ['user and password', `mongodb://backup:s3cr%3At%40pw@127.0.0.1:${port}/?serverSelectionTimeoutMS=1`],
    ['no credentials', `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=1`],
    ['auth source, replica set, read preference in the URI', `mongodb://backup:pw@127.0.0.1:${port}/admin?authSource=admin&replicaSet=rs0&readPreference=secondaryPreferred&serverSelectionTimeoutMS=1`],
    ['TLS with a private CA file', `mongodb://backup:pw@127.0.0.1:${port}/?tls=true&tlsCAFile=${encodeURIComponent(caFile)}&serverSelectionTimeoutMS=1`],
    ['TLS, insecure', `mongodb://backup:pw@127.0.0.1:${port}/?tls=true&tlsInsecure=true&serverSelectionTimeoutMS=1`],
  ];

  /** Writes the --config file exactly as the agent place does (toolConfigYaml, mode 0600). */
  function writeConfig(uri: string, name: string): string {
    const dir = fs.mkdtempSync(path.join(work, 'cfg-'));
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, toolConfigYaml(parseMongoUri(uri, 'connectionString')), { mode: 0o600 });
    return file;
  }

  function dumpSpecs(cfg: string): [string, DumpSpec][] {
    const extras = Object.entries(EXTRA_ARGS.mongodump).map(([f, re]) => (re === null ? f : f === '--verbose' ? '--verbose=2' : `${f}=2`));
    return [
      ['instance (--oplog)', { scope: 'instance', configPath: cfg }],
      ...READ_PREFERENCES.map((rp): [string, DumpSpec] => [`instance, read preference ${rp}`, { scope: 'instance', configPath: cfg, readPreference: rp }]),
      ['database', { scope: 'database', database: 'ratings', configPath: cfg }],
      ['one collection', { scope: 'database', database: 'ratings', collection: 'reviews', configPath: cfg }],
      ['excluded collections', { scope: 'database', database: 'ratings', excludeCollections: ['audit', 'tmp'], configPath: cfg }],
      ['every allowed extra argument', { scope: 'database', database: 'ratings', configPath: cfg, extraArgs: extras.filter((e) => e !== '--quiet') }],
      ['--quiet', { scope: 'instance', configPath: cfg, extraArgs: ['--quiet'] }],
    ];
  }

  function restoreSpecs(cfg: string): [string, RestoreSpec][] {
    const extras = Object.entries(EXTRA_ARGS.mongorestore).map(([f, re]) =>
      re === null ? f : f === '--verbose' ? '--verbose=2' : f === '--writeConcern' ? "--writeConcern={w: 'majority'}" : `${f}=2`);
    return [
      ['instance (--oplogReplay) with --drop', { scope: 'instance', drop: true, configPath: cfg }],
      ['instance without --drop', { scope: 'instance', drop: false, configPath: cfg }],
      ['database (--nsInclude)', { scope: 'database', database: 'ratings', drop: true, configPath: cfg }],
      ['database renamed (--nsFrom/--nsTo)', { scope: 'database', database: 'ratings', targetDatabase: 'ratings_drill_1a2b3c4d', drop: false, configPath: cfg }],
      ['every allowed extra argument', { scope: 'database', database: 'ratings', drop: true, configPath: cfg, extraArgs: extras.filter((e) => e !== '--quiet') }],
      ['--quiet', { scope: 'instance', drop: true, configPath: cfg, extraArgs: ['--quiet'] }],
    ];
  }

  /** The argv as each place runs it: the agent runs the tool; kubectl-exec runs the command after `--` in the pod. */
  function places(tool: 'mongodump' | 'mongorestore', args: string[]): [string, string[]][] {
    const exec = kubectlExecArgs({ kubeconfig: '/t/k', namespace: 'ns' }, 'mongo-0', 'mongod', tool === 'mongorestore', [tool, ...args]);
    const inPod = exec.slice(exec.indexOf('--') + 1);
    assert.equal(inPod[0], tool);
    return [['agent', args], ['kubectl-exec (in the pod)', inPod.slice(1)]];
  }

  it('the config files hold only keys the tools honour, and the tools take the URI and password from them', async () => {
    for (const [name, uri] of uris()) {
      const cfg = writeConfig(uri, 'c');
      const keys = Object.keys(YAML.parse(fs.readFileSync(cfg, 'utf8')) as object);
      for (const k of keys) assert.ok(HONOURED_CONFIG_KEYS.includes(k), `${name}: config key '${k}' is ignored by mongodump/mongorestore 100.8.0`);
      const r = await runTool(tools.bin.mongodump, ['--archive', `--config=${cfg}`], { killAfterMs: 30_000 });
      assert.equal(outcome(r), 'connect', `${name}: ${r.stderr}`);
      // the URI came from the file (the tool names it), the password did too (no prompt, never printed)
      assert.match(r.stderr, new RegExp(`failed to connect to mongodb://[^ ]*127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(r.stderr, /s3cr|Enter password/);
    }
  });

  it('every mongodump argv (both places, every URI shape) gets past parsing and fails only at connecting', async () => {
    const jobs: { label: string; args: string[] }[] = [];
    for (const [uname, uri] of uris()) {
      const cfg = writeConfig(uri, 'dump');
      for (const [sname, spec] of dumpSpecs(cfg)) {
        for (const [pname, args] of places('mongodump', mongodumpArgs(spec))) {
          if (pname !== 'agent' && uname !== 'user and password') continue; // the pod argv differs only in the place
          jobs.push({ label: `${sname} / ${uname} / ${pname}`, args });
        }
      }
    }
    const runs = await pool(jobs, 4, (j) => runTool(tools.bin.mongodump, j.args, { killAfterMs: 30_000 }));
    const bad = runs.map((r, i) => [jobs[i], r] as const).filter(([, r]) => outcome(r) !== 'connect');
    assert.deepEqual(bad.map(([j, r]) => `${j.label}: ${j.args.join(' ')} → ${r.stderr.trim().split('\n')[0]}`), []);
  });

  it('every mongorestore argv (archive on stdin, both places) gets past parsing and fails only at connecting', async () => {
    const jobs: { label: string; args: string[] }[] = [];
    for (const [uname, uri] of uris()) {
      const cfg = writeConfig(uri, 'restore');
      for (const [sname, spec] of restoreSpecs(cfg)) {
        for (const [pname, args] of places('mongorestore', mongorestoreArgs(spec))) {
          if (pname !== 'agent' && uname !== 'user and password') continue;
          jobs.push({ label: `${sname} / ${uname} / ${pname}`, args });
        }
      }
    }
    const runs = await pool(jobs, 4, (j) => runTool(tools.bin.mongorestore, j.args, { input: Buffer.alloc(0), killAfterMs: 30_000 }));
    const bad = runs.map((r, i) => [jobs[i], r] as const).filter(([, r]) => outcome(r) !== 'connect');
    assert.deepEqual(bad.map(([j, r]) => `${j.label}: ${j.args.join(' ')} → ${r.stderr.trim().split('\n')[0]}`), []);
  });

  it('flags.json (the doubles\' flag table) is the one derived from the real tools\' --help', async () => {
    const committed = JSON.parse(fs.readFileSync(path.join(DOUBLES, 'flags.json'), 'utf8')) as Record<string, unknown>;
    for (const tool of ['mongodump', 'mongorestore'] as const) {
      const help = await runTool(tools.bin[tool], ['--help']);
      assert.equal(help.code, 0);
      assert.deepEqual(committed[tool], flagTable(help.stdout + help.stderr, tool), `${tool}: regenerate tests/helpers/mongo-doubles/flags.json from the real --help`);
    }
  });

  it('the hidden flags in the table are accepted by the real tools', async () => {
    const cfg = writeConfig(uris()[0][1], 'hidden');
    const jobs: { tool: 'mongodump' | 'mongorestore'; flag: string }[] = [];
    for (const tool of ['mongodump', 'mongorestore'] as const) for (const flag of Object.keys(HIDDEN_FLAGS[tool])) jobs.push({ tool, flag });
    const runs = await pool(jobs, 4, (j) => {
      const kind = HIDDEN_FLAGS[j.tool][j.flag];
      const value = j.flag === '--compressors' ? 'none' : j.flag.startsWith('--temp') ? 'x' : j.flag === '--serverSelectionTimeout' ? '1' : '30';
      return runTool(tools.bin[j.tool], ['--archive', `--config=${cfg}`, kind === 'bool' ? j.flag : `${j.flag}=${value}`], { killAfterMs: 60_000 });
    });
    assert.deepEqual(runs.map((r, i) => `${jobs[i].tool} ${jobs[i].flag}: ${outcome(r)}`).filter((l) => !l.endsWith('connect')), []);
  });

  describe('the doubles accept and reject exactly what the real tools do', () => {
    const table = (cfg: string): Record<'mongodump' | 'mongorestore', string[][]> => ({
      mongodump: [
        ['--archive', '--gzip', `--config=${cfg}`, '--oplog'],
        ['--archive', `--config=${cfg}`, '--db', 'ratings'],
        ['--archive', `--config=${cfg}`, '-d=ratings', '-c', 'reviews'],
        ['--archive', `--config=${cfg}`, '-dratings'],
        ['--archive', `--config=${cfg}`, '-j=2'],
        ['--archive', `--config=${cfg}`, '-j2'],
        ['--archive', `--config=${cfg}`, '-vvv'],
        ['--archive', `--config=${cfg}`, '--verbose=2'],
        ['--archive', `--config=${cfg}`, '--verbose', '2'],
        ['--archive', `--config=${cfg}`, '--gzip=true'],
        ['--archive', `--config=${cfg}`, '--tls'],
        ['--archive', `--config=${cfg}`, '--tlsCAFile=/x.pem'],
        ['--archive', `--config=${cfg}`, '--sslCAFile=/x.pem'],
        ['--archive', `--config=${cfg}`, '--bogus'],
        ['--archive', `--config=${cfg}`, '--db'],
        ['--archive', `--config=${cfg}`, '--readPreference=secondary'],
        ['--archive', `--config=${cfg}`, '--readPreference=sideways'],
        ['--archive', `--config=${cfg}`, '--oplog', '--db=ratings'],
        ['--archive', `--config=${cfg}`, '--compressors=snappy'],
        ['--archive', `--config=${cfg}`, '--numParallelCollections=4', '--forceTableScan', '--viewsAsCollections'],
        ['--archive', `--config=${cfg}`, '--oplogReplay'],
      ],
      mongorestore: [
        ['--archive', '--gzip', `--config=${cfg}`, '--drop', '--oplogReplay'],
        ['--archive', `--config=${cfg}`, '--nsInclude=ratings.*', '--nsFrom=ratings.*', '--nsTo=drill.*'],
        ['--archive', `--config=${cfg}`, '--oplogReplay', '--nsInclude=ratings.*'],
        ['--archive', `--config=${cfg}`, '--dryRun', '--stopOnError', '--preserveUUID'],
        ['--archive', `--config=${cfg}`, "--writeConcern={w: 'majority'}"],
        ['--archive', `--config=${cfg}`, '--drop=yes'],
        ['--archive', `--config=${cfg}`, '--tls'],
        ['--archive', `--config=${cfg}`, '--oplog'],
        ['--archive', `--config=${cfg}`, '-j=2', '--numInsertionWorkersPerCollection=3'],
        ['--archive', `--config=${cfg}`, '--nsFrom'],
        ['--archive', `--config=${cfg}`, '-vv', '--quiet'],
      ],
    });

    for (const tool of ['mongodump', 'mongorestore'] as const) {
      it(`${tool}: same accept/reject as the real tool for every argv of the table`, async () => {
        const cfg = writeConfig(uris()[0][1], `table-${tool}`);
        const rows = table(cfg)[tool];
        const real = await pool(rows, 4, (a) => runTool(tools.bin[tool], a, { killAfterMs: 30_000 }));
        const dbl = await pool(rows, 4, (a) => runTool(process.execPath, [path.join(DOUBLES, tool), ...a], { env: { PATH: '/usr/bin:/bin', MONGO_DOUBLE_SERVERS: path.join(work, 'no-servers') } }));
        const lines = rows.map((a, i) => `${a.slice(2).join(' ')}: real ${outcome(real[i])}, double ${outcome(dbl[i])}`);
        const differ = lines.filter((_l, i) => outcome(real[i]) !== outcome(dbl[i]));
        assert.deepEqual(differ, [], lines.join('\n'));
        // the table has both kinds, so the comparison can fail either way
        assert.ok(real.some((r) => outcome(r) === 'parse') && real.some((r) => outcome(r) === 'connect'));
      });
    }

    it('a config file key the tools do not know is refused by both', async () => {
      const file = path.join(work, 'unknown-key.yaml');
      fs.writeFileSync(file, `uri: mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=1\nreadPreference: secondary\n`, { mode: 0o600 });
      const real = await runTool(tools.bin.mongodump, ['--archive', `--config=${file}`]);
      const dbl = await runTool(process.execPath, [path.join(DOUBLES, 'mongodump'), '--archive', `--config=${file}`], { env: { PATH: '/usr/bin:/bin' } });
      assert.equal(outcome(real), 'parse', real.stderr);
      assert.equal(outcome(dbl), 'parse', dbl.stderr);
      assert.match(real.stderr, /error parsing config file .*field readPreference not found/s);
    });
  });

  it('version detection reads the real --version output', async () => {
    const spec = findTool('mongodump')!;
    for (const b of spec.binaries) {
      const r = await runTool(tools.bin[b as 'mongodump'], spec.versionArgs);
      assert.equal(r.code, 0);
      assert.equal(spec.parseVersion(r.stdout + r.stderr), tools.version, `${b} --version: ${r.stdout}`);
    }
  });
});
