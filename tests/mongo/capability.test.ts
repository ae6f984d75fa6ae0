/**
 * Mongo backup through the real frame (runCapability, in-process), with the executable doubles of mongodump,
 * mongorestore, mongosh and kubectl on PATH and real storage: both scopes, both places, restore, drill, list, prune,
 * and the fault list of issue 3.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { mongoBackup } from '../../src/mongo';
import { mongoInputs, parseMongoInputs } from '../../src/mongo/inputs';
import { prune, restore as restoreOp } from '../../src/mongo/ops';
import { signManifest } from '../../src/shared/crypto';
import { InputError } from '../../src/shared/errors';
import { loadPrivateKey } from '../../src/shared/signing';
import type { RunContext } from '../../src/platform/capability';
import { createInputReader } from '../../src/platform/inputs';
import { Summary } from '../../src/platform/summary';
import { exec } from '../../src/shared/exec';
import { MANIFEST, openStorage, readManifest, type Manifest } from '../../src/shared/storage';
import { listFiles } from '../helpers/harness';
import { startAzurite, startS3rver, type AzuriteServer, type S3Server } from '../helpers/storage-servers';
import { runInProcess, sampleData, TestPlatform, World } from './world';

describe('mongo-backup capability (in-process, doubles on PATH)', function () {
  this.timeout(120_000);
  let w: World;
  let store: string;
  let common: Record<string, string>;
  const run = (inputs: Record<string, string>, opts: { agentTemp?: string } = {}) => runInProcess(mongoBackup, { ...common, ...inputs }, w.env(), opts);
  const manifestOf = async (p: TestPlatform): Promise<Manifest<Record<string, unknown>>> => {
    const st = await openStorage({ kind: 'filesystem', path: store, location: 'off-hub', prefix: '' });
    return readManifest(st, path.relative(store, p.outputs.location));
  };

  before(async () => {
    w = await new World().init();
    store = path.join(w.dir, 'store');
    common = {
      site: 'seattle',
      storageKind: 'filesystem',
      storagePath: store,
      storageLocation: 'off-hub',
      storagePrefix: 'backups/ratings',
      encryptionRecipients: w.recipient,
      signingKey: w.signing.privateKeyPem,
      verifyKey: w.signing.publicKeyPem,
      ageIdentity: w.identity,
    };
  });
  after(() => w.cleanup());
  beforeEach(() => w.clearRecords());

  describe('agent', () => {
    it('instance: backup with --oplog through a 0600 config; signed manifest with counts; restore with --oplogReplay', async () => {
      const agentTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-'));
      const p = await run({ command: 'backup', connectionString: w.uri(), readPreference: 'secondary' }, { agentTemp });
      assert.ok(p.succeeded, p.failed);
      assert.match(p.outputs.backupId, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
      assert.equal(p.outputs.location, path.join(store, 'backups/ratings/seattle/instance', p.outputs.backupId));
      assert.deepEqual(fs.readdirSync(p.outputs.location).sort(), ['archive.age', MANIFEST]);
      const m = await manifestOf(p);
      assert.equal(m.kind, 'mongo-backup');
      assert.equal(m.site, 'seattle');
      assert.deepEqual(m.data.counts, { 'admin.system.users': 2, 'admin.system.version': 1, 'ratings.reviews': 1200, 'ratings.products': 40, 'ratings.audit': 7, 'shop.orders': 55 });
      assert.deepEqual(m.data.tools, { mongodump: '100.10.0' });
      assert.deepEqual(m.data.source, { place: 'agent', hosts: ['mongo-a:27017'] });
      assert.equal(m.data.scope, 'instance');
      assert.equal(m.data.oplog, true);
      assert.equal(m.objects[0].sha256, p.outputs.sha256);
      assert.equal(String(m.objects[0].size), p.outputs.sizeBytes);
      assert.match(m.signature!.keyFingerprint, /^SHA256:/);
      assert.equal(m.encryption.format === 'age' && m.encryption.recipients.length, 1);
      const dump = w.records().find((r) => r.tool === 'mongodump' && !r.argv.includes('--version'))!;
      assert.deepEqual(dump.argv.filter((a) => !a.startsWith('--config=')), ['--archive', '--gzip', '--oplog', '--readPreference=secondary']);
      assert.ok(!JSON.stringify(w.records()).includes(w.password));
      assert.deepEqual(listFiles(agentTemp).filter((f) => !f.startsWith('stackhub-ha-secrets')), [], 'the config file and private dir are gone');

      // restore into an emptied server
      w.patch('mongo-a:27017', (s) => (s.databases = {}));
      w.clearRecords();
      const r = await run({ command: 'restore', connectionString: w.uri(), drop: 'true' });
      assert.ok(r.succeeded, r.failed);
      assert.equal(r.outputs.backupId, p.outputs.backupId);
      const restore = w.records().find((x) => x.tool === 'mongorestore')!;
      assert.deepEqual(restore.argv.filter((a) => !a.startsWith('--config=')), ['--archive', '--gzip', '--drop', '--oplogReplay']);
      assert.equal(w.state('mongo-a:27017').databases.ratings.reviews.count, 1200);
      assert.ok(r.lines.some((l) => /also restores the admin users and roles/.test(l)));
    });

    it('database: exclude a collection, restore under another name (--nsFrom/--nsTo)', async () => {
      w.patch('mongo-a:27017', (s) => (s.databases = sampleData()));
      const p = await run({ command: 'backup', connectionString: w.uri(), scope: 'database', database: 'ratings', excludeCollections: 'audit' });
      assert.ok(p.succeeded, p.failed);
      assert.ok(p.outputs.location.endsWith(`seattle/ratings/${p.outputs.backupId}`));
      const m = await manifestOf(p);
      assert.deepEqual(m.data.counts, { 'ratings.reviews': 1200, 'ratings.products': 40 });
      assert.equal(m.data.oplog, false);
      const r = await run({ command: 'restore', connectionString: w.uri(), scope: 'database', database: 'ratings', targetDatabase: 'ratings_copy', backupId: p.outputs.backupId.split('-')[1] });
      assert.ok(r.succeeded, r.failed);
      const argv = w.records().find((x) => x.tool === 'mongorestore')!.argv;
      assert.deepEqual(argv.filter((a) => !a.startsWith('--config=')), ['--archive', '--gzip', '--nsInclude=ratings.*', '--nsFrom=ratings.*', '--nsTo=ratings_copy.*']);
      assert.deepEqual(w.state('mongo-a:27017').databases.ratings_copy, { reviews: { count: 1200, bytes: 300000 }, products: { count: 40, bytes: 20000 } });
    });

    it('a user without the backup role: the error names the role; nothing is stored', async () => {
      const before = listFiles(store);
      const p = await run({ command: 'backup', connectionString: w.uri('reader') });
      assert.match(p.failed ?? '', /needs the built-in `backup` role/);
      assert.deepEqual(listFiles(store), before);
    });
  });

  describe('kubectl-exec', () => {
    const kube = (extra: Record<string, string> = {}) => ({ place: 'kubectl-exec', podNamespace: 'ratings', podSelector: 'app=mongo', podContainer: 'mongodb', kubeconfig: w.kubeconfig, kubeContext: 'site-a', ...extra });

    it('database: streams over stdout; the config goes into the pod temp dir with exec -i and is removed; restore streams stdin', async () => {
      w.patch('mongo-a:27017', (s) => (s.databases = sampleData()));
      const p = await run({ command: 'backup', connectionString: w.uri(), scope: 'database', database: 'shop', ...kube() });
      assert.ok(p.succeeded, p.failed);
      const k = w.records().filter((r) => r.tool === 'kubectl');
      const execs = k.filter((r) => r.argv.includes('exec'));
      assert.ok(execs.length >= 3);
      for (const e of k) assert.ok(!e.argv.some((a) => a === '-t' || a === '--tty' || a === '-it'), e.argv.join(' '));
      const write = execs.find((e) => e.argv.includes('sh'))!;
      assert.ok(write.argv.includes('-i'));
      const dump = execs.find((e) => e.argv.includes('mongodump') && !e.argv.includes('--version'))!;
      assert.ok(!dump.argv.includes('-i'));
      assert.deepEqual(dump.argv.slice(dump.argv.indexOf('--') + 1).filter((a) => !a.startsWith('--config=')), ['mongodump', '--archive', '--gzip', '--db=shop']);
      assert.ok(execs.some((e) => e.argv.includes('rm')), 'the pod config dir is removed');
      assert.deepEqual(fs.readdirSync(path.join(w.podRoot, 'tmp')), [], 'nothing left in the pod temp dir');
      assert.ok(!JSON.stringify(w.records()).includes(w.password));
      const m = await manifestOf(p);
      assert.deepEqual(m.data.source, { place: 'kubectl-exec', namespace: 'ratings', pod: 'mongo-0', container: 'mongodb', hosts: ['mongo-a:27017'] });

      w.clearRecords();
      w.patch('mongo-a:27017', (s) => delete s.databases.shop);
      const r = await run({ command: 'restore', connectionString: w.uri(), scope: 'database', database: 'shop', ...kube({ podSelector: '', podName: 'mongo-0' }) });
      assert.ok(r.succeeded, r.failed);
      const restore = w.records().find((e) => e.tool === 'kubectl' && e.argv.includes('mongorestore'))!;
      assert.ok(restore.argv.includes('-i'));
      assert.equal(w.state('mongo-a:27017').databases.shop.orders.count, 55);
      assert.deepEqual(fs.readdirSync(path.join(w.podRoot, 'tmp')), []);
    });

    it('instance with a config file mounted from a Secret: no credential passes through the agent', async () => {
      const mounted = path.join(w.podRoot, 'etc', 'mongo');
      fs.mkdirSync(mounted, { recursive: true });
      fs.writeFileSync(path.join(mounted, 'tools.yaml'), `uri: mongodb://backup@mongo-a:27017/\npassword: ${w.password}\n`, { mode: 0o600 });
      const p = await run({ command: 'backup', ...kube({ podConfigPath: '/etc/mongo/tools.yaml' }) });
      assert.ok(p.succeeded, p.failed);
      const execs = w.records().filter((r) => r.tool === 'kubectl' && r.argv.includes('exec'));
      assert.ok(!execs.some((e) => e.argv.includes('sh')), 'no config written into the pod');
      assert.ok(execs.some((e) => e.argv.includes('--config=/etc/mongo/tools.yaml') && e.argv.includes('--oplog')));
    });

    it('RBAC: a missing pods/exec permission fails with the exact permission; nothing is stored', async () => {
      const before = listFiles(store);
      w.cluster({ exec: false });
      try {
        const p = await run({ command: 'backup', connectionString: w.uri(), ...kube() });
        assert.match(p.failed ?? '', /missing RBAC permission: verb `create` on `pods\/exec` in namespace ratings/);
        w.cluster({ list: false });
        const q = await run({ command: 'backup', connectionString: w.uri(), ...kube() });
        assert.match(q.failed ?? '', /missing RBAC permission: verb `list` on `pods` in namespace ratings/);
      } finally {
        w.cluster({});
      }
      assert.deepEqual(listFiles(store), before);
    });

    it('namespace or pod not found: one line naming the input', async () => {
      const a = await run({ command: 'backup', connectionString: w.uri(), ...kube({ podSelector: '', podName: 'mongo-9' }) });
      assert.match(a.failed ?? '', /^input 'podName': pod 'mongo-9' not found in namespace ratings/);
      const b = await run({ command: 'backup', connectionString: w.uri(), ...kube({ podNamespace: 'nowhere' }) });
      assert.match(b.failed ?? '', /^input 'podSelector': no running pod matches 'app=mongo' in namespace nowhere/);
      const c = await run({ command: 'backup', connectionString: w.uri(), ...kube({ podContainer: 'sidecar' }) });
      assert.match(c.failed ?? '', /^input 'podContainer': pod mongo-0 has no container 'sidecar'/);
    });
  });

  describe('faults', () => {
    it('mongodump exiting non-zero halfway: the task fails, no manifest, nothing left, earlier backups untouched', async () => {
      w.patch('mongo-a:27017', (s) => (s.databases = sampleData()));
      const ok = await run({ command: 'backup', connectionString: w.uri(), scope: 'database', database: 'ratings' });
      assert.ok(ok.succeeded);
      const before = listFiles(store);
      w.patch('mongo-a:27017', (s) => (s.failAfterBytes = 100_000));
      try {
        const p = await run({ command: 'backup', connectionString: w.uri(), scope: 'database', database: 'ratings' });
        assert.match(p.failed ?? '', /mongodump failed with exit code 1: .*Failed: error writing data/);
        assert.match(p.summary, /No manifest written/);
      } finally {
        w.patch('mongo-a:27017', (s) => delete s.failAfterBytes);
      }
      assert.deepEqual(listFiles(store), before);
    });

    describe('restore refuses, and mongorestore is never started', () => {
      let dir: string;
      let archive: string;
      let good: Buffer;
      before(async () => {
        w.patch('mongo-a:27017', (s) => (s.databases = sampleData()));
        const p = await run({ command: 'backup', connectionString: w.uri(), scope: 'database', database: 'shop' });
        assert.ok(p.succeeded, p.failed);
        dir = p.outputs.location;
        archive = path.join(dir, 'archive.age');
        good = fs.readFileSync(archive);
      });
      afterEach(() => fs.writeFileSync(archive, good));
      const restore = async (extra: Record<string, string> = {}): Promise<TestPlatform> => {
        w.clearRecords();
        const p = await run({ command: 'restore', connectionString: w.uri(), scope: 'database', database: 'shop', ...extra });
        assert.ok(!w.records().some((r) => r.tool === 'mongorestore'), 'mongorestore was started');
        return p;
      };

      it('truncated archive', async () => {
        fs.writeFileSync(archive, good.subarray(0, good.length - 1000));
        assert.match((await restore()).failed ?? '', /refused|truncated|does not match/);
      });
      it('one flipped byte', async () => {
        const b = Buffer.from(good);
        b[Math.floor(b.length / 2)] ^= 1;
        fs.writeFileSync(archive, b);
        assert.match((await restore()).failed ?? '', /SHA-256|authentication/);
      });
      it('a flipped byte in the LAST age chunk under a manifest re-signed by the real key over the new SHA-256: refused by the chunk tag, one line, nothing left on disk', async () => {
        const b = Buffer.from(good);
        b[b.length - 20] ^= 1;
        fs.writeFileSync(archive, b);
        const mf = path.join(dir, MANIFEST);
        const original = fs.readFileSync(mf, 'utf8');
        try {
          const m = JSON.parse(original) as Manifest<unknown>;
          m.objects.find((o) => o.name === 'archive.age')!.sha256 = createHash('sha256').update(b).digest('hex');
          fs.writeFileSync(mf, JSON.stringify(signManifest(m, loadPrivateKey(w.signing.privateKeyPem, 'signingKey'))));
          const work = fs.mkdtempSync(path.join(w.dir, 'work-'));
          const failed = (await restore({ workDirectory: work })).failed ?? '';
          assert.match(failed, /refused: the age payload failed authentication: .*the final one/);
          assert.equal(failed.split('\n').length, 1);
          assert.deepEqual(fs.readdirSync(work), []);
        } finally {
          fs.writeFileSync(mf, original);
        }
      });
      it('wrong identity', async () => {
        assert.match((await restore({ ageIdentity: w.otherIdentity })).failed ?? '', /wrong identity/);
      });
      it('missing signature (a verify key is set)', async () => {
        const mf = path.join(dir, MANIFEST);
        const original = fs.readFileSync(mf, 'utf8');
        try {
          const m = JSON.parse(original) as Record<string, unknown>;
          delete m.signature;
          fs.writeFileSync(mf, JSON.stringify(m));
          assert.match((await restore()).failed ?? '', /is not signed, and a verify key is set/);
        } finally {
          fs.writeFileSync(mf, original);
        }
      });
      it('bad signature: a forged manifest, or another signer', async () => {
        const mf = path.join(dir, MANIFEST);
        const original = fs.readFileSync(mf, 'utf8');
        try {
          const m = JSON.parse(original) as { data: { counts: Record<string, number> } };
          m.data.counts['shop.orders'] = 56;
          fs.writeFileSync(mf, JSON.stringify(m));
          assert.match((await restore()).failed ?? '', /bad signature/);
        } finally {
          fs.writeFileSync(mf, original);
        }
        assert.match((await restore({ verifyKey: w.otherSigning.publicKeyPem })).failed ?? '', /bad signature/);
      });
      it('too little disk (injected reading): names workDirectory and the size needed; an unusable directory too', async () => {
        const platform = new TestPlatform({ ...common, command: 'restore', connectionString: w.uri(), scope: 'database', database: 'shop' }, w.dir);
        const inputs = parseMongoInputs(createInputReader(mongoInputs, (n) => platform.input(n), (s) => platform.mask(s)), platform);
        const ctx: RunContext = { platform, log: platform.log, tempDir: w.dir, masker: platform.masker, summary: new Summary(), mask: (s) => platform.mask(s), secretFile: () => '', exec: (f, a, o) => exec(f, a, { log: platform.log, ...o }) };
        if (!inputs.storage) throw new Error('restore parses a storage target');
        const st = await openStorage(inputs.storage);
        w.clearRecords();
        await assert.rejects(restoreOp(inputs, st, ctx, { now: () => new Date(), freeBytes: async () => 1000 }), (e: unknown) => e instanceof InputError && e.input === 'workDirectory' && /needs [\d.]+ MiB free to download backup .* 1000 B available/.test(e.message));
        assert.ok(!w.records().some((r) => r.tool === 'mongorestore'));
        const notADir = path.join(w.dir, 'a-file');
        fs.writeFileSync(notADir, '');
        const p = await restore({ workDirectory: path.join(notADir, 'sub') });
        assert.match(p.failed ?? '', /^input 'workDirectory': cannot create /);
      });
      it('unknown backup id', async () => {
        assert.match((await restore({ backupId: 'ffffffff' })).failed ?? '', /^input 'backupId': unknown backup id 'ffffffff'/);
      });
      it('the intact backup restores (the refusals above were not accidental)', async () => {
        const p = await run({ command: 'restore', connectionString: w.uri(), scope: 'database', database: 'shop' });
        assert.ok(p.succeeded, p.failed);
      });
    });

    it('storage (Azurite) stopped mid-upload: fails, no manifest, earlier backups untouched; a rerun succeeds; prune reports the orphan', async () => {
      const az: AzuriteServer = await startAzurite();
      try {
        await az.createContainer('backups');
        const azInputs = { storageKind: 'azure-blob', storagePath: '', storageLocation: '', storageContainer: 'backups', storageConnectionString: az.connectionString, storageRetries: '1' };
        w.patch('mongo-a:27017', (s) => (s.databases = sampleData(100)));
        const first = await run({ command: 'backup', connectionString: w.uri(), ...azInputs });
        assert.ok(first.succeeded, first.failed);
        const pauseDir = fs.mkdtempSync(path.join(w.dir, 'pause-'));
        w.patch('mongo-a:27017', (s) => Object.assign(s, { pauseAtBytes: 20_000_000, pauseDir }));
        const running = run({ command: 'backup', connectionString: w.uri(), ...azInputs });
        while (!fs.existsSync(path.join(pauseDir, 'paused'))) await new Promise((r) => setTimeout(r, 50));
        await az.halt();
        fs.writeFileSync(path.join(pauseDir, 'continue'), '');
        const p = await running;
        assert.ok(!p.succeeded);
        assert.match(p.failed ?? '', /upload to .* failed|ECONNREFUSED|unreachable/);
        assert.ok(!(p.failed ?? '').includes(az.key));
        w.patch('mongo-a:27017', (s) => {
          delete s.pauseAtBytes;
          s.databases = sampleData();
        });
        await az.restart();
        const st = await openStorage({ kind: 'azure-blob', accountUrl: az.blobEndpoint, container: 'backups', auth: { type: 'account-key', accountName: az.account, accountKey: az.key }, prefix: 'backups/ratings', maxTries: 1 });
        const manifests = (await st.list('seattle/')).filter((o) => o.key.endsWith(MANIFEST));
        assert.equal(manifests.length, 1, 'only the first backup has a manifest');
        assert.ok(manifests[0].key.includes(first.outputs.backupId));
        const again = await run({ command: 'backup', connectionString: w.uri(), ...azInputs });
        assert.ok(again.succeeded, again.failed);
        const pr = await run({ command: 'prune', keepLast: '5', orphanGraceHours: '0', dryRun: 'true', ...azInputs });
        assert.ok(pr.succeeded, pr.failed);
        assert.match(pr.summary, /uncommitted upload \(the service removes it after 7 days\)/);
        await st.close();
      } finally {
        w.patch('mongo-a:27017', (s) => {
          delete s.pauseAtBytes;
          s.databases = sampleData();
        });
        await az.stop();
      }
    });

    it('storage (s3rver) stopped mid-upload: the orphan multipart upload is reported and aborted by prune after a rerun', async () => {
      const s3: S3Server = await startS3rver();
      try {
        const s3Inputs = { storageKind: 's3', storagePath: '', storageLocation: '', s3Endpoint: s3.endpoint, s3Bucket: s3.bucket, s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey, storageRetries: '1' };
        w.patch('mongo-a:27017', (s) => (s.databases = sampleData(100)));
        const pauseDir = fs.mkdtempSync(path.join(w.dir, 'pause-'));
        w.patch('mongo-a:27017', (s) => Object.assign(s, { pauseAtBytes: 20_000_000, pauseDir }));
        const running = run({ command: 'backup', connectionString: w.uri(), ...s3Inputs });
        while (!fs.existsSync(path.join(pauseDir, 'paused'))) await new Promise((r) => setTimeout(r, 50));
        await s3.kill();
        fs.writeFileSync(path.join(pauseDir, 'continue'), '');
        const p = await running;
        assert.ok(!p.succeeded);
        assert.ok(!(p.failed ?? '').includes(s3.secretAccessKey));
        w.patch('mongo-a:27017', (s) => {
          delete s.pauseAtBytes;
          s.databases = sampleData();
        });
        await s3.restart();
        const again = await run({ command: 'backup', connectionString: w.uri(), ...s3Inputs });
        assert.ok(again.succeeded, again.failed);
        const dry = await run({ command: 'prune', keepLast: '5', orphanGraceHours: '0', dryRun: 'true', ...s3Inputs });
        assert.match(dry.summary, /would abort \(incomplete upload\)/);
        const pr = await run({ command: 'prune', keepLast: '5', orphanGraceHours: '0', ...s3Inputs });
        assert.match(pr.summary, /aborted \(incomplete upload\)/);
        const st = await openStorage({ kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, checksums: 'when-required', prefix: 'backups/ratings', maxTries: 1 });
        assert.deepEqual(await st.listIncompleteUploads('seattle/'), []);
        const r = await run({ command: 'restore', connectionString: w.uri(), drop: 'false', ...s3Inputs });
        assert.ok(r.succeeded, r.failed);
        assert.equal(r.outputs.backupId, again.outputs.backupId);
        await st.close();
      } finally {
        w.patch('mongo-a:27017', (s) => {
          delete s.pauseAtBytes;
          s.databases = sampleData();
        });
        await s3.stop();
      }
    });
  });

  describe('drill, list, prune', () => {
    let site: string;
    const siteInputs = (): Record<string, string> => ({ site });
    before(async () => {
      site = 'dallas';
      w.patch('mongo-a:27017', (s) => (s.databases = sampleData()));
      for (let i = 0; i < 3; i++) {
        const p = await run({ ...siteInputs(), command: 'backup', connectionString: w.uri(), scope: 'database', database: 'ratings' });
        assert.ok(p.succeeded, p.failed);
      }
    });

    it('drill into a scratch instance: counts match, restored data dropped, RPO/RTO output', async () => {
      const p = await run({ ...siteInputs(), command: 'drill', scope: 'database', database: 'ratings', scratchConnectionString: w.uri('drill', 'scratch:27017') });
      assert.ok(p.succeeded, p.failed);
      assert.equal(p.outputs.verified, 'true');
      assert.ok(Number(p.outputs.rpoSeconds) >= 0 && Number(p.outputs.rtoSeconds) >= 0);
      assert.deepEqual(w.state('scratch:27017').databases, {});
      assert.match(p.summary, /ratings\.reviews \| 1200 \| 1200 \| ok/);
    });

    it('drill into the same instance (database scope) under <db>_drill_<id>, then dropped; kubectl-exec', async () => {
      const p = await run({ ...siteInputs(), command: 'drill', scope: 'database', database: 'ratings', drillTarget: 'same-instance', connectionString: w.uri(), place: 'kubectl-exec', podNamespace: 'ratings', podName: 'mongo-0', kubeconfig: w.kubeconfig });
      assert.ok(p.succeeded, p.failed);
      const argv = w.records().find((r) => r.tool === 'mongorestore')!.argv;
      const nsTo = argv.find((a) => a.startsWith('--nsTo='))!;
      assert.match(nsTo, /^--nsTo=ratings_drill_[0-9a-f]{8}\.\*$/);
      assert.deepEqual(Object.keys(w.state('mongo-a:27017').databases).sort(), ['admin', 'ratings', 'shop']);
      assert.deepEqual(fs.readdirSync(path.join(w.podRoot, 'tmp')), []);
    });

    it('drill with differing counts fails, and still drops what it restored', async () => {
      w.patch('scratch:27017', (s) => (s.countSkew = 1));
      try {
        const p = await run({ ...siteInputs(), command: 'drill', scope: 'database', database: 'ratings', scratchConnectionString: w.uri('drill', 'scratch:27017') });
        assert.match(p.failed ?? '', /restored counts differ from the manifest/);
        assert.deepEqual(w.state('scratch:27017').databases, {});
      } finally {
        w.patch('scratch:27017', (s) => delete s.countSkew);
      }
    });

    it('list: table and JSON output with id, time, size, scope, signed, status', async () => {
      fs.mkdirSync(path.join(store, 'backups/ratings/dallas/ratings/20200101T000000Z-deadbeef'), { recursive: true });
      fs.writeFileSync(path.join(store, 'backups/ratings/dallas/ratings/20200101T000000Z-deadbeef/archive.age'), 'partial');
      const p = await run({ ...siteInputs(), command: 'list' });
      assert.ok(p.succeeded, p.failed);
      const rows = JSON.parse(p.outputs.backups) as { id: string; status: string; signed: boolean; scope: string; sizeBytes: number; location: string }[];
      assert.equal(rows.filter((r) => r.status === 'complete').length, 3);
      assert.deepEqual(rows.find((r) => r.id === '20200101T000000Z-deadbeef')?.status, 'incomplete');
      assert.ok(rows.filter((r) => r.status === 'complete').every((r) => r.signed && r.scope === 'database' && r.sizeBytes > 0));
      assert.match(p.summary, /\| id \| time \| size \| scope \| database \| encrypted \| signed \| status \|/);
    });

    it('prune with an injected clock: dry run deletes nothing; never deletes the newest complete backup; removes orphans', async () => {
      const platform = new TestPlatform({ ...common, ...siteInputs(), command: 'prune', keepDays: '1', orphanGraceHours: '1' }, w.dir);
      const inputs = parseMongoInputs(createInputReader(mongoInputs, (n) => platform.input(n), (s) => platform.mask(s)), platform);
      const summary = new Summary();
      const ctx: RunContext = { platform, log: platform.log, tempDir: w.dir, masker: platform.masker, summary, mask: (s) => platform.mask(s), secretFile: () => '', exec: (f, a, o) => exec(f, a, { log: platform.log, ...o }) };
      if (!inputs.storage) throw new Error('prune parses a storage target');
      const st = await openStorage(inputs.storage);
      const future = new Date(Date.now() + 30 * 86_400_000);
      const before = listFiles(store);
      const dry = await prune({ ...inputs, retention: { ...inputs.retention, dryRun: true } }, st, ctx, { now: () => future });
      assert.deepEqual(dry, { deleted: 2, orphans: 1, uploads: 0, kept: 1 });
      assert.deepEqual(listFiles(store), before);
      const done = await prune(inputs, st, ctx, { now: () => future });
      assert.deepEqual(done, { deleted: 2, orphans: 1, uploads: 0, kept: 1 });
      const left = fs.readdirSync(path.join(store, 'backups/ratings/dallas/ratings'));
      assert.equal(left.length, 1, left.join(', '));
      const list = await run({ ...siteInputs(), command: 'list' });
      assert.equal((JSON.parse(list.outputs.backups) as unknown[]).length, 1);
      // and again: the newest complete backup stays whatever the clock says
      assert.deepEqual(await prune(inputs, st, ctx, { now: () => new Date(future.getTime() + 365 * 86_400_000) }), { deleted: 0, orphans: 0, uploads: 0, kept: 1 });
      await st.close();
    });
  });

  it('encryption none: stored in plaintext with a warning', async () => {
    const p = await run({ site: 'plain', command: 'backup', connectionString: w.uri(), scope: 'database', database: 'shop', encryption: 'none', encryptionRecipients: '' });
    assert.ok(p.succeeded, p.failed);
    assert.ok(p.lines.some((l) => /PLAINTEXT/.test(l)));
    assert.deepEqual(fs.readdirSync(p.outputs.location).sort(), ['archive.gz', MANIFEST]);
    // a gzip stream of a mongodump archive (magic 0x8199e26d, little-endian)
    const head = zlib.gunzipSync(fs.readFileSync(path.join(p.outputs.location, 'archive.gz'))).subarray(0, 4);
    assert.equal(head.readUInt32LE(0), 0x8199e26d);
    void Readable;
  });
});
