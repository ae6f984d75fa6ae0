/** Mongo backup: the pure argv builders (exact argv tables), the config file, and input parsing (errors name the input). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import {
  drillDatabaseName,
  kubectlCanIExecArgs,
  kubectlExecArgs,
  kubectlGetPodsArgs,
  mongodumpArgs,
  mongorestoreArgs,
  mongoshCountScript,
  parseExtraArgs,
  parseMongoUri,
  POD_WRITE_CONFIG,
  podRemoveDir,
  toolConfigYaml,
} from '../../src/mongo/args';
import { mongoInputs, parseMongoInputs } from '../../src/mongo/inputs';
import { parseDumpedLine, parseRestoredLine } from '../../src/mongo/ops';
import { rbacDenial } from '../../src/mongo/place';
import { createInputReader } from '../../src/platform/inputs';
import { InputError } from '../../src/shared/errors';
import { TestPlatform } from './world';

describe('mongo: argv builders', () => {
  const cfg = '/tmp/x/config.yaml';
  const dumps: [string, Parameters<typeof mongodumpArgs>[0], string[]][] = [
    ['instance', { scope: 'instance', configPath: cfg }, ['--archive', '--gzip', `--config=${cfg}`, '--oplog']],
    ['instance, secondary, extra', { scope: 'instance', configPath: cfg, readPreference: 'secondary', extraArgs: ['-j=2'] }, ['--archive', '--gzip', `--config=${cfg}`, '--oplog', '--readPreference=secondary', '-j=2']],
    ['database', { scope: 'database', database: 'ratings', configPath: cfg }, ['--archive', '--gzip', `--config=${cfg}`, '--db=ratings']],
    ['one collection', { scope: 'database', database: 'ratings', collection: 'reviews', configPath: cfg }, ['--archive', '--gzip', `--config=${cfg}`, '--db=ratings', '--collection=reviews']],
    ['excludes', { scope: 'database', database: 'ratings', excludeCollections: ['audit', 'tmp'], configPath: cfg }, ['--archive', '--gzip', `--config=${cfg}`, '--db=ratings', '--excludeCollection=audit', '--excludeCollection=tmp']],
  ];
  for (const [name, spec, argv] of dumps) it(`mongodump: ${name}`, () => assert.deepEqual(mongodumpArgs(spec), argv));

  it('mongodump: combinations the tool refuses are bugs here', () => {
    assert.throws(() => mongodumpArgs({ scope: 'instance', database: 'x', configPath: cfg }), /bug/);
    assert.throws(() => mongodumpArgs({ scope: 'database', configPath: cfg }), /bug/);
    assert.throws(() => mongodumpArgs({ scope: 'database', database: 'd', collection: 'c', excludeCollections: ['e'], configPath: cfg }), /bug/);
  });

  const restores: [string, Parameters<typeof mongorestoreArgs>[0], string[]][] = [
    ['instance with drop', { scope: 'instance', drop: true, configPath: cfg }, ['--archive', '--gzip', `--config=${cfg}`, '--drop', '--oplogReplay']],
    ['instance without drop', { scope: 'instance', drop: false, configPath: cfg }, ['--archive', '--gzip', `--config=${cfg}`, '--oplogReplay']],
    ['database', { scope: 'database', database: 'ratings', drop: true, configPath: cfg }, ['--archive', '--gzip', `--config=${cfg}`, '--drop', '--nsInclude=ratings.*']],
    ['database renamed', { scope: 'database', database: 'ratings', targetDatabase: 'ratings_drill_1a2b3c4d', drop: false, configPath: cfg, extraArgs: ['--stopOnError'] }, ['--archive', '--gzip', `--config=${cfg}`, '--nsInclude=ratings.*', '--nsFrom=ratings.*', '--nsTo=ratings_drill_1a2b3c4d.*', '--stopOnError']],
  ];
  for (const [name, spec, argv] of restores) it(`mongorestore: ${name}`, () => assert.deepEqual(mongorestoreArgs(spec), argv));

  it('mongorestore: no rename of an instance restore (--oplogReplay refuses it)', () => {
    assert.throws(() => mongorestoreArgs({ scope: 'instance', targetDatabase: 'x', drop: true, configPath: cfg }), /bug/);
  });

  it('kubectl: get, can-i, exec without -t; -i only with stdin', () => {
    const t = { kubeconfig: '/t/k', context: 'site-a', namespace: 'ratings' };
    assert.deepEqual(kubectlGetPodsArgs(t, { name: 'mongo-0' }), ['--kubeconfig', '/t/k', '--context', 'site-a', '--namespace', 'ratings', 'get', 'pod', 'mongo-0', '--output', 'json']);
    assert.deepEqual(kubectlGetPodsArgs({ ...t, context: undefined }, { selector: 'app=m' }), ['--kubeconfig', '/t/k', '--namespace', 'ratings', 'get', 'pods', '--selector', 'app=m', '--output', 'json']);
    assert.deepEqual(kubectlCanIExecArgs(t), ['--kubeconfig', '/t/k', '--context', 'site-a', '--namespace', 'ratings', 'auth', 'can-i', 'create', 'pods/exec']);
    assert.deepEqual(kubectlExecArgs(t, 'mongo-0', 'mongodb', false, ['mongodump', '--archive']), ['--kubeconfig', '/t/k', '--context', 'site-a', '--namespace', 'ratings', 'exec', 'mongo-0', '--container', 'mongodb', '--', 'mongodump', '--archive']);
    const withStdin = kubectlExecArgs(t, 'mongo-0', undefined, true, POD_WRITE_CONFIG);
    assert.deepEqual(withStdin.slice(6, 9), ['exec', '-i', 'mongo-0']);
    assert.ok(!withStdin.some((a) => a === '-t' || a === '--tty' || a === '-it'));
    assert.deepEqual(podRemoveDir('/tmp/tmp.AbC123'), ['rm', '-rf', '--', '/tmp/tmp.AbC123']);
    assert.throws(() => podRemoveDir('/tmp/../etc'), /bug/);
    assert.throws(() => podRemoveDir('relative'), /bug/);
  });

  it('the config file holds uri (without password) and password; the URI parser keeps hosts and never quotes values', () => {
    const u = parseMongoUri('mongodb://backup:p%40ss%3Aw0rd@a:27017,b:27017/admin?replicaSet=rs0&authSource=admin', 'connectionString');
    assert.deepEqual(u, { uriWithoutPassword: 'mongodb://backup@a:27017,b:27017/admin?replicaSet=rs0&authSource=admin', password: 'p@ss:w0rd', hosts: ['a:27017', 'b:27017'], database: 'admin', srv: false });
    // the real tools refuse a URI database together with --db/--nsInclude: the path goes, authSource keeps its meaning
    assert.deepEqual(YAML.parse(toolConfigYaml(u)), { uri: 'mongodb://backup@a:27017,b:27017/?replicaSet=rs0&authSource=admin', password: 'p@ss:w0rd' });
    assert.deepEqual(YAML.parse(toolConfigYaml(parseMongoUri('mongodb://u:p@h:1/ratings?tls=true', 'c'))), { uri: 'mongodb://u@h:1/?tls=true&authSource=ratings', password: 'p' });
    assert.deepEqual(YAML.parse(toolConfigYaml(parseMongoUri('mongodb+srv://cluster.corp.local/', 'c'))), { uri: 'mongodb+srv://cluster.corp.local/' });
    for (const bad of ['http://x', 'mongodb://', 'mongodb://u:SECRETPW@a b', 'mongodb+srv://a:27017/', 'mongodb://u:SECRETPW@h:1,/x']) {
      assert.throws(() => parseMongoUri(bad, 'connectionString'), (e: unknown) => e instanceof InputError && e.input === 'connectionString' && !e.message.includes('SECRETPW'), bad);
    }
  });

  it('extra arguments only from the allowlist', () => {
    assert.deepEqual(parseExtraArgs(['--numParallelCollections=2', '--forceTableScan', '--verbose'], 'mongodump', 'dumpExtraArgs'), ['--numParallelCollections=2', '--forceTableScan', '--verbose']);
    for (const bad of ['--uri=mongodb://x', '--out=/tmp', '--oplog', '--password=x', '--numParallelCollections=x', '--forceTableScan=1', '-j']) {
      assert.throws(() => parseExtraArgs([bad], 'mongodump', 'dumpExtraArgs'), (e: unknown) => e instanceof InputError && e.input === 'dumpExtraArgs', bad);
    }
    assert.throws(() => parseExtraArgs(['--nsFrom=a.*'], 'mongorestore', 'restoreExtraArgs'), InputError);
    assert.throws(() => parseExtraArgs(['--drop'], 'mongorestore', 'restoreExtraArgs'), InputError);
  });

  it('drill database names stay under 64 bytes', () => {
    assert.equal(drillDatabaseName('ratings', '1a2b3c4d'), 'ratings_drill_1a2b3c4d');
    const long = 'x'.repeat(63);
    const n = drillDatabaseName(long, '1a2b3c4d');
    assert.ok(Buffer.byteLength(n) <= 63 && n.endsWith('_drill_1a2b3c4d'), n);
  });

  it('the mongosh script carries the job and the connection, never on argv', () => {
    const s = mongoshCountScript({ databases: ['a'], drop: true, connection: { uri: parseMongoUri('mongodb://u:pw@h/', 'c') } });
    assert.match(s, /^\/\/ stackhub-ha drill job: \{"databases":\["a"\],"drop":true\}$/m);
    assert.match(s, /const __uri = "mongodb:\/\/u@h\/"; const __pwd = "pw";/);
    assert.match(mongoshCountScript({ databases: [], drop: false, connection: { configPath: '/etc/m/c.yaml' } }), /readFileSync\("\/etc\/m\/c.yaml", 'utf8'\)/);
  });

  it('parses the tools\' log lines and kubectl RBAC denials', () => {
    assert.deepEqual(parseDumpedLine('2024-05-01T10:20:30.123+0000\tdone dumping ratings.reviews (1234 documents)'), ['ratings.reviews', 1234]);
    assert.deepEqual(parseDumpedLine('2024-05-01T10:20:30.123+0000\tdone dumping a.b (1 document)'), ['a.b', 1]);
    assert.deepEqual(parseRestoredLine('2024-05-01T10:20:30.123+0000\tfinished restoring a.b (3 documents, 1 failure)'), ['a.b', 3, 1]);
    assert.equal(
      rbacDenial('Error from server (Forbidden): pods "mongo-0" is forbidden: User "system:serviceaccount:ci:deployer" cannot create resource "pods/exec" in API group "" in the namespace "ratings"'),
      'missing RBAC permission: verb `create` on `pods/exec` in namespace ratings for user system:serviceaccount:ci:deployer',
    );
  });
});

describe('mongo: input parsing', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-inputs-'));
  const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
  const base = { site: 'seattle', storagePath: tmp, storageLocation: 'off-hub', encryptionRecipients: recipient, connectionString: 'mongodb://backup:SECRETPW@mongo-a:27017/' };
  const parse = (v: Record<string, string | undefined>) => {
    const platform = new TestPlatform(v as Record<string, string>, tmp);
    return parseMongoInputs(createInputReader(mongoInputs, (n) => platform.input(n), (s) => platform.mask(s)), platform);
  };
  const err = (v: Record<string, string | undefined>, input: string, re?: RegExp): void => {
    assert.throws(() => parse(v), (e: unknown) => e instanceof InputError && e.input === input && (!re || re.test(e.message)) && !e.message.includes('SECRETPW'), `${JSON.stringify(v)} → ${input}`);
  };
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('defaults: backup, instance scope, agent, age encryption, filesystem storage', () => {
    const i = parse(base);
    assert.equal(i.command, 'backup');
    assert.equal(i.scope, 'instance');
    assert.equal(i.place, 'agent');
    assert.deepEqual(i.enc!.write, { format: 'age', recipients: [recipient] });
    assert.equal(i.source?.place === 'agent' && i.source.uri.password, 'SECRETPW');
  });

  it('each bad input fails with one error naming it', () => {
    err({ ...base, site: undefined }, 'site');
    err({ ...base, site: 'Seattle' }, 'site');
    err({ ...base, command: 'dump' }, 'command');
    err({ ...base, connectionString: undefined }, 'connectionString', /required/);
    err({ ...base, connectionString: 'postgres://x' }, 'connectionString');
    err({ ...base, storageKind: 'tape' }, 'storageKind');
    err({ ...base, database: 'ratings' }, 'database', /--oplog needs every database/);
    err({ ...base, scope: 'database' }, 'database', /required/);
    err({ ...base, scope: 'database', database: 'bad.name' }, 'database');
    err({ ...base, scope: 'database', database: 'r', collection: 'a', excludeCollections: 'b' }, 'excludeCollections');
    err({ ...base, excludeCollections: 'x' }, 'excludeCollections');
    err({ ...base, encryptionRecipients: 'age1broken' }, 'encryptionRecipients');
    err({ ...base, signingKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, 'signingKey');
    err({ ...base, command: 'prune', keepLast: '-1' }, 'keepLast');
    err({ ...base, command: 'prune', keepDays: '-3' }, 'keepDays');
    err({ ...base, command: 'prune' }, 'keepLast', /retention rule/);
    err({ ...base, command: 'restore' }, 'drop', /explicitly/);
    err({ ...base, command: 'restore', drop: 'true', targetDatabase: 'x' }, 'targetDatabase');
    err({ ...base, command: 'restore', drop: 'true', backupId: 'no such/id' }, 'backupId');
    err({ ...base, dumpExtraArgs: '--uri=mongodb://x' }, 'dumpExtraArgs');
    err({ ...base, readPreference: 'fastest' }, 'readPreference');
    err({ ...base, place: 'kubectl-exec' }, 'podNamespace');
    err({ ...base, place: 'kubectl-exec', podNamespace: 'ratings' }, 'podName');
    err({ ...base, place: 'kubectl-exec', podNamespace: 'ratings', podName: 'Bad_Pod' }, 'podName');
    err({ ...base, place: 'kubectl-exec', podNamespace: 'ratings', podName: 'm', podSelector: 'a=b' }, 'podSelector');
    err({ ...base, place: 'kubectl-exec', podNamespace: 'ratings', podName: 'm' }, 'kubeconfig');
    err({ ...base, place: 'kubectl-exec', podNamespace: 'ratings', podName: 'm', kubeconfig: 'garbage' }, 'kubeconfig');
    err({ ...base, place: 'kubectl-exec', podNamespace: 'ratings', podName: 'm', kubeconfig: 'apiVersion: v1\nclusters: []', podConfigPath: 'relative/path' }, 'podConfigPath');
    err({ ...base, command: 'drill', drillTarget: 'same-instance' }, 'drillTarget', /scope database/);
    err({ ...base, command: 'drill' }, 'scratchConnectionString');
    err({ ...base, storageLocation: 'seattle' }, 'storageLocation', /allowSameHub/);
    err({ ...base, timeoutMinutes: '0' }, 'timeoutMinutes');
  });

  it('the sites file gives the Hub for the guard and the pod defaults', () => {
    const sites = path.join(tmp, 'sites.yaml');
    fs.writeFileSync(sites, YAML.stringify({ sites: [{ name: 'seattle', hub: { domain: 'seattle.contoso.local' }, mongo: { pod: { namespace: 'ratings', selector: 'app=mongo', container: 'mongodb' } } }] }));
    err({ ...base, sitesFile: sites, storageKind: 's3', storagePath: undefined, storageLocation: undefined, s3Endpoint: 'https://s3.seattle.contoso.local', s3Bucket: 'bkt', s3AccessKeyId: 'a', s3SecretAccessKey: 'b' }, 's3Endpoint', /under the Hub domain/);
    const ok = parse({ ...base, sitesFile: sites, storageKind: 's3', storagePath: undefined, storageLocation: undefined, allowSameHub: 'true', s3Endpoint: 'https://s3.seattle.contoso.local', s3Bucket: 'bkt', s3AccessKeyId: 'a', s3SecretAccessKey: 'b' });
    assert.equal(ok.storage!.allowSameHub, true);
    const k = parse({ ...base, sitesFile: sites, place: 'kubectl-exec', kubeconfig: 'apiVersion: v1\nclusters: []' });
    assert.deepEqual(k.source?.place === 'kubectl-exec' && k.source.pod, { namespace: 'ratings', name: undefined, selector: 'app=mongo', container: 'mongodb' });
    err({ ...base, sitesFile: sites, site: 'dallas' }, 'site', /unknown site/);
  });
});
