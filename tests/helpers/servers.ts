/**
 * Local servers for tests: an HTTP(S) server and a real forwarding proxy (CONNECT tunnels and absolute-URI HTTP
 * forwarding). Both bind to 127.0.0.1 on an ephemeral port; `close()` destroys every open connection, so call it in
 * `after()`/`finally`. The proxy forwards only to loopback addresses, so a test can never reach the internet through it.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';

/** A running test server. */
export interface TestServer {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  server: http.Server;
  /** Stops listening and destroys all open connections. Safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** Serve HTTPS with this key/certificate (PEM), e.g. from makeServerCert() in tests/helpers/tls.ts. */
  tls?: { key: string; cert: string };
}

/** A running forwarding proxy. */
export interface TestProxy {
  /** e.g. http://127.0.0.1:40124 (no credentials) */
  url: string;
  port: number;
  /**
   * Everything the proxy was asked for, in order, including requests it answered 407: the target `host:port` of each
   * CONNECT and the full URL of each absolute-URI request.
   */
  connects: string[];
  /** The Proxy-Authorization header of each entry in `connects` (undefined when absent). */
  proxyAuthorizations: (string | undefined)[];
  /** Stops listening and destroys all open connections and tunnels. Safe to call twice. */
  close(): Promise<void>;
}

/** Options of {@link startConnectProxy}. */
export interface ProxyOptions {
  /** Require `Proxy-Authorization: Basic` with these credentials; otherwise answer 407. */
  auth?: { user: string; pass: string };
  /** Hosts the proxy may forward to (default loopback only: 127.0.0.1, localhost, ::1). Others get 403. */
  allowHosts?: string[];
  /**
   * Names the proxy resolves itself (as a site's proxy resolves the Hub's internal names): `host:port` → the
   * `127.0.0.1:port` it tunnels to. Mapped hosts are allowed; CONNECT to an unknown name answers 502 (as for a DNS
   * failure).
   */
  map?: Record<string, string>;
}

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    return closing;
  };
}

/** Starts an HTTP (or, with `tls`, HTTPS) server on 127.0.0.1, port 0. */
export async function startHttpServer(
  handler: http.RequestListener,
  opts: HttpServerOptions = {},
): Promise<TestServer> {
  const server: http.Server = opts.tls
    ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
    : http.createServer(handler);
  const sockets = trackSockets(server);
  // Failed TLS handshakes (the client refused our certificate) are expected in tests.
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_err, socket: net.Socket) => socket.destroy());
  const port = await listen(server);
  return { url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, server, close: closer(server, sockets) };
}

function splitHostPort(authority: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(authority);
  return m ? { host: (m[1] ?? m[2]).toLowerCase(), port: Number(m[3]) } : undefined;
}

/** Starts a forwarding proxy on 127.0.0.1, port 0: CONNECT tunnels and absolute-URI HTTP requests. */
export async function startConnectProxy(opts: ProxyOptions = {}): Promise<TestProxy> {
  const allow = new Set((opts.allowHosts ?? LOOPBACK).map((h) => h.toLowerCase()));
  const expected = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.pass}`).toString('base64')}`
    : undefined;
  const connects: string[] = [];
  const proxyAuthorizations: (string | undefined)[] = [];
  const server = http.createServer();
  const sockets = trackSockets(server);

  const record = (target: string, req: http.IncomingMessage): boolean => {
    connects.push(target);
    const auth = req.headers['proxy-authorization'];
    proxyAuthorizations.push(auth);
    return expected === undefined || auth === expected;
  };

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on('error', () => client.destroy());
    const target = req.url ?? '';
    const ok = record(target, req);
    const reply = (status: string, extra = ''): void => {
      client.end(`HTTP/1.1 ${status}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (!ok) return reply('407 Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="test"\r\n');
    const mapped = opts.map?.[target.toLowerCase()];
    const hp = splitHostPort(mapped ?? target);
    if (!hp) return reply('400 Bad Request');
    if (!mapped && opts.map && !LOOPBACK.includes(hp.host) && /[a-z]/i.test(hp.host)) return reply('502 Bad Gateway');
    if (!mapped && !allow.has(hp.host)) return reply('403 Forbidden');
    const upstream = net.connect({ host: hp.host, port: hp.port });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (client.writable && upstream.connecting) reply('502 Bad Gateway');
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = req.url ?? '';
    const ok = record(target, req);
    if (!ok) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': '0' });
      res.end();
      return;
    }
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (url.protocol !== 'http:' || !allow.has(host)) {
      res.writeHead(403, { 'content-length': '0' }).end();
      return;
    }
    const headers = { ...req.headers };
    for (const h of ['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive']) delete headers[h];
    const upstream = http.request(
      { host, port: url.port ? Number(url.port) : 80, method: req.method, path: `${url.pathname}${url.search}`, headers, agent: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
        up.on('aborted', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-length': '0' }).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });

  server.on('clientError', (_err, socket: net.Socket) => socket.destroy());
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, connects, proxyAuthorizations, close: closer(server, sockets) };
}

/**
 * An HTTPS front for a local plain-HTTP server (Azurite, s3rver): terminates TLS with `tls` (a certificate of a
 * throwaway CA, tests/helpers/tls.ts) and forwards each request unchanged (Host header included, so signatures
 * stay valid) to 127.0.0.1:`backendPort`.
 */
export async function startTlsTerminator(backendPort: number, tls: { key: string; cert: string }): Promise<TestServer> {
  return startHttpServer(
    (req, res) => {
      const up = http.request(
        { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers: req.headers, agent: false },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.statusMessage, r.headers);
          r.pipe(res);
          r.on('error', () => res.destroy());
        },
      );
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-length': '0' }).end();
        else res.destroy();
      });
      req.pipe(up);
    },
    { tls },
  );
}
