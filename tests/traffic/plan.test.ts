/**
 * Pure parts of traffic swap, as tables: what each operation changes per routing model, which sites gain users, the
 * last-serving-site refusal, and the exact argv/script of the child tools (nsupdate, dig).
 */
import assert from 'node:assert/strict';
import type { TrafficSiteState } from '../../src/traffic/api';
import { formatStatusRanges, parseStatusRanges } from '../../src/traffic/health';
import {
  assertSomeSiteServes,
  parseWeights,
  planDrain,
  planFailover,
  planRestore,
  planSwap,
  planWeights,
  primaryOf,
  sitesGainingTraffic,
} from '../../src/traffic/plan';
import type { RoutingModel } from '../../src/traffic/provider';
import { digArgs, nsupdateArgs, nsupdateScript, parseDig } from '../../src/traffic/providers/rfc2136';
import { recordTypeFor } from '../../src/traffic/providers/records';
import { endpointTypeSegment, profileBody } from '../../src/traffic/providers/traffic-manager';
import { parseResolver } from '../../src/traffic/resolvers';

/** `a:e1p1w5` = site a enabled, priority 1, weight 5; `b:d2` = disabled, priority 2. */
function sites(spec: string): TrafficSiteState[] {
  return spec.split(' ').map((t) => {
    const [site, f] = t.split(':');
    const m = /^([ed])(?:p?(\d+))?(?:w(\d+))?$/.exec(f)!;
    return { site, endpoint: `${site}-ep`, enabled: m[1] === 'e', priority: m[2] ? Number(m[2]) : undefined, weight: m[3] ? Number(m[3]) : undefined };
  });
}
function spec(s: TrafficSiteState[]): string {
  return s.map((x) => `${x.site}:${x.enabled ? 'e' : 'd'}${x.priority ?? ''}${x.weight !== undefined ? `w${x.weight}` : ''}`).join(' ');
}

