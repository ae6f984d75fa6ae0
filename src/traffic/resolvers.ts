/**
 * The last verification step: resolve the public name through the DNS servers that clients use (`traffic.resolvers`
 * of each site) and compare the answers with what the new routing should give. Uses node:dns with explicit servers
 * only (never the machine's resolver configuration).
 */
import { Resolver } from 'node:dns/promises';
import * as net from 'node:net';
import { InputError, oneLine } from '../shared/errors';
import type { TrafficCheck } from './api';
import type { DnsExpectation, ExpectedAnswers } from './provider';

/** Normalises a DNS name for comparison: lower case, no trailing dot. */
export function normName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** Normalises an answer (names lower-cased without the trailing dot; IPv6 in canonical form). */
export function normAnswer(v: string): string {
  const t = v.trim();
  if (net.isIPv6(t)) {
    try {
      return new URL(`http://[${t}]/`).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return t.toLowerCase();
    }
  }
  return normName(t);
}

/** Checks a resolver address: `ip`, `ip:port`, `[ipv6]:port`. Errors name `input`. */
export function parseResolver(s: string, input: string): string {
  const t = s.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}))?$/.exec(t);
  if (net.isIP(t) === 6) return t;
  if (!m || net.isIP(m[1] ?? m[2]) === 0 || (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535))) {
    throw new InputError(input, `resolver '${s}': expected an IP address, ip:port or [ipv6]:port (a resolver is never looked up by name)`);
  }
  return t;
}

/** Outcome of one resolver. */
interface Answer {
  resolver: string;
  answers?: string[];
  error?: string;
  unreachable?: boolean;
}

async function ask(server: string, expect: DnsExpectation, timeoutMs: number): Promise<Answer> {
  const r = new Resolver({ timeout: timeoutMs, tries: 2 });
  try {
    r.setServers([server]);
  } catch (e) {
    return { resolver: server, error: `not a usable resolver address: ${oneLine(e)}` };
  }
  try {
    const list =
      expect.type === 'CNAME' ? await r.resolveCname(expect.name) : expect.type === 'A' ? await r.resolve4(expect.name) : await r.resolve6(expect.name);
    return { resolver: server, answers: list.map(normAnswer).sort() };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENODATA' || code === 'ENOTFOUND') return { resolver: server, answers: [] };
    const unreachable = code === 'ETIMEOUT' || code === 'ECONNREFUSED' || code === 'ESERVFAIL' || code === 'EREFUSED';
    return { resolver: server, error: `${code || oneLine(e)}`, unreachable };
  } finally {
    r.cancel();
  }
}

/**
 * Resolves `expect.name` through every resolver and compares with `want`. `strict` (the full TTL was waited): a
 * wrong answer fails the check; otherwise it is reported without failing (caches may legitimately hold the old
 * answer). A resolver that cannot be reached from this agent is reported, not failed (per-site agents reach only
 * their own site's resolvers).
 */
export async function checkResolvers(
  resolvers: readonly string[],
  expect: DnsExpectation,
  want: ExpectedAnswers,
  opts: { strict: boolean; timeoutMs?: number },
): Promise<TrafficCheck[]> {
  const allowed = new Set(want.allowed.map(normAnswer));
  const exact = want.exact?.map(normAnswer).sort();
  const results = await Promise.all(resolvers.map((s) => ask(s, expect, opts.timeoutMs ?? 3000)));
  return results.map((r): TrafficCheck => {
    const name = `DNS ${expect.name} ${expect.type} via ${r.resolver}`;
    if (r.error !== undefined) return { name, ok: true, detail: `not checked: resolver ${r.unreachable ? 'not reachable from this agent' : 'failed'} (${r.error})` };
    const got = r.answers ?? [];
    const wrong = got.filter((a) => !allowed.has(a));
    const good = wrong.length === 0 && got.length > 0 && (!exact || JSON.stringify(exact) === JSON.stringify(got));
    const detail = `answered ${got.length ? got.join(', ') : 'nothing'}; expected ${exact ? exact.join(', ') : `any of ${[...allowed].join(', ')}`}`;
    if (good) return { name, ok: true, detail };
    return { name, ok: !opts.strict, detail: opts.strict ? detail : `${detail} (the TTL wait was cut short: caches may still hold the old answer)` };
  });
}
