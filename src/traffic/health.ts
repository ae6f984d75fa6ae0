/**
 * The health gate: an HTTP(S) probe of a site's ingress (`traffic.probeUrl` in the sites file) through the
 * configured proxy and CA, with expected status codes, attempts and a timeout. It must pass before any change that
 * sends users to the site.
 */
import type { ProxySettings } from '../platform/types';
import { InputError, oneLine } from '../shared/errors';
import { redactUrl, request } from '../shared/http';
import type { TrafficCheck } from './api';
import type { TrafficClock } from './clock';

/** A range of HTTP status codes, inclusive. */
export type StatusRange = readonly [number, number];

/** Probe settings (from the `trafficProbe*` inputs). */
export interface ProbeSettings {
  expected: readonly StatusRange[];
  /** Attempts in all (at least 1). */
  attempts: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Wait between attempts. */
  intervalMs: number;
}

/** How probes reach the network. */
export interface ProbeNetwork {
  ca: string[];
  proxyFor: (url: URL) => ProxySettings | undefined;
}

/** Parses `200-399,401` into ranges. Errors name `input`. */
export function parseStatusRanges(text: string, input: string): StatusRange[] {
  const out: StatusRange[] = [];
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || lo < 100 || hi > 599 || lo > hi) throw new InputError(input, `expected status codes or ranges such as 200-399,401, got '${part}'`);
    out.push([lo, hi]);
  }
  if (out.length === 0) throw new InputError(input, 'expected at least one status code or range, e.g. 200-399');
  return out;
}

/** Renders ranges back as text. */
export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(',');
}

/** Probes `url` until an expected status or the attempts run out. Never throws: the check says what happened. */
export async function probe(site: string, url: string, settings: ProbeSettings, net: ProbeNetwork, clock: TrafficClock): Promise<TrafficCheck> {
  const shown = redactUrl(url);
  const ok = (status: number): boolean => settings.expected.some(([a, b]) => status >= a && status <= b);
  let last = '';
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    if (attempt > 1) await clock.sleep(settings.intervalMs);
    try {
      const res = await request({
        method: 'GET',
        url,
        headers: { accept: '*/*' },
        ca: net.ca,
        proxyFor: net.proxyFor,
        timeoutMs: settings.timeoutMs,
        retries: 0,
      });
      if (ok(res.status)) {
        return { name: `health probe ${site}`, ok: true, detail: `GET ${shown} answered ${res.status} (attempt ${attempt} of ${settings.attempts})` };
      }
      last = `answered ${res.status}, expected ${formatStatusRanges(settings.expected)}`;
    } catch (e) {
      last = oneLine(e).replace(/^GET \S+ (failed: )?/, '');
    }
  }
  return { name: `health probe ${site}`, ok: false, detail: `GET ${shown} ${last} (${settings.attempts} attempt${settings.attempts > 1 ? 's' : ''})` };
}