describe('traffic plan (per routing model)', () => {
  const table: [string, RoutingModel, string, (s: TrafficSiteState[]) => TrafficSiteState[], string][] = [
    ['priority failover to the 3rd keeps the priority numbers', 'priority', 'a:e1 b:e2 c:e5', (s) => planFailover('priority', s, 'c'), 'a:e2 b:e5 c:e1'],
    ['priority failover enables a disabled site', 'priority', 'a:e1 b:d2', (s) => planFailover('priority', s, 'b'), 'a:e2 b:e1'],
    ['priority drain', 'priority', 'a:e1 b:e2', (s) => planDrain('priority', s, 'a'), 'a:d1 b:e2'],
    ['priority restore', 'priority', 'a:d1 b:e2', (s) => planRestore('priority', s, 'a'), 'a:e1 b:e2'],
    ['priority swap exchanges priorities only', 'priority', 'a:e1 b:d2', (s) => planSwap('priority', s, 'a', 'b'), 'a:e2 b:d1'],
    ['weighted failover disables the others', 'weighted', 'a:e1w5 b:e1w5', (s) => planFailover('weighted', s, 'b'), 'a:d1w5 b:e1w5'],
    ['weighted weights enable and set', 'weighted', 'a:ew5 b:dw5', (s) => planWeights('weighted', s, { a: 900, b: 100 }), 'a:ew900 b:ew100'],
    ['weighted swap exchanges weights and flags', 'weighted', 'a:ew900 b:dw100', (s) => planSwap('weighted', s, 'a', 'b'), 'a:dw100 b:ew900'],
    ['single drain moves to the next in order', 'single', 'a:e1 b:d2 c:d3', (s) => planDrain('single', s, 'a'), 'a:d1 b:e2 c:d3'],
    ['single drain of a standby site changes nothing', 'single', 'a:e1 b:d2', (s) => planDrain('single', s, 'b'), 'a:e1 b:d2'],
    ['single restore of an earlier site moves back', 'single', 'a:d1 b:e2', (s) => planRestore('single', s, 'a'), 'a:e1 b:d2'],
    ['single restore of a later site stays standby', 'single', 'a:e1 b:d2', (s) => planRestore('single', s, 'b'), 'a:e1 b:d2'],
    ['single restore when nothing serves', 'single', 'a:d1 b:d2', (s) => planRestore('single', s, 'b'), 'a:d1 b:e2'],
    ['single failover', 'single', 'a:e1 b:d2', (s) => planFailover('single', s, 'b'), 'a:d1 b:e2'],
    ['single swap', 'single', 'a:e1 b:d2', (s) => planSwap('single', s, 'a', 'b'), 'a:d1 b:e2'],
    ['multi drain', 'multi', 'a:e b:e', (s) => planDrain('multi', s, 'b'), 'a:e b:d'],
    ['multi failover', 'multi', 'a:e b:e c:d', (s) => planFailover('multi', s, 'c'), 'a:d b:d c:e'],
  ];
  for (const [name, , before, op, after] of table) {
    it(name, () => {
      const s = sites(before);
      assert.equal(spec(op(s)), after);
      assert.equal(spec(s), before, 'the input is not mutated');
    });
  }

  it('refuses what makes no sense, naming the input', () => {
    assert.throws(() => planWeights('priority', sites('a:e1 b:e2'), { a: 1 }), /the routing is by priority: weights have no effect there/);
    assert.throws(() => planWeights('single', sites('a:e1'), { a: 1 }), /plain DNS records have no weights/);
    assert.throws(() => planWeights('weighted', sites('a:ew1'), { a: 1001 }), /^InputError: input 'weights': a=1001: expected a whole number from 1 to 1000$/);
    assert.throws(() => planSwap('priority', sites('a:e1 b:e2'), 'a', 'a'), /input 'swapSites': expected two different sites/);
    assert.throws(() => planDrain('priority', sites('a:e1'), 'x'), /^InputError: input 'site': unknown site 'x': expected one of a$/);
  });

  const gains: [string, RoutingModel, string, string, string[]][] = [
    ['drain of the primary makes the next one gain', 'priority', 'a:e1 b:e2', 'a:d1 b:e2', ['b']],
    ['drain of a standby gains nothing', 'priority', 'a:e1 b:e2', 'a:e1 b:d2', []],
    ['restore of a standby gains (it is put back)', 'priority', 'a:e1 b:d2', 'a:e1 b:e2', ['b']],
    ['swap that makes b primary', 'priority', 'a:e1 b:e2', 'a:e2 b:e1', ['b']],
    ['weight increase gains, decrease does not', 'weighted', 'a:ew5 b:ew5', 'a:ew9 b:ew1', ['a']],
    ['single: the new CNAME target gains', 'single', 'a:e1 b:d2', 'a:d1 b:e2', ['b']],
    ['multi: an added address gains', 'multi', 'a:e b:d', 'a:e b:e', ['b']],
  ];
  for (const [name, model, before, after, want] of gains) {
    it(`gaining: ${name}`, () => assert.deepEqual(sitesGainingTraffic(model, sites(before), sites(after)), want));
  }

  it('primary under priority skips a site the provider reports failed', () => {
    const s = sites('a:e1 b:e2');
    s[0].health = 'Degraded';
    assert.equal(primaryOf('priority', s, (x) => (x.health === 'Degraded' ? 'failed' : 'confirmed')), 'b');
  });

  it('last serving site: none enabled, or only failed ones left', () => {
    const ok = () => 'confirmed' as const;
    assert.throws(() => assertSomeSiteServes(sites('a:d1 b:d2'), [], ok, 'drain b'), /^PreconditionError: refusing to drain b: no site would serve traffic \(it is the last site that does\)$/);
    const s = sites('a:d1 b:e2');
    s[1].health = 'Degraded';
    assert.throws(() => assertSomeSiteServes(s, [], () => 'failed', 'drain a'), /the only sites left serving \(b: Degraded\) are reported unhealthy/);
    assert.doesNotThrow(() => assertSomeSiteServes(s, ['b'], () => 'failed', 'drain a'), 'a gaining site passed the probe');
    assert.doesNotThrow(() => assertSomeSiteServes(sites('a:e1'), [], ok, 'x'));
  });

  it('weights input', () => {
    assert.deepEqual(parseWeights(['seattle=900', 'denver: 100'], 'weights'), { seattle: 900, denver: 100 });
    for (const [items, msg] of [
      [[], /is required for the weights command/],
      [['seattle'], /'seattle': expected site=weight/],
      [['seattle=0'], /the weight must be a whole number from 1 to 1000/],
      [['seattle=1.5'], /the weight must be a whole number/],
      [['a=1', 'a=2'], /site 'a' is given twice/],
    ] as [string[], RegExp][]) {
      assert.throws(() => parseWeights(items, 'weights'), msg);
    }
  });
});

