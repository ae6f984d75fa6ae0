/**
 * src/mongo/replset.ts on the documented replies (tests/fixtures/mongo-replset): status rows by site, lag, the
 * electability reasons, the move plans and the final priorities.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { finalConfig, memberSites, planMove, summarize, type ReplSetConfig, type ReplSetView } from '../../src/mongo/replset';
import { InputError, PreconditionError } from '../../src/shared/errors';
import type { Site } from '../../src/shared/sites';
import { ROOT } from '../helpers/harness';

const fx = (n: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'mongo-replset', n), 'utf8')) as Record<string, unknown>;
const view = (): ReplSetView => ({
  from: 'm1.example.net:27017',
  status: fx('replSetGetStatus.json') as never,
  config: (fx('replSetGetConfig.json') as { config: ReplSetConfig }).config,
  hello: fx('hello-primary.json') as never,
});
const sites: Site[] = [
  { name: 'seattle' },
  { name: 'dublin', mongo: { members: ['m2.example.net:27017', 'M3.example.net:27017'] } },
];

describe('replica-set model (documented replies)', () => {
  it('summarize: site by tag or sites file, state, health, lag, why not electable; majority-committed', () => {
    const st = summarize(view(), sites);
    assert.equal(st.primary?.host, 'm1.example.net:27017');
    assert.equal(st.primary?.site, 'seattle');
    assert.equal(st.majorityCommitted, true);
    assert.deepEqual(
      st.members.map((m) => [m.host, m.site, m.state, m.healthy, m.lagSeconds ?? null, m.notElectable]),
      [
        ['m1.example.net:27017', 'seattle', 'PRIMARY', true, 0, []],
        ['m2.example.net:27017', 'dublin', 'SECONDARY', true, 0, []],
        ['m3.example.net:27017', 'dublin', '(not reachable/healthy)', false, null, ['(not reachable/healthy) (Error connecting to m3.example.net:27017 :: caused by :: Connection refused)']],
      ],
    );
  });

  it('site mapping refusals: an unknown tag, a member claimed by two sites', () => {
    const v = view();
    v.config.members[1].tags = { site: 'denver' };
    assert.throws(() => memberSites(v.config, sites), (e: unknown) => e instanceof InputError && /tagged site 'denver', which is not a site/.test(e.message));
    const twice: Site[] = [{ name: 'seattle', mongo: { members: ['m2.example.net:27017'] } }, sites[1]];
    assert.throws(() => memberSites(view().config, twice), /listed by sites seattle and dublin/);
  });

  it('planMove: stepdown plan raises the target above all; the final config leads with it', () => {
    const v = view();
    const plan = planMove(summarize(v, sites), v.config, { site: 'dublin', maxLagSeconds: 10, allowForceReconfig: false });
    assert.equal(plan.kind, 'stepdown');
    if (plan.kind !== 'stepdown') return;
    assert.equal(plan.target.host, 'm2.example.net:27017');
    assert.equal(plan.primary, 'm1.example.net:27017');
    assert.deepEqual(plan.raised.members.map((m) => m.priority), [2, 3, 1]);
    assert.equal(plan.raised.version, 6);
    assert.deepEqual(plan.final.members.map((m) => m.priority), [1, 2, 1]);
    assert.deepEqual(finalConfig(v.config, 0, 9).members.map((m) => m.priority), [2, 1, 1], 'the top member stays as configured');
  });

  it('planMove refusals: unknown site members, no primary without allowForceReconfig; forced plan otherwise', () => {
    const v = view();
    assert.throws(() => planMove(summarize(v, [...sites, { name: 'oslo' }]), v.config, { site: 'oslo', maxLagSeconds: 10, allowForceReconfig: false }), (e: unknown) => e instanceof InputError && e.input === 'site');
    const noPrimary = view();
    noPrimary.status.members[0].health = 0;
    noPrimary.status.members[0].state = 8;
    noPrimary.status.members[0].stateStr = '(not reachable/healthy)';
    const st = summarize(noPrimary, sites);
    assert.equal(st.primary, undefined);
    assert.throws(() => planMove(st, noPrimary.config, { site: 'dublin', maxLagSeconds: 10, allowForceReconfig: false }), (e: unknown) => e instanceof PreconditionError && /allowForceReconfig: true/.test(e.message));
    const forced = planMove(st, noPrimary.config, { site: 'dublin', maxLagSeconds: 10, allowForceReconfig: true });
    assert.equal(forced.kind, 'force');
    if (forced.kind === 'force') assert.deepEqual(forced.forced.members.map((m) => [m.votes, m.priority]), [[0, 0], [1, 2], [0, 0]]);
  });
});
