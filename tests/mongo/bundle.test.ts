/**
 * Mongo backup as the agents run it: the built ADO task, GitHub Action and CLI bundles (Node 20 and Node 24 for a
 * core subset), the executable doubles on PATH, real storage (Azurite, s3rver, a directory). Includes the security
 * test of issue 3: debug on, marker secrets, none of them in any output, recorded argv, or file outside the private
 * temp dir.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listFiles, requireBuilt, runAdoTask, runCli, runGitHubAction, runtimes, type ProcessResult } from '../helpers/harness';
import { startAzurite, startS3rver, type AzuriteServer, type S3Server } from '../helpers/storage-servers';
import { World } from './world';

const TASK = 'StackHubMongoBackupV1';
const ACTION = 'mongo-backup';
const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

/** Every file below `dir` whose content contains one of `markers` (binary-safe). */
function filesWith(dir: string, markers: string[]): string[] {
  const hits: string[] = [];
  for (const rel of listFiles(dir)) {
    if (rel.endsWith('/')) continue;
    const f = path.join(dir, rel);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(f);
    } catch {
      continue;
    }
    for (const m of markers) if (buf.includes(m)) hits.push(`${f}: ${m.slice(0, 12)}…`);
  }
  return hits;
}

/**
 * What the CI system shows of a run's output: lines that register secrets (`##vso[task.setsecret]`, `::add-mask::`)
 * are consumed by the agent/runner, which masks every registered value in all LATER lines — as ADO and GitHub do.
 * A secret printed before it was registered stays visible, and fails the test.
 */
function visible(out: string): string {
  const registered: string[] = [];
  const shown: string[] = [];
  for (const line of out.split('\n')) {
    const reg = /##vso\[task\.setsecret\](.*)$/.exec(line) ?? /^::add-mask::(.*)$/.exec(line);
    if (reg) {
      registered.push(reg[1].replace(/%0A/g, '\n').replace(/%0D/g, '\r').replace(/%25/g, '%').replace(/%AZP25/g, '%'));
      continue;
    }
    let l = line;
    for (const sec of [...registered].sort((a, b) => b.length - a.length)) if (sec) l = l.split(sec).join('***');
    shown.push(l);
  }
  return shown.join('\n');
}

