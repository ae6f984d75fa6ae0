/**
 * `cluster reboot` through the capability frame (in process, CLI platform): inputs parsed once (sites file with
 * kubeconfig references, window, helper image), the rollout against the HTTPS Kubernetes API stand-in with a manual
 * clock, outputs; bad inputs → one line naming the input with nothing touched; a node that never comes back →
 * a failed run whose error line says NEEDS AN OPERATOR.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { aksEngine } from '../../src/aks-engine';
import { rebootRuntime } from '../../src/aks-engine/reboot';
import { CliPlatform } from '../../src/platform/cli';
import { runCapability } from '../../src/platform/run';
import { realClock } from '../../src/traffic/clock';
import { ManualClock } from '../helpers/manual-clock';
import { startKubeStandIn, type KubeStandIn } from '../helpers/aks-engine-double/kube';
import { namedBinary, startBind, type BindServer } from '../helpers/bind';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';
import { kubeconfigFor, stockCluster, TOKEN } from './reboot-fixture';

const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('aks-engine reboot (capability frame, CLI platform)', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: TestCa;
  let tls: { key: string; cert: string };
  let kube: KubeStandIn;
  let sitesFile: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reboot-run-'));
    ca = makeCa(path.join(dir, 'tls'));
    const cert = makeServerCert(ca, path.join(dir, 'tls'));
    tls = { key: cert.keyPem, cert: cert.certPem };
  });
  beforeEach(async () => {
    kube = await startKubeStandIn({ tls, token: TOKEN, namespaces: ['kube-system', 'ratings'] });
    fs.writeFileSync(path.join(dir, 'seattle.kubeconfig'), kubeconfigFor(kube, ca), { mode: 0o600 });
    sitesFile = path.join(dir, 'sites.yaml');
    fs.writeFileSync(sitesFile, YAML.stringify({ sites: [{ name: 'seattle', cluster: { kubeconfig: { file: 'seattle.kubeconfig' } } }, { name: 'dublin' }] }));
    rebootRuntime.clock = new ManualClock(Date.UTC(2026, 11, 12, 0, 30));
    rebootRuntime.pollMs = 5000;
  });
  afterEach(async () => kube.close());
  after(() => {
    rebootRuntime.clock = realClock;
    rebootRuntime.pollMs = 10_000;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function run(values: Record<string, string>): Promise<{ ok: boolean; outputs: Record<string, string>; stdout: string; stderr: string; error?: string }> {
    let stdout = '';
    let stderr = '';
    const exitCode = process.exitCode;
    try {
      const platform = new CliPlatform(new Map(Object.entries({ command: 'reboot', ...values })), { debug: false, help: false }, process.env, (s) => (stdout += s), (s) => (stderr += s));
      const ok = await runCapability(platform, aksEngine, platform.masker);
      return { ok, outputs: { ...platform.outputs }, stdout, stderr, error: ok ? undefined : [...stderr.matchAll(/^error: (.*)$/gm)].at(-1)?.[1] };
    } finally {
      process.exitCode = exitCode;
    }
  }
  const base = (): Record<string, string> => ({ sitesFile, rebootSites: 'seattle', rebootHelperImage: 'registry.contoso.local/tools/reboot-helper:1.0', rebootWindow: 'Sat 01:00-05:00 Europe/Berlin', minWorkers: '1' });

  it('reboots the nodes that need it and sets the outputs; the admin token is never printed', async () => {
    stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-1'] });
    const r = await run(base());
    assert.ok(r.ok, r.stderr);
    assert.equal(r.outputs.rebootStatus, 'done');
    assert.equal(r.outputs.rebootedNodes, 'seattle/k8s-linuxpool-0-1');
    assert.equal(kube.world.nodes.get('k8s-linuxpool-0-1')!.reboots.length, 1);
    assert.match(r.stdout, /Sites in order: `seattle` · window `Sat 01:00-05:00 Europe\/Berlin` · 1 worker\(s\) at once · minWorkers 1/);
    assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN));
  });

  it('outside the window: succeeds, does nothing, outputs when it opens', async () => {
    rebootRuntime.clock = new ManualClock(Date.UTC(2026, 11, 14, 9, 0));
    stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-1'] });
    const r = await run(base());
    assert.ok(r.ok, r.stderr);
    assert.equal(r.outputs.rebootStatus, 'outside-window');
    assert.equal(r.outputs.nextRebootWindow, 'Sat 2026-12-19 01:00 Europe/Berlin (2026-12-19T00:00:00Z)');
    assert.deepEqual(kube.requests, []);
  });

  it('a node that never comes back: the run fails with NEEDS AN OPERATOR, outputs rebootStatus failed', async () => {
    stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-0', 'k8s-linuxpool-0-2'] });
    kube.world.pdbs.length = 0;
    kube.world.neverBack.add('k8s-linuxpool-0-0');
    const r = await run({ ...base(), nodeReadyTimeoutMinutes: '10' });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^NEEDS AN OPERATOR: node k8s-linuxpool-0-0 of site seattle did not come back Ready with a new boot id within 10 min/);
    assert.equal(r.outputs.rebootStatus, 'failed');
    assert.equal(kube.world.nodes.get('k8s-linuxpool-0-2')!.reboots.length, 0);
    noStack(r.stderr);
  });

  for (const [name, extra, expected] of [
    ['no sitesFile', { sitesFile: '' }, "input 'sitesFile': is required for reboot: the sites and their kubeconfigs"],
    ['no helper image', { rebootHelperImage: '' }, "input 'rebootHelperImage': is required for reboot: the reboot helper image in the internal registry (sh, kubectl, nsenter)"],
    ['a helper image without a registry', { rebootHelperImage: 'reboot-helper' }, "input 'rebootHelperImage': expected an image reference with a registry host, like registry.contoso.local/tools/reboot-helper:1.0, got 'reboot-helper'"],
    ['a bad window', { rebootWindow: 'Saturday 1-5' }, "input 'rebootWindow': 'Saturday 1-5': expected '<days> <HH:MM>-<HH:MM> <time zone>', e.g. 'Sat 01:00-05:00 Europe/Berlin'"],
    ['an unknown site', { rebootSites: 'seattle,paris' }, "input 'rebootSites': 'paris' is not a site of the sites file: expected one of seattle, dublin"],
    ['a site without kubeconfig', { rebootSites: 'dublin' }, "input 'sitesFile': site dublin has no cluster.kubeconfig ({env: VARIABLE} or {file: path})"],
    ['maxNodesAtOnce 0', { maxNodesAtOnce: '0' }, "input 'maxNodesAtOnce': "],
  ] as const) {
    it(`bad input (${name}): one line naming the input, nothing touched`, async () => {
      stockCluster(kube, { workers: 3, needReboot: ['k8s-linuxpool-0-1'] });
      const values: Record<string, string> = { ...base(), ...extra };
      for (const [k, v] of Object.entries(values)) if (v === '') delete values[k];
      const r = await run(values);
      assert.equal(r.ok, false);
      assert.ok((r.error ?? '').startsWith(expected), r.error);
      assert.deepEqual(kube.requests, []);
      noStack(r.stderr);
    });
  }

  describe('GSLB drain through the real traffic controller (rfc2136 against BIND 9)', () => {
    let bind: BindServer | undefined;
    before(async function () {
      if (!namedBinary()) {
        console.log('    (skipped: no named (bind9) on this machine: scripts/prepare-machine.sh installs it)');
        this.skip();
      }
      bind = await startBind({ zone: 'contoso.test' });
    });
    after(async () => bind?.stop());

    const withTraffic = (): Record<string, string> => {
      fs.writeFileSync(
        sitesFile,
        YAML.stringify({
          sites: [
            { name: 'seattle', cluster: { kubeconfig: { file: 'seattle.kubeconfig' } }, traffic: { target: '10.0.0.1', resolvers: [bind!.address] } },
            { name: 'dublin', traffic: { target: '10.0.0.2', resolvers: [bind!.address] } },
          ],
        }),
      );
      return {
        ...base(),
        minWorkers: '2',
        trafficProvider: 'rfc2136',
        trafficDnsServer: bind!.address,
        trafficDnsZone: 'contoso.test',
        trafficDnsName: 'ratings.contoso.test',
        trafficTsigKey: bind!.key.text,
        skipHealthCheck: 'true',
        trafficMaxDnsWaitSeconds: '0',
      };
    };

    it('below minWorkers: seattle leaves the A record set for its reboots and comes back after', async () => {
      await bind!.set('ratings.contoso.test', 'A', ['10.0.0.1', '10.0.0.2'], 60);
      stockCluster(kube, { workers: 2, needReboot: ['k8s-linuxpool-0-0'] });
      kube.world.pdbs.length = 0;
      let during: string[] | undefined;
      const tick = kube.world.helperRunning;
      kube.world.helperRunning = () => {
        // the moment the node goes down, look at the GSLB (DNS) as users would
        if (!during && kube.world.nodes.get('k8s-linuxpool-0-0')!.reboots.length) void bind!.query('ratings.contoso.test', 'A').then((v) => (during = v));
        return tick();
      };
      const r = await run(withTraffic());
      assert.ok(r.ok, r.stderr);
      assert.equal(r.outputs.rebootedNodes, 'seattle/k8s-linuxpool-0-0');
      assert.deepEqual(during, ['10.0.0.2'], 'while seattle rebooted, only dublin was in the record set');
      assert.deepEqual((await bind!.query('ratings.contoso.test', 'A')).sort(), ['10.0.0.1', '10.0.0.2'], 'restored after');
      assert.ok(!r.stdout.includes(bind!.key.secret) && !r.stderr.includes(bind!.key.secret), 'the TSIG key is never printed');
    });

    it('a node that never comes back: seattle stays out of the record set (NEEDS AN OPERATOR)', async () => {
      await bind!.set('ratings.contoso.test', 'A', ['10.0.0.1', '10.0.0.2'], 60);
      stockCluster(kube, { workers: 2, needReboot: ['k8s-linuxpool-0-0'] });
      kube.world.pdbs.length = 0;
      kube.world.neverBack.add('k8s-linuxpool-0-0');
      const r = await run(withTraffic());
      assert.equal(r.ok, false);
      assert.match(r.error ?? '', /^NEEDS AN OPERATOR: .* site seattle stays drained from the GSLB/);
      assert.deepEqual(await bind!.query('ratings.contoso.test', 'A'), ['10.0.0.2']);
    });
  });
});

