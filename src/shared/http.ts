/**
 * A small, dependency-free HTTP(S) client for internal mirrors and REST endpoints in disconnected networks.
 *
 * - Talks only to the URL it is given (and the redirects it answers with) or to the proxy that `proxyFor` names.
 * - Owns every socket: no global agent, no global TLS state, never touches `NODE_TLS_REJECT_UNAUTHORIZED`.
 * - Extra CA certificates apply to the target's TLS, also through a CONNECT tunnel.
 * - URLs in messages are redacted with {@link redactUrl}: SAS tokens live in query strings.
 */
import * as http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

import type { ProxySettings } from '../types';
import { StackHubError, TimeoutError, oneLine } from './errors';
import { defaultRoots, proxyFromEnv, safeDecode } from './proxy-env';
import { contentLength, readBody, streamToFile } from './http-body';
import { RETRY_STATUS, TransportError, exchange, type Exchange } from './http-transport';
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
/** Headers that must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];


interface Resolved {
  ca: string[] | undefined;
  proxyFor: (url: URL) => ProxySettings | undefined;
  timeoutMs: number;
  retries: number;
  sleep: (ms: number) => Promise<void>;
  onProgress: ((received: number, total: number | undefined) => void) | undefined;
  headers: Record<string, string>;
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

