/** The HTTP probe gate: a site's `traffic.probeUrl` must answer an expected status N times in a row within a bound. */
import { setTimeout as delay } from 'node:timers/promises';
import type { ProxySettings } from '../platform/types';
import { oneLine } from '../shared/errors';
import { redactUrl, request } from '../shared/http';
import type { Check } from './record';
import type { ProbeOptions } from './inputs';

/** Probes `url` until `successes` good answers in a row or the timeout; never throws. */
export async function probeUrl(
  url: string,
  o: ProbeOptions,
  proxyFor: (u: URL) => ProxySettings | undefined,
  sleep: (ms: number) => Promise<void> = (ms) => delay(ms),
): Promise<Check> {
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  let streak = 0;
  let attempts = 0;
  let last: string;
  const ok = (status: number): boolean => o.expected.some(([lo, hi]) => status >= lo && status <= hi);
  for (;;) {
    attempts++;
    try {
      const res = await request({
        method: 'GET',
        url,
        ca: o.ca,
        proxyFor,
        retries: 0,
        timeoutMs: Math.max(1000, Math.min(10_000, deadline - Date.now())),
        headers: { 'user-agent': 'stackhub-ha-probe', accept: '*/*' },
      });
      last = `HTTP ${res.status}`;
      streak = ok(res.status) ? streak + 1 : 0;
    } catch (e) {
      last = oneLine(e);
      streak = 0;
    }
    if (streak >= o.successes) {
      return { name: 'probe', ok: true, detail: `${redactUrl(url)}: ${last} ×${streak}`, durationMs: Date.now() - started };
    }
    if (Date.now() + o.intervalMs >= deadline) {
      return {
        name: 'probe',
        ok: false,
        detail: `${redactUrl(url)}: not healthy within ${Math.round(o.timeoutMs / 1000)} s (${attempts} attempts, last: ${last})`,
        durationMs: Date.now() - started,
      };
    }
    await sleep(o.intervalMs);
  }
}
