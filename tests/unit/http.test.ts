import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import type { ProxySettings } from '../../src/platform/types';
import { StackHubError, TimeoutError } from '../../src/shared/errors';
import {
  HttpStatusError,
  download,
  proxyFromEnv,
  redactUrl,
  request,
  type HttpOptions,
} from '../../src/shared/http';
import { startConnectProxy, startHttpServer, type TestProxy, type TestServer } from '../helpers/servers';
import { makeCa, makeServerCert, type ServerCert, type TestCa } from '../helpers/tls';

const PAYLOAD = randomBytes(300 * 1024 + 17);
const PAYLOAD_SHA = createHash('sha256').update(PAYLOAD).digest('hex');

/** Records the waits instead of waiting. */
function recorder(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms) => void sleeps.push(ms) };
}

/** Direct connections regardless of the environment the tests run in. */
const direct: HttpOptions = { proxyFor: () => undefined };

function proxyAt(p: TestProxy, creds?: { user: string; pass: string }): (u: URL) => ProxySettings {
  return () => ({ url: p.url, username: creds?.user, password: creds?.pass });
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('shared/http', () => {
  let tmp: string;
  let dir: string;
  let n = 0;
  const servers: Array<{ close(): Promise<void> }> = [];
  let ca: TestCa;
  let cert: ServerCert;
  let otherNameCert: ServerCert;

  /** Registers a server for after(). */
  async function serve(handler: http.RequestListener, tls?: ServerCert): Promise<TestServer> {
    const s = await startHttpServer(handler, tls ? { tls: { key: tls.keyPem, cert: tls.certPem } } : {});
    servers.push(s);
    return s;
  }

  async function proxy(auth?: { user: string; pass: string }): Promise<TestProxy> {
    const p = await startConnectProxy(auth ? { auth } : {});
    servers.push(p);
    return p;
  }

  const payloadHandler: http.RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(PAYLOAD.length) });
    res.end(PAYLOAD);
  };

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'http-test-'));
    ca = makeCa(path.join(tmp, 'pki'));
    cert = makeServerCert(ca, path.join(tmp, 'pki'), ['127.0.0.1', 'localhost']);
    otherNameCert = makeServerCert(ca, path.join(tmp, 'pki'), ['mirror.example.internal']);
  });

  beforeEach(() => {
    dir = path.join(tmp, `dl-${++n}`);
    fs.mkdirSync(dir);
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('download', () => {
    it('streams the body to the file and reports bytes, sha256 and url', async () => {
      const s = await serve(payloadHandler);
      const dest = path.join(dir, 'tool.tgz');
      const r = await download(`${s.url}/tool.tgz`, dest, direct);
      assert.deepEqual(r, { bytes: PAYLOAD.length, sha256: PAYLOAD_SHA, url: `${s.url}/tool.tgz` });
      assert.ok(fs.readFileSync(dest).equals(PAYLOAD));
      assert.deepEqual(fs.readdirSync(dir), ['tool.tgz'], 'no temp file left behind');
    });

    it('creates the file with mode 0600 and replaces an existing one', async function () {
      if (process.platform === 'win32') this.skip();
      const s = await serve(payloadHandler);
      const dest = path.join(dir, 'tool.tgz');
      fs.writeFileSync(dest, 'old', { mode: 0o644 });
      await download(`${s.url}/tool.tgz`, dest, direct);
      assert.equal(fs.statSync(dest).mode & 0o777, 0o600);
      assert.equal(fs.statSync(dest).size, PAYLOAD.length);
    });

    it('sends the default and the given headers', async () => {
      let seen: http.IncomingHttpHeaders = {};
      const s = await serve((req, res) => {
        seen = req.headers;
        res.end('x');
      });
      await download(`${s.url}/f`, path.join(dir, 'f'), { ...direct, headers: { 'X-Mirror-Key': 'k1' } });
      assert.equal(seen['x-mirror-key'], 'k1');
      assert.equal(seen['user-agent'], 'stackhub-ha');
      assert.equal(seen['accept-encoding'], 'identity');
      assert.equal(seen.host, `127.0.0.1:${s.port}`);
    });

    it('turns userinfo of the URL into Basic authorization', async () => {
      let auth: string | undefined;
      const s = await serve((req, res) => {
        auth = req.headers.authorization;
        res.end('x');
      });
      await download(s.url.replace('//', '//bob:s%40cret@') + '/f', path.join(dir, 'f'), direct);
      assert.equal(auth, `Basic ${Buffer.from('bob:s@cret').toString('base64')}`);
    });

    it('reports progress, ending with (total, total)', async () => {
      const s = await serve(payloadHandler);
      const calls: Array<[number, number | undefined]> = [];
      await download(`${s.url}/f`, path.join(dir, 'f'), { ...direct, onProgress: (r, t) => calls.push([r, t]) });
      assert.ok(calls.length >= 1);
      assert.deepEqual(calls[calls.length - 1], [PAYLOAD.length, PAYLOAD.length]);
      for (let i = 1; i < calls.length; i++) assert.ok(calls[i][0] > calls[i - 1][0], 'progress increases');
    });

    it('404 → HttpStatusError with the redacted URL, not retried, no file', async () => {
      let hits = 0;
      const s = await serve((_req, res) => {
        hits++;
        res.writeHead(404).end('nope');
      });
      const rec = recorder();
      const dest = path.join(dir, 'missing.tgz');
      const err = await rejects(download(`${s.url}/missing.tgz?sv=2024&sig=SECRET`, dest, { ...direct, sleep: rec.sleep }));
      assert.ok(err instanceof HttpStatusError);
      assert.ok(err instanceof StackHubError);
      assert.equal(err.status, 404);
      assert.equal(err.url, `${s.url}/missing.tgz`);
      assert.equal(err.message, `GET ${s.url}/missing.tgz answered 404 Not Found`);
      assert.equal(hits, 1);
      assert.deepEqual(rec.sleeps, []);
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it('retries 500 twice then succeeds, backing off 500 ms then 1000 ms', async () => {
      let hits = 0;
      const s = await serve((req, res) => {
        if (++hits <= 2) return void res.writeHead(500).end('boom');
        payloadHandler(req, res);
      });
      const rec = recorder();
      const r = await download(`${s.url}/f`, path.join(dir, 'f'), { ...direct, sleep: rec.sleep });
      assert.equal(r.sha256, PAYLOAD_SHA);
      assert.equal(hits, 3);
      assert.deepEqual(rec.sleeps, [500, 1000]);
    });

    it('retries 408 and 429 (honouring Retry-After), not 403', async () => {
      const statuses = [408, 429];
      let hits = 0;
      const s = await serve((req, res) => {
        const st = statuses[hits++];
        if (st === 429) return void res.writeHead(429, { 'retry-after': '7' }).end();
        if (st) return void res.writeHead(st).end();
        res.end('ok');
      });
      const rec = recorder();
      await download(`${s.url}/f`, path.join(dir, 'f'), { ...direct, sleep: rec.sleep });
      assert.equal(hits, 3);
      assert.deepEqual(rec.sleeps, [500, 7000]);

      let forbidden = 0;
      const s2 = await serve((_req, res) => void (forbidden++, res.writeHead(403).end()));
      const err = await rejects(download(`${s2.url}/f`, path.join(dir, 'g'), { ...direct, sleep: rec.sleep }));
      assert.ok(err instanceof HttpStatusError && err.status === 403);
      assert.equal(forbidden, 1);
    });

    it('exhausted retries name the redacted URL and the attempts', async () => {
      let hits = 0;
      const s = await serve((_req, res) => void (hits++, res.writeHead(503).end()));
      const rec = recorder();
      const url = s.url.replace('//', '//user:hunter2@') + '/pkg/tool.tgz?sv=2024-01-01&sig=abc%2Fdef';
      const err = await rejects(download(url, path.join(dir, 'f'), { ...direct, sleep: rec.sleep, retries: 2 }));
      assert.ok(err instanceof HttpStatusError);
      assert.equal(err.status, 503);
      assert.equal(err.message, `GET ${s.url}/pkg/tool.tgz answered 503 Service Unavailable after 3 attempts`);
      assert.doesNotMatch(err.message, /sig=|hunter2|user/);
      assert.equal(hits, 3);
      assert.deepEqual(rec.sleeps, [500, 1000]);
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it('exhausted retries on network errors give a StackHubError naming the URL', async () => {
      const rec = recorder();
      // Nothing listens on 127.0.0.1:1: connection refused, without depending on a port that was just freed.
      const err = await rejects(download('http://127.0.0.1:1/f?sig=SECRET', path.join(dir, 'f'), { ...direct, sleep: rec.sleep }));
      assert.ok(err instanceof StackHubError);
      assert.match(err.message, /^GET http:\/\/127\.0\.0\.1:1\/f failed after 4 attempts: cannot connect to 127\.0\.0\.1:1: .*ECONNREFUSED/);
      assert.doesNotMatch(err.message, /SECRET/);
      assert.doesNotMatch(err.message, /\n/);
      assert.deepEqual(rec.sleeps, [500, 1000, 2000]);
    });

    it('retries connections that are dropped before the answer', async () => {
      let drops = 0;
      const s = await serve(payloadHandler);
      s.server.prependListener('connection', (sock: net.Socket) => {
        if (++drops <= 2) sock.destroy();
      });
      const rec = recorder();
      const r = await download(`${s.url}/f`, path.join(dir, 'f'), { ...direct, sleep: rec.sleep });
      assert.equal(r.sha256, PAYLOAD_SHA);
      assert.deepEqual(rec.sleeps, [500, 1000]);
    });

    it('follows redirects (relative and absolute) and reports the final URL', async () => {
      const target = await serve(payloadHandler);
      const s = await serve((req, res) => {
        if (req.url === '/a') return void res.writeHead(301, { location: '/b?x=1' }).end();
        if (req.url === '/b?x=1') return void res.writeHead(307, { location: `${target.url}/final.tgz` }).end();
        res.writeHead(500).end();
      });
      const r = await download(`${s.url}/a`, path.join(dir, 'f'), direct);
      assert.equal(r.url, `${target.url}/final.tgz`);
      assert.equal(r.sha256, PAYLOAD_SHA);
    });

    it('keeps Authorization on the same host, drops it for another host', async () => {
      const seen: Array<[string, string | undefined, string | undefined]> = [];
      const other = await serve((req, res) => {
        seen.push(['other', req.headers.authorization, req.headers.cookie]);
        res.end('x');
      });
      const s = await serve((req, res) => {
        seen.push([req.url ?? '', req.headers.authorization, req.headers.cookie]);
        if (req.url === '/a') return void res.writeHead(302, { location: '/b' }).end();
        res.writeHead(302, { location: `http://localhost:${other.port}/c` }).end();
      });
      await download(`${s.url}/a`, path.join(dir, 'f'), {
        ...direct,
        headers: { Authorization: 'Bearer T', Cookie: 'c=1' },
      });
      assert.deepEqual(seen, [
        ['/a', 'Bearer T', 'c=1'],
        ['/b', 'Bearer T', 'c=1'],
        ['other', undefined, undefined],
      ]);
    });

    it('gives up after 5 redirects', async () => {
      let hits = 0;
      const s = await serve((req, res) => void (hits++, res.writeHead(302, { location: `/r${hits}` }).end()));
      const err = await rejects(download(`${s.url}/start?sig=S`, path.join(dir, 'f'), direct));
      assert.ok(err instanceof StackHubError);
      assert.match(err.message, /more than 5 redirects/);
      assert.doesNotMatch(err.message, /sig=/);
      assert.equal(hits, 6);
    });

    it('a truncated body is an error and leaves no file', async () => {
      let hits = 0;
      const s = await serve((_req, res) => {
        hits++;
        res.writeHead(200, { 'content-length': '100000' });
        res.write(PAYLOAD.subarray(0, 5000), () => res.socket?.destroy());
      });
      const rec = recorder();
      const dest = path.join(dir, 'f');
      const err = await rejects(download(`${s.url}/f`, dest, { ...direct, sleep: rec.sleep, retries: 1 }));
      assert.ok(err instanceof StackHubError);
      assert.match(err.message, new RegExp(`^GET ${s.url}/f failed after 2 attempts: .*of 100000 bytes`));
      assert.equal(hits, 2, 'a truncated body is retried');
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it('times out when no response arrives, and when the body stalls', async () => {
      const s = await serve((req, res) => {
        if (req.url === '/stall-body') {
          res.writeHead(200, { 'content-length': '10' });
          res.write('12345');
        }
        // otherwise: never answer
      });
      const opts = { ...direct, timeoutMs: 400, retries: 0 };
      const e1 = await rejects(download(`${s.url}/hang`, path.join(dir, 'a'), opts));
      assert.ok(e1 instanceof TimeoutError, e1.message);
      assert.match(e1.message, /no response within 400 ms/);
      const e2 = await rejects(download(`${s.url}/stall-body`, path.join(dir, 'b'), opts));
      assert.ok(e2 instanceof TimeoutError, e2.message);
      assert.match(e2.message, /no data for 400 ms/);
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it('rejects a destination directory that does not exist without retrying', async () => {
      const s = await serve(payloadHandler);
      const rec = recorder();
      const err = await rejects(download(`${s.url}/f`, path.join(dir, 'no', 'such', 'f'), { ...direct, sleep: rec.sleep }));
      assert.ok(err instanceof StackHubError);
      assert.match(err.message, /^cannot write .*ENOENT/);
      assert.deepEqual(rec.sleeps, []);
    });

    it('rejects non-http URLs', async () => {
      const err = await rejects(download('ftp://mirror/x', path.join(dir, 'f'), direct));
      assert.match(err.message, /unsupported URL scheme 'ftp:'/);
    });
  });

  describe('HTTPS', () => {
    it('trusts a server whose CA is passed in `ca`', async () => {
      const s = await serve(payloadHandler, cert);
      const r = await download(`${s.url}/f`, path.join(dir, 'f'), { ...direct, ca: [ca.certPem] });
      assert.equal(r.sha256, PAYLOAD_SHA);
      const viaName = await download(`https://localhost:${s.port}/f`, path.join(dir, 'g'), { ...direct, ca: [ca.certPem] });
      assert.equal(viaName.bytes, PAYLOAD.length);
    });

    it('without the CA: one line saying the certificate is not trusted, not retried', async () => {
      let hits = 0;
      const s = await serve((req, res) => void (hits++, payloadHandler(req, res)), cert);
      const rec = recorder();
      const err = await rejects(download(`${s.url}/f?sig=S`, path.join(dir, 'f'), { ...direct, sleep: rec.sleep }));
      assert.ok(err instanceof StackHubError);
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, new RegExp(`^GET ${s.url}/f failed: the TLS certificate of 127\\.0\\.0\\.1:${s.port} was not trusted`));
      assert.match(err.message, /\); set the `caCertificate` input to the PEM of the CA that issued it$/);
      assert.doesNotMatch(err.message, /use-system-ca/);
      assert.deepEqual(rec.sleeps, []);
      assert.equal(hits, 0);
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it('a certificate for another name is not trusted either', async () => {
      const s = await serve(payloadHandler, otherNameCert);
      const rec = recorder();
      const err = await rejects(download(`${s.url}/f`, path.join(dir, 'f'), { ...direct, ca: [ca.certPem], sleep: rec.sleep }));
      assert.match(err.message, /was not trusted \(.*127\.0\.0\.1.*\); set the `caCertificate` input/);
      assert.deepEqual(rec.sleeps, []);
    });

    it('goes through a CONNECT proxy with the CA applied to the target', async () => {
      let proxyAuthAtTarget: string | undefined = 'unset';
      const s = await serve((req, res) => {
        proxyAuthAtTarget = req.headers['proxy-authorization'];
        payloadHandler(req, res);
      }, cert);
      const p = await proxy();
      const r = await download(`${s.url}/f?sig=S`, path.join(dir, 'f'), {
        proxyFor: proxyAt(p),
        ca: [ca.certPem],
        headers: { 'Proxy-Authorization': 'Basic c3RyYXk6aGVhZGVy' }, // a stray header never goes through the tunnel
      });
      assert.equal(r.sha256, PAYLOAD_SHA);
      assert.deepEqual(p.connects, [`127.0.0.1:${s.port}`]);
      assert.deepEqual(p.proxyAuthorizations, [undefined]);
      assert.equal(proxyAuthAtTarget, undefined);
    });

    it('through a CONNECT proxy without the CA: not trusted', async () => {
      const s = await serve(payloadHandler, cert);
      const p = await proxy();
      const err = await rejects(download(`${s.url}/f`, path.join(dir, 'f'), { proxyFor: proxyAt(p), sleep: recorder().sleep }));
      assert.match(err.message, /was not trusted/);
      assert.deepEqual(p.connects, [`127.0.0.1:${s.port}`]);
    });

    it('proxy with auth: 407 without credentials (not retried), OK with them', async () => {
      const creds = { user: 'px', pass: 'p@ss w0rd' };
      let proxyAuthAtTarget: string | undefined = 'unset';
      const s = await serve((req, res) => {
        proxyAuthAtTarget = req.headers['proxy-authorization'];
        payloadHandler(req, res);
      }, cert);
      const p = await proxy(creds);
      const rec = recorder();
      const err = await rejects(
        download(`${s.url}/f`, path.join(dir, 'f'), { proxyFor: proxyAt(p), ca: [ca.certPem], sleep: rec.sleep }),
      );
      assert.ok(err instanceof StackHubError);
      assert.match(
        err.message,
        new RegExp(`proxy 127\\.0\\.0\\.1:${p.port} refused CONNECT to 127\\.0\\.0\\.1:${s.port}: 407 Proxy Authentication Required$`),
      );
      assert.deepEqual(rec.sleeps, []);
      assert.deepEqual(fs.readdirSync(dir), []);

      const wrong = await rejects(
        download(`${s.url}/f`, path.join(dir, 'f'), {
          proxyFor: proxyAt(p, { user: 'px', pass: 'nope' }),
          ca: [ca.certPem],
          sleep: rec.sleep,
        }),
      );
      assert.match(wrong.message, /407/);
      assert.doesNotMatch(wrong.message, /nope/);

      const r = await download(`${s.url}/f`, path.join(dir, 'f'), { proxyFor: proxyAt(p, creds), ca: [ca.certPem] });
      assert.equal(r.sha256, PAYLOAD_SHA);
      assert.equal(p.proxyAuthorizations[2], `Basic ${Buffer.from('px:p@ss w0rd').toString('base64')}`);
      assert.equal(proxyAuthAtTarget, undefined, 'proxy credentials never reach the target');
    });
  });

  describe('plain HTTP proxy', () => {
    it('sends absolute-URI requests with Proxy-Authorization to the proxy only', async () => {
      let seen: http.IncomingHttpHeaders = {};
      const s = await serve((req, res) => {
        seen = req.headers;
        payloadHandler(req, res);
      });
      const p = await proxy({ user: 'u', pass: 'p' });
      const r = await download(`${s.url}/f?x=1`, path.join(dir, 'f'), { proxyFor: proxyAt(p, { user: 'u', pass: 'p' }) });
      assert.equal(r.sha256, PAYLOAD_SHA);
      assert.deepEqual(p.connects, [`${s.url}/f?x=1`]);
      assert.equal(p.proxyAuthorizations[0], `Basic ${Buffer.from('u:p').toString('base64')}`);
      assert.equal(seen['proxy-authorization'], undefined);
      assert.equal(seen.host, `127.0.0.1:${s.port}`);
    });

    it('a 407 from a plain proxy names the proxy and is not retried', async () => {
      let hits = 0;
      const s = await serve((req, res) => void (hits++, payloadHandler(req, res)));
      const p = await proxy({ user: 'u', pass: 'p' });
      const rec = recorder();
      const err = await rejects(download(`${s.url}/f?sig=S`, path.join(dir, 'f'), { proxyFor: proxyAt(p), sleep: rec.sleep }));
      assert.ok(err instanceof StackHubError && !(err instanceof HttpStatusError));
      assert.equal(
        err.message,
        `GET ${s.url}/f failed: proxy 127.0.0.1:${p.port} answered 407 Proxy Authentication Required`,
      );
      assert.deepEqual(rec.sleeps, []);
      assert.equal(hits, 0);
    });

    it('re-evaluates the proxy on every redirect hop', async () => {
      const target = await serve(payloadHandler);
      const first = await serve((_req, res) => void res.writeHead(302, { location: `${target.url}/f` }).end());
      const p = await proxy();
      const asked: string[] = [];
      const r = await download(`${first.url}/start`, path.join(dir, 'f'), {
        proxyFor: (u) => {
          asked.push(u.href);
          return u.port === String(first.port) ? { url: p.url } : undefined;
        },
      });
      assert.equal(r.sha256, PAYLOAD_SHA);
      assert.deepEqual(asked, [`${first.url}/start`, `${target.url}/f`]);
      assert.deepEqual(p.connects, [`${first.url}/start`]);
    });
  });

  describe('request', () => {
    it('round-trips JSON', async () => {
      const s = await serve((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const got = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          res.writeHead(201, { 'content-type': 'application/json', 'x-ms-request-id': 'r1' });
          res.end(JSON.stringify({ method: req.method, url: req.url, type: req.headers['content-type'], got }));
        });
      });
      const r = await request({
        ...direct,
        method: 'post',
        url: `${s.url}/subscriptions/1?api-version=2020-06-01`,
        body: JSON.stringify({ name: 'ü' }),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(r.status, 201);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['x-ms-request-id'], 'r1');
      assert.deepEqual(JSON.parse(r.body.toString('utf8')), {
        method: 'POST',
        url: '/subscriptions/1?api-version=2020-06-01',
        type: 'application/json',
        got: { name: 'ü' },
      });
    });

    it('does not throw on HTTP status', async () => {
      const s = await serve((_req, res) => void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing'));
      const r = await request({ ...direct, method: 'GET', url: `${s.url}/x` });
      assert.equal(r.status, 404);
      assert.equal(r.body.toString(), 'no such thing');
    });

    it('HEAD: a Content-Length without a body is fine', async () => {
      const s = await serve((_req, res) => void res.writeHead(200, { 'content-length': '1234' }).end());
      const r = await request({ ...direct, method: 'HEAD', url: `${s.url}/x` });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], '1234');
      assert.equal(r.body.length, 0);
    });

    it('retries GET on 503 and returns the last answer when retries are exhausted', async () => {
      let hits = 0;
      const s = await serve((_req, res) => void (hits++, res.writeHead(503).end('busy')));
      const rec = recorder();
      const r = await request({ ...direct, method: 'GET', url: `${s.url}/x`, retries: 2, sleep: rec.sleep });
      assert.equal(r.status, 503);
      assert.equal(r.body.toString(), 'busy');
      assert.equal(hits, 3);
      assert.deepEqual(rec.sleeps, [500, 1000]);
    });

    it('does not retry POST by default', async () => {
      let hits = 0;
      const s = await serve((req, res) => {
        hits++;
        req.resume();
        req.on('end', () => void res.writeHead(500).end());
      });
      const rec = recorder();
      const r = await request({ ...direct, method: 'POST', url: `${s.url}/x`, body: 'a', sleep: rec.sleep });
      assert.equal(r.status, 500);
      assert.equal(hits, 1);
      assert.deepEqual(rec.sleeps, []);
    });

    it('retries POST with retryNonIdempotent', async () => {
      let hits = 0;
      const bodies: string[] = [];
      const s = await serve((req, res) => {
        hits++;
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          bodies.push(Buffer.concat(chunks).toString());
          if (hits === 1) res.writeHead(502).end();
          else res.end('ok');
        });
      });
      const rec = recorder();
      const r = await request({ ...direct, method: 'POST', url: `${s.url}/x`, body: 'payload', sleep: rec.sleep, retryNonIdempotent: true });
      assert.equal(r.status, 200);
      assert.deepEqual(bodies, ['payload', 'payload']);
    });

    it('HTTPS through the CONNECT proxy with the CA', async () => {
      const s = await serve((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), cert);
      const p = await proxy();
      const r = await request({ method: 'GET', url: `${s.url}/health`, proxyFor: proxyAt(p), ca: [ca.certPem] });
      assert.deepEqual(JSON.parse(r.body.toString()), { ok: true });
      assert.deepEqual(p.connects, [`127.0.0.1:${s.port}`]);
    });

    it('a network error on POST names the method and redacted URL, not retried', async () => {
      const rec = recorder();
      const err = await rejects(request({ ...direct, method: 'POST', url: 'http://127.0.0.1:1/x?sig=S', body: '{}', sleep: rec.sleep }));
      assert.ok(err instanceof StackHubError);
      assert.match(err.message, /^POST http:\/\/127\.0\.0\.1:1\/x failed: cannot connect/);
      assert.deepEqual(rec.sleeps, []);
    });
  });

  describe('proxyFromEnv', () => {
    const P = 'http://proxy.corp:3128';
    const https = (host: string): URL => new URL(`https://${host}/path`);
    type Row = [description: string, url: string, env: NodeJS.ProcessEnv, expected: ProxySettings | undefined];
    const rows: Row[] = [
      ['no proxy variables', 'https://a.example.com/', {}, undefined],
      ['HTTPS_PROXY for https', 'https://a.example.com/', { HTTPS_PROXY: P }, { url: P }],
      ['https_proxy for https', 'https://a.example.com/', { https_proxy: P }, { url: P }],
      ['lower case wins', 'https://a.example.com/', { https_proxy: P, HTTPS_PROXY: 'http://other:1' }, { url: P }],
      ['empty lower case falls back to upper', 'https://a.example.com/', { https_proxy: '', HTTPS_PROXY: P }, { url: P }],
      ['HTTPS_PROXY not used for http', 'http://a.example.com/', { HTTPS_PROXY: P }, undefined],
      ['HTTP_PROXY for http', 'http://a.example.com/', { HTTP_PROXY: P }, { url: P }],
      ['http_proxy for http', 'http://a.example.com/', { http_proxy: P }, { url: P }],
      ['HTTP_PROXY not used for https', 'https://a.example.com/', { HTTP_PROXY: P }, undefined],
      ['empty value = no proxy', 'https://a.example.com/', { HTTPS_PROXY: '  ' }, undefined],
      ['no scheme in proxy', 'https://a.example.com/', { HTTPS_PROXY: 'proxy.corp:3128' }, { url: P }],
      ['no port in proxy', 'https://a.example.com/', { HTTPS_PROXY: 'http://proxy.corp' }, { url: 'http://proxy.corp:80' }],
      ['trailing slash in proxy', 'https://a.example.com/', { HTTPS_PROXY: 'http://proxy.corp:3128/' }, { url: P }],
      ['IPv4 proxy', 'https://a.example.com/', { HTTPS_PROXY: 'http://10.1.2.3:8080' }, { url: 'http://10.1.2.3:8080' }],
      [
        'credentials become username/password (decoded)',
        'https://a.example.com/',
        { HTTPS_PROXY: 'http://svc%5Cuser:p%40ss%3Aword@proxy.corp:3128' },
        { url: P, username: 'svc\\user', password: 'p@ss:word' },
      ],
      ['user without password', 'https://a.example.com/', { HTTPS_PROXY: 'http://svc@proxy.corp:3128' }, { url: P, username: 'svc' }],
      ['ftp URLs never use a proxy', 'ftp://a.example.com/', { HTTPS_PROXY: P, HTTP_PROXY: P }, undefined],
      ['NO_PROXY *', 'https://a.example.com/', { HTTPS_PROXY: P, NO_PROXY: '*' }, undefined],
      ['no_proxy lower case', 'https://a.example.com/', { HTTPS_PROXY: P, no_proxy: 'example.com' }, undefined],
      ['domain matches itself', 'https://example.com/', { HTTPS_PROXY: P, NO_PROXY: 'example.com' }, undefined],
      ['domain matches subdomain', 'https://a.b.example.com/', { HTTPS_PROXY: P, NO_PROXY: 'example.com' }, undefined],
      ['.domain matches itself', 'https://example.com/', { HTTPS_PROXY: P, NO_PROXY: '.example.com' }, undefined],
      ['.domain matches subdomain', 'https://a.example.com/', { HTTPS_PROXY: P, NO_PROXY: '.example.com' }, undefined],
      ['*.domain matches subdomain', 'https://a.example.com/', { HTTPS_PROXY: P, NO_PROXY: '*.example.com' }, undefined],
      ['domain is not a suffix match', 'https://notexample.com/', { HTTPS_PROXY: P, NO_PROXY: 'example.com' }, { url: P }],
      ['.domain is not a suffix match', 'https://notexample.com/', { HTTPS_PROXY: P, NO_PROXY: '.example.com' }, { url: P }],
      ['domain is not a prefix match', 'https://example.com.evil.org/', { HTTPS_PROXY: P, NO_PROXY: 'example.com' }, { url: P }],
      ['case-insensitive', 'https://A.Example.COM/', { HTTPS_PROXY: P, NO_PROXY: 'EXAMPLE.com' }, undefined],
      ['trailing dot of the host', 'https://a.example.com./', { HTTPS_PROXY: P, NO_PROXY: 'example.com' }, undefined],
      ['exact host', 'https://mirror.local/', { HTTPS_PROXY: P, NO_PROXY: 'mirror.local' }, undefined],
      ['other host', 'https://mirror2.local/', { HTTPS_PROXY: P, NO_PROXY: 'mirror.local' }, { url: P }],
      ['comma separated', 'https://b.com/', { HTTPS_PROXY: P, NO_PROXY: 'a.com,b.com' }, undefined],
      ['space separated', 'https://b.com/', { HTTPS_PROXY: P, NO_PROXY: 'a.com b.com' }, undefined],
      ['commas, spaces, empty entries', 'https://c.com/', { HTTPS_PROXY: P, NO_PROXY: ' a.com, ,b.com ,, c.com ' }, undefined],
      ['none of the list', 'https://d.com/', { HTTPS_PROXY: P, NO_PROXY: 'a.com,b.com' }, { url: P }],
      ['host:port matches that port', 'https://mirror.local:8443/', { HTTPS_PROXY: P, NO_PROXY: 'mirror.local:8443' }, undefined],
      ['host:port not another port', 'https://mirror.local/', { HTTPS_PROXY: P, NO_PROXY: 'mirror.local:8443' }, { url: P }],
      ['host:443 matches the default https port', 'https://mirror.local/', { HTTPS_PROXY: P, NO_PROXY: 'mirror.local:443' }, undefined],
      ['host:80 matches the default http port', 'http://mirror.local/', { HTTP_PROXY: P, NO_PROXY: 'mirror.local:80' }, undefined],
      ['.domain:port', 'https://a.example.com:8443/', { HTTPS_PROXY: P, NO_PROXY: '.example.com:8443' }, undefined],
      ['IPv4 literal', 'https://192.168.1.10/', { HTTPS_PROXY: P, NO_PROXY: '192.168.1.10' }, undefined],
      ['IPv4 literal is exact', 'https://192.168.1.100/', { HTTPS_PROXY: P, NO_PROXY: '192.168.1.10' }, { url: P }],
      ['IPv4 literal with port', 'https://192.168.1.10:8443/', { HTTPS_PROXY: P, NO_PROXY: '192.168.1.10:8443' }, undefined],
      ['CIDR /8 inside', 'https://10.200.3.4/', { HTTPS_PROXY: P, NO_PROXY: '10.0.0.0/8' }, undefined],
      ['CIDR /8 outside', 'https://11.0.0.1/', { HTTPS_PROXY: P, NO_PROXY: '10.0.0.0/8' }, { url: P }],
      ['CIDR /24 edge inside', 'https://192.168.5.255/', { HTTPS_PROXY: P, NO_PROXY: '192.168.5.0/24' }, undefined],
      ['CIDR /24 edge outside', 'https://192.168.6.0/', { HTTPS_PROXY: P, NO_PROXY: '192.168.5.0/24' }, { url: P }],
      ['CIDR /32', 'https://172.16.0.1/', { HTTPS_PROXY: P, NO_PROXY: '172.16.0.1/32' }, undefined],
      ['CIDR /0', 'https://8.8.8.8/', { HTTPS_PROXY: P, NO_PROXY: '0.0.0.0/0' }, undefined],
      ['CIDR does not match names', 'https://10.example.com/', { HTTPS_PROXY: P, NO_PROXY: '10.0.0.0/8' }, { url: P }],
      ['invalid CIDR ignored', 'https://10.0.0.1/', { HTTPS_PROXY: P, NO_PROXY: '10.0.0.0/33' }, { url: P }],
      ['domain entry never matches an IP', 'https://10.0.0.1/', { HTTPS_PROXY: P, NO_PROXY: '0.0.1' }, { url: P }],
      ['loopback is not bypassed implicitly (localhost)', 'https://localhost/', { HTTPS_PROXY: P }, { url: P }],
      ['loopback is not bypassed implicitly (127.0.0.1)', 'https://127.0.0.1:8443/', { HTTPS_PROXY: P }, { url: P }],
      ['loopback bypassed when listed', 'https://127.0.0.1:8443/', { HTTPS_PROXY: P, NO_PROXY: '127.0.0.1,localhost' }, undefined],
      ['IPv6 literal', 'https://[::1]/', { HTTPS_PROXY: P, NO_PROXY: '::1' }, undefined],
      ['bracketed IPv6 with port', 'https://[::1]:8443/', { HTTPS_PROXY: P, NO_PROXY: '[::1]:8443' }, undefined],
      ['IPv6 CIDR', 'https://[fd00::5]/', { HTTPS_PROXY: P, NO_PROXY: 'fd00::/8' }, undefined],
      ['IPv6 not listed', 'https://[fd00::5]/', { HTTPS_PROXY: P, NO_PROXY: '::1' }, { url: P }],
      ['NO_PROXY without a proxy', 'https://a.example.com/', { NO_PROXY: 'other.com' }, undefined],
    ];
    for (const [description, url, env, expected] of rows) {
      it(`${description}: ${url} ${JSON.stringify(env)}`, () => {
        assert.deepEqual(proxyFromEnv(new URL(url), env), expected);
      });
    }

    it('defaults to process.env', () => {
      const saved = { ...process.env };
      try {
        for (const k of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) delete process.env[k];
        process.env.https_proxy = P;
        assert.deepEqual(proxyFromEnv(https('x.test')), { url: P });
      } finally {
        for (const k of ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
          if (saved[k] === undefined) delete process.env[k];
          else process.env[k] = saved[k];
        }
      }
    });

    it('rejects unusable proxy values without printing credentials', () => {
      assert.throws(
        () => proxyFromEnv(https('x.test'), { HTTPS_PROXY: 'socks5://u:secret@proxy:1080' }),
        (err: Error) => err instanceof StackHubError && /HTTPS_PROXY: unsupported proxy scheme 'socks5:'/.test(err.message),
      );
      assert.throws(
        () => proxyFromEnv(https('x.test'), { HTTPS_PROXY: 'http://u:secret@[bad' }),
        (err: Error) => err instanceof StackHubError && !/secret/.test(err.message) && /not a valid proxy URL/.test(err.message),
      );
    });
  });

  describe('redactUrl', () => {
    const rows: Array<[string, string]> = [
      [
        'https://acct.blob.local.azurestack.external/tools/helm.tgz?sv=2022-11-02&sig=abc%2Bdef%3D&se=2030-01-01',
        'https://acct.blob.local.azurestack.external/tools/helm.tgz',
      ],
      ['https://user:pass@mirror.local/x/y.zip', 'https://mirror.local/x/y.zip'],
      ['https://user:pass@mirror.local:8443/x?sig=1#frag', 'https://mirror.local:8443/x'],
      ['http://token@mirror.local/', 'http://mirror.local/'],
      ['https://mirror.local/plain', 'https://mirror.local/plain'],
      ['not a url?sig=secret', 'not a url'],
      ['//user:p/ss@host/x?sig=1', '//host/x'],
      ['user:secret@proxy:3128', 'proxy:3128'],
    ];
    for (const [input, expected] of rows) {
      it(`${input} → ${expected}`, () => {
        assert.equal(redactUrl(input), expected);
      });
    }
  });
});