describe('traffic child tools and REST shapes', () => {
  const cfg = { server: '10.1.0.53', port: 5353, zone: 'contoso.local', name: 'ratings.contoso.local' };

  it('nsupdate argv: TCP, a timeout, the key as a FILE (-k), never -y; -g for GSS-TSIG', () => {
    assert.deepEqual(nsupdateArgs({ kind: 'secret', keyText: 'key "k" {...};' }, '/tmp/run/tsig.key', 30), ['-v', '-t', '30', '-k', '/tmp/run/tsig.key']);
    assert.deepEqual(nsupdateArgs({ kind: 'file', file: '/etc/bind/k.key' }, '/etc/bind/k.key', 10), ['-v', '-t', '10', '-k', '/etc/bind/k.key']);
    assert.deepEqual(nsupdateArgs({ kind: 'gss' }, undefined, 30), ['-v', '-t', '30', '-g']);
    for (const args of [nsupdateArgs({ kind: 'secret', keyText: 'x' }, '/f', 1), nsupdateArgs({ kind: 'gss' }, undefined, 1)]) assert.ok(!args.includes('-y'));
  });

  it('nsupdate script: one UPDATE with prerequisites on exactly the values read', () => {
    assert.equal(
      nsupdateScript(cfg, 'CNAME', ['ratings.seattle.contoso.local'], ['ratings.denver.contoso.local'], 60),
      [
        'server 10.1.0.53 5353',
        'zone contoso.local.',
        'prereq yxrrset ratings.contoso.local. IN CNAME ratings.seattle.contoso.local.',
        'update delete ratings.contoso.local. IN CNAME',
        'update add ratings.contoso.local. 60 IN CNAME ratings.denver.contoso.local.',
        'send',
        '',
      ].join('\n'),
    );
    assert.equal(
      nsupdateScript(cfg, 'A', [], ['10.0.0.1', '10.0.0.2'], 30),
      [
        'server 10.1.0.53 5353',
        'zone contoso.local.',
        'prereq nxrrset ratings.contoso.local. IN A',
        'update delete ratings.contoso.local. IN A',
        'update add ratings.contoso.local. 30 IN A 10.0.0.1',
        'update add ratings.contoso.local. 30 IN A 10.0.0.2',
        'send',
        '',
      ].join('\n'),
    );
  });

  it('dig argv and answer parsing (status, TTL, values)', () => {
    assert.deepEqual(digArgs(cfg, 'CNAME', 5), ['@10.1.0.53', '-p', '5353', '+norecurse', '+noall', '+comments', '+answer', '+time=5', '+tries=2', 'ratings.contoso.local.', 'CNAME']);
    const out = [
      ';; Got answer:',
      ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1',
      ';; ANSWER SECTION:',
      'ratings.contoso.local.\t120\tIN\tA\t10.0.0.2',
      'ratings.contoso.local.\t60\tIN\tA\t10.0.0.1',
      'other.contoso.local.\t60\tIN\tA\t10.0.0.9',
    ].join('\n');
    assert.deepEqual(parseDig(out, 'ratings.contoso.local', 'A'), { status: 'NOERROR', rs: { type: 'A', ttl: 60, values: ['10.0.0.2', '10.0.0.1'] } });
    assert.equal(parseDig(';; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 2', 'x', 'A').rs.ttl, undefined);
    assert.throws(() => parseDig(';; connection timed out', 'x', 'A'), /dig printed no DNS header/);
  });

  it('record type from the sites targets; mixed targets are refused naming the sites file', () => {
    const s = (...t: string[]) => t.map((target, i) => ({ name: `s${i}`, target, resolvers: [] }));
    assert.equal(recordTypeFor(s('10.0.0.1', '10.0.0.2'), 'auto', 'sitesFile'), 'A');
    assert.equal(recordTypeFor(s('fd00::1'), 'auto', 'sitesFile'), 'AAAA');
    assert.equal(recordTypeFor(s('a.contoso.local', 'b.contoso.local'), 'auto', 'sitesFile'), 'CNAME');
    assert.throws(() => recordTypeFor(s('a.contoso.local', '10.0.0.1'), 'auto', 'sitesFile'), /^InputError: input 'sitesFile': CNAME records need every site's traffic.target to be a host name: s1 has '10.0.0.1'$/);
    assert.throws(() => recordTypeFor([{ name: 'x', resolvers: [] }], 'auto', 'sitesFile'), /site x: traffic.target is required for DNS routing/);
  });

  it('Traffic Manager: endpoint type segments (case-insensitive); the PUT body drops read-only monitor statuses only', () => {
    assert.equal(endpointTypeSegment('Microsoft.Network/trafficManagerProfiles/externalEndpoints'), 'externalEndpoints');
    assert.equal(endpointTypeSegment('microsoft.network/trafficmanagerprofiles/AZUREENDPOINTS'), 'azureEndpoints');
    assert.throws(() => endpointTypeSegment('x/y'), /unknown Traffic Manager endpoint type/);
    const fresh = {
      location: 'global',
      tags: { a: 'b' },
      properties: {
        monitorConfig: { profileMonitorStatus: 'Online', intervalInSeconds: 30 },
        endpoints: [{ name: 'e1', type: 't', properties: { target: 'x', endpointStatus: 'Enabled' as const, priority: 1, endpointMonitorStatus: 'Online', customHeaders: [] } }],
      },
    };
    const body = profileBody(fresh, [{ ep: fresh.properties.endpoints[0], fields: { priority: 2 } }]);
    assert.deepEqual(body, { location: 'global', tags: { a: 'b' }, properties: { monitorConfig: { intervalInSeconds: 30 }, endpoints: [{ name: 'e1', type: 't', properties: { target: 'x', endpointStatus: 'Enabled', priority: 2, customHeaders: [] } }] } });
    assert.equal(fresh.properties.endpoints[0].properties.priority, 1, 'the read profile is not mutated');
  });

  it('status ranges and resolver addresses', () => {
    assert.deepEqual(parseStatusRanges('200-299, 401', 'p'), [[200, 299], [401, 401]]);
    assert.equal(formatStatusRanges([[200, 299], [401, 401]]), '200-299,401');
    assert.throws(() => parseStatusRanges('2xx', 'trafficProbeStatus'), /input 'trafficProbeStatus': expected status codes or ranges such as 200-399,401, got '2xx'/);
    assert.throws(() => parseStatusRanges('300-200', 'p'), /got '300-200'/);
    assert.equal(parseResolver('10.1.0.53', 's'), '10.1.0.53');
    assert.equal(parseResolver('127.0.0.1:5353', 's'), '127.0.0.1:5353');
    assert.equal(parseResolver('[fd00::53]:53', 's'), '[fd00::53]:53');
    assert.equal(parseResolver('fd00::53', 's'), 'fd00::53');
    assert.throws(() => parseResolver('dns.contoso.local', 'sitesFile'), /a resolver is never looked up by name/);
  });
});
