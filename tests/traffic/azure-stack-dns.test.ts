/**
 * The azure-stack-dns provider against a local Hub ARM server (metadata endpoint, DNS record sets of api-version
 * 2016-04-01 with ETag semantics: If-Match mismatch → 412, If-None-Match * on an existing set → 412) and a local
 * ADFS token endpoint, over HTTPS with a throwaway CA, through the shared Azure Stack module (discovery, ADFS
 * credential, ARM client).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInputReader } from '../../src/platform/inputs';
import { createTrafficController, parseTrafficConfig, trafficSwap, type TrafficConfig, type TrafficState } from '../../src/traffic';
import { ManualClock } from '../helpers/manual-clock';
import { startArmServer, startLoginServer, type ArmAnswer, type ArmRequest, type ArmServer, type LoginServer } from '../helpers/arm-servers';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';
import { rejects, sitesOf, startProbeServer, testContext, type ProbeServer, type TestContext } from './helpers';

const SUB = '9a3c1f44-0000-4000-8000-00000000beef';
const ZONE_ID = `/subscriptions/${SUB}/resourceGroups/dns/providers/Microsoft.Network/dnsZones/contoso.test`;
const AUDIENCE = 'https://management.adfs.azurestack.external/5b5e4e8c-2cf4-4b44-9f5a-c3a7a7b4b0a1';
const SECRET = 'hub-sp-secret-5678';

/** Record sets of one zone with ETags. */
class FakeHubDns {
  sets = new Map<string, { etag: string; ttl: number; type: string; values: string[] }>();
  /** Called before a PUT is handled (a test changes the set "as someone else"). */
  beforePut?: () => void;

  handle(r: ArmRequest): ArmAnswer {
    if (r.query['api-version'] !== '2016-04-01') return { status: 400, body: { error: { code: 'NoRegisteredProviderFound', message: `api-version ${r.query['api-version']}` } } };
    const m = new RegExp(`^${ZONE_ID.replace(/[.]/g, '\\.')}/(CNAME|A|AAAA)/([^/]+)$`, 'i').exec(r.path);
    if (!m) return { status: 404, body: { error: { code: 'ResourceNotFound', message: r.path } } };
    const key = `${m[1].toUpperCase()}/${m[2].toLowerCase()}`;
    const cur = this.sets.get(key);
    const json = (s: { etag: string; ttl: number; type: string; values: string[] }) => ({
      id: `${ZONE_ID}/${s.type}/${m[2]}`,
      name: m[2],
      type: `Microsoft.Network/dnszones/${s.type}`,
      etag: s.etag,
      properties: {
        TTL: s.ttl,
        fqdn: `${m[2]}.contoso.test.`,
        metadata: { owner: 'platform' },
        ...(s.type === 'CNAME' ? { CNAMERecord: { cname: s.values[0] } } : s.type === 'A' ? { ARecords: s.values.map((ipv4Address) => ({ ipv4Address })) } : {}),
      },
    });
    if (r.method === 'GET') {
      if (!cur) return { status: 404, body: { error: { code: 'NotFound', message: `The resource record '${m[2]}' does not exist.` } } };
      return { status: 200, body: json(cur), headers: { etag: cur.etag } };
    }
    if (r.method === 'PUT') {
      this.beforePut?.();
      const now = this.sets.get(key);
      const ifMatch = r.headers['if-match'];
      const ifNone = r.headers['if-none-match'];
      if ((ifMatch && (!now || now.etag !== ifMatch)) || (ifNone === '*' && now)) {
        return { status: 412, body: { error: { code: 'PreconditionFailed', message: 'The condition specified using HTTP conditional header(s) is not met.' } } };
      }
      const p = (r.body as { properties: { TTL: number; CNAMERecord?: { cname: string }; ARecords?: { ipv4Address: string }[] } }).properties;
      const values = m[1].toUpperCase() === 'CNAME' ? [p.CNAMERecord!.cname] : (p.ARecords ?? []).map((a) => a.ipv4Address);
      const next = { etag: randomUUID(), ttl: p.TTL, type: m[1].toUpperCase(), values };
      this.sets.set(key, next);
      return { status: now ? 200 : 201, body: json(next), headers: { etag: next.etag } };
    }
    return { status: 405, body: { error: { code: 'MethodNotAllowed', message: r.method } } };
  }
}

