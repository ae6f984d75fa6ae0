import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findSite, inCidr, loadSitesFile, parseSites, readSecretRef, sameHubReason, type Site } from '../../src/shared/sites';

const good = {
  sites: [
    {
      name: 'seattle',
      pool: 'hub-seattle',
      hub: { armEndpoint: 'https://management.seattle.contoso.local', domain: 'seattle.contoso.local', publicIpRanges: ['203.0.113.0/24'] },
      cluster: { kubeconfig: { env: 'SEATTLE_KUBECONFIG' }, context: 'seattle', namespace: 'ratings', kubeVersion: '1.33' },
      traffic: { endpoint: 'seattle-ingress', target: 'ratings.seattle.contoso.local', probeUrl: 'https://ratings.seattle.contoso.local/healthz', resolvers: ['10.1.0.53'] },
      values: ['values/seattle.yaml'],
      mongo: { pod: { namespace: 'ratings', selector: 'app=ratings-mongodb', container: 'mongodb' } },
    },
    { name: 'dublin', hub: { domain: 'dublin.contoso.local' } },
  ],
};

describe('sites file', () => {
  it('accepts the design sketch and resolves values files against the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sites-'));
    const file = path.join(dir, 'sites.yaml');
    fs.writeFileSync(file, JSON.stringify(good));
    const s = loadSitesFile(file, 'sitesFile');
    assert.deepEqual(s.sites.map((x) => x.name), ['seattle', 'dublin']);
    assert.deepEqual(s.sites[0].values, [path.join(dir, 'values/seattle.yaml')]);
    assert.equal(findSite(s, 'dublin', 'site').name, 'dublin');
    assert.throws(() => findSite(s, 'paris', 'site'), /input 'site': unknown site 'paris': expected one of seattle, dublin/);
    fs.rmSync(dir, { recursive: true });
  });

  const bad: [string, unknown, string][] = [
    ['no sites', { sites: [] }, "input 'sites': sites: expected at least 1 entry"],
    ['missing sites', {}, "input 'sites': the file: missing 'sites'"],
    ['unknown key', { sites: [{ name: 'a', colour: 'red' }] }, "input 'sites': sites[0]: unknown key 'colour'"],
    ['bad name', { sites: [{ name: 'Seattle' }] }, "input 'sites': sites[0].name: 'Seattle' does not match ^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$"],
    ['duplicate names', { sites: [{ name: 'a' }, { name: 'a' }] }, "input 'sites': sites[1].name: 'a' is used twice"],
    ['secret inline', { sites: [{ name: 'a', cluster: { kubeconfig: 'apiVersion: v1' } }] }, "input 'sites': sites[0].cluster.kubeconfig: expected {env: VARIABLE} or {file: path}"],
    ['secret ref with both', { sites: [{ name: 'a', cluster: { kubeconfig: { env: 'X', file: 'y' } } }] }, "input 'sites': sites[0].cluster.kubeconfig: expected {env: VARIABLE} or {file: path}"],
    ['probe not http', { sites: [{ name: 'a', traffic: { probeUrl: 'ftp://x' } }] }, "input 'sites': sites[0].traffic.probeUrl: 'ftp://x' does not match ^https?://"],
    ['bad CIDR', { sites: [{ name: 'a', hub: { domain: 'a.b', publicIpRanges: ['10.0.0.0/33'] } }] }, "input 'sites': sites[0].hub.publicIpRanges: '10.0.0.0/33' is not an IPv4/IPv6 address or CIDR range"],
  ];
  for (const [what, doc, message] of bad) {
    it(`refuses ${what} in one line naming the input`, () => {
      assert.throws(() => parseSites(doc, 'sites'), (e: unknown) => (e as Error).message === message);
    });
  }

  it('refuses an unreadable or invalid YAML file', () => {
    assert.throws(() => loadSitesFile('/nonexistent/sites.yaml', 'sitesFile'), /input 'sitesFile': cannot read the sites file \/nonexistent\/sites.yaml/);
  });

  it('reads secret references from the environment or a file, never echoing values', () => {
    assert.equal(readSecretRef({ env: 'K' }, 'sites', { K: 'v' }), 'v');
    assert.throws(() => readSecretRef({ env: 'K' }, 'sites', {}), /input 'sites': environment variable K is not set/);
    assert.equal(readSecretRef({ file: __filename }, 'sites', {}).length > 0, true);
  });
});

describe('same-Hub guard', () => {
  const seattle = good.sites[0] as Site;
  const rows: [string, string | undefined][] = [
    ['backups.blob.seattle.contoso.local', 'backups.blob.seattle.contoso.local is under the Hub domain seattle.contoso.local of site seattle'],
    ['SEATTLE.CONTOSO.LOCAL.', 'SEATTLE.CONTOSO.LOCAL. is under the Hub domain seattle.contoso.local of site seattle'],
    ['nfs01.seattle.cloudapp.contoso.local', 'nfs01.seattle.cloudapp.contoso.local is a VM address (seattle.cloudapp.contoso.local) on the Hub of site seattle'],
    ['203.0.113.7', '203.0.113.7 is in 203.0.113.0/24, a range of the Hub of site seattle'],
    ['backups.blob.dublin.contoso.local', undefined],
    ['nfs01.dublin.cloudapp.contoso.local', undefined],
    ['notseattle.contoso.local', undefined],
    ['198.51.100.7', undefined],
    ['s3.archive.corp.local', undefined],
  ];
  for (const [host, want] of rows) {
    it(`${host} → ${want ? 'same Hub' : 'elsewhere'}`, () => assert.equal(sameHubReason(host, seattle), want));
  }

  it('matches IPv4 and IPv6 CIDRs', () => {
    assert.equal(inCidr('10.1.2.3', '10.0.0.0/8'), true);
    assert.equal(inCidr('11.1.2.3', '10.0.0.0/8'), false);
    assert.equal(inCidr('2001:db8::1', '2001:db8::/32'), true);
    assert.equal(inCidr('2001:db9::1', '2001:db8::/32'), false);
    assert.equal(inCidr('10.1.2.3', '2001:db8::/32'), false);
  });
});
