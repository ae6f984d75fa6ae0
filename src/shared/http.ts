/**
 * A small, dependency-free HTTP(S) client for internal mirrors and REST endpoints in disconnected networks.
 *
 * - Talks only to the URL it is given (and the redirects it answers with) or to the proxy that `proxyFor` names.
 * - Owns every socket: no global agent, no global TLS state, never touches `NODE_TLS_REJECT_UNAUTHORIZED`.
 * - Extra CA certificates apply to the target's TLS, also through a CONNECT tunnel.
 * - URLs in messages are redacted with {@link redactUrl}: SAS tokens live in query strings.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as tls from 'node:tls';

import type { ProxySettings } from '../platform/types';
import { StackHubError, TimeoutError, oneLine } from './errors';
import { defaultRoots, hostOf, portOf, proxyFromEnv, safeDecode } from './proxy-env';
import { redactUrl } from './redact';

export { proxyFromEnv } from './proxy-env';
export { redactUrl } from './redact';

/** Options shared by {@link download} and {@link request}. */
export interface HttpOptions {
  /** Extra trusted CA certificates (PEM strings). They are ADDED to Node's default roots (tls.rootCertificates), never replace them. */
  ca?: string[];
  /** Resolves the proxy for a URL; undefined = direct. Use proxyFromEnv() as the default. */
  proxyFor?: (url: URL) => ProxySettings | undefined;
  /** Per-attempt timeout in ms for connect+response headers and for idle socket during body (default 30000). */
  timeoutMs?: number;
  /** Retries for network errors, 408, 429, 5xx (default 3) with exponential backoff (base 500ms, injectable `sleep` for tests). */
  retries?: number;
  /** Waits between retries (default: a real timer). Tests inject a recorder that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Called with (receivedBytes, totalBytes|undefined) at most every ~1s or every 10%. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Extra request headers (names are case-insensitive). */
  headers?: Record<string, string>;
}

/** What {@link download} produced. */
export interface DownloadResult {
  /** Bytes written to the destination file. */
  bytes: number;
  /** SHA-256 of the content, lower-case hex. */
  sha256: string;
  /** Final URL after redirects. It may carry a query string (SAS token): pass it through {@link redactUrl} before logging. */
  url: string;
}

/** The server answered with an HTTP status that is an error for the operation (4xx, or 5xx after the retries). */
export class HttpStatusError extends StackHubError {
  /** The URL that answered, already redacted (no userinfo, no query string). */
  readonly url: string;

  constructor(
    /** HTTP status code, e.g. 404. */
    readonly status: number,
    /** Reason phrase, e.g. "Not Found" (the standard one when the server sent none). */
    readonly statusText: string,
    url: string,
    /** Request method, e.g. GET. */
    readonly method = 'GET',
    /** Appended to the message, e.g. "after 4 attempts". */
    detail?: string,
  ) {
    const redacted = redactUrl(url);
    super(`${method} ${redacted} answered ${status} ${statusText}`.trimEnd() + (detail ? ` ${detail}` : ''));
    this.url = redacted;
  }
}

/**
 * Streams url to destFile (created with mode 0600, via a temp name + rename so a failed download leaves nothing),
 * computing SHA-256 on the way. Follows up to 5 redirects (re-evaluating the proxy per hop; never sends
 * Authorization/Proxy-Authorization to a different host). Throws HttpStatusError for 4xx (not retried except
 * 408/429) and a StackHubError for exhausted retries naming the URL (never print credentials or query strings of
 * URLs: SAS tokens live there).
 */
export async function download(url: string, destFile: string, opts: HttpOptions = {}): Promise<DownloadResult> {
  const o = resolveOptions(opts);
  const start = parseTargetUrl(url);
  const headers = { 'accept-encoding': 'identity', ...o.headers };
  return withRetries('GET', start, o.retries, o.sleep, async () => {
    const { ex, url: finalUrl } = await followRedirects('GET', start, headers, undefined, o);
    try {
      const res = ex.res;
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) throw statusError(res, finalUrl, 'GET');
      const written = await streamToFile(res, destFile, status === 204 ? undefined : contentLength(res), o.onProgress);
      return { ...written, url: finalUrl.href };
    } finally {
      ex.close();
    }
  });
}

