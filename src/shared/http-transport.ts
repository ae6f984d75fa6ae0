/**
 * One HTTP request/response exchange on sockets this module owns: direct, through a CONNECT tunnel (HTTPS) or a
 * plain proxy (HTTP), TLS with the extra CAs added to Node's roots. Used by src/shared/http.ts (retries, redirects).
 *
 * Kept instead of https-proxy-agent: the errors must tell the proxy's refusal (`proxy … refused CONNECT to …: 407`)
 * from the target's own answer, and proxy credentials must never reach the target; the agent replays a refused
 * CONNECT as if the target had answered.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';

import type { ProxySettings } from '../types';
import { StackHubError, oneLine } from './errors';
import { hostOf, portOf, safeDecode } from './proxy-env';
import { redactUrl } from './redact';

/** Statuses worth another attempt. */
export const RETRY_STATUS = (s: number): boolean => s === 408 || s === 429 || (s >= 500 && s <= 599);

/** A failure below HTTP (connect, proxy, TLS, socket, timeout). Always wrapped before it reaches a caller. */
export class TransportError extends StackHubError {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly timeout = false,
    /** The hop where it happened, when known. */
    readonly at?: URL,
  ) {
    super(message);
  }
}

/** OpenSSL / Node verification failures: the peer's certificate was not accepted. */
const CERT_ERROR_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

// --- one request/response exchange ---------------------------------------------------------------------------------

export interface Exchange {
  res: http.IncomingMessage;
  /** Destroys the response and every socket of the exchange. Idempotent. */
  close(): void;
}

interface Destroyable {
  destroy(err?: Error): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

const noop = (): void => undefined;

/**
 * Opens a connection (direct, CONNECT tunnel or plain proxy), sends one request and resolves when the response
 * headers arrived. The whole of it runs under `timeoutMs`; afterwards the socket's idle timeout guards the body.
 */
export function exchange(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | undefined,
  proxy: ProxySettings | undefined,
  o: { ca: string[] | undefined; timeoutMs: number },
): Promise<Exchange> {
  const owned: Destroyable[] = [];
  let closed = false;
  const closeAll = (): void => {
    closed = true;
    for (const r of owned.splice(0).reverse()) r.destroy();
  };
  /** Registers a resource of this exchange; it is destroyed with the exchange. */
  const own = <T extends Destroyable>(r: T): T => {
    r.on('error', noop); // errors are handled where they matter; never let a late one crash the process
    owned.push(r);
    if (closed) r.destroy();
    return r;
  };
  const target = hostOf(url);
  const port = portOf(url);
  const authority = `${target.includes(':') ? `[${target}]` : target}:${port}`;

  const run = async (): Promise<Exchange> => {
    const p = proxy ? parseProxySettings(proxy) : undefined;
    let socket: net.Socket = p
      ? await tcpConnect(own, p.host, p.port, `proxy ${p.display}`)
      : await tcpConnect(own, target, port, authority);
    if (url.protocol === 'https:') {
      if (p) await connectTunnel(own, socket, p, authority);
      socket = await tlsHandshake(own, socket, target, authority, o.ca);
    }
    const reqHeaders: Record<string, string> = { ...headers, host: url.host };
    // Proxy credentials come only from the proxy settings and go only to the proxy (never through a tunnel).
    delete reqHeaders['proxy-authorization'];
    let reqPath = `${url.pathname || '/'}${url.search}`;
    if (p && url.protocol === 'http:') {
      reqPath = `${url.protocol}//${url.host}${reqPath}`; // absolute-URI form for a plain proxy
      if (p.authorization) reqHeaders['proxy-authorization'] = p.authorization;
    }
    if (body !== undefined) reqHeaders['content-length'] = String(body.length);
    else if (method === 'POST' || method === 'PUT' || method === 'PATCH') reqHeaders['content-length'] = '0';
    if (closed) throw new TransportError('aborted', true);
    const conn = socket;
    const req = own(
      http.request({
        method,
        path: reqPath,
        headers: reqHeaders,
        setHost: false,
        createConnection: () => conn,
      }),
    );
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', (err) => reject(new TransportError(oneLine(err), true, false, url)));
      req.end(body);
    });
    own(res);
    if (p && url.protocol === 'http:' && res.statusCode === 407) {
      // The proxy's own refusal, not the target's answer: same wording as for CONNECT, never retried.
      throw new TransportError(`proxy ${p.display} answered 407 ${res.statusMessage || 'Proxy Authentication Required'}`, false);
    }
    return {
      res,
      close: closeAll,
    };
  };

  return new Promise<Exchange>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      closeAll();
      reject(new TransportError(`no response within ${o.timeoutMs} ms`, true, true, url));
    }, o.timeoutMs);
    run().then(
      (ex) => {
        clearTimeout(timer);
        if (settled) return ex.close();
        settled = true;
        // From here on the socket's idle timeout guards the body.
        const sock = ex.res.socket;
        if (sock) {
          sock.setTimeout(o.timeoutMs, () =>
            ex.res.destroy(new TransportError(`no data for ${o.timeoutMs} ms while reading the response`, true, true, url)),
          );
        }
        resolve(ex);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        closeAll();
        reject(err instanceof StackHubError ? err : new TransportError(oneLine(err), true, false, url));
      },
    );
  });
}

