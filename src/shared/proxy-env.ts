/**
 * Proxy settings from the environment: HTTPS_PROXY/HTTP_PROXY and the NO_PROXY parser (domains, host:port, IPv4 and
 * IPv6 literals and CIDR), plus Node's default trust store. Used by src/shared/net.ts and src/shared/http.ts.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';

import type { ProxySettings } from '../types';
import { StackHubError } from './errors';
import { redactUrl } from './redact';

/**
 * Proxy from HTTPS_PROXY/https_proxy (for https URLs), HTTP_PROXY/http_proxy (for http URLs), honouring
 * NO_PROXY/no_proxy: comma/space separated; `*`; exact host; `.example.com` and `example.com` both match the domain
 * and subdomains; `host:port`; IPv4 literals and IPv4 CIDR (10.0.0.0/8); loopback is NOT bypassed implicitly.
 * Credentials in the proxy URL become username/password. env is a parameter (default process.env) so tests need not
 * touch process.env.
 *
 * When both spellings are set, the lower-case one wins (as in curl). `*.example.com` is read as `.example.com`;
 * IPv6 literals (`::1`, `[::1]:8443`) and IPv6 CIDR are understood too. A proxy value without a scheme is taken as
 * http://; one without a port gets :80. Throws a StackHubError for a value that is not a usable http:// proxy URL.
 */
export function proxyFromEnv(url: URL, env: NodeJS.ProcessEnv = process.env): ProxySettings | undefined {
  let name: string;
  if (url.protocol === 'https:') name = firstSet(env, 'https_proxy', 'HTTPS_PROXY');
  else if (url.protocol === 'http:') name = firstSet(env, 'http_proxy', 'HTTP_PROXY');
  else return undefined;
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const noProxy = env[firstSet(env, 'no_proxy', 'NO_PROXY')] ?? '';
  if (bypassesProxy(url, noProxy)) return undefined;
  return parseProxyValue(raw, name);
}

/**
 * Node's default trust store. `tls.getCACertificates('default')` (Node >= 22.15) also holds NODE_EXTRA_CA_CERTS and,
 * with --use-system-ca, the system store; older Node only offers the bundled `tls.rootCertificates`.
 */
export function defaultRoots(): readonly string[] {
  const get = (tls as { getCACertificates?: (type?: string) => string[] }).getCACertificates;
  return typeof get === 'function' ? get('default') : tls.rootCertificates;
}

function firstSet(env: NodeJS.ProcessEnv, lower: string, upper: string): string {
  return env[lower] !== undefined && env[lower]!.trim() !== '' ? lower : upper;
}

function parseProxyValue(raw: string, name: string): ProxySettings {
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new StackHubError(`${name} is not a valid proxy URL: '${redactUrl(raw)}'`);
  }
  if (u.protocol !== 'http:') {
    throw new StackHubError(`${name}: unsupported proxy scheme '${u.protocol}' (only http:// proxies are supported)`);
  }
  if (!u.hostname) throw new StackHubError(`${name} is not a valid proxy URL: '${redactUrl(raw)}'`);
  const out: ProxySettings = { url: `http://${u.hostname}:${u.port || '80'}` };
  if (u.username) out.username = safeDecode(u.username);
  if (u.password) out.password = safeDecode(u.password);
  return out;
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function canonicalIPv6(s: string): string | undefined {
  if (net.isIPv6(s) === false) return undefined;
  try {
    return new URL(`http://[${s}]/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

function ipv4ToInt(s: string): number {
  return s.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/** True when NO_PROXY says `url` goes direct. */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = hostOf(url).toLowerCase().replace(/\.$/, '');
  const port = portOf(url);
  const hostV4 = net.isIPv4(host);
  const hostV6 = canonicalIPv6(host);
  for (const rawEntry of noProxy.split(/[\s,]+/)) {
    const entry = rawEntry.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;

    const cidr = /^\[?([0-9a-f.:]+)\]?\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const bits = Number(cidr[2]);
      if (net.isIPv4(cidr[1]) && bits <= 32 && hostV4) {
        const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
        if (((ipv4ToInt(host) & mask) >>> 0) === ((ipv4ToInt(cidr[1]) & mask) >>> 0)) return true;
      } else if (net.isIPv6(cidr[1]) && bits <= 128 && hostV6) {
        const list = new net.BlockList();
        list.addSubnet(cidr[1], bits, 'ipv6');
        if (list.check(hostV6, 'ipv6')) return true;
      }
      continue;
    }

    let entryHost = entry;
    let entryPort: number | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      entryHost = bracketed[1];
      entryPort = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
    } else if ((entry.match(/:/g) ?? []).length === 1) {
      const [h, p] = entry.split(':');
      if (!/^\d+$/.test(p)) continue;
      entryHost = h;
      entryPort = Number(p);
    }
    if (entryPort !== undefined && entryPort !== port) continue;

    if (net.isIPv4(entryHost)) {
      if (hostV4 && entryHost === host) return true;
      continue;
    }
    if (net.isIPv6(entryHost)) {
      if (hostV6 !== undefined && canonicalIPv6(entryHost) === hostV6) return true;
      continue;
    }
    if (hostV4 || hostV6 !== undefined) continue; // a domain entry never matches an IP literal
    const domain = entryHost.replace(/^\*?\.+/, '').replace(/\.$/, '');
    if (domain === '' || domain.includes('*')) continue;
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/** The host of a URL without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** The port of an http(s) URL, the scheme's default when absent. */
export function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}
