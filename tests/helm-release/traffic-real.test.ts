/**
 * The traffic coupling through the REAL traffic controller (src/traffic, rfc2136 provider) against a REAL BIND 9
 * (named, nsupdate, dig; tests/helpers/bind.ts): each site is taken out of the A record set before its upgrade and
 * put back after its gates; a failure rolls every changed site back and the record set is restored to the state
 * captured before the run. The controller's clock is injected, so no TTL is really waited.
 */
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import { ManualClock } from '../helpers/manual-clock';
import { namedBinary, startBind, type BindServer } from '../helpers/bind';
import { startHttpServer, type TestServer } from '../helpers/servers';
import { World, chartVersion } from './world';

describe('helm-release traffic coupling through the real controller (rfc2136, BIND 9)', function () {
  this.timeout(120_000);
  let bind: BindServer;
  let probes: TestServer;
  /** the A set of the public name each time a site's health probe was asked (during its restore) */
  const seenAtProbe: Record<string, string[][]> = {};
  let w: World;

  before(async function () {
    if (!namedBinary()) {
      console.log('      SKIPPED: BIND 9 (named) is not installed: scripts/prepare-machine.sh installs bind9 and bind9-dnsutils');
      this.skip();
    }
    bind = await startBind({ zone: 'contoso.test', records: ['ratings 60 IN A 10.0.0.1', 'ratings 60 IN A 10.0.0.2'] });
    probes = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      const site = (req.url ?? '').split('/')[1];
      void bind.query('ratings.contoso.test', 'A').then((a) => {
        (seenAtProbe[site] ??= []).push(a);
        res.writeHead(200).end('ok');
      });
    });
    w = await new World(['east', 'west']).start({
      siteExtra: (s, i) => ({ traffic: { endpoint: `${s}-ep`, target: `10.0.0.${i + 1}`, probeUrl: `${probes.url}/${s}/healthz`, resolvers: [bind.address] } }),
    });
    w.realTraffic = { clock: new ManualClock() };
    await w.install();
  });
  after(async () => {
    await w?.close();
    await probes?.close();
    await bind?.stop();
  });

  const traffic = (): Record<string, string> => ({
    trafficProvider: 'rfc2136',
    trafficDnsServer: bind.address,
    trafficDnsZone: 'contoso.test',
    trafficDnsName: 'ratings.contoso.test',
    trafficTsigKey: bind.key.text,
    trafficProbeIntervalSeconds: '0',
    probe: 'false',
  });

  it('drains each site before its upgrade and restores it after; a failure restores the record set captured before', async () => {
    const ok = await w.run({ ...traffic(), chart: chartVersion(w.dir, '1.3.0') });
    assert.equal(ok.ok, true, ok.failed);
    // at east's restore (health gate) east was out of the set, at west's west was (the drains probe the site that
    // stays serving too, while both addresses are in the set)
    assert.ok(seenAtProbe.east?.some((a) => JSON.stringify(a) === '["10.0.0.2"]'), JSON.stringify(seenAtProbe));
    assert.ok(seenAtProbe.west?.some((a) => JSON.stringify(a) === '["10.0.0.1"]'), JSON.stringify(seenAtProbe));
    assert.ok(seenAtProbe.west?.some((a) => JSON.stringify(a) === '["10.0.0.1","10.0.0.2"]'), 'draining east probed west, which stays serving');
    assert.deepEqual(await bind.query('ratings.contoso.test', 'A'), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(ok.record!.traffic!.before!.sites.map((s) => [s.site, s.enabled]), [['east', true], ['west', true]]);
    assert.equal(ok.record!.traffic!.after!.provider, 'rfc2136');
    assert.match(ok.summary, /\| east \|.*\| drained → restored \|/);
    assert.ok(!ok.log.includes(bind.key.secret), 'the TSIG secret is never logged');

    w.fault('west', 'upgrade');
    const bad = await w.run({ ...traffic(), chart: chartVersion(w.dir, '1.4.0') });
    assert.equal(bad.ok, false);
    assert.match(bad.failed!, /release failed on west .*rolled back east, west/);
    assert.deepEqual(w.deployed(), { east: '1.3.0', west: '1.3.0' });
    assert.deepEqual(await bind.query('ratings.contoso.test', 'A'), ['10.0.0.1', '10.0.0.2'], 'west is back in the set after its rollback');
    assert.deepEqual(bad.record!.sites.west.traffic, { servingBefore: true, drained: true, restored: true, servingAfter: true });
  });

  it('the last serving site is never drained: the controller refuses, the site fails untouched', async () => {
    await bind.set('ratings.contoso.test', 'A', ['10.0.0.2'], 60);
    w.helm.clearFaults();
    const r = await w.run({ ...traffic(), chart: chartVersion(w.dir, '1.5.0'), onFailure: 'stop' });
    assert.equal(r.ok, false);
    // east does not serve (nothing to drain) and is upgraded; west is the last serving site: refused, not touched
    assert.equal(r.record!.sites.east.status, 'succeeded');
    assert.equal(r.record!.sites.west.changed, false);
    assert.match(r.record!.sites.west.error!, /^traffic: /);
    assert.deepEqual(w.deployed(), { east: '1.5.0', west: '1.3.0' });
    assert.deepEqual(await bind.query('ratings.contoso.test', 'A'), ['10.0.0.2']);
  });
});
