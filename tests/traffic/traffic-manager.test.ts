/**
 * The azure-traffic-manager provider against a local HTTPS ARM server implementing the profile/endpoint semantics
 * (unique priorities, scripted monitor status transitions) and a local Azure AD-style token endpoint, both behind a
 * throwaway CA. Asserts the exact requests (methods, paths, api-version, bodies, scope), the health gate, the
 * compare-before-write, the bounded confirmation with revert, retries with backoff, a network cut after the write,
 * and undo. The clock is injected: nothing waits for a real monitor interval or TTL.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInputReader } from '../../src/platform/inputs';
import { createTrafficController, parseTrafficConfig, trafficSwap, type TrafficConfig, type TrafficState } from '../../src/traffic';
import { ManualClock } from '../helpers/manual-clock';
import { startArmServer, startLoginServer, type ArmServer, type LoginServer } from '../helpers/arm-servers';
import { startBind, type BindServer } from '../helpers/bind';
import { startConnectProxy, type TestProxy } from '../helpers/servers';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';
import { FakeTrafficManager } from './fake-traffic-manager';
import { rejects, sitesOf, startProbeServer, testContext, type ProbeServer, type TestContext } from './helpers';

const SUB = '11111111-2222-3333-4444-555555555555';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SECRET = 'sp-secret-value-1234';
const FEDERATED = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmNvbnRvc28vcmF0aW5ncyJ9.c2lnbmF0dXJl';

describe('traffic azure-traffic-manager provider (local ARM + token endpoint over HTTPS)', function () {
  this.timeout(60_000);
  let work: string;
  let ca: TestCa;
  let login: LoginServer;
  let arm: ArmServer;
  let probes: ProbeServer;
  let proxy: TestProxy;
  let bind: BindServer;
  let tm: FakeTrafficManager;
  let ctx: TestContext;
  let certPem: string;
  let certFile: string;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-tm-'));
    ca = makeCa(work);
    const cert = makeServerCert(ca, work);
    certFile = path.join(work, 'sp.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(work, 'sp.key'), '-out', path.join(work, 'sp.crt'), '-subj', '/CN=sp', '-days', '2'], { stdio: 'ignore' });
    certPem = fs.readFileSync(path.join(work, 'sp.crt'), 'utf8');
    fs.writeFileSync(certFile, certPem + fs.readFileSync(path.join(work, 'sp.key'), 'utf8'), { mode: 0o600 });
    login = await startLoginServer({
      cert,
      flavour: 'azure_ad',
      tenantId: TENANT,
      clients: { 'sp-app': { secret: SECRET }, 'cert-app': { certificatePem: certPem }, 'wif-app': { federatedTokens: [FEDERATED] } },
      audiences: [],
    });
    arm = await startArmServer({ cert, login, handle: (r) => tm.handle(r) });
    login.audiences.push(arm.endpoint);
    probes = await startProbeServer({ key: cert.keyPem, cert: cert.certPem });
    proxy = await startConnectProxy();
    bind = await startBind({ zone: 'trafficmanager.test' });
  });
  after(async () => {
    await Promise.all([login?.close(), arm?.close(), probes?.close(), proxy?.close(), bind?.stop()]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  beforeEach(() => {
    ctx = testContext();
    tm = new FakeTrafficManager(SUB, 'rg-ratings', 'ratings', 'Priority', [
      { name: 'seattle-ingress', target: 'ratings.seattle.contoso.test', status: 'Enabled', priority: 1, weight: 1, monitor: 'Online' },
      { name: 'denver-ingress', target: 'ratings.denver.contoso.test', status: 'Enabled', priority: 2, weight: 1, monitor: 'Online' },
      { name: 'lab-ingress', target: 'ratings.lab.contoso.test', status: 'Disabled', priority: 10, weight: 1, monitor: 'Disabled' },
    ]);
    arm.requests.length = 0;
    arm.faults.length = 0;
    arm.cut = false;
    arm.afterAnswer = undefined;
    login.requests.length = 0;
    probes.status = {};
    probes.requests.length = 0;
  });
  afterEach(() => ctx.cleanup());

  const sites = (resolvers: string[] = []) =>
    sitesOf(['seattle', 'denver'].map((n) => ({ name: n, endpoint: `${n}-ingress`, target: `ratings.${n}.contoso.test`, probeUrl: probes.probeUrl(n), resolvers })));

  function config(extra: Record<string, string> = {}, clock = new ManualClock(), c: TestContext = ctx): TrafficConfig {
    fs.writeFileSync(path.join(work, 'ca.pem'), ca.certPem);
    const values: Record<string, string> = {
      trafficProvider: 'azure-traffic-manager',
      trafficProfile: tm.id,
      trafficArmEndpoint: arm.url,
      trafficAuthorityHost: login.url,
      trafficTenantId: TENANT,
      trafficClientId: 'sp-app',
      trafficClientSecret: SECRET,
      trafficCaCertificate: path.join(work, 'ca.pem'),
      trafficProbeIntervalSeconds: '0',
      ...extra,
    };
    const cfg = parseTrafficConfig(createInputReader(trafficSwap.inputs, (n) => values[n] || undefined, (s) => c.mask(s)), c.platform)!;
    cfg.clock = clock;
    return cfg;
  }
  const armCalls = () => arm.requests.map((r) => `${r.method} ${r.path}?api-version=${r.query['api-version']}`);
  const profilePath = () => tm.id;

  it('status: signs in with the client secret for <arm>/.default, then one GET of the profile with api-version 2022-04-01', async () => {
    const st = await createTrafficController(config(), sites(), ctx).status();
    assert.deepEqual(
      login.requests.map((r) => `${r.method} ${r.path}`),
      [`GET /${TENANT}/v2.0/.well-known/openid-configuration`, `POST /${TENANT}/oauth2/v2.0/token`],
    );
    const form = login.requests[1].form!;
    assert.equal(form.grant_type, 'client_credentials');
    assert.equal(form.client_id, 'sp-app');
    assert.equal(form.client_secret, SECRET);
    assert.equal(form.scope, `${arm.url}/.default`);
    assert.deepEqual(armCalls(), [`GET ${profilePath()}?api-version=2022-04-01`]);
    assert.equal(arm.requests[0].headers.authorization, `Bearer ${login.tokens[0]}`);
    assert.deepEqual(st.sites.map((s) => [s.site, s.endpoint, s.enabled, s.priority, s.health]), [
      ['seattle', 'seattle-ingress', true, 1, 'Online'],
      ['denver', 'denver-ingress', true, 2, 'Online'],
    ]);
    assert.equal(st.routing, 'Priority');
    assert.match(ctx.summary.toMarkdown(), /Endpoints not in the sites file \(left as they are\): lab-ingress \(Disabled\)/);
    assert.ok(!ctx.lines.join('\n').includes(login.tokens[0]), 'the token is never logged');
  });

  it('failover: probes the new primary over HTTPS (CA), re-reads, then ONE PUT of the whole profile swapping the unique priorities', async () => {
    tm.scripts.set('denver-ingress', ['Online']);
    const r = await createTrafficController(config(), sites(), ctx).failover('denver');
    assert.deepEqual(probes.requests, ['/denver/healthz']);
    assert.deepEqual(armCalls(), [
      `GET ${profilePath()}?api-version=2022-04-01`,
      `GET ${profilePath()}?api-version=2022-04-01`,
      `PUT ${profilePath()}?api-version=2022-04-01`,
      `GET ${profilePath()}?api-version=2022-04-01`,
    ]);
    const put = arm.requests[2].body as ReturnType<FakeTrafficManager['profileJson']> & { properties: { endpoints: { name: string; properties: Record<string, unknown> }[]; monitorConfig: Record<string, unknown> } };
    assert.deepEqual(
      put.properties.endpoints.map((e) => [e.name, e.properties.endpointStatus, e.properties.priority, 'endpointMonitorStatus' in e.properties]),
      [
        ['seattle-ingress', 'Enabled', 2, false],
        ['denver-ingress', 'Enabled', 1, false],
        ['lab-ingress', 'Disabled', 10, false],
      ],
    );
    assert.equal('profileMonitorStatus' in put.properties.monitorConfig, false, 'read-only statuses are not sent');
    assert.deepEqual((put as { tags?: unknown }).tags, { app: 'ratings' }, 'the rest of the profile is written back unchanged');
    assert.equal(arm.requests[2].headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(tm.endpoints.map((e) => [e.name, e.priority]), [['seattle-ingress', 2], ['denver-ingress', 1], ['lab-ingress', 10]]);
    assert.deepEqual(r.previousState.sites.map((s) => s.priority), [1, 2]);
    assert.deepEqual(r.state.sites.map((s) => s.priority), [2, 1]);
    assert.equal(r.checks.find((c) => c.name === 'DNS TTL wait')?.detail, '60 s');
    assert.equal(r.checks.find((c) => c.name === 'DNS answers')?.detail, 'not checked: no traffic.resolvers in the sites file');
  });

  it('drain: one PATCH of the endpoint (status only); drain of the last serving site is refused with no write', async () => {
    const ctl = createTrafficController(config(), sites(), ctx);
    const r = await ctl.drain('seattle');
    assert.deepEqual(armCalls().slice(2, 3), [`PATCH ${profilePath()}/externalEndpoints/seattle-ingress?api-version=2022-04-01`]);
    assert.deepEqual(arm.requests[2].body, { properties: { endpointStatus: 'Disabled' } });
    assert.deepEqual(probes.requests, ['/denver/healthz'], 'denver becomes the primary: it gains users and is probed first');
    assert.equal(r.state.sites[0].health, 'Disabled');
    assert.equal(r.state.sites[0].enabled, false);

    arm.requests.length = 0;
    const e = await rejects(ctl.drain('denver'));
    assert.match(e.message, /^refusing to drain denver: no site would serve traffic \(it is the last site that does\)/);
    assert.deepEqual(armCalls(), [`GET ${profilePath()}?api-version=2022-04-01`], 'read only');
    assert.equal(tm.endpoints[1].status, 'Enabled');
  });

  it('restore: polls through CheckingEndpoint until Online (interval-paced on the injected clock)', async () => {
    tm.endpoints[1].status = 'Disabled';
    tm.onEnable = ['CheckingEndpoint', 'CheckingEndpoint', 'Online'];
    const clock = new ManualClock();
    const r = await createTrafficController(config({}, clock), sites(), ctx).restore('denver');
    assert.deepEqual(probes.requests, ['/denver/healthz']);
    const confirmation = r.checks.find((c) => c.name === 'provider confirmation')!;
    assert.match(confirmation.detail, /shows the change; denver: Online after 20 s \(3 reads, bound 130 s\)/);
    assert.deepEqual(clock.slept.slice(0, 2), [10_000, 10_000]);
    assert.equal(tm.endpoints[1].status, 'Enabled');
  });

  it('confirmation fails within interval × (tolerated + 1) + timeout → the previous state is written back and the run fails', async () => {
    tm.endpoints[1].status = 'Disabled';
    tm.onEnable = ['CheckingEndpoint', 'Degraded'];
    tm.interval = 10;
    tm.tolerated = 2;
    tm.timeout = 5;
    const clock = new ManualClock();
    const e = await rejects(createTrafficController(config({}, clock), sites(), ctx).restore('denver'));
    assert.match(e.message, /^traffic restore denver: not confirmed within 35 s: denver: Degraded; the previous state was put back$/);
    assert.equal(e.reverted, true);
    assert.equal(e.written, true);
    assert.equal(tm.endpoints[1].status, 'Disabled', 'reverted');
    const patches = arm.requests.filter((r) => r.method === 'PATCH').map((r) => (r.body as { properties: { endpointStatus: string } }).properties.endpointStatus);
    assert.deepEqual(patches, ['Enabled', 'Disabled']);
    assert.equal(clock.slept.reduce((a, b) => a + b, 0), 35_000, 'bounded by 10 × (2 + 1) + 5 s');
    assert.deepEqual(JSON.parse(JSON.stringify((e.outputs as { previousState: TrafficState }).previousState.sites[1])), { site: 'denver', endpoint: 'denver-ingress', enabled: false, priority: 2, weight: 1, health: 'Disabled', target: 'ratings.denver.contoso.test' });
    assert.match(ctx.summary.toMarkdown(), /\| revert \| ok \| the previous state was written back \|/);
  });

  it('target unhealthy (probe through the agent proxy) → no write at all', async () => {
    const c = testContext({ proxy: { url: proxy.url } });
    probes.status.denver = 500;
    const e = await rejects(createTrafficController(config({}, new ManualClock(), c), sites(), c).failover('denver'));
    c.cleanup();
    assert.match(e.message, /^site denver is not healthy: GET https:\/\/127\.0\.0\.1:\d+\/denver\/healthz answered 500, expected 200-399 \(3 attempts\)/);
    assert.ok(proxy.connects.includes(`127.0.0.1:${probes.port}`), 'the probe went through the proxy');
    assert.ok(arm.requests.every((r) => r.method === 'GET'), 'no write');
  });

  it('someone else changes the profile between our read and our write → "changed by someone else", no PUT', async () => {
    tm.beforeGet = (n) => {
      if (n === 2) tm.endpoints[0].priority = 5; // another pipeline moved seattle
    };
    const e = await rejects(createTrafficController(config(), sites(), ctx).swap('seattle', 'denver'));
    assert.equal(e.constructor.name, 'TrafficConflictError');
    assert.match(e.message, /^Traffic Manager profile ratings was changed by someone else since it was read \(seattle-ingress priority 1 → 5\): nothing was written/);
    assert.deepEqual(arm.requests.map((r) => r.method), ['GET', 'GET']);
  });

  it('429 and 5xx are retried with backoff (Retry-After honoured); persistent 503 ends in a clear failure', async () => {
    const clock = new ManualClock();
    arm.faults.push({ status: 429, retryAfter: '7' }, { status: 503 });
    const st = await createTrafficController(config({}, clock), sites(), ctx).status();
    assert.equal(st.sites.length, 2);
    assert.deepEqual(clock.slept, [7_000, 2_000]);
    assert.equal(arm.requests.length, 3);

    const clock2 = new ManualClock();
    for (let i = 0; i < 6; i++) arm.faults.push({ status: 503 });
    arm.requests.length = 0;
    const e = await rejects(createTrafficController(config({}, clock2), sites(), ctx).status());
    assert.match(e.message, new RegExp(`^GET ${arm.url.replace(/[.]/g, '\\.')}${tm.id}\\?? answered 503 InternalServerError: try again later`.replace('\\??', '')));
    assert.deepEqual(clock2.slept, [1_000, 2_000, 4_000, 8_000]);
    assert.equal(arm.requests.length, 5);
  });

  it('network cut after the write, before verification → fails with previousState in its outputs; undo then restores it', async () => {
    tm.interval = 10;
    tm.tolerated = 1;
    tm.timeout = 5;
    arm.afterAnswer = (r) => {
      if (r.method === 'PUT') arm.cut = true;
    };
    const clock = new ManualClock();
    const e = await rejects(createTrafficController(config({}, clock), sites(), ctx).swap('seattle', 'denver'));
    assert.match(e.message, /^traffic swap seattle denver: the change was written but not confirmed within 25 s: cannot read azure-traffic-manager: .*; reverting failed too \(.*\): run undo with the previousState output$/);
    assert.equal(e.written, true);
    assert.equal(e.reverted, false);
    const prev = (e.outputs as { previousState: TrafficState; changed: string }).previousState;
    assert.equal((e.outputs as { changed: string }).changed, 'true');
    assert.deepEqual(tm.endpoints.map((x) => x.priority), [2, 1, 10], 'the swap is in force');

    arm.cut = false;
    arm.afterAnswer = undefined;
    const r = await createTrafficController(config(), sites(), ctx).undo(JSON.parse(JSON.stringify(prev)) as TrafficState);
    assert.equal(r.noChange, false);
    assert.deepEqual(tm.endpoints.map((x) => x.priority), [1, 2, 10]);
  });

  it('weights (Weighted profile): one PUT with the weights; the site that gains weight is probed; weights refused under Priority', async () => {
    const e = await rejects(createTrafficController(config(), sites(), ctx).weights({ seattle: 100 }));
    assert.match(e.message, /the routing is by priority: weights have no effect there/);
    tm.routing = 'Weighted';
    for (const ep of tm.endpoints) ep.priority = undefined;
    arm.requests.length = 0;
    const r = await createTrafficController(config(), sites(), ctx).weights({ seattle: 900, denver: 100 });
    const put = arm.requests.find((x) => x.method === 'PUT')!.body as { properties: { endpoints: { name: string; properties: { weight: number } }[] } };
    assert.deepEqual(put.properties.endpoints.map((x) => [x.name, x.properties.weight]), [['seattle-ingress', 900], ['denver-ingress', 100], ['lab-ingress', 1]]);
    assert.deepEqual(probes.requests, ['/seattle/healthz', '/denver/healthz']);
    assert.deepEqual(r.state.sites.map((s) => s.weight), [900, 100]);
  });

  it('an endpoint named in the sites file but missing from the profile → one line naming the sites file, no write', async () => {
    const s = sitesOf([{ name: 'seattle', endpoint: 'seattle-ingress' }, { name: 'denver', endpoint: 'denver-ing' }]);
    const e = await rejects(createTrafficController(config(), s, ctx).drain('seattle'));
    assert.equal(e.message, "input 'sitesFile': site denver: endpoint 'denver-ing' is not in Traffic Manager profile ratings (it has: seattle-ingress, denver-ingress, lab-ingress)");
    assert.ok(arm.requests.every((r) => r.method === 'GET'));
  });

  it('undo refuses a state with duplicate priorities before reading anything', async () => {
    const st = await createTrafficController(config(), sites(), ctx).status();
    const bad = JSON.parse(JSON.stringify(st)) as TrafficState & { detail: { endpoints: { priority: number }[] } };
    bad.detail.endpoints[1].priority = 1;
    arm.requests.length = 0;
    const e = await rejects(createTrafficController(config(), sites(), ctx).undo(bad));
    assert.equal(e.message, "input 'state': duplicate priority 1 (endpoints seattle-ingress and denver-ingress): priorities are unique per profile");
    assert.equal(arm.requests.length, 0);
  });

  it('certificate service principal: a signed client assertion for the token endpoint', async () => {
    await createTrafficController(config({ trafficClientSecret: '', trafficClientId: 'cert-app', trafficClientCertificateFile: certFile }), sites(), ctx).status();
    const form = login.requests.find((r) => r.method === 'POST')!.form!;
    assert.equal(form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    assert.equal(form.client_secret, undefined);
    assert.equal(form.scope, `${arm.url}/.default`);
    assert.equal(arm.requests.length, 1);
  });

  it('workload identity federation: the federated token from a file is the client assertion; custom scope for a sovereign cloud', async () => {
    const tokenFile = path.join(work, 'oidc-token');
    fs.writeFileSync(tokenFile, `${FEDERATED}\n`);
    login.audiences.push('https://management.core.usgovcloudapi.test/');
    await createTrafficController(
      config({ trafficAuth: 'workload-identity', trafficClientSecret: '', trafficClientId: 'wif-app', trafficFederatedTokenPath: tokenFile, trafficCredentialScope: 'https://management.core.usgovcloudapi.test/.default' }),
      sites(),
      ctx,
    ).status();
    const form = login.requests.find((r) => r.method === 'POST')!.form!;
    assert.equal(form.client_assertion, FEDERATED);
    assert.equal(form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    assert.equal(form.scope, 'https://management.core.usgovcloudapi.test/.default');
  });

  it('a wrong secret fails sign-in with one line; nothing is read or written', async () => {
    const e = await rejects(createTrafficController(config({ trafficClientSecret: 'not-the-secret' }), sites(), ctx).status());
    assert.match(e.message, /^sign-in of client sp-app at https:\/\/127\.0\.0\.1:\d+\/ failed: .*AADSTS7000215/);
    assert.doesNotMatch(e.message, /not-the-secret/);
    assert.equal(arm.requests.length, 0);
  });

  it('after the TTL, the profile name is resolved through the sites\' resolvers: right answer passes, a stale one fails without revert', async () => {
    tm.scripts.set('denver-ingress', ['Online']);
    await bind.set('ratings.trafficmanager.test', 'CNAME', ['ratings.denver.contoso.test.']);
    const r = await createTrafficController(config(), sites([bind.address]), ctx).failover('denver');
    assert.deepEqual(r.checks.filter((c) => c.name.startsWith('DNS ratings')).map((c) => [c.ok, c.detail]), [
      [true, 'answered ratings.denver.contoso.test; expected ratings.denver.contoso.test'],
    ]);
    // the resolver still answers denver after failing back to seattle
    tm.scripts.set('seattle-ingress', ['Online']);
    const e = await rejects(createTrafficController(config(), sites([bind.address]), ctx).failover('seattle'));
    assert.match(e.message, /confirmed the change, but after the TTL DNS ratings\.trafficmanager\.test CNAME via 127\.0\.0\.1:\d+ answered ratings\.denver\.contoso\.test; expected ratings\.seattle\.contoso\.test: not reverted/);
    assert.deepEqual(tm.endpoints.map((x) => x.priority), [1, 2, 10], 'the failover stands');
    assert.equal(e.reverted, false);
  });

  describe('GSLB health gate: the Traffic Manager endpointMonitorStatus as well as the probe (scripted monitor states)', () => {
    const puts = () => arm.requests.filter((r) => r.method === 'PUT' || r.method === 'PATCH');
    const noProbe = () => sitesOf(['seattle', 'denver'].map((n) => ({ name: n, endpoint: `${n}-ingress`, target: `ratings.${n}.contoso.test` })));

    for (const status of ['Degraded', 'Stopped', 'Inactive', 'Disabled']) {
      it(`failover to a site Traffic Manager reports ${status} (its probe answers 200) → refused before any write`, async () => {
        tm.endpoints[1].monitor = status;
        if (status === 'Disabled') tm.endpoints[1].status = 'Enabled'; // enabled endpoint, monitor Disabled (profile-level)
        const e = await rejects(createTrafficController(config(), sites(), ctx).failover('denver'));
        assert.equal(e.message, `site denver is not healthy by Traffic Manager endpointMonitorStatus: ${status}; azure-traffic-manager would not send users there; nothing was changed (skipHealthCheck: true overrides the gate)`);
        assert.deepEqual(puts(), [], 'no write');
        assert.equal(e.written, false);
        assert.deepEqual(tm.endpoints.map((x) => x.priority), [1, 2, 10]);
        assert.match(ctx.summary.toMarkdown(), /Nothing was changed\./);
      });
    }

    it('swap to a site still CheckingEndpoint after the bound → refused, no write; the gate re-reads at the poll interval', async () => {
      tm.interval = 10;
      tm.tolerated = 1;
      tm.timeout = 5;
      tm.endpoints[1].monitor = 'CheckingEndpoint';
      const clock = new ManualClock();
      const e = await rejects(createTrafficController(config({}, clock), sites(), ctx).swap('seattle', 'denver'));
      assert.equal(e.message, 'denver: CheckingEndpoint by Traffic Manager endpointMonitorStatus after 25 s (the bound): not known healthy, azure-traffic-manager may not send users there; nothing was changed (skipHealthCheck: true overrides the gate)');
      assert.deepEqual(clock.slept, [10_000, 10_000, 5_000]);
      assert.deepEqual(puts(), []);
      assert.deepEqual(probes.requests, [], 'refused before probing');
    });

    it('swap to a site that turns Online within the bound → goes ahead (CheckingEndpoint is waited for, not refused)', async () => {
      tm.scripts.set('denver-ingress', ['CheckingEndpoint', 'CheckingEndpoint', 'Online']);
      const clock = new ManualClock();
      const r = await createTrafficController(config({}, clock), sites(), ctx).swap('seattle', 'denver');
      assert.deepEqual(tm.endpoints.map((x) => x.priority), [2, 1, 10]);
      assert.equal(r.checks.find((c) => c.name === 'GSLB health denver')?.detail, 'Traffic Manager endpointMonitorStatus: Online');
      assert.match(r.checks.find((c) => c.name === 'provider confirmation')!.detail, /; users go to denver, the highest-priority enabled endpoint that is Online$/);
    });

    it('weight shift to a site Traffic Manager reports Stopped → refused before any write', async () => {
      tm.routing = 'Weighted';
      for (const ep of tm.endpoints) ep.priority = undefined;
      tm.endpoints[1].monitor = 'Stopped';
      const e = await rejects(createTrafficController(config(), sites(), ctx).weights({ seattle: 100, denver: 900 }));
      assert.match(e.message, /^site denver is not healthy by Traffic Manager endpointMonitorStatus: Stopped;/);
      assert.deepEqual(puts(), []);
    });

    it('restore of a disabled site with no probe URL → refused (Traffic Manager has no verdict on a disabled endpoint), no write', async () => {
      tm.endpoints[1].status = 'Disabled';
      const e = await rejects(createTrafficController(config(), noProbe(), ctx).restore('denver'));
      assert.equal(e.message, 'site denver would gain traffic but has no traffic.probeUrl in the sites file to check its health and Traffic Manager endpointMonitorStatus gives no verdict before the write (Disabled (not monitored while disabled)): add one (or set skipHealthCheck: true); nothing was changed');
      assert.deepEqual(puts(), []);
    });

    it('no probe URL: the GSLB view is the only gate — Online goes ahead (the summary says so), Degraded is refused', async () => {
      tm.scripts.set('denver-ingress', ['Online']);
      const r = await createTrafficController(config(), noProbe(), ctx).failover('denver');
      assert.deepEqual(tm.endpoints.map((x) => x.priority), [2, 1, 10]);
      assert.equal(r.checks.find((c) => c.name === 'health probe denver')?.detail, 'not configured: Traffic Manager endpointMonitorStatus (Online) is the only gate');
      assert.match(ctx.summary.toMarkdown(), /site denver has no traffic\.probeUrl: Traffic Manager endpointMonitorStatus \(Online\) is the only health gate/);

      arm.requests.length = 0;
      tm.scripts.clear();
      tm.endpoints[0].monitor = 'Degraded';
      const e = await rejects(createTrafficController(config(), noProbe(), testContext()).failover('seattle'));
      assert.match(e.message, /^site seattle is not healthy by Traffic Manager endpointMonitorStatus: Degraded;/);
      assert.deepEqual(puts(), []);
    });

    it('skipHealthCheck: true writes to a Degraded site, with a warning in the log', async () => {
      tm.endpoints[1].monitor = 'Degraded';
      tm.scripts.set('denver-ingress', ['Degraded', 'Degraded', 'Online']);
      const r = await createTrafficController(config({ skipHealthCheck: 'true' }), sites(), ctx).failover('denver');
      assert.equal(r.noChange, false);
      assert.deepEqual(probes.requests, []);
      assert.ok(ctx.lines.some((l) => /^warning: skipHealthCheck: true — failover to denver: the health gate \(HTTP probe and Traffic Manager endpointMonitorStatus\) is skipped for denver/.test(l)), ctx.lines.join('\n'));
    });

    it('an enabled endpoint outside the sites file with better priority and Online → refused before the write (users would stay there)', async () => {
      tm.endpoints = [
        { name: 'seattle-ingress', target: 'ratings.seattle.contoso.test', status: 'Enabled', priority: 2, weight: 1, monitor: 'Online' },
        { name: 'denver-ingress', target: 'ratings.denver.contoso.test', status: 'Enabled', priority: 3, weight: 1, monitor: 'Online' },
        { name: 'lab-ingress', target: 'ratings.lab.contoso.test', status: 'Enabled', priority: 1, weight: 1, monitor: 'Online' },
      ];
      const e = await rejects(createTrafficController(config(), sites(), ctx).failover('denver'));
      assert.equal(e.message, 'endpoint lab-ingress (not in the sites file) has priority 1 (better than 2 for denver) and is Online: azure-traffic-manager would keep sending users there; nothing was changed');
      assert.deepEqual(puts(), []);
    });

    it('verification is where Traffic Manager routes, not the fields read back: a better-priority endpoint Online after the write → not verified, put back', async () => {
      tm.interval = 10;
      tm.tolerated = 1;
      tm.timeout = 5;
      tm.endpoints = [
        { name: 'seattle-ingress', target: 'ratings.seattle.contoso.test', status: 'Enabled', priority: 2, weight: 1, monitor: 'Online' },
        { name: 'denver-ingress', target: 'ratings.denver.contoso.test', status: 'Enabled', priority: 3, weight: 1, monitor: 'Online' },
        { name: 'lab-ingress', target: 'ratings.lab.contoso.test', status: 'Enabled', priority: 1, weight: 1, monitor: 'Degraded' },
      ];
      tm.scripts.set('lab-ingress', ['Degraded', 'Degraded', 'Online']); // read, re-read before the PUT, then Online
      const e = await rejects(createTrafficController(config({}, new ManualClock()), sites(), ctx).failover('denver'));
      assert.equal(e.message, 'traffic failover to denver: not confirmed within 25 s: lab-ingress (not in the sites file) (priority 1, Online) comes before denver and gets the users; the previous state was put back');
      assert.equal(e.reverted, true);
      assert.deepEqual(tm.endpoints.map((x) => [x.name, x.priority]), [['seattle-ingress', 2], ['denver-ingress', 3], ['lab-ingress', 1]]);
      assert.equal(puts().length, 2, 'the write and the revert');
    });

    it('verification: the new primary Degraded after the write → not verified, put back (Weighted: a gaining target that is not Online too)', async () => {
      tm.interval = 10;
      tm.tolerated = 0;
      tm.timeout = 5;
      tm.scripts.set('denver-ingress', ['Online', 'Online', 'Degraded']);
      const e = await rejects(createTrafficController(config({}, new ManualClock()), sites(), ctx).swap('seattle', 'denver'));
      assert.equal(e.message, 'traffic swap seattle denver: not confirmed within 15 s: denver: Degraded; the previous state was put back');
      assert.deepEqual(tm.endpoints.map((x) => x.priority), [1, 2, 10]);

      tm.routing = 'Weighted';
      for (const ep of tm.endpoints) ep.priority = undefined;
      tm.scripts.set('denver-ingress', ['Online', 'Online', 'Stopped']);
      const w = await rejects(createTrafficController(config({}, new ManualClock()), sites(), testContext()).weights({ denver: 900 }));
      assert.equal(w.message, 'traffic weights denver=900: not confirmed within 15 s: denver: Stopped; the previous state was put back');
      assert.deepEqual(tm.endpoints.map((x) => x.weight), [1, 1, 1]);
    });

    it('drain (Weighted): refused up front when every site still serving is unhealthy by the GSLB or its probe; the error names them', async () => {
      tm.routing = 'Weighted';
      for (const ep of tm.endpoints) ep.priority = undefined;
      tm.endpoints[1].monitor = 'Degraded';
      const e = await rejects(createTrafficController(config(), sites(), ctx).drain('seattle'));
      assert.equal(e.message, 'refusing to drain seattle: the only sites left serving (denver: Degraded) are reported unhealthy');
      assert.deepEqual(puts(), []);

      tm.endpoints[1].monitor = 'Online';
      probes.status.denver = 503;
      const p = await rejects(createTrafficController(config(), sites(), testContext()).drain('seattle'));
      assert.match(p.message, /^refusing to drain seattle: every site that would still serve is unhealthy: denver \(GET https:\/\/127\.0\.0\.1:\d+\/denver\/healthz answered 503, expected 200-399 \(3 attempts\)\); nothing was changed/);
      assert.deepEqual(puts(), []);

      probes.status.denver = 200;
      const ok = await createTrafficController(config(), sites(), testContext()).drain('seattle');
      assert.equal(ok.noChange, false);
      assert.deepEqual(puts().map((r) => r.body), [{ properties: { endpointStatus: 'Disabled' } }]);
    });

    it('writes only writable properties: the PUT is shaped as Profile-PUT-WithEndpoints (2022-04-01); the fake refuses read-only ones', async () => {
      tm.scripts.set('denver-ingress', ['Online']);
      await createTrafficController(config(), sites(), ctx).swap('seattle', 'denver');
      const put = puts()[0].body as Record<string, unknown>;
      assert.deepEqual(put, {
        location: 'global',
        tags: { app: 'ratings' },
        properties: {
          profileStatus: 'Enabled',
          trafficRoutingMethod: 'Priority',
          trafficViewEnrollmentStatus: 'Disabled',
          dnsConfig: { relativeName: 'ratings', ttl: 60 },
          monitorConfig: { protocol: 'HTTPS', port: 443, path: '/healthz', intervalInSeconds: 30, timeoutInSeconds: 10, toleratedNumberOfFailures: 3, customHeaders: [], expectedStatusCodeRanges: [{ min: 200, max: 299 }] },
          endpoints: [
            { name: 'seattle-ingress', type: 'Microsoft.Network/trafficManagerProfiles/externalEndpoints', properties: { target: 'ratings.seattle.contoso.test', endpointStatus: 'Enabled', weight: 1, priority: 2, alwaysServe: 'Disabled', customHeaders: [] } },
            { name: 'denver-ingress', type: 'Microsoft.Network/trafficManagerProfiles/externalEndpoints', properties: { target: 'ratings.denver.contoso.test', endpointStatus: 'Enabled', weight: 1, priority: 1, alwaysServe: 'Disabled', customHeaders: [] } },
            { name: 'lab-ingress', type: 'Microsoft.Network/trafficManagerProfiles/externalEndpoints', properties: { target: 'ratings.lab.contoso.test', endpointStatus: 'Disabled', weight: 1, priority: 10, alwaysServe: 'Disabled', customHeaders: [] } },
          ],
        },
      });
      // the fake answers 400 to what the old body echoed back (so a regression fails the tests above)
      for (const [field, body] of [
        ['properties.dnsConfig.fqdn', { ...put, properties: { ...(put.properties as object), dnsConfig: { relativeName: 'ratings', fqdn: 'ratings.trafficmanager.test', ttl: 60 } } }],
        ['properties.monitorConfig.profileMonitorStatus', { ...put, properties: { ...(put.properties as object), monitorConfig: { profileMonitorStatus: 'Online' } } }],
        ['properties.endpoints[0].properties.endpointMonitorStatus', { ...put, properties: { ...(put.properties as object), endpoints: [{ name: 'seattle-ingress', type: 'x', properties: { endpointStatus: 'Enabled', priority: 1, endpointMonitorStatus: 'Online' } }] } }],
      ] as const) {
        const a = tm.handle({ method: 'PUT', path: tm.id, query: { 'api-version': '2022-04-01' }, headers: {}, body } as never);
        assert.equal(a.status, 400);
        assert.match(JSON.stringify(a.body), new RegExp(field.replace(/[.[\]]/g, '\\$&')));
      }
      const patch = tm.handle({ method: 'PATCH', path: `${tm.id}/externalEndpoints/denver-ingress`, query: { 'api-version': '2022-04-01' }, headers: {}, body: { properties: { endpointStatus: 'Enabled', endpointMonitorStatus: 'Online' } } } as never);
      assert.equal(patch.status, 400);
    });
  });
});
