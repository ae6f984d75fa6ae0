/**
 * A thin Azure Resource Manager client for a Hub (or public/sovereign Azure): `request(method, path, options)` with
 * the api-version, a bearer token, custom headers (If-Match ...), JSON bodies, and retries on 429/5xx decided by a
 * predicate. Answers carry status, headers and the ETag. Errors name the method and endpoint, never a token.
 */
import type { TokenCredential } from '@azure/core-auth';
import { StackHubError, oneLine } from '../errors';
import { redactUrl } from '../http';
import { scopeFor } from './credential';
import { assertAllowed, originOf, send, withSlash, type HubHttpOptions } from './net';

/** An ARM answer. */
export interface ArmResponse<T = unknown> {
  status: number;
  /** Lower-case header names; multi-valued headers joined with `, `. */
  headers: Record<string, string>;
  /** The `ETag` header, when present (use it as `If-Match` for the next write). */
  etag?: string;
  /** Parsed JSON body (undefined when the body is empty; the raw text when it is not JSON). */
  body: T;
}

/** What the retry predicate is asked about. */
export interface RetryContext {
  method: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The answer, when there was one. */
  status?: number;
  /** A network error, when there was no answer. */
  error?: unknown;
}

/** Options of one request. */
export interface ArmRequestOptions {
  /** api-version (default: the client's). */
  apiVersion?: string;
  /** A JSON body (serialised) — or a string sent as it is. */
  body?: unknown;
  /** Extra headers, e.g. `{ 'if-match': etag }` or `{ 'if-none-match': '*' }`. */
  headers?: Record<string, string>;
  /** Extra query parameters. */
  query?: Record<string, string>;
  /** Non-2xx statuses returned instead of thrown (e.g. [404] to test for existence, [412] for ETag races). */
  acceptStatus?: readonly number[];
  /** Whether to retry (default {@link defaultRetry}). */
  retry?: (ctx: RetryContext) => boolean;
}

