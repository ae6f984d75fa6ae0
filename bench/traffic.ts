/**
 * What the safety logic costs: one rfc2136 failover through the traffic controller (dig read, health probe,
 * compare-and-swap UPDATE, re-read to confirm, resolver check; the TTL wait skipped on an injected clock) against a
 * real BIND 9, compared with the bare `nsupdate` UPDATE it contains, measured in the same run (median of 9,
 * interleaved). And a Traffic Manager `status` (token cached) against a plain HTTPS GET of the same local ARM server.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInputReader } from '../src/platform/inputs';
import { request } from '../src/shared/http';
import { createTrafficController, parseTrafficConfig, trafficSwap } from '../src/traffic';
import { ManualClock } from '../tests/helpers/manual-clock';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { startArmServer, startLoginServer } from '../tests/helpers/arm-servers';
import { startBind } from '../tests/helpers/bind';
import { makeCa, makeServerCert } from '../tests/helpers/tls';
import { FakeTrafficManager } from '../tests/traffic/fake-traffic-manager';
import { sitesOf, startProbeServer, testContext } from '../tests/traffic/helpers';

const RUNS = 9;

function nsupdate(keyFile: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('nsupdate', ['-v', '-k', keyFile], { stdio: ['pipe', 'ignore', 'pipe'] });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nsupdate exited ${code}`))));
    c.stdin.end(script);
  });
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (n: number): string => n.toFixed(1);

export const benches: Bench[] = [
  {
    name: 'traffic: rfc2136 failover through the controller vs the bare nsupdate (real BIND 9, median of 9)',
    columns: ['operation', 'nsupdate ms', 'controller ms', 'ratio', 'over nsupdate ms'],
    async run() {
      const bind = await startBind({ zone: 'contoso.test' });
      const probes = await startProbeServer();
      try {
        const sites = sitesOf(['a', 'b'].map((n) => ({ name: n, target: `ratings.${n}.contoso.test`, probeUrl: probes.probeUrl(n), resolvers: [bind.address] })));
        const base: number[] = [];
        const full: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          await bind.set('ratings.contoso.test', 'CNAME', ['ratings.a.contoso.test.']);
          let t0 = process.hrtime.bigint();
          await nsupdate(
            bind.key.file,
            [`server 127.0.0.1 ${bind.port}`, 'zone contoso.test.', 'update delete ratings.contoso.test. IN CNAME', 'update add ratings.contoso.test. 60 IN CNAME ratings.b.contoso.test.', 'send', ''].join('\n'),
          );
          base.push(ms(t0));
          await bind.set('ratings.contoso.test', 'CNAME', ['ratings.a.contoso.test.']);
          const ctx = testContext();
          const values: Record<string, string> = {
            trafficProvider: 'rfc2136',
            trafficDnsServer: bind.address,
            trafficDnsZone: 'contoso.test',
            trafficDnsName: 'ratings.contoso.test',
            trafficTsigKey: bind.key.text,
          };
          const cfg = parseTrafficConfig(createInputReader(trafficSwap.inputs, (n) => values[n], () => undefined), ctx.platform)!;
          cfg.clock = new ManualClock();
          t0 = process.hrtime.bigint();
          await createTrafficController(cfg, sites, ctx).failover('b');
          full.push(ms(t0));
          ctx.cleanup();
        }
        const b = median(base);
        const f = median(full);
        return [['failover (CNAME)', fmt(b), fmt(f), (f / b).toFixed(2), fmt(f - b)]];
      } finally {
        await probes.close();
        await bind.stop();
      }
    },
  },
  {
    name: 'traffic: Traffic Manager status through the controller (token cached) vs a plain HTTPS GET (median of 9)',
    columns: ['operation', 'GET ms', 'controller ms', 'ratio', 'over GET ms'],
    async run() {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-traffic-'));
      const ca = makeCa(work);
      const cert = makeServerCert(ca, work);
      fs.writeFileSync(path.join(work, 'ca.pem'), ca.certPem);
      const tm = new FakeTrafficManager('s1', 'rg', 'ratings', 'Priority', [
        { name: 'a-ingress', target: 'a.contoso.test', status: 'Enabled', priority: 1, monitor: 'Online' },
        { name: 'b-ingress', target: 'b.contoso.test', status: 'Enabled', priority: 2, monitor: 'Online' },
      ]);
      const login = await startLoginServer({ cert, flavour: 'azure_ad', clients: { app: { secret: 'bench-secret' } }, audiences: [] });
      const arm = await startArmServer({ cert, login, handle: (r) => tm.handle(r) });
      login.audiences.push(arm.endpoint);
      try {
        const ctx = testContext();
        const values: Record<string, string> = {
          trafficProvider: 'azure-traffic-manager',
          trafficProfile: tm.id,
          trafficArmEndpoint: arm.url,
          trafficAuthorityHost: login.url,
          trafficTenantId: login.tenantId,
          trafficClientId: 'app',
          trafficClientSecret: 'bench-secret',
          trafficCaCertificate: path.join(work, 'ca.pem'),
        };
        const cfg = parseTrafficConfig(createInputReader(trafficSwap.inputs, (n) => values[n], () => undefined), ctx.platform)!;
        cfg.summary = false;
        const ctl = createTrafficController(cfg, sitesOf(['a', 'b'].map((n) => ({ name: n, endpoint: `${n}-ingress` }))), ctx);
        await ctl.status(); // sign in once
        const token = login.tokens[login.tokens.length - 1];
        const base: number[] = [];
        const full: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          let t0 = process.hrtime.bigint();
          await request({ method: 'GET', url: `${arm.url}${tm.id}?api-version=2022-04-01`, headers: { authorization: `Bearer ${token}` }, ca: [ca.certPem], proxyFor: () => undefined });
          base.push(ms(t0));
          t0 = process.hrtime.bigint();
          await ctl.status();
          full.push(ms(t0));
        }
        ctx.cleanup();
        const b = median(base);
        const f = median(full);
        return [['status', fmt(b), fmt(f), (f / b).toFixed(2), fmt(f - b)]];
      } finally {
        await Promise.all([login.close(), arm.close()]);
        fs.rmSync(work, { recursive: true, force: true });
      }
    },
  },
];
