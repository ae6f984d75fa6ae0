/**
 * Off-Hub storage through a real forward proxy (CONNECT tunnels and absolute-URI forwarding, Basic proxy auth,
 * started by the test) with and without a custom CA: S3 against s3rver, Azure Blob against Azurite, each over HTTPS
 * behind a TLS terminator with a throwaway CA, and over plain HTTP. The network comes from createNet (what the frame
 * builds as ctx.net): the environment's HTTPS_PROXY/HTTP_PROXY with NO_PROXY (CIDR), or the ADO agent's proxy.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createNet, type Net, type NetOptions } from '../../src/shared/net';
import { openStorage, type Storage } from '../../src/shared/storage';
import type { AzureBlobTarget, S3Target } from '../../src/shared/storage/types';
import { startConnectProxy, startTlsTerminator, type TestProxy, type TestServer } from '../helpers/servers';
import { startAzurite, startS3rver, type AzuriteServer, type S3Server } from '../helpers/storage-servers';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';

const AUTH = { user: 'proxyuser', pass: 'p@ss:w/rd' };

async function roundTrip(store: Storage, key: string): Promise<void> {
  try {
    const body = Buffer.from(`hello through the proxy ${key}`);
    const put = await store.put(key, Readable.from([body]));
    assert.equal(put.bytes, body.length);
    const got = await store.get(key);
    const chunks: Buffer[] = [];
    for await (const c of got.stream) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), body.toString());
    assert.ok((await store.list('')).some((o) => o.key === key));
  } finally {
    await store.close();
  }
}

describe('storage through a forward proxy (ctx.net)', function () {
  this.timeout(120_000);
  let dir: string;
  let ca: TestCa;
  let s3: S3Server;
  let az: AzuriteServer;
  let s3Tls: TestServer;
  let azTls: TestServer;
  let proxy: TestProxy;
  const nets: Net[] = [];
  const net = (env: NodeJS.ProcessEnv, agentProxy?: NetOptions['agentProxy']): Net => {
    const masked: string[] = [];
    const n = createNet({ env, agentProxy, mask: (s) => masked.push(s) });
    nets.push(n);
    return n;
  };
  const proxyEnv = (): NodeJS.ProcessEnv => {
    const u = `http://${encodeURIComponent(AUTH.user)}:${encodeURIComponent(AUTH.pass)}@127.0.0.1:${proxy.port}`;
    return { HTTPS_PROXY: u, HTTP_PROXY: u };
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-proxy-'));
    ca = makeCa(dir);
    const cert = makeServerCert(ca, dir);
    [s3, az] = await Promise.all([startS3rver(), startAzurite()]);
    await az.createContainer('backups');
    s3Tls = await startTlsTerminator(s3.port, { key: cert.keyPem, cert: cert.certPem });
    azTls = await startTlsTerminator(az.port, { key: cert.keyPem, cert: cert.certPem });
    proxy = await startConnectProxy({ auth: AUTH });
  });
  after(async () => {
    for (const n of nets) n.close();
    await Promise.all([proxy?.close(), s3Tls?.close(), azTls?.close(), s3?.stop(), az?.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    proxy.connects.length = 0;
    proxy.proxyAuthorizations.length = 0;
  });

  const s3Target = (endpoint: string, withCa: boolean): S3Target => ({
    kind: 's3', endpoint, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey, checksums: 'when-required', prefix: 'px', maxTries: 1, ...(withCa ? { ca: [ca.certPem] } : {}),
  });
  const blobTarget = (base: string, withCa: boolean): AzureBlobTarget => ({
    kind: 'azure-blob', accountUrl: `${base}/${az.account}`, container: 'backups',
    auth: { type: 'account-key', accountName: az.account, accountKey: az.key }, prefix: 'px', maxTries: 1,
    ...(withCa ? { ca: [ca.certPem] } : {}),
  });
  const expectedAuth = `Basic ${Buffer.from(`${AUTH.user}:${AUTH.pass}`).toString('base64')}`;
  const assertTunnelled = (port: number): void => {
    assert.ok(proxy.connects.length > 0, 'the proxy saw no request');
    for (const c of proxy.connects) assert.equal(c, `127.0.0.1:${port}`, `CONNECT target ${c}`);
    for (const a of proxy.proxyAuthorizations) assert.equal(a, expectedAuth);
  };
  const assertForwarded = (port: number): void => {
    assert.ok(proxy.connects.length > 0, 'the proxy saw no request');
    for (const c of proxy.connects) assert.ok(c.startsWith(`http://127.0.0.1:${port}/`), `forwarded ${c}`);
    for (const a of proxy.proxyAuthorizations) assert.equal(a, expectedAuth);
  };

  it('S3 over HTTPS with a custom CA goes through the CONNECT proxy with proxy auth', async () => {
    await roundTrip(await openStorage(s3Target(s3Tls.url, true), { net: net(proxyEnv()) }), 's3-https-ca');
    assertTunnelled(s3Tls.port);
  });

  it('S3 over HTTPS without the CA fails through the proxy with a TLS trust error (the CA is what made it work)', async () => {
    const store = await openStorage(s3Target(s3Tls.url, false), { net: net(proxyEnv()) });
    await assert.rejects(roundTrip(store, 's3-no-ca'), /certificate|self[- ]signed|issuer/i);
    assertTunnelled(s3Tls.port);
  });

  it('S3 over plain HTTP goes through the proxy (absolute-URI forwarding, no CA)', async () => {
    await roundTrip(await openStorage(s3Target(s3.endpoint, false), { net: net(proxyEnv()) }), 's3-http');
    assertForwarded(s3.port);
  });

  it('S3 honours NO_PROXY with CIDR (direct, the proxy sees nothing)', async () => {
    await roundTrip(await openStorage(s3Target(s3Tls.url, true), { net: net({ ...proxyEnv(), NO_PROXY: '10.0.0.0/8,127.0.0.0/8' }) }), 's3-noproxy');
    assert.deepEqual(proxy.connects, []);
  });

  it('Azure Blob over HTTPS with a custom CA keeps the proxy (CONNECT with proxy auth)', async () => {
    await roundTrip(await openStorage(blobTarget(azTls.url, true), { net: net(proxyEnv()) }), 'blob-https-ca');
    assertTunnelled(azTls.port);
  });

  it('Azure Blob over plain HTTP without a CA goes through the proxy', async () => {
    await roundTrip(await openStorage(blobTarget(`http://127.0.0.1:${az.port}`, false), { net: net(proxyEnv()) }), 'blob-http');
    assertForwarded(az.port);
  });

  it('Azure Blob uses the ADO agent proxy when the environment has none, and NO_PROXY CIDR bypasses it', async () => {
    const agentProxy = (): { url: string; username: string; password: string } => ({ url: `http://127.0.0.1:${proxy.port}`, username: AUTH.user, password: AUTH.pass });
    await roundTrip(await openStorage(blobTarget(azTls.url, true), { net: net({}, agentProxy) }), 'blob-agent-proxy');
    assertTunnelled(azTls.port);
    proxy.connects.length = 0;
    await roundTrip(await openStorage(blobTarget(azTls.url, true), { net: net({ ...proxyEnv(), no_proxy: '127.0.0.0/8' }) }), 'blob-noproxy');
    assert.deepEqual(proxy.connects, []);
  });
});
