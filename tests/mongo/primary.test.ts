/**
 * `mongo primary status|move` through the real frame (runCapability, in-process) with the mongosh double RUNNING
 * the generated scripts against the replica-set state machine (tests/helpers/mongo-doubles/replset.js): status by
 * site, a move with catch-up and restored priorities, refusals (lagging target, not electable, no primary without
 * allowForceReconfig), a failed step-down that puts the priorities back, a forced reconfiguration, kubectl-exec, and
 * bad input as one line naming the input.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mongoBackup } from '../../src/mongo';
import { D0, D1, primaryHost, prioritiesNow, readReplSet, rsUri, S0, S1, twoSites, writeReplSet, writeSitesFile, ARB } from './replset-world';
import { runInProcess, World } from './world';

describe('mongo primary status / move (in-process, mongosh double runs the scripts)', function () {
  this.timeout(120_000);
  let w: World;
  let sitesFile: string;
  const run = (inputs: Record<string, string>) => runInProcess(mongoBackup, { sitesFile, connectionString: rsUri(w), ...inputs }, w.env());
  const scripts = (): { op?: string; argv: string[] }[] => w.records().filter((r) => r.tool === 'mongosh') as never;

  before(async () => {
    w = await new World().init();
    sitesFile = writeSitesFile(w);
  });
  after(() => w.cleanup());
  beforeEach(() => {
    w.clearRecords();
    writeReplSet(w, twoSites());
  });

  it('status: every member with site (tag or sites file), state, priority, lag and health; no storage inputs needed', async () => {
    writeReplSet(w, twoSites().map((m) => (m.host === D1 ? { ...m, lagSeconds: 7 } : m)));
    const p = await run({ command: 'primary-status', site: 'seattle' });
    assert.ok(p.succeeded, p.failed);
    assert.equal(p.outputs.primaryBefore, `${S0} (seattle)`);
    assert.equal(p.outputs.primarySite, 'seattle');
    const members = JSON.parse(p.outputs.members) as { host: string; site?: string; state: string; priority: number; lagSeconds?: number; healthy: boolean }[];
    assert.deepEqual(
      members.map((m) => [m.host, m.site ?? null, m.state, m.priority, m.lagSeconds ?? null, m.healthy]),
      [
        [S0, 'seattle', 'PRIMARY', 2, 0, true],
        [S1, 'seattle', 'SECONDARY', 2, 0, true],
        [D0, 'dublin', 'SECONDARY', 1, 0, true],
        [D1, 'dublin', 'SECONDARY', 1, 7, true],
        [ARB, null, 'ARBITER', 0, null, true],
      ],
    );
    assert.match(p.summary, /\| mongo-1\.dublin\.contoso\.local:27017 \| dublin \| SECONDARY \| 1 \| 1 \| 7 \| ok \| yes \|/);
    assert.match(p.summary, /arbiter\.witness\.contoso\.local:27017 \| \? \| ARBITER .* no \(arbiter, priority 0\)/);
    // the script ran from a 0600 file with --nodb; the password is neither on argv nor in the output
    const sh = scripts();
    assert.equal(sh.length, 1);
    assert.deepEqual(sh[0].argv.slice(0, 4), ['--nodb', '--quiet', '--norc', '--file']);
    assert.ok(!JSON.stringify(w.records()).includes(w.password));
    assert.ok(!p.text.includes(w.password));
  });

  it('move: raise, step down with catch-up, wait for a majority-committed primary, configured priorities led by the target', async () => {
    writeReplSet(w, twoSites().map((m) => (m.host === D0 ? { ...m, lagSeconds: 4 } : m)));
    const p = await run({ command: 'primary-move', site: 'dublin', maxLagSeconds: '10', catchUpSeconds: '10' });
    assert.ok(p.succeeded, p.failed);
    assert.equal(p.outputs.primaryBefore, `${S0} (seattle)`);
    // D0 lagged 4 s, D1 was caught up: the least-lagging electable member of dublin is the target
    assert.equal(p.outputs.primaryAfter, `${D1} (dublin)`);
    assert.equal(p.outputs.primarySite, 'dublin');
    assert.equal(primaryHost(w), D1);
    const s = readReplSet(w);
    assert.equal(s.lastCommitted.t, s.term, 'majority-committed in the new term');
    // the configured priorities, led by the target: it has seattle's 2, the members that had 2 got its 1
    assert.deepEqual(prioritiesNow(w), { [S0]: 1, [S1]: 1, [D0]: 1, [D1]: 2, [ARB]: 0 });
    assert.deepEqual(scripts().map((r) => r.op), ['status', 'status', 'reconfig', 'stepDown', 'wait', 'reconfig', 'status']);
    assert.ok(s.events!.some((e) => e.includes(`${S0} stepped down for 60 s`)), s.events!.join('\n'));
    assert.match(p.summary, /\| before \| mongo-0\.seattle\.contoso\.local:27017 \(seattle\) \|/);
    assert.match(p.summary, /\| after \| mongo-1\.dublin\.contoso\.local:27017 \(dublin\) \|/);
  });

  it('move to the site that has the primary: nothing changes', async () => {
    const p = await run({ command: 'primary-move', site: 'seattle' });
    assert.ok(p.succeeded, p.failed);
    assert.equal(p.outputs.primaryAfter, `${S0} (seattle)`);
    assert.deepEqual(scripts().map((r) => r.op), ['status']);
  });

  it('refused: the target lags beyond maxLagSeconds (nothing changed)', async () => {
    writeReplSet(w, twoSites().map((m) => (m.site === 'dublin' ? { ...m, lagSeconds: 45 } : m)));
    const p = await run({ command: 'primary-move', site: 'dublin', maxLagSeconds: '30' });
    assert.match(p.failed ?? '', /mongo-\d\.dublin\.contoso\.local:27017 \(site dublin\) is 45 s behind the primary .* more than maxLagSeconds 30: .* nothing was changed/);
    assert.equal(primaryHost(w), S0);
    assert.equal(readReplSet(w).config.version, 5);
  });

  it('refused: the site has no electable member (priority 0, hidden, arbiter)', async () => {
    writeReplSet(w, twoSites().map((m) => (m.host === D0 ? { ...m, priority: 0 } : m.host === D1 ? { ...m, priority: 0, hidden: true } : m)));
    const p = await run({ command: 'primary-move', site: 'dublin' });
    assert.match(p.failed ?? '', /site dublin has no electable member of replica set rs0: mongo-0\.dublin\.contoso\.local:27017 \(priority 0\); mongo-1\.dublin\.contoso\.local:27017 \(hidden, priority 0\); nothing was changed/);
    assert.equal(readReplSet(w).config.version, 5);
  });

  it('step-down fails (no electable secondary catches up): the configured priorities are put back', async () => {
    // the other seattle member is down, dublin's replication is stuck 8 s behind: nobody catches up
    writeReplSet(w, twoSites().map((m) => (m.site === 'dublin' ? { ...m, lagSeconds: 8, stuck: true } : m.host === S1 ? { ...m, down: true } : m)));
    const p = await run({ command: 'primary-move', site: 'dublin', maxLagSeconds: '10' });
    assert.match(p.failed ?? '', /replSetStepDown on mongo-0\.seattle\.contoso\.local:27017 failed: ExceededTimeLimit No electable secondaries caught up as of .*; the configured priorities are back .*; the primary is still mongo-0\.seattle/);
    assert.equal(primaryHost(w), S0);
    assert.deepEqual(prioritiesNow(w), { [S0]: 2, [S1]: 2, [D0]: 1, [D1]: 1, [ARB]: 0 });
    assert.equal(readReplSet(w).config.version, 7, 'raised (6), then put back (7)');
    assert.ok(readReplSet(w).events!.every((e) => !/elected/.test(e)), 'no election happened');
  });

  it('the step-down succeeds but the target never catches up (stuck): bounded wait, the primary now named', async () => {
    // S1 is caught up, so the old primary steps down; dublin's replication is stuck: S1 wins the election
    writeReplSet(w, twoSites().map((m) => (m.site === 'dublin' ? { ...m, lagSeconds: 3, stuck: true } : m)));
    const p = await run({ command: 'primary-move', site: 'dublin', electionTimeoutSeconds: '5' });
    assert.match(p.failed ?? '', /mongo-0\.dublin\.contoso\.local:27017 did not become a majority-committed primary within electionTimeoutSeconds 5 \(primary now: mongo-1\.seattle\.contoso\.local:27017 \(seattle\)\)/);
    assert.equal(primaryHost(w), S1);
  });

  it('step-down fails with a server error (LockTimeout): reported, priorities back', async () => {
    writeReplSet(w, twoSites(), (s) => (s.stepDownError = { code: 24, codeName: 'LockTimeout', errmsg: 'Unable to acquire X lock within 1000ms' }));
    const p = await run({ command: 'primary-move', site: 'dublin' });
    assert.match(p.failed ?? '', /replSetStepDown .* failed: LockTimeout Unable to acquire X lock within 1000ms; the configured priorities are back/);
    assert.deepEqual(prioritiesNow(w), { [S0]: 2, [S1]: 2, [D0]: 1, [D1]: 1, [ARB]: 0 });
  });

  describe('the other site is lost (no arbiter: seattle 2 voters, dublin 1)', () => {
    const lost = () =>
      writeReplSet(w, [
        { host: S0, site: 'seattle', priority: 2, tag: true, state: 'PRIMARY', down: true },
        { host: S1, site: 'seattle', priority: 2, tag: true, down: true },
        { host: D0, site: 'dublin', priority: 1, lagSeconds: 2 },
      ]);
    let sites2: string;
    before(() => {
      sites2 = writeSitesFile(w, [
        { host: S0, site: 'seattle', tag: true },
        { host: S1, site: 'seattle', tag: true },
        { host: D0, site: 'dublin' },
      ]);
    });
    after(() => {
      sitesFile = writeSitesFile(w);
    });

    it('no primary and no allowForceReconfig: refused, naming the data-loss risk', async () => {
      lost();
      const p = await runInProcess(mongoBackup, { sitesFile: sites2, connectionString: rsUri(w, [S0, S1, D0]), command: 'primary-move', site: 'dublin' }, w.env());
      assert.match(p.failed ?? '', /replica set rs0 has no primary .* only by a forced reconfiguration, which can lose writes .* set allowForceReconfig: true .* nothing was changed/);
      assert.equal(readReplSet(w).config.version, 5);
    });

    it('allowForceReconfig: forced on the survivor (lost members votes 0, priority 0), elected, majority-committed', async () => {
      lost();
      const p = await runInProcess(mongoBackup, { sitesFile: sites2, connectionString: rsUri(w, [S0, S1, D0]), command: 'primary-move', site: 'dublin', allowForceReconfig: 'true' }, w.env());
      assert.ok(p.succeeded, p.failed);
      assert.equal(p.outputs.primaryBefore, '');
      assert.equal(p.outputs.primaryAfter, `${D0} (dublin)`);
      const s = readReplSet(w);
      assert.ok(s.config.version > 10_000, 'a forced reconfiguration raises the version by a large random number');
      assert.deepEqual(s.config.members.map((m) => [m.host, m.votes, m.priority]), [[S0, 0, 0], [S1, 0, 0], [D0, 1, 2]]);
      assert.ok(p.lines.some((l) => /^warning: FORCED reconfiguration on mongo-0\.dublin/.test(l)));
      assert.match(p.summary, /forced reconfiguration \| yes/);
    });
  });

  it('kubectl-exec: the script is written into the pod (0600), run there, removed; the config too', async () => {
    const p = await runInProcess(
      mongoBackup,
      { sitesFile, command: 'primary-move', site: 'dublin', place: 'kubectl-exec', podNamespace: 'ratings', podSelector: 'app=mongo', connectionString: rsUri(w), kubeconfig: w.kubeconfig },
      w.env(),
    );
    assert.ok(p.succeeded, p.failed);
    assert.equal(p.outputs.primarySite, 'dublin');
    const k = w.records().filter((r) => r.tool === 'kubectl').map((r) => r.argv.slice(r.argv.indexOf('--') + 1).join(' '));
    assert.ok(k.some((c) => /^sh -c umask 077 && cat > "\$1" sh .*\/script-[0-9a-f]{8}\.js$/.test(c)), k.join('\n'));
    assert.ok(k.some((c) => /^mongosh --nodb --quiet --norc --file .*\/script-[0-9a-f]{8}\.js$/.test(c)));
    assert.deepEqual(fs.readdirSync(`${w.podRoot}/tmp`), [], 'nothing left in the pod');
    assert.ok(!JSON.stringify(w.records()).includes(w.password));
  });

  describe('bad input: one line naming the input', () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['catchUpSeconds', { command: 'primary-move', site: 'dublin', catchUpSeconds: '60', stepDownSeconds: '60' }, /^input 'catchUpSeconds': must be less than stepDownSeconds \(60\)/],
      ['maxLagSeconds', { command: 'primary-move', site: 'dublin', maxLagSeconds: 'soon' }, /^input 'maxLagSeconds': /],
      ['site (unknown)', { command: 'primary-move', site: 'denver' }, /^input 'site': /],
      ['connectionString', { command: 'primary-status', site: 'dublin', connectionString: 'http://nope' }, /^input 'connectionString': expected a MongoDB connection string/],
    ];
    for (const [name, inputs, re] of cases) {
      it(name, async () => {
        const p = await run(inputs);
        assert.match(p.failed ?? '', re);
        assert.ok(!(p.failed ?? '').includes('\n'), 'one line');
        assert.equal(scripts().length, 0, 'nothing ran');
      });
    }
  });
});