describe('mongo-backup bundles (ADO task, GitHub Action, CLI)', function () {
  this.timeout(180_000);
  let w: World;
  let az: AzuriteServer;
  let s3: S3Server;
  let secrets: string;
  let env: Record<string, string>;

  before(async function () {
    this.timeout(120_000);
    requireBuilt();
    for (const f of [path.join('tasks', TASK, 'dist', 'index.js'), path.join('actions', ACTION, 'dist', 'index.js')]) {
      if (!fs.existsSync(path.resolve(__dirname, '..', '..', f))) throw new Error(`${f} missing: run npx tsx scripts/build.ts --only mongo-backup`);
    }
    w = await new World().init();
    [az, s3] = await Promise.all([startAzurite(), startS3rver()]);
    await az.createContainer('backups');
    secrets = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-secrets-'));
    fs.writeFileSync(path.join(secrets, 'age.txt'), `# created\n${w.identity}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(secrets, 'signing.pem'), w.signing.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(path.join(secrets, 'kubeconfig'), w.kubeconfig, { mode: 0o600 });
    env = w.env();
  });
  after(async () => {
    await Promise.all([az?.stop(), s3?.stop()]);
    w?.cleanup();
    if (secrets) fs.rmSync(secrets, { recursive: true, force: true });
  });

  const cli = (args: string[], extraEnv: Record<string, string> = {}, node?: string, cwd?: string): Promise<ProcessResult> =>
    runCli(args, { node, cwd, env: { ...env, MONGO_URI: w.uri(), SCRATCH_URI: w.uri('drill', 'scratch:27017'), AZ_CS: az.connectionString, ...extraEnv } });
  const azArgs = (): string[] => ['--storage-kind', 'azure-blob', '--storage-container', 'backups', '--storage-connection-string-env', 'AZ_CS', '--storage-prefix', 'bundles'];

  for (const rt of runtimes()) {
    it(`CLI on ${rt.name}: mongo backup (kubectl-exec, instance) to Azurite, list, restore`, async () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-cli-'));
      const site = `cli-${rt.name}`;
      const b = await cli(
        ['mongo', 'backup', '--site', site, ...azArgs(), '--place', 'kubectl-exec', '--pod-namespace', 'ratings', '--pod-selector', 'app=mongo', '--pod-container', 'mongodb', '--kubeconfig-file', path.join(secrets, 'kubeconfig'), '--connection-string-env', 'MONGO_URI', '--encryption-recipients', w.recipient, '--signing-key-file', path.join(secrets, 'signing.pem'), '--outputs-file', 'out.json'],
        {},
        rt.path,
        cwd,
      );
      assert.equal(b.exitCode, 0, b.stderr);
      const out = JSON.parse(fs.readFileSync(path.join(cwd, 'out.json'), 'utf8')) as Record<string, string>;
      assert.match(out.backupId, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
      assert.equal(out.location, `${az.blobEndpoint}/backups/bundles/${site}/instance/${out.backupId}`);
      assert.match(b.stdout, /## Stack Hub Mongo backup/);
      const l = await cli(['mongo', 'list', '--site', site, ...azArgs(), '--outputs-file', 'list.json'], {}, rt.path, cwd);
      assert.equal(l.exitCode, 0, l.stderr);
      const rows = JSON.parse(JSON.parse(fs.readFileSync(path.join(cwd, 'list.json'), 'utf8')).backups as string) as { id: string; status: string; signed: boolean }[];
      assert.deepEqual(rows.map((r) => [r.id, r.status, r.signed]), [[out.backupId, 'complete', true]]);
      const r = await cli(['mongo', 'restore', '--site', site, ...azArgs(), '--connection-string-env', 'MONGO_URI', '--drop', 'false', '--age-identity-file', path.join(secrets, 'age.txt'), '--verify-key', w.signing.publicKeyPem.replace(/\n/g, '\\n')], {}, rt.path, cwd);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stderr, /SHA-256, age authentication and signature verified/);
    });
  }

  it('ADO task (Node 20): backup to S3 on the agent, then prune dry run; outputs set', async () => {
    const inputs = {
      command: 'backup',
      site: 'ado',
      connectionString: w.uri(),
      scope: 'database',
      database: 'ratings',
      storageKind: 's3',
      s3Endpoint: s3.endpoint,
      s3Bucket: s3.bucket,
      s3AccessKeyId: s3.accessKeyId,
      s3SecretAccessKey: s3.secretAccessKey,
      encryptionRecipients: w.recipient,
    };
    const b = await runAdoTask({ task: TASK, inputs, env });
    assert.equal(b.result, 'Succeeded', b.stdout + b.stderr);
    assert.match(b.variables.get('location')?.value ?? '', /^s3:\/\/backups\/ado\/ratings\/\d{8}T\d{6}Z-[0-9a-f]{8} \(http:\/\/127\.0\.0\.1:\d+\)$/);
    assert.ok(b.secrets.includes(w.uri()));
    // the backup is attached as a backup list for the release results tab (its id and completion time give the RPO)
    const att = b.attachments.find((a) => a.type === 'stackhub-ha.backup-list');
    assert.ok(att, `backup list attached; attachments: ${b.attachments.map((a) => a.type).join(', ')}`);
    const list = JSON.parse(att!.content ?? '{}') as { schema: string; site: string; command: string; backups: { id: string; time: string; status: string }[] };
    assert.deepEqual([list.schema, list.site, list.command, list.backups.length, list.backups[0]?.status], ['stackhub-ha/mongo-backup-list', 'ado', 'backup', 1, 'complete']);
    assert.equal(list.backups[0].id, b.variables.get('backupId')?.value);
    assert.ok(!(att!.content ?? '').includes(s3.secretAccessKey), 'no secret in the backup list');
    const p = await runAdoTask({ task: TASK, inputs: { ...inputs, command: 'prune', keepLast: '1', dryRun: 'true' }, env });
    assert.equal(p.result, 'Succeeded', p.stdout);
    assert.equal(p.variables.get('deleted')?.value, '0');
  });

  it('GitHub Action (Node 24 when present): drill into a scratch instance from a filesystem target', async () => {
    const node = runtimes().find((r) => r.name === 'node24')?.path ?? process.execPath;
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-gh-store-'));
    const base = { site: 'gh', storagePath: store, storageLocation: 'off-hub', scope: 'database', database: 'shop', encryptionRecipients: w.recipient, ageIdentity: w.identity, connectionString: w.uri() };
    const b = await runGitHubAction({ action: ACTION, inputs: { ...base, command: 'backup' }, env, node });
    assert.equal(b.exitCode, 0, b.stdout + b.stderr);
    const d = await runGitHubAction({ action: ACTION, inputs: { ...base, command: 'drill', scratchConnectionString: w.uri('drill', 'scratch:27017') }, env, node });
    assert.equal(d.exitCode, 0, d.stdout + d.stderr);
    assert.equal(d.outputs.get('verified'), 'true');
    assert.equal(d.outputs.get('backupId'), b.outputs.get('backupId'));
    assert.match(d.summary, /RPO \(age of the backup\)/);
    fs.rmSync(store, { recursive: true, force: true });
  });

  it('bad input: one line naming the input, non-zero exit, no stack, nothing written', async () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-bad-'));
    const base = ['mongo', 'backup', '--site', 'bad', '--storage-path', store, '--storage-location', 'off-hub', '--encryption-recipients', w.recipient, '--connection-string-env', 'MONGO_URI'];
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[], { MONGO_URI: 'not-a-uri-PASSWORDMARK' }, /^error: input 'connectionString': expected a MongoDB connection string/m],
      [['--storage-kind', 'tape'], {}, /^error: input 'storageKind': expected one of azure-blob, s3, filesystem, got 'tape'/m],
      [['--storage-location', 'bad'], {}, /^error: input 'storageLocation': storage on the Hub it protects is refused/m],
      [['--encryption-recipients', 'age1notarecipient'], {}, /^error: input 'encryptionRecipients': /m],
      [['--scope', 'database', '--database', 'ratings', '--dump-extra-args', '--oplog'], {}, /^error: input 'dumpExtraArgs': '--oplog' is not allowed/m],
      [['--database', 'ratings'], {}, /^error: input 'database': is set but scope is instance: mongodump --oplog needs every database/m],
    ];
    for (const [extra, e, re] of cases) {
      const r = await cli([...base, ...extra], e);
      assert.equal(r.exitCode, 1, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').filter((x) => x.startsWith('error:')).length, 1, r.stderr);
      noStack(r.stderr);
      assert.ok(!r.stderr.includes('PASSWORDMARK'));
    }
    const prune = await cli(['mongo', 'prune', '--site', 'bad', '--storage-path', store, '--storage-location', 'off-hub', '--keep-last', '-2']);
    assert.match(prune.stderr, /^error: input 'keepLast': expected a whole number of at least 1, got '-2'/m);
    const unknown = await cli(['mongo', 'restore', '--site', 'bad', '--storage-path', store, '--storage-location', 'off-hub', '--scope', 'database', '--database', 'shop', '--backup-id', 'deadbeef', '--connection-string-env', 'MONGO_URI']);
    assert.match(unknown.stderr, /^error: input 'backupId': no complete backup|^error: input 'backupId': unknown backup id/m);
    // no mongodump on PATH (tool setup not run): one line, not an unhandled stream error; nothing stored
    const plainBase = base.filter((a, i) => a !== '--encryption-recipients' && base[i - 1] !== '--encryption-recipients');
    for (const args of [base, [...plainBase, '--encryption', 'none']]) {
      const noTool = await cli([...args, '--scope', 'database', '--database', 'ratings'], { PATH: path.dirname(process.execPath) });
      assert.equal(noTool.exitCode, 1, noTool.stderr);
      assert.match(noTool.stderr, /^error: mongodump not found on PATH: set up the MongoDB Database Tools first/m);
      assert.doesNotMatch(noTool.stderr, /Unhandled 'error' event/);
      noStack(noTool.stderr);
      assert.deepEqual(listFiles(store).filter((f) => !f.endsWith('/')), [], `${args.join(' ')}: nothing left in storage`);
    }
    const onArgv = await cli(['mongo', 'backup', '--site', 'bad', '--connection-string', 'mongodb://u:p@h/']);
    assert.equal(onArgv.exitCode, 1);
    assert.match(onArgv.stderr, /secret values are not accepted on the command line/);
    assert.deepEqual(listFiles(store), [], 'nothing written to storage');
    fs.rmSync(store, { recursive: true, force: true });
  });

  it('security: debug on, marker secrets; none in any output, recorded argv, or file outside the private temp dir', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-sec-'));
    const agentTemp = path.join(tmp, 'agent');
    const store = path.join(tmp, 'store');
    const cwd = path.join(tmp, 'cwd');
    fs.mkdirSync(cwd, { recursive: true });
    const pemBody = w.signing.privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const markers = [w.password, az.key, w.identity, pemBody, w.kubeconfig.match(/kube-TOKEN-MARKER-\w+/)![0], s3.secretAccessKey];
    w.clearRecords();
    const childEnv = { ...env, TMPDIR: path.join(tmp, 'tmp') };
    fs.mkdirSync(childEnv.TMPDIR, { recursive: true });
    const outputs: string[] = [];

    // ADO: agent place, Azurite with the account key, backup + restore, debug
    const ado = { site: 'sec', connectionString: w.uri(), storageKind: 'azure-blob', storageAccountUrl: az.blobEndpoint, storageContainer: 'backups', storageAccountKey: az.key, storagePrefix: 'sec', encryptionRecipients: w.recipient, signingKey: w.signing.privateKeyPem, verifyKey: w.signing.publicKeyPem, ageIdentity: w.identity };
    for (const command of ['backup', 'restore']) {
      const r = await runAdoTask({ task: TASK, inputs: { ...ado, command, drop: 'true' }, env: childEnv, debug: true, agentTemp, cwd });
      assert.equal(r.result, 'Succeeded', r.stdout);
      assert.match(r.stdout, /##vso\[task\.debug\]|##\[debug\]/);
      outputs.push(visible(r.stdout), r.stderr);
    }
    // GitHub: kubectl-exec with the kubeconfig secret, S3 with secret keys, drill on the same instance, debug
    const gh = { site: 'sec', connectionString: w.uri(), place: 'kubectl-exec', podNamespace: 'ratings', podName: 'mongo-0', kubeconfig: w.kubeconfig, scope: 'database', database: 'ratings', storageKind: 's3', s3Endpoint: s3.endpoint, s3Bucket: s3.bucket, s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey, storagePrefix: 'sec', encryptionRecipients: w.recipient, signingKey: w.signing.privateKeyPem, ageIdentity: w.identity };
    for (const command of ['backup', 'drill']) {
      const r = await runGitHubAction({ action: ACTION, inputs: { ...gh, command, drillTarget: 'same-instance' }, env: childEnv, debug: true, runnerTemp: agentTemp, cwd });
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      outputs.push(visible(r.stdout), r.stderr, r.summary, [...r.outputs.values()].join('\n'));
    }
    // CLI: filesystem target, secrets from files and variables, debug
    const c = await runCli(
      ['mongo', 'backup', '--debug', '--site', 'sec', '--storage-path', store, '--storage-location', 'off-hub', '--connection-string-env', 'MONGO_URI', '--encryption-recipients', w.recipient, '--signing-key-file', path.join(secrets, 'signing.pem'), '--outputs-file', path.join(cwd, 'out.json')],
      { cwd, env: { ...childEnv, MONGO_URI: w.uri() } },
    );
    assert.equal(c.exitCode, 0, c.stderr);
    assert.match(c.stderr, /^debug: /m);
    outputs.push(c.stdout, c.stderr);
    // a failing run in debug mode (stack printed) must not leak either
    const f = await runAdoTask({ task: TASK, inputs: { ...ado, command: 'restore', backupId: 'ffffffff', drop: 'true' }, env: childEnv, debug: true, agentTemp, cwd });
    assert.equal(f.result, 'Failed');
    outputs.push(visible(f.stdout), f.stderr);

    for (const m of markers) {
      for (const o of outputs) assert.ok(!o.includes(m), `marker ${m.slice(0, 12)}… in an output`);
    }
    const argv = JSON.stringify(w.records().map((r) => r.argv));
    assert.ok(w.records().length > 10);
    for (const m of markers) assert.ok(!argv.includes(m), `marker ${m.slice(0, 12)}… on a recorded argv`);
    // files: everything the runs left (agent temp, cwd, TMPDIR, the storage, the pod's filesystem, Azurite's and s3rver's data)
    const left = [agentTemp, cwd, childEnv.TMPDIR, store, w.podRoot, az.dir, s3.dir].flatMap((d) => filesWith(d, markers));
    assert.deepEqual(left, []);
    assert.deepEqual(listFiles(agentTemp).filter((x) => /^stackhub-ha-[A-Za-z0-9]{6}\/$/.test(x)), [], 'private temp dirs removed');
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
