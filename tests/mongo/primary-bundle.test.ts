/**
 * `mongo primary status|move` as operators and agents run it: the built CLI (`stackhub-ha mongo primary move
 * --site dublin`, the connection string from an environment variable) and the built ADO task
 * (StackHubMongoBackup@1 command primary-status) and GitHub Action (mongo-backup, command primary-move), with the mongosh double on PATH running the scripts against the
 * replica-set state machine. Bad input → one line naming the input, exit non-zero, no stack.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireBuilt, runAdoTask, runCli, runGitHubAction } from '../helpers/harness';
import { D0, D1, primaryHost, rsUri, S0, twoSites, writeReplSet, writeSitesFile } from './replset-world';
import { World } from './world';

describe('mongo primary: the built CLI, ADO task and GitHub Action (mongosh double)', function () {
  this.timeout(180_000);
  let w: World;
  let sitesFile: string;
  before(async () => {
    requireBuilt();
    if (!fs.existsSync(path.resolve(__dirname, '..', '..', 'tasks', 'StackHubMongoBackupV1', 'dist', 'index.js'))) throw new Error('the task is not built: node node_modules/tsx/dist/cli.mjs scripts/build.ts --no-actions');
    w = await new World().init();
    sitesFile = writeSitesFile(w);
  });
  after(() => w?.cleanup());
  beforeEach(() => writeReplSet(w, twoSites()));

  const cli = (args: string[]) => runCli(args, { env: { ...w.env(), MONGO_URI: rsUri(w) }, cwd: w.dir });

  it('CLI: mongo primary status, then mongo primary move --site dublin (outputs file)', async () => {
    const st = await cli(['mongo', 'primary', 'status', '--site', 'seattle', '--sites-file', sitesFile, '--connection-string-env', 'MONGO_URI']);
    assert.equal(st.exitCode, 0, st.stderr);
    assert.match(st.stdout, /primary mongo-0\.seattle\.contoso\.local:27017 \(seattle\)/);
    const mv = await cli(['mongo', 'primary', 'move', '--site', 'dublin', '--sites-file', sitesFile, '--connection-string-env', 'MONGO_URI', '--outputs-file', 'out.json']);
    assert.equal(mv.exitCode, 0, mv.stderr);
    const out = JSON.parse(fs.readFileSync(path.join(w.dir, 'out.json'), 'utf8')) as Record<string, string>;
    assert.equal(out.primaryBefore, `${S0} (seattle)`);
    assert.equal(out.primaryAfter, `${D0} (dublin)`);
    assert.equal(primaryHost(w), D0);
    assert.ok(![st.stdout, st.stderr, mv.stdout, mv.stderr].join('\n').includes(w.password));
    assert.ok(!JSON.stringify(w.records()).includes(w.password), 'never on an argv');
  });

  it('CLI: bad input is one line naming the input, exit non-zero, no stack', async () => {
    const r = await cli(['mongo', 'primary', 'move', '--site', 'dublin', '--sites-file', sitesFile, '--connection-string-env', 'MONGO_URI', '--catch-up-seconds', '90']);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /input 'catchUpSeconds': must be less than stepDownSeconds \(60\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/);
    const lag = await cli(['mongo', 'primary', 'move', '--site', 'dublin', '--sites-file', sitesFile, '--connection-string-env', 'MONGO_URI', '--max-lag-seconds', '-1']);
    assert.match(lag.stderr, /input 'maxLagSeconds'/);
  });

  it('ADO task: primary-status sets the outputs; the connection string is registered as a secret', async () => {
    writeReplSet(w, twoSites().map((m) => (m.host === D1 ? { ...m, lagSeconds: 12 } : m)));
    const r = await runAdoTask({ task: 'StackHubMongoBackupV1', inputs: { command: 'primary-status', site: 'dublin', sitesFile, connectionString: rsUri(w) }, env: w.env() });
    assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
    assert.equal(r.variables.get('primarySite')?.value, 'seattle');
    const members = JSON.parse(r.variables.get('members')?.value ?? '[]') as { host: string; lagSeconds?: number }[];
    assert.equal(members.find((m) => m.host === D1)?.lagSeconds, 12);
    assert.ok(r.secrets.includes(rsUri(w)));
  });

  it('GitHub Action: primary-move to dublin; outputs, the step summary shows the primary before and after, the URI masked', async () => {
    const r = await runGitHubAction({ action: 'mongo-backup', inputs: { command: 'primary-move', site: 'dublin', sitesFile, connectionString: rsUri(w) }, env: w.env() });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(r.outputs.get('primaryBefore'), `${S0} (seattle)`);
    assert.equal(r.outputs.get('primaryAfter'), `${D0} (dublin)`);
    assert.equal(r.outputs.get('primarySite'), 'dublin');
    assert.equal(primaryHost(w), D0);
    assert.match(r.summary, /Mongo primary before/);
    assert.ok(r.masks.includes(rsUri(w)), `the connection string is masked: ${JSON.stringify(r.masks)}`);
    const shown = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    assert.ok(!r.summary.includes(w.password) && !shown.join('\n').includes(w.password), 'the password only in ::add-mask::');
  });
});
