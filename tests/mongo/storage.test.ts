/**
 * src/shared/storage against real stores started by the test on 127.0.0.1: Azurite (Azure Blob), s3rver (S3) and a
 * directory. Plus the shared storage/encryption inputs, the same-Hub guard and retention planning.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BlobServiceClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { createInputReader } from '../../src/platform/inputs';
import { DecryptError } from '../../src/shared/crypto';
import { InputError } from '../../src/shared/errors';
import { generateKeyPair, loadPrivateKey } from '../../src/shared/signing';
import {
  downloadVerified,
  encryptionInputs,
  guardSameHub,
  IntegrityError,
  listSets,
  MANIFEST,
  openPlaintext,
  openStorage,
  parseEncryption,
  parseStorageTarget,
  planRetention,
  readManifest,
  SetWriter,
  storageInputs,
  storageWhere,
  StorageError,
  type SetEntry,
  type Storage,
  type StorageTarget,
} from '../../src/shared/storage';
import { s3ClientConfig } from '../../src/shared/storage/s3';
import { startAzurite, startS3rver, type AzuriteServer, type S3Server } from '../helpers/storage-servers';
import { startArmServer, startLoginServer } from '../helpers/arm-servers';
import { makeCa, makeServerCert } from '../helpers/tls';
import { startRecordingProxy } from './recording-proxy';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
function failing(after: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(after);
      } else this.destroy(new Error('source died halfway'));
    },
  });
}

/** Wraps a storage to record the order of puts. */
function recordingPuts(s: Storage): { storage: Storage; puts: string[] } {
  const puts: string[] = [];
  return { puts, storage: { ...s, put: (k, b, o) => (puts.push(k), s.put(k, b, o)) } };
}