/** An ARM call answered with an error status. */
export class ArmError extends StackHubError {
  constructor(
    readonly status: number,
    /** ARM's `error.code`, e.g. `ResourceNotFound`, `PreconditionFailed` (or '' when absent). */
    readonly code: string,
    readonly method: string,
    /** The URL without query string. */
    readonly url: string,
    /** ARM's `error.message` (one line). */
    readonly detail: string,
    readonly etag?: string,
  ) {
    super(`${method} ${url} answered ${status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`);
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * Default retry rule: 429 always (the request was not processed); 408, 5xx and network errors only for idempotent
 * methods (GET, HEAD, PUT, DELETE).
 */
export function defaultRetry(ctx: RetryContext): boolean {
  if (ctx.status === 429) return true;
  if (!IDEMPOTENT.has(ctx.method)) return false;
  if (ctx.status === undefined) return ctx.error !== undefined;
  return ctx.status === 408 || (ctx.status >= 500 && ctx.status <= 599);
}

/** Options of {@link ArmClient}. */
export interface ArmClientOptions {
  /** The ARM endpoint, e.g. `https://management.local.azurestack.external/`. */
  endpoint: string;
  /** Gives the bearer token (scope: the credential's default audience). */
  credential: TokenCredential;
  /** Scope to ask the credential for (default: its own default). */
  scope?: string;
  /** Default api-version of requests. */
  apiVersion?: string;
  http?: HubHttpOptions;
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** Base of the exponential backoff in ms (default 1000); Retry-After wins when longer (capped at 60 s). */
  backoffMs?: number;
}

/** The thin ARM client. */
export class ArmClient {
  readonly endpoint: string;
  private readonly allowed: ReadonlySet<string>;

  constructor(private readonly opts: ArmClientOptions) {
    this.endpoint = withSlash(opts.endpoint);
    this.allowed = new Set([originOf(this.endpoint)]);
  }

  /** The full URL of a path (`/subscriptions/...`) or an absolute URL on the same endpoint (a nextLink). */
  url(pathOrUrl: string, apiVersion?: string, query: Record<string, string> = {}): string {
    const u = /^https?:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(pathOrUrl.replace(/^\/+/, ''), this.endpoint);
    if (apiVersion && !u.searchParams.has('api-version')) u.searchParams.set('api-version', apiVersion);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u.href;
  }

  /**
   * Sends one ARM request. 2xx (and `acceptStatus`) resolve; anything else rejects with {@link ArmError}; a network
   * failure after the retries rejects with a StackHubError naming the endpoint.
   */
  async request<T = unknown>(method: string, pathOrUrl: string, options: ArmRequestOptions = {}): Promise<ArmResponse<T>> {
    const m = method.toUpperCase();
    const apiVersion = options.apiVersion ?? this.opts.apiVersion;
    const url = this.url(pathOrUrl, apiVersion, options.query);
    assertAllowed(url, this.allowed);
    const shown = redactUrl(url);
    const retry = options.retry ?? defaultRetry;
    const retries = this.opts.retries ?? 4;
    const sleep = this.opts.http?.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const body =
      options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    for (let attempt = 1; ; attempt++) {
      let token: string;
      try {
        const t = await this.opts.credential.getToken(this.scope());
        if (!t) throw new StackHubError('the credential returned no token');
        token = t.token;
      } catch (e) {
        throw e instanceof StackHubError ? e : new StackHubError(`cannot get a token for ${shown}: ${oneLine(e)}`);
      }
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...lower(options.headers ?? {}),
        authorization: `Bearer ${token}`,
      };
      let res;
      try {
        res = await send(this.opts.http ?? {}, { method: m, url, headers, body }, this.allowed);
      } catch (e) {
        if (attempt <= retries && retry({ method: m, attempt, error: e })) {
          await sleep(this.backoff(attempt, undefined));
          continue;
        }
        const msg = oneLine(e).replace(token, '***');
        throw new StackHubError(`${m} ${shown} failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${msg.replace(/^\w+ \S+ failed: /, '')}`);
      }
      const out = toResponse<T>(res);
      const ok = (res.status >= 200 && res.status <= 299) || (options.acceptStatus ?? []).includes(res.status);
      if (ok) return out;
      if (attempt <= retries && retry({ method: m, attempt, status: res.status })) {
        await sleep(this.backoff(attempt, out.headers['retry-after']));
        continue;
      }
      const err = (out.body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ArmError(
        res.status,
        typeof err?.code === 'string' ? err.code : '',
        m,
        shown,
        typeof err?.message === 'string' ? oneLine(err.message) : '',
        out.etag,
      );
    }
  }

  /** GETs a list and follows `nextLink` (same endpoint only), returning every `value` item. */
  async list<T = unknown>(pathOrUrl: string, options: ArmRequestOptions = {}): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = pathOrUrl;
    for (let page = 0; next && page < 1000; page++) {
      const res: ArmResponse<{ value?: T[]; nextLink?: string }> = await this.request('GET', next, page === 0 ? options : { ...options, query: undefined });
      out.push(...(res.body?.value ?? []));
      next = res.body?.nextLink || undefined;
    }
    return out;
  }

  /** The token scope: the option, else the default of a {@link ServicePrincipalCredential}'s audience. */
  private scope(): string {
    if (this.opts.scope) return this.opts.scope;
    const audience = (this.opts.credential as { target?: { audience?: string } }).target?.audience;
    if (!audience) throw new StackHubError('bug: ArmClient needs a scope for this credential');
    return scopeFor(audience);
  }

  private backoff(attempt: number, retryAfter: string | undefined): number {
    const base = (this.opts.backoffMs ?? 1000) * 2 ** (attempt - 1);
    let ra = 0;
    if (retryAfter && /^\d+$/.test(retryAfter.trim())) ra = Number(retryAfter.trim()) * 1000;
    else if (retryAfter) ra = Math.max(0, Date.parse(retryAfter) - Date.now()) || 0;
    return Math.max(base, Math.min(ra, 60_000));
  }
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function toResponse<T>(res: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }): ArmResponse<T> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const text = res.body.toString('utf8');
  let body: unknown;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, headers, etag: headers.etag, body: body as T };
}
