/**
 * The MongoDB primary gate of the traffic capability, through the real frame with a REAL BIND 9 (rfc2136 provider)
 * and the mongosh double's replica set: a failover to a site that does not hold the primary is refused before any
 * DNS write; after `mongo primary move` it goes through; `within-lag` accepts a site within the bound and refuses
 * one beyond it; with the gate off mongosh never runs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { mongoBackup } from '../../src/mongo';
import { trafficSwap } from '../../src/traffic';
import { startBind, type BindServer } from '../helpers/bind';
import { D0, D1, rsUri, twoSites, writeReplSet } from '../mongo/replset-world';
import { runInProcess, World } from '../mongo/world';
import { startProbeServer, type ProbeServer } from './helpers';

describe('traffic: MongoDB primary gate (real BIND, mongosh double replica set)', function () {
  this.timeout(120_000);
  let bind: BindServer;
  let probes: ProbeServer;
  let w: World;
  let sitesFile: string;

  before(async () => {
    bind = await startBind({ zone: 'contoso.test' });
    probes = await startProbeServer();
    w = await new World().init();
    sitesFile = path.join(w.dir, 'sites.yaml');
    const site = (name: string, members: string[] = []) => ({
      name,
      traffic: { target: `ratings.${name}.contoso.test`, probeUrl: probes.probeUrl(name), resolvers: [bind.address] },
      mongo: members.length ? { members } : {},
    });
    // seattle's members carry {site} tags (replset-world), dublin's are listed here
    fs.writeFileSync(sitesFile, YAML.stringify({ sites: [site('seattle'), site('dublin', [D0, D1])] }));
  });
  after(async () => {
    await probes?.close();
    await bind?.stop();
    w?.cleanup();
  });
  beforeEach(async () => {
    w.clearRecords();
    writeReplSet(w, twoSites());
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.'], 5);
  });

  const traffic = (inputs: Record<string, string>) =>
    runInProcess(
      trafficSwap,
      {
        sitesFile,
        trafficProvider: 'rfc2136',
        trafficDnsServer: bind.address,
        trafficDnsZone: 'contoso.test',
        trafficDnsName: 'ratings.contoso.test',
        trafficTsigKey: bind.key.text,
        trafficDnsTtl: '1',
        trafficMaxDnsWaitSeconds: '0',
        trafficProbeIntervalSeconds: '0',
        mongoConnectionString: rsUri(w),
        ...inputs,
      },
      w.env(),
    );
  const mongoshRuns = (): number => w.records().filter((r) => r.tool === 'mongosh').length;

  it('failover to dublin while seattle holds the primary: refused before any write; allowed after the primary moves', async () => {
    const refused = await traffic({ command: 'failover', site: 'dublin', mongoPrimaryGate: 'primary' });
    assert.match(refused.failed ?? '', /^refusing to .*: site dublin does not hold the MongoDB primary \(it is mongo-0\.seattle\.contoso\.local:27017 \(seattle\)\); move it first \(`stackhub-ha mongo primary move --site dublin`.*nothing was changed/);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test'], 'no DNS write');
    assert.ok(!refused.text.includes(w.password));

    const moved = await runInProcess(mongoBackup, { command: 'primary-move', site: 'dublin', sitesFile, connectionString: rsUri(w) }, w.env());
    assert.ok(moved.succeeded, moved.failed);
    assert.equal(moved.outputs.primarySite, 'dublin');

    const ok = await traffic({ command: 'failover', site: 'dublin', mongoPrimaryGate: 'primary' });
    assert.ok(ok.succeeded, ok.failed);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.dublin.contoso.test']);
    const checks = JSON.parse(ok.outputs.checks) as { name: string; ok: boolean; detail: string }[];
    assert.deepEqual(checks.find((c) => c.name === 'MongoDB primary dublin'), { name: 'MongoDB primary dublin', ok: true, detail: `primary ${D0} (dublin)` });
  });

  it('within-lag: a dublin member within mongoMaxLagSeconds passes; beyond it is refused', async () => {
    writeReplSet(w, twoSites().map((m) => (m.site === 'dublin' ? { ...m, lagSeconds: m.host === D0 ? 3 : 40 } : m)));
    const ok = await traffic({ command: 'failover', site: 'dublin', mongoPrimaryGate: 'within-lag', mongoMaxLagSeconds: '10' });
    assert.ok(ok.succeeded, ok.failed);
    await bind.set('ratings.contoso.test', 'CNAME', ['ratings.seattle.contoso.test.'], 5);
    const refused = await traffic({ command: 'failover', site: 'dublin', mongoPrimaryGate: 'within-lag', mongoMaxLagSeconds: '2' });
    assert.match(refused.failed ?? '', /mongo-0\.dublin\.contoso\.local:27017 is 3 s behind the primary .* more than mongoMaxLagSeconds 2/);
    assert.deepEqual(await bind.query('ratings.contoso.test', 'CNAME'), ['ratings.seattle.contoso.test']);
  });

  it('gate off (the default), and operations other than failover/restore: mongosh never runs', async () => {
    const r = await traffic({ command: 'failover', site: 'dublin' });
    assert.ok(r.succeeded, r.failed);
    assert.equal(mongoshRuns(), 0);
  });

  it('bad input: the gate without any connection names mongoConnectionString', async () => {
    const r = await traffic({ command: 'failover', site: 'dublin', mongoPrimaryGate: 'primary', mongoConnectionString: '' });
    assert.match(r.failed ?? '', /^input 'mongoConnectionString': is required with mongoPrimaryGate primary \(or set site dublin's mongo\.connection/);
    assert.equal(mongoshRuns(), 0);
  });
});
