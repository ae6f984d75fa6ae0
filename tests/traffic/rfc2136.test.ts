/**
 * The rfc2136 provider against a REAL BIND 9 (`named -g` on 127.0.0.1, dynamic zone, TSIG key) with the real
 * nsupdate and dig: records change (checked with dig), the compare-and-swap makes a racing second swap lose cleanly,
 * a wrong key is refused, an unhealthy target gets no write, undo restores exactly. The clock is injected: no test
 * sleeps for the TTL.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createInputReader } from '../../src/platform/inputs';
import { createTrafficController, parseTrafficConfig, trafficSwap, type TrafficConfig, type TrafficState } from '../../src/traffic';
import { ManualClock } from '../helpers/manual-clock';
import { startBind, type BindServer } from '../helpers/bind';
import { rejects, sitesOf, startProbeServer, testContext, type ProbeServer, type TestContext } from './helpers';

describe('traffic rfc2136 provider (real BIND 9, nsupdate, dig)', function () {
  this.timeout(60_000);
  let bind: BindServer;
  let probes: ProbeServer;
  let ctx: TestContext;

  before(async () => {
    bind = await startBind({ zone: 'contoso.test' });
    probes = await startProbeServer();
  });
  after(async () => {
    await probes?.close();
    await bind?.stop();
  });
  beforeEach(() => {
    ctx = testContext();
    probes.status = {};
    probes.requests.length = 0;
    probes.beforeAnswer = undefined;
  });
  afterEach(() => ctx.cleanup());

  const cnameSites = () =>
    sitesOf(['seattle', 'denver', 'boston'].map((n) => ({ name: n, target: `ratings.${n}.contoso.test`, probeUrl: probes.probeUrl(n), resolvers: [bind.address] })));
  const aSites = () =>
    sitesOf([
      { name: 'seattle', target: '10.0.0.1', probeUrl: probes.probeUrl('seattle'), resolvers: [bind.address] },
      { name: 'denver', target: '10.0.0.2', probeUrl: probes.probeUrl('denver'), resolvers: [bind.address] },
    ]);

  function config(values: Record<string, string>, clock = new ManualClock()): TrafficConfig {
    const read = createInputReader(trafficSwap.inputs, (n) => values[n], (s) => ctx.mask(s));
    const cfg = parseTrafficConfig(read, ctx.platform)!;
    cfg.clock = clock;
    return cfg;
  }
  const base = (name = 'ratings.contoso.test', key?: string): Record<string, string> => ({
    trafficProvider: 'rfc2136',
    trafficDnsServer: bind.address,
    trafficDnsZone: 'contoso.test',
    trafficDnsName: name,
    trafficTsigKey: key ?? bind.key.text,
    trafficProbeIntervalSeconds: '0',
  });

  it('status: the CNAME names the serving site; summary table per site', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.'], 120);
    const ctl = createTrafficController(config(base()), cnameSites(), ctx);
    const st = await ctl.status();
    assert.equal(st.provider, 'rfc2136');
    assert.deepEqual(st.sites.map((s) => [s.site, s.enabled]), [['seattle', true], ['denver', false], ['boston', false]]);
    assert.deepEqual((st.detail as { ttl: number; values: string[] }).values, ['ratings.seattle.contoso.test']);
    assert.equal((st.detail as { ttl: number }).ttl, 120);
    assert.match(ctx.summary.toMarkdown(), /\| seattle \| ratings\.seattle\.contoso\.test \| ratings\.seattle\.contoso\.test \| yes \| 1 \|/);
  });

  it('failover: probe, one signed UPDATE, dig shows the new CNAME, TTL waited on the injected clock, resolver checked; undo puts it back', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.'], 120);
    const clock = new ManualClock();
    const ctl = createTrafficController(config({ ...base(), trafficDnsTtl: '30' }, clock), cnameSites(), ctx);
    const r = await ctl.failover('denver');
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.denver.contoso.test']);
    assert.equal(await bind.ttl('ratings.contoso.test', 'CNAME'), 30);
    assert.equal(r.noChange, false);
    assert.deepEqual(probes.requests, ['/denver/healthz']);
    assert.deepEqual(r.previousState.sites.filter((s) => s.enabled).map((s) => s.site), ['seattle']);
    assert.deepEqual(r.state.sites.filter((s) => s.enabled).map((s) => s.site), ['denver']);
    // the OLD TTL (120 s) is what resolvers may still hold: waited on the fake clock
    assert.equal(clock.slept.reduce((a, b) => a + b, 0), 120_000);
    assert.ok(r.verifiedAfterMs! >= 120_000);
    const names = r.checks.map((c) => c.name);
    assert.deepEqual(names, ['GSLB health', 'health probe denver', 'write', 'provider confirmation', 'DNS TTL wait', `DNS ratings.contoso.test CNAME via ${bind.address}`, 'verified']);
    assert.ok(r.checks.every((c) => c.ok), JSON.stringify(r.checks));
    assert.equal(r.checks[0].detail, 'no GSLB health view (rfc2136 has no monitor of its own): the HTTP probe is the gate');
    const md = ctx.summary.toMarkdown();
    assert.match(md, /### Traffic: failover to denver/);
    assert.match(md, /\| denver \| ratings\.denver\.contoso\.test \| ratings\.denver\.contoso\.test \| disabled \| enabled \|/);
    assert.match(md, /Verified 1\d\d s after the write/);
    // the TSIG key reached nsupdate as a 0600 file, never as text in the log
    const keyFile = `${ctx.tempDir}/tsig.key`;
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(!ctx.lines.join('\n').includes(bind.key.secret), 'the TSIG secret must not be logged');

    const back = await createTrafficController(config(base()), cnameSites(), ctx).undo(JSON.parse(JSON.stringify(r.previousState)) as TrafficState);
    assert.equal(back.noChange, false);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test']);
    assert.equal(await bind.ttl('ratings.contoso.test', 'CNAME'), 120, 'undo restores the TTL too');
  });

  it('target unhealthy: no UPDATE is sent; the error names the site and carries previousState', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
    probes.status.denver = 503;
    const logBefore = bind.log().length;
    const ctl = createTrafficController(config({ ...base(), trafficProbeAttempts: '2' }), cnameSites(), ctx);
    const e = await rejects(ctl.failover('denver'));
    assert.match(e.message, /^site denver is not healthy: GET http:\/\/127\.0\.0\.1:\d+\/denver\/healthz answered 503, expected 200-399 \(2 attempts\); nothing was changed/);
    assert.equal(e.constructor.name, 'PreconditionError');
    assert.deepEqual(probes.requests, ['/denver/healthz', '/denver/healthz']);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test']);
    assert.equal((e.previousState as TrafficState).sites[0].enabled, true);
    assert.equal((e.outputs as Record<string, unknown>).changed, 'false');
    assert.match(ctx.summary.toMarkdown(), /\| health probe denver \| FAILED \|/);
    assert.doesNotMatch(bind.log().slice(logBefore), /updating zone/, 'named saw no update');
  });

  it('skipHealthCheck: true writes without probing', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
    probes.status.boston = 503;
    const r = await createTrafficController(config({ ...base(), skipHealthCheck: 'true' }), cnameSites(), ctx).failover('boston');
    assert.deepEqual(probes.requests, []);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.boston.contoso.test']);
    assert.equal(r.checks[0].detail, 'skipped (skipHealthCheck: true)');
  });

  it('a racing second swap loses cleanly: its prerequisite fails (NXRRSET), nothing of it is written', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
    const ctxA = testContext();
    const a = createTrafficController(config(base()), cnameSites(), ctxA);
    const b = createTrafficController(config(base()), cnameSites(), ctx);
    let aDone: Promise<unknown> | undefined;
    // B has read (seattle) and is probing boston: let A swap seattle↔denver completely before B's probe answers
    probes.beforeAnswer = async (site) => {
      if (site === 'boston' && !aDone) {
        aDone = a.swap('seattle', 'denver');
        await aDone;
      }
    };
    const e = await rejects(b.swap('seattle', 'boston'));
    ctxA.cleanup();
    assert.equal(e.constructor.name, 'TrafficConflictError');
    assert.match(e.message, /^ratings\.contoso\.test CNAME was changed by someone else since it was read \(the UPDATE prerequisite on the values read failed: NXRRSET\): nothing was written/);
    assert.equal(e.written, false);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.denver.contoso.test'], "A's swap stands");
  });

  it('a wrong TSIG key is refused by named: nothing changes, the message says so', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
    const wrong = `hmac-sha256:${bind.key.name}:${Buffer.alloc(32, 7).toString('base64')}`;
    const logBefore = bind.log().length;
    const e = await rejects(createTrafficController(config(base(undefined, wrong)), cnameSites(), ctx).failover('denver'));
    assert.match(e.message, /refused the TSIG signature \(NOTAUTH\(BADSIG\)\): check the key name, algorithm and secret \(trafficTsigKey\); nothing was changed/);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test']);
    assert.ok(!ctx.lines.join('\n').includes(Buffer.alloc(32, 7).toString('base64')));
    assert.match(bind.log().slice(logBefore), /request has invalid signature|BADSIG|bad signature/i, 'named itself refused the signature');
    assert.doesNotMatch(bind.log().slice(logBefore), /updating zone/);
  });

  it('A records: drain removes one address, restore adds it back; the last serving site cannot be drained', async () => {
    await bind.set('www.contoso.test', 'A', ['10.0.0.1', '10.0.0.2', '192.0.2.9']);
    const ctl = createTrafficController(config(base('www.contoso.test')), aSites(), ctx);
    const st = await ctl.status();
    assert.equal(st.routing, 'A records www.contoso.test');
    const d = await ctl.drain('denver');
    assert.deepEqual(await bind.query('www.contoso.test', 'A'), ['10.0.0.1', '192.0.2.9'], 'an address of no site is kept');
    assert.deepEqual(probes.requests, ['/seattle/healthz'], 'draining gains no site, but the site that still serves must be healthy by its probe');
    assert.equal(d.checks.find((c) => c.name.startsWith('DNS www'))?.ok, true);
    const again = await ctl.drain('denver');
    assert.equal(again.noChange, true);

    await bind.set('www.contoso.test', 'A', ['10.0.0.1']);
    const e = await rejects(ctl.drain('seattle'));
    assert.match(e.message, /^refusing to drain seattle: no site would serve traffic \(it is the last site that does\)/);
    assert.deepEqual(await bind.query('www.contoso.test', 'A'), ['10.0.0.1']);

    probes.requests.length = 0;
    const r = await ctl.restore('denver');
    assert.deepEqual(probes.requests, ['/denver/healthz']);
    assert.deepEqual(await bind.query('www.contoso.test', 'A'), ['10.0.0.1', '10.0.0.2']);
    assert.equal(r.noChange, false);
  });

  it('CNAME drain moves users to the next site in priority order; restore moves them back to the earlier site', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
    const ctl = createTrafficController(config(base()), cnameSites(), ctx);
    await ctl.drain('seattle');
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.denver.contoso.test']);
    const r = await ctl.restore('boston');
    assert.equal(r.noChange, true, 'boston comes after denver: it stays on standby');
    await ctl.restore('seattle');
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test']);
  });

  it('weights are refused for plain DNS without any write', async () => {
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
    const e = await rejects(createTrafficController(config(base()), cnameSites(), ctx).weights({ seattle: 10 }));
    assert.match(e.message, /plain DNS records have no weights/);
  });
});
