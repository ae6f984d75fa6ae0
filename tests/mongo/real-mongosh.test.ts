/**
 * The generated primary scripts in the REAL mongosh (no mongod exists on the test machine, so against members that
 * refuse connections): the argv (`--nodb --quiet --norc --file`) is accepted, the script runs in mongosh's
 * evaluator (require('fs'), the YAML config with a quoted password, EJSON.parse/stringify, new Mongo, sleep, the
 * error handling) and prints the result line our parser reads; through the capability the run fails with one line
 * naming every member tried, the password nowhere.
 *
 * The real mongosh is found at $REAL_MONGOSH, in node_modules/.cache/stackhub-ha-tools/mongosh (installed by
 * scripts/prepare-machine.sh from the lock file in tests/tools/mongosh, so CI runs it) or at
 * ../shared/tools/mongosh/<version>/bin/mongosh; without one the suite is skipped with the reason printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMongoUri, toolConfigYaml } from '../../src/mongo/args';
import { parseResult, primaryScript } from '../../src/mongo/primary-script';
import { mongoBackup } from '../../src/mongo';
import { ROOT } from '../helpers/harness';
import { runInProcess } from './world';

function findRealMongosh(): string | undefined {
  if (process.env.REAL_MONGOSH && fs.existsSync(process.env.REAL_MONGOSH)) return process.env.REAL_MONGOSH;
  const prepared = path.join(ROOT, 'node_modules', '.cache', 'stackhub-ha-tools', 'mongosh', 'node_modules', '.bin', 'mongosh');
  if (fs.existsSync(prepared)) return prepared;
  const base = path.resolve(ROOT, '..', 'shared', 'tools', 'mongosh');
  if (!fs.existsSync(base)) return undefined;
  for (const v of fs.readdirSync(base).sort().reverse()) {
    const bin = path.join(base, v, 'bin', 'mongosh');
    if (fs.existsSync(bin)) return bin;
  }
  return undefined;
}

describe('real mongosh: the primary scripts run in it', function () {
  this.timeout(180_000);
  let bin: string;
  let dir: string;
  const password = `p@ss'w"d:#-${Math.random().toString(36).slice(2, 8)}`;
  before(function () {
    const b = findRealMongosh();
    if (!b) {
      console.log('      SKIPPED: no real mongosh ($REAL_MONGOSH or ../shared/tools/mongosh/<version>/bin/mongosh)');
      this.skip();
    }
    bin = b!;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-mongosh-'));
    fs.chmodSync(dir, 0o700);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  const run = (job: Parameters<typeof primaryScript>[0]): { code: number | null; stdout: string; stderr: string } => {
    const cfg = path.join(dir, 'config.yaml');
    fs.writeFileSync(cfg, toolConfigYaml(parseMongoUri(`mongodb://admin:${encodeURIComponent(password)}@127.0.0.1:1,127.0.0.1:2/?replicaSet=rs0&authSource=admin`, 'c')), { mode: 0o600 });
    const file = path.join(dir, `${job.op}.js`);
    fs.writeFileSync(file, primaryScript(job, cfg), { mode: 0o600 });
    const r = spawnSync(bin, ['--nodb', '--quiet', '--norc', '--file', file], { env: { PATH: process.env.PATH, HOME: dir }, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('status: every member tried, the network errors reported in the result line', () => {
    const r = run({ op: 'status', hosts: ['127.0.0.1:1', '127.0.0.1:2'] });
    assert.equal(r.code, 0, r.stderr);
    const res = parseResult<{ errors: { host: string; errmsg: string }[] }>(r.stdout)!;
    assert.deepEqual(res.errors.map((e) => e.host), ['127.0.0.1:1', '127.0.0.1:2']);
    assert.match(res.errors[0].errmsg, /ECONNREFUSED/);
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password));
  });

  it('reconfig: a configuration with an ObjectId goes through EJSON.parse; the failure comes back as a reply', () => {
    const r = run({ op: 'reconfig', host: '127.0.0.1:1', force: false, config: { _id: 'rs0', version: 3, members: [], settings: { replicaSetId: { $oid: '66be828bb7d3f9c5d6b1f6c1' } } } as never });
    assert.equal(r.code, 0, r.stderr);
    const res = parseResult<{ reply: { ok: number; errorName?: string } }>(r.stdout)!;
    assert.equal(res.reply.ok, 0);
    assert.match(res.reply.errorName ?? '', /Mongo(Network|ServerSelection)Error/);
  });

  it('wait: bounded by polls (sleep between them), done false', () => {
    const r = run({ op: 'wait', hosts: ['127.0.0.1:1'], target: '127.0.0.1:1', timeoutSecs: 1, intervalMs: 500 });
    assert.equal(r.code, 0, r.stderr);
    const res = parseResult<{ done: boolean; polls: number }>(r.stdout)!;
    assert.deepEqual([res.done, res.polls], [false, 2]);
  });

  it('through the capability (place agent): one line naming the members tried; no password anywhere', async () => {
    const p = await runInProcess(
      mongoBackup,
      { command: 'primary-status', site: 'seattle', connectionString: `mongodb://admin:${encodeURIComponent(password)}@127.0.0.1:1/?replicaSet=rs0` },
      { PATH: `${path.dirname(bin)}:${process.env.PATH}` },
    );
    assert.match(p.failed ?? '', /^no replica-set member answered from agent → 127\.0\.0\.1:1: 127\.0\.0\.1:1: connect ECONNREFUSED/);
    assert.ok(!p.text.includes(password));
  });
});
