/**
 * Network settings shared by every Azure Stack Hub / Azure call of this module: trusted CAs, proxy, timeouts, and an
 * allow-list of origins, so that nothing contacts a host the user did not configure.
 */
import type { ProxySettings } from '../../types';
import { StackHubError } from '../errors';
import { proxyFromEnv, request, type HttpOptions } from '../http';

/**
 * How this module reaches a Hub (or public/sovereign Azure). Passed to {@link discoverHub}, the credentials and
 * {@link ArmClient}.
 */
export interface HubHttpOptions {
  /**
   * Extra trusted CA certificates (PEM), typically the Hub's internal root (e.g. read with `readCaFile` from
   * src/shared/ca.ts). Added to Node's default roots for THESE calls only; never a global setting.
   */
  ca?: string[];
  /**
   * Proxy for a URL. Default: HTTPS_PROXY/NO_PROXY of the environment (`proxyFromEnv`). Capabilities usually pass
   * `(u) => platform.agentProxy(u.href) ?? proxyFromEnv(u)`.
   */
  proxyFor?: (url: URL) => ProxySettings | undefined;
  /** Per-attempt timeout in ms (default 30000). */
  timeoutMs?: number;
  /** Waits between retries (default a real timer); tests inject one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** A raw HTTP answer. */
export interface RawResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Sends one request through src/shared/http.ts `request()` with these options and NO retries of its own (callers
 * decide what is retryable). Refuses URLs whose origin is not in `allowedOrigins` when that set is given.
 */
export async function send(
  http: HubHttpOptions,
  req: { method: string; url: string; headers?: Record<string, string>; body?: string | Buffer },
  allowedOrigins?: ReadonlySet<string>,
): Promise<RawResponse> {
  if (allowedOrigins) assertAllowed(req.url, allowedOrigins);
  const opts: HttpOptions & { method: string; url: string; body?: string | Buffer; headers?: Record<string, string> } = {
    method: req.method,
    url: req.url,
    body: req.body,
    headers: req.headers,
    ca: http.ca,
    proxyFor: http.proxyFor ?? ((u: URL) => proxyFromEnv(u)),
    timeoutMs: http.timeoutMs,
    retries: 0,
    sleep: http.sleep,
  };
  return request(opts);
}

/** `https://host:port` of a URL (the unit of the allow-list). */
export function originOf(url: string): string {
  return new URL(url).origin.toLowerCase();
}

/** Throws when `url`'s origin is not allowed: this module never contacts a host the user did not configure. */
export function assertAllowed(url: string, allowed: ReadonlySet<string>): void {
  let origin: string;
  try {
    origin = originOf(url);
  } catch {
    throw new StackHubError(`refusing to contact '${url.replace(/[?#].*$/, '')}': not a URL`);
  }
  if (!allowed.has(origin)) {
    throw new StackHubError(
      `refusing to contact ${origin}: it is not one of the configured endpoints (${[...allowed].join(', ')})`,
    );
  }
}

/** Ensures exactly one trailing slash. */
export function withSlash(u: string): string {
  return u.replace(/\/*$/, '/');
}
