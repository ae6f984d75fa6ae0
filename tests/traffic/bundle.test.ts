/**
 * Traffic swap as the agents run it: the built ADO task, GitHub Action and CLI bundles on Node 20 and Node 24 for a
 * core subset (rfc2136 against a real BIND 9; Traffic Manager against the local HTTPS ARM + token endpoint), and the
 * bad-input list through the CLI: one line naming the input, non-zero exit, no stack trace, no change made.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listFiles, requireBuilt, runAdoTask, runCli, runGitHubAction, runtimes } from '../helpers/harness';
import { startArmServer, startLoginServer, type ArmServer, type LoginServer } from '../helpers/arm-servers';
import { startBind, type BindServer } from '../helpers/bind';
import { makeCa, makeServerCert } from '../helpers/tls';
import { FakeTrafficManager } from './fake-traffic-manager';
import { startProbeServer, writeSitesFile, type ProbeServer } from './helpers';

const TASK = 'StackHubTrafficSwapV1';
const ACTION = 'traffic-swap';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SECRET = 'bundle-sp-secret-9876';
const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('traffic swap bundles (ADO task, GitHub Action, CLI)', function () {
  this.timeout(120_000);
  let work: string;
  let bind: BindServer;
  let probes: ProbeServer;
  let login: LoginServer;
  let arm: ArmServer;
  let tm: FakeTrafficManager;
  let dnsSites: string;
  let tmSites: string;
  let caFile: string;

  before(async function () {
    this.timeout(120_000);
    requireBuilt();
    for (const f of [`tasks/${TASK}/dist/index.js`, `actions/${ACTION}/dist/index.js`]) {
      assert.ok(fs.existsSync(path.join(__dirname, '..', '..', f)), `${f} is missing: npx tsx scripts/build.ts --only traffic-swap`);
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-bundle-'));
    bind = await startBind({ zone: 'contoso.test' });
    probes = await startProbeServer();
    const ca = makeCa(work);
    const cert = makeServerCert(ca, work);
    caFile = path.join(work, 'ca.pem');
    fs.writeFileSync(caFile, ca.certPem);
    login = await startLoginServer({ cert, flavour: 'azure_ad', tenantId: TENANT, clients: { app: { secret: SECRET } }, audiences: [] });
    arm = await startArmServer({ cert, login, handle: (r) => tm.handle(r) });
    login.audiences.push(arm.endpoint);
    dnsSites = writeSitesFile(work, {
      sites: ['seattle', 'denver'].map((n) => ({ name: n, traffic: { target: `ratings.${n}.contoso.test`, probeUrl: probes.probeUrl(n), resolvers: [bind.address] } })),
    });
    tmSites = writeSitesFile(
      work,
      { sites: ['seattle', 'denver'].map((n) => ({ name: n, traffic: { endpoint: `${n}-ingress`, target: `ratings.${n}.contoso.test`, probeUrl: probes.probeUrl(n) } })) },
      'tm-sites.json',
    );
  });
  after(async () => {
    await Promise.all([bind?.stop(), probes?.close(), login?.close(), arm?.close()]);
    fs.rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    tm = new FakeTrafficManager('11111111-2222-3333-4444-555555555555', 'rg', 'ratings', 'Priority', [
      { name: 'seattle-ingress', target: 'ratings.seattle.contoso.test', status: 'Enabled', priority: 1, monitor: 'Online' },
      { name: 'denver-ingress', target: 'ratings.denver.contoso.test', status: 'Enabled', priority: 2, monitor: 'Online' },
    ]);
    tm.scripts.set('denver-ingress', ['Online']);
    tm.scripts.set('seattle-ingress', ['Online']);
    probes.status = {};
  });

  const dnsInputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    sitesFile: dnsSites,
    trafficProvider: 'rfc2136',
    trafficDnsServer: bind.address,
    trafficDnsZone: 'contoso.test',
    trafficDnsName: 'ratings.contoso.test',
    trafficTsigKey: bind.key.text,
    trafficMaxDnsWaitSeconds: '0',
    ...extra,
  });

  for (const rt of runtimes()) {
    describe(`on ${rt.name}`, () => {
      it('ADO task: rfc2136 failover with a secret TSIG key; outputs, summary attachment, key masked and never on disk after the run', async () => {
        await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
        const r = await runAdoTask({ task: TASK, node: rt.path, inputs: dnsInputs({ command: 'failover', site: 'denver' }) });
        assert.equal(r.result, 'Succeeded', r.stdout);
        assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.denver.contoso.test']);
        const prev = JSON.parse(r.variables.get('previousState')!.value) as { sites: { site: string; enabled: boolean }[] };
        assert.deepEqual(prev.sites.map((s) => [s.site, s.enabled]), [['seattle', true], ['denver', false]]);
        assert.equal(r.variables.get('changed')?.value, 'true');
        assert.equal(r.variables.get('previousState')?.isOutput, true);
        const summary = r.attachments.find((a) => a.type === 'Distributedtask.Core.Summary')?.content ?? '';
        assert.match(summary, /### Traffic: failover to denver/);
        assert.match(summary, /\| DNS TTL wait \| ok \| skipped \(TTL 60 s; trafficMaxDnsWaitSeconds is 0\) \|/);
        // task-lib itself echoes every input in ##vso[task.debug] (the agent masks secret variables there itself)
        const shown = r.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]') && !l.startsWith('##vso[task.debug]'));
        assert.ok(!shown.join('\n').includes(bind.key.secret), 'the TSIG secret never reaches the log');
        assert.ok(r.secrets.some((s) => s.includes(bind.key.secret)), 'registered as a secret with the agent');
        assert.deepEqual(listFiles(r.agentTemp).filter((f) => /tsig/.test(f)), [], 'the 0600 key file went with the private temp dir');
      });

      it('GitHub Action: drain of the last serving site fails with one line, no change, previousState still output', async () => {
        await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']);
        const single = writeSitesFile(work, { sites: [{ name: 'seattle', traffic: { target: 'ratings.seattle.contoso.test', probeUrl: probes.probeUrl('seattle') } }] }, 'single.json');
        const r = await runGitHubAction({ action: ACTION, node: rt.path, inputs: dnsInputs({ command: 'drain', site: 'seattle', sitesFile: single }) });
        assert.equal(r.exitCode, 1, r.stdout);
        assert.deepEqual(r.errors, ['refusing to drain seattle: no site would serve traffic (it is the last site that does)']);
        noStack(r.stdout + r.stderr);
        assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test']);
        assert.equal(JSON.parse(r.outputs.get('previousState')!).provider, 'rfc2136');
        assert.equal(r.outputs.get('changed'), 'false');
        assert.match(r.summary, /\*\*Failed:\*\* refusing to drain seattle/);
      });

      it('CLI: traffic failover against Traffic Manager (client secret from --traffic-client-secret-env), then undo from the outputs file', async () => {
        const cfg = path.join(work, `tm-${rt.name}.yaml`);
        fs.writeFileSync(
          cfg,
          [
            `sitesFile: ${tmSites}`,
            'trafficProvider: azure-traffic-manager',
            `trafficProfile: ${tm.id}`,
            `trafficArmEndpoint: ${arm.url}`,
            `trafficAuthorityHost: ${login.url}`,
            `trafficTenantId: ${TENANT}`,
            'trafficClientId: app',
            `trafficCaCertificate: ${caFile}`,
            'trafficMaxDnsWaitSeconds: 0',
            '',
          ].join('\n'),
        );
        const out = path.join(work, `out-${rt.name}.json`);
        const r = await runCli(['traffic', 'failover', '--config', cfg, '--site', 'denver', '--traffic-client-secret-env', 'SP_SECRET', '--outputs-file', out], {
          node: rt.path,
          env: { SP_SECRET: SECRET },
        });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.deepEqual(tm.endpoints.map((e) => e.priority), [2, 1]);
        assert.match(r.stdout, /\| denver \| denver-ingress \| ratings\.denver\.contoso\.test \| enabled, priority 2, Online \| enabled, priority 1, Online \|/);
        assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET));
        const outputs = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, string>;
        fs.writeFileSync(path.join(work, 'prev.json'), outputs.previousState);
        const u = await runCli(['traffic', 'undo', '--config', cfg, '--state', `@${path.join(work, 'prev.json')}`, '--traffic-client-secret-env', 'SP_SECRET'], { node: rt.path, env: { SP_SECRET: SECRET } });
        assert.equal(u.exitCode, 0, u.stderr);
        assert.deepEqual(tm.endpoints.map((e) => e.priority), [1, 2]);
      });
    });
  }

  describe('GSLB health gate (Traffic Manager endpointMonitorStatus scripted by the test)', () => {
    const tmInputs = (extra: Record<string, string>): Record<string, string> => ({
      sitesFile: tmSites,
      trafficProvider: 'azure-traffic-manager',
      trafficProfile: tm.id,
      trafficArmEndpoint: arm.url,
      trafficAuthorityHost: login.url,
      trafficTenantId: TENANT,
      trafficClientId: 'app',
      trafficClientSecret: SECRET,
      trafficCaCertificate: caFile,
      trafficMaxDnsWaitSeconds: '0',
      ...extra,
    });
    const writes = (): string[] => arm.requests.filter((x) => x.method !== 'GET').map((x) => x.method);
    beforeEach(() => {
      arm.requests.length = 0;
      tm.scripts.clear();
    });

    for (const rt of runtimes()) {
      describe(`on ${rt.name}`, () => {
        it('ADO task: failover to a site Traffic Manager reports Degraded (probe 200) is refused before any write', async () => {
          tm.endpoints[1].monitor = 'Degraded';
          const r = await runAdoTask({ task: TASK, node: rt.path, inputs: tmInputs({ command: 'failover', site: 'denver' }) });
          assert.equal(r.result, 'Failed', r.stdout);
          assert.match(r.stdout, /site denver is not healthy by Traffic Manager endpointMonitorStatus: Degraded; azure-traffic-manager would not send users there; nothing was changed/);
          noStack(r.stdout);
          assert.deepEqual(writes(), []);
          assert.deepEqual(tm.endpoints.map((e) => e.priority), [1, 2]);
        });

        it('GitHub Action: drain (Weighted) refused up front when the site left serving fails its probe; the error names it', async () => {
          tm.routing = 'Weighted';
          for (const ep of tm.endpoints) {
            ep.priority = undefined;
            ep.weight = 1;
          }
          probes.status.denver = 503;
          const r = await runGitHubAction({ action: ACTION, node: rt.path, inputs: { ...tmInputs({ command: 'drain', site: 'seattle' }), trafficProbeIntervalSeconds: '0' } });
          assert.equal(r.exitCode, 1, r.stdout);
          assert.equal(r.errors.length, 1);
          assert.match(r.errors[0], /^refusing to drain seattle: every site that would still serve is unhealthy: denver \(GET http:\/\/127\.0\.0\.1:\d+\/denver\/healthz answered 503/);
          noStack(r.stdout + r.stderr);
          assert.deepEqual(writes(), []);
          assert.equal(r.outputs.get('changed'), 'false');
        });

        it('CLI: a site with no probe URL — the GSLB view is the only gate (summary says so); a Stopped one is refused', async () => {
          const noProbe = writeSitesFile(work, { sites: ['seattle', 'denver'].map((n) => ({ name: n, traffic: { endpoint: `${n}-ingress`, target: `ratings.${n}.contoso.test` } })) }, `noprobe-${rt.name}.json`);
          const args = (site: string): string[] => ['traffic', 'failover', '--sites-file', noProbe, '--site', site, '--traffic-provider', 'azure-traffic-manager', '--traffic-profile', tm.id, '--traffic-arm-endpoint', arm.url, '--traffic-authority-host', login.url, '--traffic-tenant-id', TENANT, '--traffic-client-id', 'app', '--traffic-client-secret-env', 'S', '--traffic-ca-certificate', caFile, '--traffic-max-dns-wait-seconds', '0'];
          const ok = await runCli(args('denver'), { node: rt.path, env: { S: SECRET } });
          assert.equal(ok.exitCode, 0, ok.stderr);
          assert.match(ok.stdout, /site denver has no traffic\.probeUrl: Traffic Manager endpointMonitorStatus \(Online\) is the only health gate/);
          assert.deepEqual(tm.endpoints.map((e) => e.priority), [2, 1]);
          arm.requests.length = 0;
          tm.endpoints[0].monitor = 'Stopped';
          const bad = await runCli(args('seattle'), { node: rt.path, env: { S: SECRET } });
          assert.equal(bad.exitCode, 1);
          assert.deepEqual(bad.stderr.split('\n').filter((l) => l.startsWith('error: ')), ['error: site seattle is not healthy by Traffic Manager endpointMonitorStatus: Stopped; azure-traffic-manager would not send users there; nothing was changed (skipHealthCheck: true overrides the gate)']);
          noStack(bad.stderr + bad.stdout);
          assert.deepEqual(writes(), []);
        });
      });
    }
  });

  it('ADO task: Traffic Manager through an azurerm service connection (secret masked, sign-in at the configured host)', async () => {
    login.requests.length = 0;
    arm.requests.length = 0;
    const r = await runAdoTask({
      task: TASK,
      inputs: {
        command: 'swap',
        swapSites: 'seattle,denver',
        sitesFile: tmSites,
        trafficProvider: 'azure-traffic-manager',
        trafficProfile: tm.id,
        trafficAzureConnection: 'tm-conn',
        trafficAuthorityHost: login.url,
        trafficCaCertificate: caFile,
        trafficMaxDnsWaitSeconds: '0',
      },
      endpoints: [
        {
          id: 'tm-conn',
          url: `${arm.url}/`,
          scheme: 'ServicePrincipal',
          parameters: { tenantid: TENANT, serviceprincipalid: 'app', serviceprincipalkey: SECRET, authenticationType: 'spnKey' },
          data: { environment: 'AzureCloud', environmentUrl: `${arm.url}/`, subscriptionId: '11111111-2222-3333-4444-555555555555' },
        },
      ],
    });
    assert.equal(r.result, 'Succeeded', r.stdout);
    assert.deepEqual(tm.endpoints.map((e) => e.priority), [2, 1]);
    assert.equal(login.requests.find((x) => x.method === 'POST')?.form?.scope, `${arm.url}/.default`);
    assert.deepEqual(arm.requests.map((x) => x.method), ['GET', 'GET', 'PUT', 'GET']);
    const shown = r.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]') && !l.startsWith('##vso[task.debug]'));
    assert.ok(!shown.join('\n').includes(SECRET));
  });

  it('CLI: Traffic Manager with the existing Azure CLI login (an `az` double that checks the get-access-token contract)', async () => {
    const bin = fs.mkdtempSync(path.join(work, 'az-bin-'));
    const resource = arm.url; // scope <arm>/.default → --resource <arm>
    fs.writeFileSync(
      path.join(bin, 'az'),
      [
        '#!/bin/sh',
        '# az account get-access-token --output json --resource <r> [--tenant <t>]: anything else is rejected as az does (exit 2)',
        `if [ "$*" != "account get-access-token --output json --resource ${resource} --tenant ${TENANT}" ]; then echo "ERROR: unrecognized arguments: $*" >&2; exit 2; fi`,
        `echo '{"accessToken": "tok-from-az-cli", "expiresOn": "2099-01-01 00:00:00.000000", "expires_on": 4070908800, "subscription": "s", "tenant": "${TENANT}", "tokenType": "Bearer"}'`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    login.tokens.push('tok-from-az-cli');
    arm.requests.length = 0;
    login.requests.length = 0;
    const r = await runCli(
      ['traffic', 'status', '--sites-file', tmSites, '--traffic-provider', 'azure-traffic-manager', '--traffic-profile', tm.id, '--traffic-arm-endpoint', arm.url, '--traffic-auth', 'azure-cli', '--traffic-tenant-id', TENANT, '--traffic-ca-certificate', caFile],
      { env: { PATH: `${bin}:/usr/bin:/bin` } },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(arm.requests.map((x) => x.headers.authorization), ['Bearer tok-from-az-cli']);
    assert.equal(login.requests.length, 0, 'no sign-in endpoint is contacted');
    assert.match(r.stdout, /\| seattle \| seattle-ingress \| ratings\.seattle\.contoso\.test \| yes \| 1 \|/);
  });

  describe('bad input (CLI bundle): one line naming the input, exit 1, no stack trace, nothing changed', () => {
    const run = async (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> => {
      const r = await runCli(['traffic', cmd, ...args], { env: { TSIG: bind.key.text, ...env } });
      noStack(r.stderr + r.stdout);
      return { code: r.exitCode, stderr: r.stderr };
    };
    const base = (): string[] => ['--sites-file', dnsSites, '--traffic-provider', 'rfc2136', '--traffic-dns-server', bind.address, '--traffic-dns-zone', 'contoso.test', '--traffic-dns-name', 'ratings.contoso.test', '--traffic-tsig-key-env', 'TSIG'];
    const expectLine = (r: { code: number | null; stderr: string }, line: string): void => {
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('error: ')), [`error: ${line}`]);
    };

    before(() => bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.']));
    after(async () => assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test'], 'no bad input changed anything'));

    it('unknown provider', async () => {
      expectLine(await run('status', [...base(), '--traffic-provider', 'f5']), "input 'trafficProvider': expected one of azure-traffic-manager, rfc2136, azure-stack-dns, got 'f5'");
    });
    it('unknown site', async () => {
      expectLine(await run('failover', [...base(), '--site', 'boston']), "input 'site': unknown site 'boston': expected one of seattle, denver");
    });
    it('unknown endpoint (Traffic Manager profile without it): refused after the read, before any write', async () => {
      const bad = writeSitesFile(work, { sites: [{ name: 'seattle', traffic: { endpoint: 'nope-ingress' } }] }, 'bad-endpoint.json');
      const r = await run('drain', ['--sites-file', bad, '--site', 'seattle', '--traffic-provider', 'azure-traffic-manager', '--traffic-profile', tm.id, '--traffic-arm-endpoint', arm.url, '--traffic-authority-host', login.url, '--traffic-tenant-id', TENANT, '--traffic-client-id', 'app', '--traffic-client-secret-env', 'S', '--traffic-ca-certificate', caFile], { S: SECRET });
      expectLine(r, "input 'sitesFile': site seattle: endpoint 'nope-ingress' is not in Traffic Manager profile ratings (it has: seattle-ingress, denver-ingress)");
    });
    it('weight outside 1-1000', async () => {
      expectLine(await run('weights', [...base(), '--weights', 'seattle=1001']), "input 'weights': 'seattle=1001': the weight must be a whole number from 1 to 1000");
      expectLine(await run('weights', [...base(), '--weights', 'seattle=0']), "input 'weights': 'seattle=0': the weight must be a whole number from 1 to 1000");
    });
    it('duplicate priorities (undo state)', async () => {
      const state = { provider: 'azure-traffic-manager', routing: 'Priority', capturedAt: '2026-01-01T00:00:00Z', sites: [], detail: { profileId: tm.id, routingMethod: 'Priority', monitor: {}, endpoints: [{ name: 'a', type: 'x', endpointStatus: 'Enabled', priority: 1 }, { name: 'b', type: 'x', endpointStatus: 'Enabled', priority: 1 }] } };
      const f = path.join(work, 'dup.json');
      fs.writeFileSync(f, JSON.stringify(state));
      const r = await run('undo', ['--sites-file', tmSites, '--state', `@${f}`, '--traffic-provider', 'azure-traffic-manager', '--traffic-profile', tm.id, '--traffic-arm-endpoint', arm.url, '--traffic-authority-host', login.url, '--traffic-tenant-id', TENANT, '--traffic-client-id', 'app', '--traffic-client-secret-env', 'S', '--traffic-ca-certificate', caFile], { S: SECRET });
      expectLine(r, "input 'state': duplicate priority 1 (endpoints a and b): priorities are unique per profile");
    });
    it('missing TSIG key', async () => {
      expectLine(await run('failover', [...base().slice(0, -2), '--site', 'denver']), "input 'trafficTsigKey': is required for rfc2136 (the TSIG key that may update the zone): set trafficTsigKey or trafficTsigKeyPath, or trafficGssTsig for Kerberos");
    });
    it('unreadable CA', async () => {
      expectLine(await run('status', [...base(), '--traffic-ca-certificate', '/nonexistent/ca.pem']), "input 'trafficCaCertificate': expected a readable file, cannot read /nonexistent/ca.pem");
    });
    it('probe URL not http(s)', async () => {
      const bad = writeSitesFile(work, { sites: [{ name: 'seattle', traffic: { target: 'a.contoso.test', probeUrl: 'ftp://a.contoso.test/healthz' } }] }, 'bad-probe.json');
      const r = await run('status', [...base(), '--sites-file', bad]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: input 'sitesFile': .*bad-probe\.json: sites\[0\]\.traffic\.probeUrl: 'ftp:\/\/a\.contoso\.test\/healthz' does not match \^https\?:\/\/$/m);
    });
    it('nsupdate not installed', async () => {
      const r = await runCli(['traffic', 'status', ...base()], { env: { TSIG: bind.key.text, PATH: '/nonexistent' } });
      expectLine({ code: r.exitCode, stderr: r.stderr }, "input 'trafficProvider': rfc2136 needs nsupdate, which is not on PATH: install the Debian package bind9-dnsutils (RHEL: bind-utils)");
    });
  });
});