describe('traffic azure-stack-dns provider (local Hub ARM with ETags + ADFS)', function () {
  this.timeout(60_000);
  let work: string;
  let ca: TestCa;
  let login: LoginServer;
  let arm: ArmServer;
  let probes: ProbeServer;
  let dns: FakeHubDns;
  let ctx: TestContext;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-hubdns-'));
    ca = makeCa(work);
    const cert = makeServerCert(ca, work);
    fs.writeFileSync(path.join(work, 'ca.pem'), ca.certPem);
    login = await startLoginServer({ cert, flavour: 'adfs', clients: { 'hub-app': { secret: SECRET } }, audiences: [AUDIENCE] });
    arm = await startArmServer({ cert, login, handle: (r) => dns.handle(r), hub: { audience: AUDIENCE } });
    probes = await startProbeServer();
  });
  after(async () => {
    await Promise.all([login?.close(), arm?.close(), probes?.close()]);
    fs.rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    ctx = testContext();
    dns = new FakeHubDns();
    dns.sets.set('CNAME/ratings', { etag: 'etag-1', ttl: 60, type: 'CNAME', values: ['ratings.seattle.contoso.test'] });
    arm.requests.length = 0;
    login.requests.length = 0;
    login.msis9605 = false;
    probes.requests.length = 0;
  });
  afterEach(() => ctx.cleanup());

  const sites = (armEndpoint = arm.endpoint) =>
    sitesOf([
      { name: 'seattle', target: 'ratings.seattle.contoso.test', probeUrl: probes.probeUrl('seattle'), armEndpoint },
      { name: 'denver', target: 'ratings.denver.contoso.test', probeUrl: probes.probeUrl('denver') },
    ]);
  function config(extra: Record<string, string> = {}): TrafficConfig {
    const values: Record<string, string> = {
      trafficProvider: 'azure-stack-dns',
      trafficDnsZone: ZONE_ID,
      trafficDnsName: 'ratings.contoso.test',
      trafficDnsHub: 'seattle',
      trafficClientId: 'hub-app',
      trafficClientSecret: SECRET,
      trafficCaCertificate: path.join(work, 'ca.pem'),
      ...extra,
    };
    const cfg = parseTrafficConfig(createInputReader(trafficSwap.inputs, (n) => values[n] || undefined, (s) => ctx.mask(s)), ctx.platform)!;
    cfg.clock = new ManualClock();
    return cfg;
  }
  const recordPath = `${ZONE_ID}/CNAME/ratings`;

  it('status: discovery, ADFS sign-in for audiences[0]/.default, one GET of the record set; says which Hub holds the zone', async () => {
    const st = await createTrafficController(config(), sites(), ctx).status();
    assert.deepEqual(arm.requests.map((r) => `${r.method} ${r.path} ${r.query['api-version']}`), ['GET /metadata/endpoints 2015-01-01', `GET ${recordPath} 2016-04-01`]);
    assert.deepEqual(login.requests.map((r) => `${r.method} ${r.path}`), ['GET /adfs/.well-known/openid-configuration', 'POST /adfs/oauth2/token']);
    assert.equal(login.requests[1].form!.scope, `${AUDIENCE}/.default`);
    assert.deepEqual(st.sites.map((s) => s.enabled), [true, false]);
    assert.equal((st.detail as { etag: string }).etag, 'etag-1');
    assert.match(ctx.summary.toMarkdown(), new RegExp(`The DNS zone contoso\\.test lives on the Hub of site seattle \\(${arm.endpoint.replace(/[.]/g, '\\.')}\\)`));
  });

  it('failover: PUT with If-Match of the ETag read, the new CNAME and the kept TTL/metadata', async () => {
    const r = await createTrafficController(config(), sites(), ctx).failover('denver');
    const put = arm.requests.find((x) => x.method === 'PUT')!;
    assert.equal(put.path, recordPath);
    assert.equal(put.query['api-version'], '2016-04-01');
    assert.equal(put.headers['if-match'], 'etag-1');
    assert.deepEqual(put.body, { properties: { TTL: 60, metadata: { owner: 'platform' }, CNAMERecord: { cname: 'ratings.denver.contoso.test' } } });
    assert.deepEqual(dns.sets.get('CNAME/ratings')!.values, ['ratings.denver.contoso.test']);
    assert.deepEqual(probes.requests, ['/denver/healthz']);
    // undo writes back against the NEW ETag
    const back = await createTrafficController(config(), sites(), ctx).undo(JSON.parse(JSON.stringify(r.previousState)) as TrafficState);
    assert.equal(back.noChange, false);
    assert.deepEqual(dns.sets.get('CNAME/ratings')!.values, ['ratings.seattle.contoso.test']);
  });

  it('someone else writes between our read and our PUT → 412 → "changed by someone else", their value stands', async () => {
    dns.beforePut = () => dns.sets.set('CNAME/ratings', { etag: 'etag-other', ttl: 60, type: 'CNAME', values: ['maintenance.contoso.test'] });
    const e = await rejects(createTrafficController(config(), sites(), ctx).failover('denver'));
    assert.equal(e.constructor.name, 'TrafficConflictError');
    assert.match(e.message, /^record set ratings\.contoso\.test CNAME was changed by someone else since it was read \(the Hub answered 412: the ETag read with the plan no longer matches\)/);
    assert.deepEqual(dns.sets.get('CNAME/ratings')!.values, ['maintenance.contoso.test']);
  });

  it('a record set that does not exist yet is created with If-None-Match: *', async () => {
    dns.sets.clear();
    await createTrafficController(config(), sites(), ctx).restore('seattle');
    const put = arm.requests.find((x) => x.method === 'PUT')!;
    assert.equal(put.headers['if-none-match'], '*');
    assert.equal(put.headers['if-match'], undefined);
    assert.deepEqual(dns.sets.get('CNAME/ratings')!.values, ['ratings.seattle.contoso.test']);
  });

  it('ADFS rejecting MSAL-style sign-in (MSIS9605) → the v1 oauth2/token with resource=<audience>', async () => {
    login.msis9605 = true;
    await createTrafficController(config(), sites(), ctx).status();
    const v1 = login.requests.filter((r) => r.method === 'POST').pop()!;
    assert.equal(v1.path, '/adfs/oauth2/token');
    assert.equal(v1.form!.resource, AUDIENCE);
    assert.equal(v1.form!.scope, undefined);
  });

  it('a wrong secret is reported as a sign-in failure, not as an unreachable Hub', async () => {
    const e = await rejects(createTrafficController(config({ trafficClientSecret: 'wrong-secret-0000' }), sites(), ctx).status());
    assert.match(e.message, /^sign-in of client hub-app at https:\/\/127\.0\.0\.1:\d+\/adfs\/ failed: .*MSIS9622: Client authentication failed/);
    assert.doesNotMatch(e.message, /wrong-secret-0000/);
  });

  it('the Hub holding the zone is unreachable → every operation fails saying the zone lives there; nothing else is contacted', async () => {
    const e = await rejects(createTrafficController(config(), sites('https://127.0.0.1:9/'), ctx).failover('denver'));
    assert.match(e.message, /^the DNS zone contoso\.test lives on the Hub of site seattle \(https:\/\/127\.0\.0\.1:9\/\), which cannot be reached from here: /);
    assert.equal(arm.requests.length, 0);
    assert.deepEqual(probes.requests, []);
  });
});