/**
 * Small JSON/text request helper for later REST clients: method, url, body (string|Buffer), headers →
 * {status, headers, body: Buffer}. Same proxy/CA/timeout/retry behaviour (retries only for idempotent methods or when
 * `retryNonIdempotent`). Does not throw on HTTP status.
 *
 * Redirects are followed like {@link download} does (303, and 301/302 after POST, continue as GET without body).
 * When the retries for 408/429/5xx are exhausted, the last response is returned.
 */
export async function request(
  opts: {
    method: string;
    url: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    retryNonIdempotent?: boolean;
  } & HttpOptions,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const method = opts.method.toUpperCase();
  if (!/^[A-Z][A-Z0-9_-]*$/.test(method) || method === 'CONNECT') {
    throw new StackHubError(`unsupported HTTP method '${opts.method}'`);
  }
  const o = resolveOptions(opts);
  const start = parseTargetUrl(opts.url);
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
  const headers = { 'accept-encoding': 'identity', ...o.headers };
  const retries = IDEMPOTENT.has(method) || opts.retryNonIdempotent ? o.retries : 0;
  return withRetries(
    method,
    start,
    retries,
    o.sleep,
    async () => {
      const { ex } = await followRedirects(method, start, headers, body, o);
      try {
        const buf = await readBody(ex.res, method);
        return { status: ex.res.statusCode ?? 0, headers: { ...ex.res.headers }, body: buf };
      } finally {
        ex.close();
      }
    },
    (r) => (RETRY_STATUS(r.status) ? retryAfterMs(r.headers['retry-after']) : undefined),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Internals

const MAX_REDIRECTS = 5;
const BACKOFF_BASE_MS = 500;
const MAX_RETRY_AFTER_MS = 60_000;
const USER_AGENT = 'stackhub-ha';
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
const REDIRECT = new Set([301, 302, 303, 307, 308]);
const RETRY_STATUS = (s: number): boolean => s === 408 || s === 429 || (s >= 500 && s <= 599);
/** Headers that must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];
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

interface Resolved {
  ca: string[] | undefined;
  proxyFor: (url: URL) => ProxySettings | undefined;
  timeoutMs: number;
  retries: number;
  sleep: (ms: number) => Promise<void>;
  onProgress: ((received: number, total: number | undefined) => void) | undefined;
  headers: Record<string, string>;
}

/** A failure below HTTP (connect, proxy, TLS, socket, timeout). Always wrapped before it reaches a caller. */
class TransportError extends StackHubError {
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

function resolveOptions(opts: HttpOptions): Resolved {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const retries = opts.retries ?? 3;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new StackHubError(`timeoutMs must be > 0, not ${timeoutMs}`);
  if (!Number.isInteger(retries) || retries < 0) throw new StackHubError(`retries must be an integer >= 0, not ${retries}`);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  const extra = (opts.ca ?? []).filter((pem) => pem.trim() !== '');
  return {
    // No extra CA: leave `ca` unset so Node's defaults (including NODE_EXTRA_CA_CERTS) apply unchanged.
    ca: extra.length > 0 ? [...defaultRoots(), ...extra] : undefined,
    proxyFor: opts.proxyFor ?? ((u: URL) => proxyFromEnv(u)),
    timeoutMs,
    retries,
    sleep: opts.sleep ?? ((ms: number) => delay(ms)),
    onProgress: opts.onProgress,
    headers,
  };
}

function parseTargetUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new StackHubError(`invalid URL '${redactUrl(raw)}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new StackHubError(`unsupported URL scheme '${u.protocol}' in ${redactUrl(raw)} (expected http or https)`);
  }
  return u;
}

// --- retries -----------------------------------------------------------------------------------------------------

/** Delay requested by a retryable failure (0 = plain backoff), or undefined when it must not be retried. */
function retryDelayFor(err: unknown): number | undefined {
  if (err instanceof TransportError) return err.retryable ? 0 : undefined;
  if (err instanceof RetryableStatusError) return err.retryAfter;
  return undefined;
}

/** An HttpStatusError that may be retried (408/429/5xx), remembering Retry-After. */
class RetryableStatusError extends HttpStatusError {
  retryAfter = 0;
}

async function withRetries<T>(
  method: string,
  url: URL,
  retries: number,
  sleep: (ms: number) => Promise<void>,
  fn: () => Promise<T>,
  retryResult?: (value: T) => number | undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let wait: number;
    try {
      const value = await fn();
      const again = retryResult?.(value);
      if (again === undefined || attempt > retries) return value;
      wait = again;
    } catch (err) {
      const again = retryDelayFor(err);
      if (again === undefined || attempt > retries) throw finalError(err, method, url, attempt);
      wait = again;
    }
    await sleep(Math.max(BACKOFF_BASE_MS * 2 ** (attempt - 1), wait));
  }
}

function finalError(err: unknown, method: string, url: URL, attempts: number): unknown {
  const after = attempts > 1 ? `after ${attempts} attempts` : '';
  if (err instanceof HttpStatusError) {
    if (!(err instanceof RetryableStatusError) && !after) return err;
    const e = new HttpStatusError(err.status, err.statusText, err.url, err.method, after || undefined);
    return withCause(e, err);
  }
  if (err instanceof TransportError) {
    const hop = err.at && err.at.href !== url.href ? ` (redirected to ${redactUrl(err.at.href)})` : '';
    const msg = `${method} ${redactUrl(url.href)}${hop} failed${after ? ` ${after}` : ''}: ${err.message}`;
    return withCause(err.timeout ? new TimeoutError(msg) : new StackHubError(msg), err);
  }
  return err;
}

function withCause<E extends Error>(e: E, cause: unknown): E {
  Object.defineProperty(e, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return e;
}

function statusError(res: http.IncomingMessage, url: URL, method: string): HttpStatusError {
  const status = res.statusCode ?? 0;
  const text = res.statusMessage || http.STATUS_CODES[status] || '';
  if (!RETRY_STATUS(status)) return new HttpStatusError(status, text, url.href, method);
  const e = new RetryableStatusError(status, text, url.href, method);
  e.retryAfter = retryAfterMs(res.headers['retry-after']);
  return e;
}

/** Retry-After as ms (delta-seconds or HTTP date), capped; 0 when absent or unreadable. */
function retryAfterMs(value: string | string[] | undefined): number {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return 0;
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : 0;
}

// --- redirects ---------------------------------------------------------------------------------------------------

async function followRedirects(
  method: string,
  start: URL,
  initialHeaders: Record<string, string>,
  initialBody: Buffer | undefined,
  o: Resolved,
): Promise<{ ex: Exchange; url: URL }> {
  let url = start;
  let m = method;
  let body = initialBody;
  const headers = { ...initialHeaders };
  for (let hop = 0; ; hop++) {
    if (url.username && headers.authorization === undefined) {
      const user = safeDecode(url.username);
      const pass = safeDecode(url.password);
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    let proxy: ProxySettings | undefined;
    try {
      proxy = o.proxyFor(url);
    } catch (err) {
      throw err instanceof StackHubError ? err : new StackHubError(`cannot resolve the proxy: ${oneLine(err)}`);
    }
    const ex = await exchange(m, url, headers, body, proxy, o);
    const status = ex.res.statusCode ?? 0;
    const location = ex.res.headers.location;
    if (!REDIRECT.has(status) || !location) return { ex, url };
    ex.close();
    if (hop >= MAX_REDIRECTS) throw new TransportError(`more than ${MAX_REDIRECTS} redirects`, false, false, url);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new TransportError(`answered ${status} with an invalid Location header`, false, false, url);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new TransportError(`redirect to unsupported scheme '${next.protocol}'`, false, false, url);
    }
    next.hash = '';
    if (next.origin !== url.origin) {
      for (const h of CREDENTIAL_HEADERS) delete headers[h];
    }
    if ((status === 303 && m !== 'HEAD') || ((status === 301 || status === 302) && m === 'POST')) {
      m = 'GET';
      body = undefined;
      for (const h of Object.keys(headers)) if (h.startsWith('content-')) delete headers[h];
    }
    url = next;
  }
}

// --- one request/response exchange ---------------------------------------------------------------------------------

interface Exchange {
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
function exchange(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | undefined,
  proxy: ProxySettings | undefined,
  o: Resolved,
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

// --- bodies --------------------------------------------------------------------------------------------------------

function contentLength(res: http.IncomingMessage): number | undefined {
  const v = res.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

function bodyError(err: unknown, received: number, total: number | undefined): TransportError {
  if (err instanceof TransportError) return err;
  const of = total === undefined ? '' : ` of ${total}`;
  return new TransportError(`connection lost after ${received}${of} bytes of the response: ${oneLine(err)}`, true);
}

function checkComplete(res: http.IncomingMessage, received: number, total: number | undefined): void {
  if (total !== undefined && received !== total) {
    throw new TransportError(`response body ended after ${received} of ${total} bytes`, true);
  }
  if (!res.complete) throw new TransportError(`response body ended prematurely after ${received} bytes`, true);
}

async function readBody(res: http.IncomingMessage, method: string): Promise<Buffer> {
  const status = res.statusCode ?? 0;
  // Content-Length of a HEAD, 204 or 304 answer describes a body that is never sent.
  const bodiless = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
  const total = bodiless ? undefined : contentLength(res);
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      received += chunk.length;
    }
  } catch (err) {
    throw bodyError(err, received, total);
  }
  checkComplete(res, received, total);
  return Buffer.concat(chunks, received);
}

/** Throttles onProgress to ~1 call per second or per 10 %, plus a final call. */
class Progress {
  private lastAt = Date.now();
  private lastDecile = -1;
  private lastReported = -1;

  constructor(
    private readonly cb: ((received: number, total: number | undefined) => void) | undefined,
    private readonly total: number | undefined,
  ) {}

  tick(received: number): void {
    if (!this.cb) return;
    const now = Date.now();
    const decile = this.total ? Math.floor((received * 10) / this.total) : -1;
    if (now - this.lastAt >= 1000 || decile > this.lastDecile) {
      this.lastAt = now;
      this.lastDecile = Math.max(decile, this.lastDecile);
      this.report(received);
    }
  }

  finish(received: number): void {
    if (this.cb && this.lastReported !== received) this.report(received);
  }

  private report(received: number): void {
    this.lastReported = received;
    try {
      this.cb?.(received, this.total);
    } catch {
      // a failing progress display must not fail the download
    }
  }
}

async function streamToFile(
  res: http.IncomingMessage,
  destFile: string,
  total: number | undefined,
  onProgress: Resolved['onProgress'],
): Promise<{ bytes: number; sha256: string }> {
  const dir = path.dirname(destFile);
  const tmp = path.join(dir, `.${path.basename(destFile)}.${randomBytes(6).toString('hex')}.part`);
  const fsError = (err: unknown): StackHubError => new StackHubError(`cannot write ${destFile}: ${oneLine(err)}`);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(tmp, 'wx', 0o600);
  } catch (err) {
    throw fsError(err);
  }
  let open = true;
  try {
    const hash = createHash('sha256');
    const progress = new Progress(onProgress, total);
    let received = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        hash.update(chunk);
        try {
          for (let off = 0; off < chunk.length; ) {
            off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          }
        } catch (err) {
          throw fsError(err);
        }
        received += chunk.length;
        progress.tick(received);
      }
    } catch (err) {
      if (err instanceof StackHubError && !(err instanceof TransportError)) throw err;
      throw bodyError(err, received, total);
    }
    checkComplete(res, received, total);
    progress.finish(received);
    open = false;
    try {
      await fh.close();
      await fsp.rename(tmp, destFile);
    } catch (err) {
      throw fsError(err);
    }
    return { bytes: received, sha256: hash.digest('hex') };
  } catch (err) {
    if (open) await fh.close().catch(noop);
    await fsp.rm(tmp, { force: true }).catch(noop);
    throw err;
  }
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