describe('shared/storage', function () {
  this.timeout(120_000);
  let az: AzuriteServer;
  let s3: S3Server;
  let fsRoot: string;
  let identity: string;
  let recipient: string;
  const kp = generateKeyPair();

  before(async () => {
    [az, s3] = await Promise.all([startAzurite(), startS3rver()]);
    await az.createContainer('backups');
    fsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-store-'));
    identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
  });
  after(async () => {
    await Promise.all([az?.stop(), s3?.stop()]);
    fs.rmSync(fsRoot, { recursive: true, force: true });
  });

  const targets: Record<string, () => StorageTarget> = {
    // through the parser: the connection string arrives taken apart (shared key, its BlobEndpoint)
    'azure-blob (Azurite)': () =>
      parseStorageTarget(createInputReader(storageInputs(), (n) => ({ storageKind: 'azure-blob', storageConnectionString: az.connectionString, storageContainer: 'backups', storagePrefix: 'p/q', storageRetries: '2' } as Record<string, string>)[n], () => undefined)).target,
    's3 (s3rver)': () => ({ kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, checksums: 'when-required', prefix: 'p/q', maxTries: 2 }),
    filesystem: () => ({ kind: 'filesystem', path: fsRoot, location: 'off-hub', prefix: 'p/q' }),
  };

  for (const [name, target] of Object.entries(targets)) {
    describe(name, () => {
      let st: Storage;
      before(async () => {
        st = await openStorage(target());
      });
      after(async () => st?.close());

      it('puts a stream, gets it back, stats, lists under the prefix, deletes', async () => {
        const body = Buffer.alloc(9 * 1024 * 1024 + 17, 3); // more than one block / part
        const r = await st.put('rt/a.bin', Readable.from([body.subarray(0, 5_000_000), body.subarray(5_000_000)]));
        assert.deepEqual(r, { bytes: body.length, sha256: sha(body) });
        await st.put('rt/b/c.txt', Readable.from([Buffer.from('hello')]));
        const got = await st.get('rt/a.bin');
        assert.equal(got.size, body.length);
        assert.equal(sha(await readAll(got.stream)), sha(body));
        assert.equal((await st.stat('rt/a.bin'))?.size, body.length);
        assert.equal(await st.stat('rt/missing'), undefined);
        assert.deepEqual((await st.list('rt/')).map((o) => o.key), ['rt/a.bin', 'rt/b/c.txt']);
        await st.delete('rt/a.bin');
        await st.delete('rt/a.bin'); // missing is fine
        assert.deepEqual((await st.list('rt/')).map((o) => o.key), ['rt/b/c.txt']);
        await assert.rejects(st.get('rt/a.bin'), (e: unknown) => e instanceof StorageError && e.notFound);
        assert.ok(!st.location('x').includes('AccountKey') && !st.location('x').includes(s3.secretAccessKey));
      });

      it('a body that fails halfway leaves no object under the key', async () => {
        await assert.rejects(st.put('fail/x.bin', failing(Buffer.alloc(1024 * 1024, 1))), /source died halfway/);
        assert.deepEqual(await st.list('fail/'), []);
      });

      it('writes a set: encrypted object, manifest LAST; reads it back verified', async () => {
        const rec = recordingPuts(st);
        const plain = Buffer.from(Array.from({ length: 2_500_000 }, (_, i) => i % 253));
        const w = new SetWriter(rec.storage, 'site/db/20240101T000000Z-aaaa0001', { encryption: { format: 'age', recipients: [recipient] } });
        const o = await w.put('archive.age', Readable.from([plain]));
        const m = await w.commit({ kind: 'test', id: '20240101T000000Z-aaaa0001', site: 'site', data: { n: 1 } }, loadPrivateKey(kp.privateKeyPem, 'signingKey'));
        assert.deepEqual(rec.puts, ['site/db/20240101T000000Z-aaaa0001/archive.age', `site/db/20240101T000000Z-aaaa0001/${MANIFEST}`]);
        assert.equal(o.plainSize, plain.length);
        assert.ok(o.encrypted && o.size > plain.length);
        assert.deepEqual(m.encryption, { format: 'age', recipients: [m.encryption.format === 'age' ? m.encryption.recipients[0] : ''] });
        assert.ok(!JSON.stringify(m).includes(recipient));
        const back = await readManifest(st, 'site/db/20240101T000000Z-aaaa0001');
        assert.deepEqual(back, JSON.parse(JSON.stringify(m)));
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dl-')), 'a');
        await downloadVerified(st, 'site/db/20240101T000000Z-aaaa0001', back.objects[0], file, { identities: [identity] });
        assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
        assert.equal(sha(await readAll(await openPlaintext(file, back.objects[0], [identity]))), sha(plain));
      });

      it('refuses a truncated, a flipped and a wrongly keyed object, and removes the download', async () => {
        const dir = 'site/db/20240101T000000Z-aaaa0002';
        const w = new SetWriter(st, dir, { encryption: { format: 'age', recipients: [recipient] } });
        await w.put('archive.age', Readable.from([Buffer.alloc(300_000, 9)]));
        const m = await w.commit({ kind: 'test', id: 'x', data: {} });
        const stored = await readAll((await st.get(`${dir}/archive.age`)).stream);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dl-')), 'a');
        const flipped = Buffer.from(stored);
        flipped[flipped.length - 500] ^= 0x40;
        await st.put(`${dir}/archive.age`, Readable.from([flipped]));
        await assert.rejects(downloadVerified(st, dir, m.objects[0], file, { identities: [identity] }), (e: unknown) => e instanceof DecryptError || e instanceof IntegrityError);
        assert.ok(!fs.existsSync(file));
        await st.put(`${dir}/archive.age`, Readable.from([stored.subarray(0, stored.length - 100)]));
        await assert.rejects(downloadVerified(st, dir, m.objects[0], file, { identities: [identity] }), (e: unknown) => e instanceof DecryptError || e instanceof IntegrityError);
        await st.put(`${dir}/archive.age`, Readable.from([stored]));
        await assert.rejects(downloadVerified(st, dir, m.objects[0], file, { identities: [await generateX25519Identity()] }), (e: unknown) => e instanceof DecryptError && /wrong identity/.test(e.message));
        assert.ok(!fs.existsSync(file));
        // intact again: accepted
        await downloadVerified(st, dir, m.objects[0], file, { identities: [identity] });
      });

      it('lists sets: complete, without manifest, with a broken manifest', async () => {
        await st.put('lst/s/20240101T000000Z-00000001/archive.age', Readable.from([Buffer.from('x')]));
        await st.put(`lst/s/20240101T000000Z-00000001/${MANIFEST}`, Readable.from([Buffer.from('{not json')]));
        await st.put('lst/s/20240102T000000Z-00000002/archive.age', Readable.from([Buffer.from('y')]));
        const w = new SetWriter(st, 'lst/s/20240103T000000Z-00000003', { encryption: { format: 'none' } });
        await w.put('archive.gz', Readable.from([Buffer.from('z')]));
        await w.commit({ kind: 'test', id: 'c', data: {} });
        const sets = await listSets(st, 'lst/s');
        assert.deepEqual(sets.map((s) => [s.name, !!s.manifest, !!s.manifestError]), [
          ['20240101T000000Z-00000001', false, true],
          ['20240102T000000Z-00000002', false, false],
          ['20240103T000000Z-00000003', true, false],
        ]);
      });
    });
  }

  describe('Azure Blob specifics', () => {
    it('sends the configured x-ms-version (signed: the request succeeds), or the SDK version with "sdk"', async () => {
      const proxy = await startRecordingProxy(() => az.port);
      try {
        const base = { kind: 'azure-blob' as const, accountUrl: `${proxy.url}/${az.account}`, container: 'backups', auth: { type: 'account-key' as const, accountName: az.account, accountKey: az.key }, prefix: 'ver', maxTries: 1 };
        const st = await openStorage({ ...base, apiVersion: '2019-07-07' });
        await st.put('a', Readable.from([Buffer.from('x')]));
        assert.equal(await readAll((await st.get('a')).stream).then(String), 'x');
        assert.ok(proxy.requests.length >= 2);
        for (const r of proxy.requests) assert.equal(r.headers['x-ms-version'], '2019-07-07');
        proxy.requests.length = 0;
        const st2 = await openStorage({ ...base, apiVersion: undefined });
        await st2.stat('a');
        assert.notEqual(proxy.requests[0].headers['x-ms-version'], '2019-07-07');
        assert.match(String(proxy.requests[0].headers['x-ms-version']), /^20\d\d-\d\d-\d\d$/);
      } finally {
        await proxy.close();
      }
    });

    it('works with a container SAS; a wrong key fails with 403 and no secret in the message', async () => {
      const cred = new StorageSharedKeyCredential(az.account, az.key);
      const sas = generateBlobSASQueryParameters({ containerName: 'backups', permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 3600_000), version: '2019-07-07' }, cred).toString();
      const st = await openStorage({ kind: 'azure-blob', accountUrl: az.blobEndpoint, container: 'backups', auth: { type: 'sas', sasToken: sas }, apiVersion: '2019-07-07', prefix: 'sas', maxTries: 1 });
      await st.put('k', Readable.from([Buffer.from('via sas')]));
      assert.deepEqual((await st.list('')).map((o) => o.key), ['k']);
      const wrong = Buffer.alloc(64, 7).toString('base64');
      const bad = await openStorage({ kind: 'azure-blob', accountUrl: az.blobEndpoint, container: 'backups', auth: { type: 'account-key', accountName: az.account, accountKey: wrong }, apiVersion: '2019-07-07', prefix: 'x', maxTries: 1 });
      await assert.rejects(bad.put('k', Readable.from([Buffer.from('x')])), (e: unknown) => e instanceof StorageError && /403/.test(e.message) && !e.message.includes(wrong));
      const badSas = await openStorage({ kind: 'azure-blob', accountUrl: az.blobEndpoint, container: 'backups', auth: { type: 'sas', sasToken: sas.replace(/sig=[^&]+/, 'sig=AAAA') }, apiVersion: '2019-07-07', prefix: 'x', maxTries: 1 });
      await assert.rejects(badSas.list(''), (e: unknown) => e instanceof StorageError && !e.message.includes(sas.slice(sas.indexOf('sig='), sas.indexOf('sig=') + 20)));
      // a container created by the test itself via the plain SDK is visible: same Azurite, same data
      const plain = BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient('backups');
      assert.ok(await plain.getBlockBlobClient('sas/k').exists());
    });
  });

  it('Azure Blob on another Hub through a Hub ARM credential: listKeys only (ADFS), then shared key; the key is masked', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'listkeys-'));
    const ca = makeCa(work);
    const cert = makeServerCert(ca, work);
    fs.writeFileSync(path.join(work, 'ca.pem'), ca.certPem);
    const audience = 'https://management.adfs.azurestack.local/00000000-0000-0000-0000-000000000001';
    const login = await startLoginServer({ cert, flavour: 'adfs', clients: { 'backup-app': { secret: 'arm-SECRET-1' } }, audiences: [audience] });
    const id = `/subscriptions/1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${az.account}`;
    const arm = await startArmServer({
      cert,
      login,
      hub: { audience },
      handle: (r) => (r.method === 'POST' && r.path === `${id}/listKeys` && r.query['api-version'] === '2019-06-01' ? { status: 200, body: { keys: [{ keyName: 'key1', value: az.key, permissions: 'FULL' }] } } : { status: 404, body: { error: { code: 'NotFound', message: r.path } } }),
    });
    try {
      const defs = storageInputs();
      const values: Record<string, string> = { storageKind: 'azure-blob', storageAccountUrl: az.blobEndpoint, storageContainer: 'backups', storagePrefix: 'lk', storageAccountResourceId: id, storageArmEndpoint: arm.url, storageArmClientId: 'backup-app', storageArmClientSecret: 'arm-SECRET-1', storageCaCertificate: path.join(work, 'ca.pem') };
      const parsed = parseStorageTarget(createInputReader(defs, (n) => values[n], () => undefined));
      const masked: string[] = [];
      const st = await openStorage(parsed, { mask: (m) => masked.push(m) });
      await st.put('k', Readable.from([Buffer.from('via listKeys')]));
      assert.equal(String(await readAll((await st.get('k')).stream)), 'via listKeys');
      assert.ok(masked.includes(az.key));
      assert.deepEqual(arm.requests.filter((r) => r.path !== '/metadata/endpoints').map((r) => `${r.method} ${r.path}`), [`POST ${id}/listKeys`]);
      assert.ok(login.requests.some((r) => r.form?.client_id === 'backup-app'));
      await st.close();
    } finally {
      await arm.close();
      await login.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  describe('S3 specifics', () => {
    it('checksums when-required send no CRC32 headers; always does (multipart and single put)', async () => {
      const proxy = await startRecordingProxy(() => s3.port);
      try {
        const t = { kind: 's3' as const, endpoint: proxy.url, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, checksums: 'when-required' as const, prefix: 'ck', maxTries: 1 };
        const st = await openStorage(t);
        await st.put('big', Readable.from([Buffer.alloc(9 * 1024 * 1024, 1)]));
        await st.put('small', Readable.from([Buffer.from('x')]));
        const puts = proxy.requests.filter((r) => r.method === 'PUT' || r.method === 'POST');
        assert.ok(puts.some((r) => /partNumber=/.test(r.url)), 'a multipart upload happened');
        for (const r of puts) {
          assert.equal(Object.keys(r.headers).filter((h) => /checksum/i.test(h)).length, 0, `${r.method} ${r.url}: ${JSON.stringify(r.headers)}`);
        }
        proxy.requests.length = 0;
        const st2 = await openStorage({ ...t, checksums: 'always' });
        await st2.put('small2', Readable.from([Buffer.from('x')]));
        assert.ok(proxy.requests.some((r) => Object.keys(r.headers).some((h) => /x-amz-checksum-crc32|x-amz-sdk-checksum-algorithm/i.test(h))));
      } finally {
        await proxy.close();
      }
    });

    it('never uses the AWS default credential chain, region chain or IMDS', () => {
      const cfg = s3ClientConfig({ kind: 's3', endpoint: 'https://s3.local', region: 'r1', bucket: 'b', pathStyle: true, accessKeyId: 'AK', secretAccessKey: 'SK', checksums: 'when-required', prefix: '', maxTries: 3 });
      assert.deepEqual(cfg.credentials, { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: undefined });
      assert.equal(cfg.region, 'r1');
      assert.equal(cfg.defaultsMode, 'standard');
      assert.equal(cfg.requestChecksumCalculation, 'WHEN_REQUIRED');
      assert.equal(cfg.responseChecksumValidation, 'WHEN_REQUIRED');
    });

    it('lists and aborts incomplete multipart uploads; wrong credentials fail without echoing the secret', async () => {
      const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
      const up = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'mp/site/db/20240101T000000Z-1/archive.age' }));
      await client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: 'mp/site/db/20240101T000000Z-1/archive.age', UploadId: up.UploadId, PartNumber: 1, Body: Buffer.alloc(1024) }));
      client.destroy();
      const st = await openStorage({ kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, checksums: 'when-required', prefix: 'mp', maxTries: 1 });
      const inc = await st.listIncompleteUploads('site/');
      assert.deepEqual(inc.map((u) => [u.key, u.uploadId, u.abortable]), [['site/db/20240101T000000Z-1/archive.age', up.UploadId, true]]);
      await st.abortIncompleteUpload(inc[0]);
      assert.deepEqual(await st.listIncompleteUploads('site/'), []);
      const wrong = 'WRONG-secret-' + 'x'.repeat(20);
      // (s3rver checks the access key id; its SigV4 signature check is incomplete)
      const bad = await openStorage({ kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: 'AKUNKNOWN', secretAccessKey: wrong, checksums: 'when-required', prefix: 'mp', maxTries: 1 });
      await assert.rejects(bad.list(''), (e: unknown) => e instanceof StorageError && /403|InvalidAccessKeyId/.test(e.message) && /check the storage credentials/.test(e.message) && !e.message.includes(wrong));
    });
  });

  describe('filesystem specifics', () => {
    it('a partial write left by a killed process is an incomplete upload that can be removed', async () => {
      const st = await openStorage({ kind: 'filesystem', path: fsRoot, location: 'off-hub', prefix: 'part' });
      const d = path.join(fsRoot, 'part', 'site', 'db', '20240101T000000Z-1');
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, '.archive.age.partial-0123456789ab'), 'half');
      assert.deepEqual(await st.list('site/'), []);
      const inc = await st.listIncompleteUploads('site/');
      assert.deepEqual(inc.map((u) => u.key), ['site/db/20240101T000000Z-1/.archive.age.partial-0123456789ab']);
      await st.abortIncompleteUpload(inc[0]);
      assert.ok(!fs.existsSync(d));
    });
  });

  describe('inputs', () => {
    const defs = [...storageInputs(), ...encryptionInputs({ writes: true, reads: true })];
    const parse = (v: Record<string, string>) => parseStorageTarget(createInputReader(defs, (n) => v[n], () => undefined));
    const err = (v: Record<string, string>, input: string, re?: RegExp): void => {
      assert.throws(() => parse(v), (e: unknown) => e instanceof InputError && e.input === input && (!re || re.test(e.message)), JSON.stringify(v));
    };

    it('parses each kind', () => {
      assert.deepEqual(parse({ storagePath: '/mnt/nfs', storageLocation: 'off-hub', storagePrefix: '/backups/ratings/' }).target, { kind: 'filesystem', path: '/mnt/nfs', location: 'off-hub', prefix: 'backups/ratings' });
      const s3t = parse({ storageKind: 's3', s3Endpoint: 'https://s3.corp.local:9000/', s3Bucket: 'bkt', s3AccessKeyId: 'AK', s3SecretAccessKey: 'SK' }).target;
      assert.deepEqual(s3t, { kind: 's3', endpoint: 'https://s3.corp.local:9000', region: 'us-east-1', bucket: 'bkt', pathStyle: true, accessKeyId: 'AK', secretAccessKey: 'SK', checksums: 'when-required', prefix: '', ca: undefined, maxTries: 4 });
      const cs = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=dallas.contoso.local';
      const a = parse({ storageKind: 'azure-blob', storageContainer: 'backups', storageConnectionString: cs }).target;
      assert.equal(a.kind === 'azure-blob' && a.accountUrl, 'https://acct.blob.dallas.contoso.local');
      assert.equal(a.kind === 'azure-blob' && a.apiVersion, '2019-07-07');
      // taken apart once, here: the back end and the same-Hub guard never read the connection string again
      assert.deepEqual(a.kind === 'azure-blob' && a.auth, { type: 'account-key', accountName: 'acct', accountKey: 'a2V5' });
      assert.deepEqual(parse({ storageKind: 'azure-blob', storageContainer: 'backups', storageConnectionString: cs }).where, { host: 'acct.blob.dallas.contoso.local', input: 'storageConnectionString' });
      const sasCs = parse({ storageKind: 'azure-blob', storageContainer: 'backups', storageConnectionString: 'BlobEndpoint=https://acct.blob.x.local/;SharedAccessSignature=?sv=1&sig=2' }).target;
      assert.deepEqual(sasCs.kind === 'azure-blob' && [sasCs.accountUrl, sasCs.auth], ['https://acct.blob.x.local', { type: 'sas', sasToken: 'sv=1&sig=2' }]);
      const k = parse({ storageKind: 'azure-blob', storageContainer: 'backups', storageAccountUrl: 'https://acct2.blob.x.local', storageAccountKey: 'a2V5', storageApiVersion: 'sdk' }).target;
      assert.deepEqual(k.kind === 'azure-blob' && [k.auth, k.apiVersion], [{ type: 'account-key', accountName: 'acct2', accountKey: 'a2V5' }, undefined]);
      const lk = parseStorageTarget(createInputReader(defs, (n) => ({ storageKind: 'azure-blob', storageContainer: 'c01', storageAccountUrl: 'https://acct3.blob.x.local', storageAccountResourceId: '/subscriptions/1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct3', storageArmEndpoint: 'https://management.x.local', storageArmClientId: 'id', storageArmClientSecret: 'sec' } as Record<string, string>)[n], () => undefined));
      assert.equal(lk.target.kind === 'azure-blob' && lk.target.auth.type, 'arm-list-keys');
      assert.deepEqual(lk.listKeys?.hub, { armEndpoint: 'https://management.x.local', tenantId: undefined, auth: { kind: 'client_secret', clientId: 'id', clientSecret: 'sec' } });
      assert.deepEqual(lk.listKeys?.inputs, { armEndpoint: 'storageArmEndpoint', tenant: 'storageArmTenantId' });
    });

    it('names the input for every mistake', () => {
      err({ storageKind: 'ftp' }, 'storageKind', /expected one of azure-blob, s3, filesystem/);
      err({}, 'storagePath');
      err({ storagePath: '/x' }, 'storageLocation');
      err({ storagePath: '/x', storageLocation: 'off-hub', s3Bucket: 'b' }, 's3Bucket', /does not apply/);
      err({ storagePath: '/x', storageLocation: 'off-hub', storagePrefix: 'a//b' }, 'storagePrefix');
      err({ storagePath: '/x', storageLocation: 'off-hub', storageRetries: '-1' }, 'storageRetries');
      err({ storageKind: 's3', s3Bucket: 'b', s3AccessKeyId: 'a', s3SecretAccessKey: 'b' }, 's3Endpoint');
      err({ storageKind: 's3', s3Endpoint: 'ftp://x', s3Bucket: 'b', s3AccessKeyId: 'a', s3SecretAccessKey: 'b' }, 's3Endpoint');
      err({ storageKind: 's3', s3Endpoint: 'https://x', s3Bucket: 'B_', s3AccessKeyId: 'a', s3SecretAccessKey: 'b' }, 's3Bucket');
      err({ storageKind: 's3', s3Endpoint: 'https://x', s3Bucket: 'bb1', s3SecretAccessKey: 'b' }, 's3AccessKeyId', /default credential chain/);
      err({ storageKind: 'azure-blob', storageContainer: 'c01' }, 'storageConnectionString', /needs credentials/);
      err({ storageKind: 'azure-blob', storageContainer: 'c01', storageConnectionString: 'garbage-SECRETVALUE' }, 'storageConnectionString', /^(?!.*SECRETVALUE)/);
      err({ storageKind: 'azure-blob', storageContainer: 'c01', storageAccountUrl: 'https://a.b', storageAccountKey: 'a2V5', storageSasToken: 'sv=1&sig=2' }, 'storageSasToken', /only one/);
      err({ storageKind: 'azure-blob', storageContainer: 'c01', storageAccountUrl: 'https://a.b?sv=1', storageSasToken: 'sv=1&sig=2' }, 'storageAccountUrl', /without query/);
      err({ storageKind: 'azure-blob', storageContainer: 'C', storageAccountUrl: 'https://a.b', storageSasToken: 'sv=1&sig=2' }, 'storageContainer');
      err({ storageKind: 'azure-blob', storageContainer: 'c01', storageAccountUrl: 'https://a.b', storageSasToken: 'x' }, 'storageSasToken');
      err({ storageKind: 'azure-blob', storageContainer: 'c01', storageAccountUrl: 'https://a.b', storageSasToken: 'sv=1&sig=2', storageApiVersion: 'latest' }, 'storageApiVersion');
      err({ storageKind: 'azure-blob', storageContainer: 'c01', storageAccountUrl: 'https://a.b', storageAccountResourceId: '/bad' }, 'storageAccountResourceId');
    });

    it('encryption: on by default, recipients required, malformed keys refused', async () => {
      const r = (v: Record<string, string>) => parseEncryption(createInputReader(defs, (n) => v[n], () => undefined), { write: true });
      assert.throws(() => r({}), (e: unknown) => e instanceof InputError && e.input === 'encryptionRecipients');
      assert.deepEqual(r({ encryptionRecipients: recipient }).write, { format: 'age', recipients: [recipient] });
      assert.deepEqual(r({ encryption: 'none' }).write, { format: 'none' });
      assert.throws(() => r({ encryption: 'none', encryptionRecipients: recipient }), InputError);
      assert.throws(() => r({ encryptionRecipients: 'age1nope' }), (e: unknown) => e instanceof InputError && e.input === 'encryptionRecipients');
      assert.throws(() => r({ encryptionRecipients: recipient, signingKey: 'not a key' }), (e: unknown) => e instanceof InputError && e.input === 'signingKey');
      assert.throws(() => r({ encryptionRecipients: recipient, verifyKey: kp.privateKeyPem }), (e: unknown) => e instanceof InputError && e.input === 'verifyKey');
      assert.throws(() => r({ encryptionRecipients: recipient, ageIdentity: 'AGE-SECRET-KEY-1BAD' }), (e: unknown) => e instanceof InputError && e.input === 'ageIdentity');
      assert.equal(r({ encryptionRecipients: recipient, signingKey: kp.privateKeyPem }).signingKey?.asymmetricKeyType, 'ed25519');
    });
  });

  describe('same-Hub guard', () => {
    const site = { name: 'seattle', hub: { domain: 'seattle.contoso.local', publicIpRanges: ['203.0.113.0/24'] } };
    const azure = (url: string): StorageTarget => ({ kind: 'azure-blob', accountUrl: url, container: 'c', auth: { type: 'sas', sasToken: 'sig=x' }, prefix: '', maxTries: 1 });
    const cases: [string, StorageTarget, string | undefined][] = [
      ['blob on the same Hub', azure('https://acct.blob.seattle.contoso.local'), 'storageAccountUrl'],
      ['blob on another Hub', azure('https://acct.blob.dallas.contoso.local'), undefined],
      ['VM on the Hub (cloudapp)', { kind: 's3', endpoint: 'https://minio.seattle.cloudapp.contoso.local:9000', region: 'r', bucket: 'b', pathStyle: true, accessKeyId: 'a', secretAccessKey: 'b', checksums: 'when-required', prefix: '', maxTries: 1 }, 's3Endpoint'],
      ['IP in the Hub range', { kind: 's3', endpoint: 'http://203.0.113.7:9000', region: 'r', bucket: 'b', pathStyle: true, accessKeyId: 'a', secretAccessKey: 'b', checksums: 'when-required', prefix: '', maxTries: 1 }, 's3Endpoint'],
      ['filesystem declared on the site', { kind: 'filesystem', path: '/mnt', location: 'seattle', prefix: '' }, 'storageLocation'],
      ['filesystem off-hub', { kind: 'filesystem', path: '/mnt', location: 'off-hub', prefix: '' }, undefined],
    ];
    for (const [name, target, input] of cases) {
      it(`${name}: ${input ? `refused (${input})` : 'allowed'}`, () => {
        const where = storageWhere(target);
        if (!input) return assert.equal(guardSameHub({ where, allowSameHub: false }, site), undefined);
        assert.throws(() => guardSameHub({ where, allowSameHub: false }, site), (e: unknown) => e instanceof InputError && e.input === input && /allowSameHub/.test(e.message));
        const warnings: string[] = [];
        const warning = guardSameHub({ where, allowSameHub: true }, site, { warning: (m) => warnings.push(m) });
        assert.deepEqual(warnings, [warning]);
      });
    }
    it('connection string on the Hub: refused (storageConnectionString), from the parsed endpoint', () => {
      const v: Record<string, string> = { storageKind: 'azure-blob', storageContainer: 'c01', storageConnectionString: 'AccountName=acct;AccountKey=a2V5;EndpointSuffix=seattle.contoso.local' };
      const parsed = parseStorageTarget(createInputReader(storageInputs(), (n) => v[n], () => undefined));
      assert.throws(() => guardSameHub(parsed, site), (e: unknown) => e instanceof InputError && e.input === 'storageConnectionString' && /allowSameHub/.test(e.message));
    });
  });

  describe('retention planning (injected clock)', () => {
    const day = 86_400_000;
    const now = new Date('2024-06-30T00:00:00Z');
    const set = (daysAgo: number, complete = true): SetEntry => ({
      dir: `s/${daysAgo}`,
      name: String(daysAgo),
      objects: [],
      bytes: 0,
      lastModified: new Date(now.getTime() - daysAgo * day),
      manifest: complete ? ({ completedAt: new Date(now.getTime() - daysAgo * day).toISOString() } as SetEntry['manifest']) : undefined,
    });

    it('never deletes the newest complete backup, whatever the rules', () => {
      const sets = [set(40), set(30), set(20, false)];
      const p = planRetention(sets, [], { keepDays: 0, orphanGraceHours: 24, now });
      assert.deepEqual(p.keep.map((s) => s.name), ['30']);
      assert.deepEqual(p.expire.map((s) => s.name), ['40']);
      assert.deepEqual(p.orphans.map((s) => s.name), ['20']);
      const p2 = planRetention([set(400)], [], { keepLast: 1, keepDays: 1, orphanGraceHours: 1, now });
      assert.deepEqual(p2.keep.map((s) => s.name), ['400']);
    });

    it('keeps a backup that either rule keeps; orphans only after the grace period', () => {
      const sets = [1, 2, 3, 10, 11].map((d) => set(d)).concat([set(0.01, false), set(2, false)]);
      const p = planRetention(sets, [{ key: 'k', uploadId: 'u', abortable: true, initiated: new Date(now.getTime() - 3 * day) }, { key: 'k2', uploadId: 'v', abortable: true, initiated: new Date(now.getTime() - 3600_000) }], { keepLast: 2, keepDays: 5, orphanGraceHours: 24, now });
      assert.deepEqual(p.keep.map((s) => s.name), ['1', '2', '3']);
      assert.deepEqual(p.expire.map((s) => s.name), ['10', '11']);
      assert.deepEqual(p.pending.map((s) => s.name), ['0.01']);
      assert.deepEqual(p.orphans.map((s) => s.name), ['2']);
      assert.deepEqual(p.staleUploads.map((u) => u.key), ['k']);
    });
  });
});