function tcpConnect(
  own: <T extends Destroyable>(r: T) => T,
  host: string,
  port: number,
  label: string,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = own(net.connect({ host, port }));
    s.once('connect', () => resolve(s));
    s.once('error', (err) => reject(new TransportError(`cannot connect to ${label}: ${oneLine(err)}`, true)));
    s.once('close', () => reject(new TransportError(`connection to ${label} closed`, true)));
  });
}

function connectTunnel(
  own: <T extends Destroyable>(r: T) => T,
  socket: net.Socket,
  p: ParsedProxy,
  authority: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: authority };
    if (p.authorization) headers['proxy-authorization'] = p.authorization;
    const req = own(
      http.request({ method: 'CONNECT', path: authority, headers, setHost: false, createConnection: () => socket }),
    );
    req.once('connect', (res: http.IncomingMessage, sock: net.Socket, head: Buffer) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        sock.destroy();
        const text = res.statusMessage || http.STATUS_CODES[status] || '';
        const retryable = RETRY_STATUS(status);
        reject(new TransportError(`proxy ${p.display} refused CONNECT to ${authority}: ${status} ${text}`.trim(), retryable));
        return;
      }
      if (head.length > 0) sock.unshift(head);
      resolve();
    });
    req.once('error', (err) =>
      reject(new TransportError(`CONNECT to ${authority} through proxy ${p.display} failed: ${oneLine(err)}`, true)),
    );
    req.end();
  });
}

function tlsHandshake(
  own: <T extends Destroyable>(r: T) => T,
  socket: net.Socket,
  host: string,
  authority: string,
  ca: string[] | undefined,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const options: tls.ConnectionOptions = {
      socket,
      host, // the name checkServerIdentity verifies
      rejectUnauthorized: true, // explicit, so no environment variable can turn verification off
      ALPNProtocols: ['http/1.1'],
    };
    if (net.isIP(host) === 0) options.servername = host; // SNI only for names (RFC 6066)
    if (ca) options.ca = ca;
    const s = own(tls.connect(options));
    s.once('secureConnect', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => reject(tlsError(err, authority)));
    s.once('close', () => reject(new TransportError(`connection to ${authority} closed during the TLS handshake`, true)));
  });
}

function tlsError(err: NodeJS.ErrnoException, authority: string): TransportError {
  const code = err.code ?? '';
  if (CERT_ERROR_CODES.has(code)) {
    // Node >= 23 appends advice of its own ("; if the root CA is installed locally, try ... --use-system-ca").
    const reason = oneLine(err).split('; ')[0];
    return new TransportError(
      `the TLS certificate of ${authority} was not trusted (${reason}); ` +
        'set the `caCertificate` input to the PEM of the CA that issued it',
      false,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new TransportError(`TLS handshake with ${authority} failed: ${oneLine(err)}`, false);
  }
  return new TransportError(`TLS handshake with ${authority} failed: ${oneLine(err)}`, true);
}

// --- proxies -------------------------------------------------------------------------------------------------------

interface ParsedProxy {
  host: string;
  port: number;
  /** host:port for messages (never credentials). */
  display: string;
  authorization?: string;
}

function parseProxySettings(p: ProxySettings): ParsedProxy {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(p.url) ? p.url : `http://${p.url}`);
  } catch {
    throw new TransportError(`invalid proxy URL '${redactUrl(p.url)}'`, false);
  }
  if (u.protocol !== 'http:') {
    throw new TransportError(`unsupported proxy scheme '${u.protocol}' (only http:// proxies are supported)`, false);
  }
  const host = hostOf(u);
  const port = u.port ? Number(u.port) : 80;
  const user = p.username ?? (u.username ? safeDecode(u.username) : undefined);
  const pass = p.password ?? (u.password ? safeDecode(u.password) : undefined);
  const out: ParsedProxy = { host, port, display: `${u.hostname}:${port}` };
  if (user !== undefined && user !== '') {
    out.authorization = `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}`;
  }
  return out;
}

