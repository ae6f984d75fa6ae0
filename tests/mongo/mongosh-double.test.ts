/**
 * The mongosh double against the server's documented replies (tests/fixtures/mongo-replset, each with the manual's
 * link): every reply the double gives — hello (primary, secondary), replSetGetStatus (primary, secondary, a member
 * down), replSetGetConfig, replSetReconfig and replSetStepDown (ok and the documented errors) — has exactly the
 * documented keys with the documented JSON types. Also the state machine rules the operations rely on (priority
 * takeover after the election timeout) and the double's argv contract.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers/harness';
import { D0, S0, S1, readReplSet, writeReplSet } from './replset-world';
import { DOUBLES, World } from './world';

const FIX = path.join(ROOT, 'tests', 'fixtures', 'mongo-replset');
const fixture = (n: string): Record<string, unknown> => {
  const d = JSON.parse(fs.readFileSync(path.join(FIX, n), 'utf8')) as Record<string, unknown>;
  delete d.$doc;
  return d;
};

/** The JSON shape: keys (sorted) and types, recursively; arrays by their entries. */
function shape(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(shape);
  if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, shape((x as Record<string, unknown>)[k])]));
  return x === null ? 'null' : typeof x;
}

describe('mongosh double: replies shaped as the documented server replies', function () {
  this.timeout(60_000);
  let w: World;
  before(async () => {
    w = await new World().init();
  });
  after(() => w.cleanup());

  /** Runs a script (0600) with the double; resolves to the parsed `OUT ` lines. */
  const runScript = (body: string, args: string[] = ['--nodb', '--quiet', '--norc', '--file'], mode = 0o600): { code: number | null; out: Record<string, unknown>[]; stderr: string } => {
    const file = path.join(w.dir, `s-${Math.random().toString(36).slice(2)}.js`);
    const cfg = path.join(w.dir, 'cfg.yaml');
    fs.writeFileSync(cfg, `uri: mongodb://admin@${S0}/?authSource=admin\npassword: ${JSON.stringify(w.password)}\n`, { mode: 0o600 });
    const pre = `const __pwd = ${JSON.stringify(w.password)};\nconst c = (h) => new Mongo('mongodb://admin:' + encodeURIComponent(__pwd) + '@' + h + '/?directConnection=true').getDB('admin');\nconst run = (h, cmd) => { try { return c(h).runCommand(cmd); } catch (e) { return { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName }; } };\nconst out = (x) => print('OUT ' + EJSON.stringify(x));\n`;
    fs.writeFileSync(file, pre + body, { mode });
    const r = spawnSync(path.join(DOUBLES, 'mongosh'), [...args, file], { env: { ...w.env(), HOME: w.dir }, encoding: 'utf8' });
    return { code: r.status, stderr: r.stderr, out: r.stdout.split('\n').filter((l) => l.startsWith('OUT ')).map((l) => JSON.parse(l.slice(4)) as Record<string, unknown>) };
  };

  const three = () =>
    writeReplSet(w, [
      { host: S0, priority: 2, state: 'PRIMARY', site: 'seattle', tag: true },
      { host: S1, priority: 1 },
      { host: D0, priority: 1, down: true },
    ]);

  it('hello (primary and secondary), replSetGetStatus (member down), replSetGetConfig', () => {
    three();
    const r = runScript(`out(run('${S0}', { hello: 1 })); out(run('${S1}', { hello: 1 })); out(run('${S0}', { replSetGetStatus: 1 })); out(run('${S0}', { replSetGetConfig: 1 }));`);
    assert.equal(r.code, 0, r.stderr);
    const [hp, hs, st, cf] = r.out;
    assert.deepEqual(shape(hp), shape(fixture('hello-primary.json')));
    assert.deepEqual(shape(hs), shape(fixture('hello-secondary.json')));
    assert.deepEqual(shape(st), shape(fixture('replSetGetStatus.json')));
    assert.deepEqual(shape(cf), shape(fixture('replSetGetConfig.json')));
    assert.equal((hp as { primary: string }).primary, S0);
    assert.equal((hs as { me: string }).me, S1);
  });

  it('replSetReconfig and replSetStepDown: ok and the documented errors', () => {
    three();
    const r = runScript(`
      const cfg = run('${S0}', { replSetGetConfig: 1 }).config; cfg.version += 1; cfg.members[1].priority = 3;
      out(run('${S1}', { replSetReconfig: cfg }));
      out(run('${S0}', { replSetReconfig: cfg }));
      out(run('${S1}', { replSetStepDown: 60, secondaryCatchUpPeriodSecs: 10 }));
      out(run('${S0}', { replSetStepDown: 60, secondaryCatchUpPeriodSecs: 10 }));`);
    assert.equal(r.code, 0, r.stderr);
    const [notPrimary, ok, sdNotPrimary, sdOk] = r.out;
    assert.deepEqual(shape(notPrimary), shape(fixture('replSetReconfig-not-primary.json')));
    assert.equal(notPrimary.codeName, 'NotWritablePrimary');
    assert.deepEqual(shape(ok), shape(fixture('replSetReconfig-ok.json')));
    assert.equal(sdNotPrimary.codeName, 'NotWritablePrimary');
    assert.deepEqual(shape(sdOk), shape(fixture('replSetStepDown-ok.json')));
    // the config kept its ObjectId through EJSON.parse / the command
    assert.deepEqual(readReplSet(w).config.settings.replicaSetId, { $oid: '6755c0ffee00000000000001' });
  });

  it('replSetStepDown without a caught-up electable secondary: ExceededTimeLimit as documented', () => {
    writeReplSet(w, [
      { host: S0, priority: 2, state: 'PRIMARY' },
      { host: S1, priority: 1, lagSeconds: 30 },
      { host: D0, priority: 1, lagSeconds: 5, stuck: true },
    ]);
    const r = runScript(`out(run('${S0}', { replSetStepDown: 60, secondaryCatchUpPeriodSecs: 10 }));`);
    assert.deepEqual(shape(r.out[0]), shape(fixture('replSetStepDown-no-caught-up.json')));
    assert.match(String(r.out[0].errmsg), /^No electable secondaries caught up as of /);
    assert.equal(readReplSet(w).nodes[S0].state, 'PRIMARY');
  });

  it('invalid configurations are refused as the server does (arbiter/hidden priority, version, voting changes)', () => {
    three();
    const r = runScript(`
      const base = () => { const c = run('${S0}', { replSetGetConfig: 1 }).config; c.version += 1; return c; };
      let x = base(); x.members[1].hidden = true; out(run('${S0}', { replSetReconfig: x }));
      x = base(); x.version -= 1; out(run('${S0}', { replSetReconfig: x }));
      x = base(); x.members[1].votes = 0; x.members[1].priority = 0; x.members[2].votes = 0; x.members[2].priority = 0; out(run('${S0}', { replSetReconfig: x }));`);
    assert.deepEqual(r.out.map((o) => [o.code, o.codeName]), [[93, 'InvalidReplicaSetConfig'], [103, 'NewReplicaSetConfigurationIncompatible'], [103, 'NewReplicaSetConfigurationIncompatible']]);
    assert.match(String(r.out[0].errmsg), /priority must be 0 when hidden=true/);
  });

  it('elections: after a step-down the highest-priority caught-up member wins; a higher priority takes over after the election timeout', () => {
    writeReplSet(w, [
      { host: S0, priority: 1, state: 'PRIMARY' },
      { host: S1, priority: 3, lagSeconds: 4 },
      { host: D0, priority: 2 },
    ]);
    const r = runScript(`
      out(run('${S0}', { replSetStepDown: 60, secondaryCatchUpPeriodSecs: 10 }));
      sleep(1000); out(run('${D0}', { hello: 1 }));
      sleep(9000); out(run('${D0}', { hello: 1 }));
      sleep(10000); out(run('${D0}', { hello: 1 }));`);
    assert.equal(r.code, 0, r.stderr);
    // D0 was caught up, S1 (priority 3) 4 s behind: the step-down goes ahead at once and D0 wins; S1 catches up and
    // takes over once it has been the caught-up higher priority for the election timeout
    assert.deepEqual(r.out.slice(1).map((o) => o.primary), [D0, D0, S1]);
    const ev = readReplSet(w).events!;
    assert.ok(ev.some((e) => /stepped down for 60 s after 0 s of catch-up/.test(e)), ev.join('\n'));

    writeReplSet(w, [
      { host: S0, priority: 1, state: 'PRIMARY' },
      { host: S1, priority: 3 },
      { host: D0, priority: 2 },
    ]);
    const t = runScript(`out(run('${D0}', { hello: 1 })); sleep(9000); out(run('${D0}', { hello: 1 })); sleep(1000); out(run('${D0}', { hello: 1 }));`);
    assert.deepEqual(t.out.map((o) => o.primary), [S0, S0, S1], 'priority takeover once electionTimeoutMillis (10 s) has passed');
  });

  it('argv and file contract: --nodb required, the script must be 0600, bad credentials fail authentication', () => {
    three();
    assert.match(runScript('out(1)', ['--quiet', '--file']).stderr, /--nodb expected/);
    assert.match(runScript('out(1)', undefined, 0o644).stderr, /must be mode 0600/);
    const bad = runScript(`out((() => { try { new Mongo('mongodb://admin:nope@${S0}/?directConnection=true'); return { ok: 1 }; } catch (e) { return { ok: 0, codeName: e.codeName }; } })())`);
    assert.equal(bad.out[0].codeName, 'AuthenticationFailed');
    const down = runScript(`out((() => { try { c('${D0}'); return { ok: 1 }; } catch (e) { return { ok: 0, name: e.name, errmsg: e.message }; } })())`);
    assert.equal(down.out[0].name, 'MongoNetworkError');
  });
});
