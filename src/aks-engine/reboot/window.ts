/**
 * The reboot window, e.g. `Sat 01:00-05:00 Europe/Berlin`: days, a local start and end time and an IANA time zone,
 * evaluated with Intl (no time-zone data of our own). Grammar, strictly:
 *
 *   <days> <HH:MM>-<HH:MM> <Zone>
 *   days: `daily`, or a comma list of `Mon`..`Sun` and ranges like `Mon-Fri`
 *
 * An end before (or equal to) the start crosses midnight: `Sat 23:00-02:00` runs Saturday 23:00 to Sunday 02:00, and
 * the day names the day the window opens. Daylight-saving gaps are handled by evaluating wall-clock time per minute.
 */
import { InputError } from '../../shared/errors';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** A parsed window. */
export interface RebootWindow {
  /** The text as given. */
  text: string;
  /** Weekdays (0 = Sunday) the window opens on. */
  days: Set<number>;
  /** Minutes after local midnight. */
  start: number;
  end: number;
  zone: string;
}

function parseTime(t: string, input: string, text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(t);
  if (!m) throw new InputError(input, `'${text}': '${t}' is not a time HH:MM (00:00 to 23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function dayIndex(d: string, input: string, text: string): number {
  const i = DAYS.findIndex((x) => x.toLowerCase() === d.toLowerCase());
  if (i < 0) throw new InputError(input, `'${text}': '${d}' is not a day: expected Mon, Tue, Wed, Thu, Fri, Sat, Sun, a range like Mon-Fri, or daily`);
  return i;
}

/** Parses a window; errors name `input` and say what was expected. */
export function parseRebootWindow(text: string, input = 'rebootWindow'): RebootWindow {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 3) throw new InputError(input, `'${text}': expected '<days> <HH:MM>-<HH:MM> <time zone>', e.g. 'Sat 01:00-05:00 Europe/Berlin'`);
  const [dayText, span, zone] = parts;
  const days = new Set<number>();
  if (dayText.toLowerCase() === 'daily') for (let i = 0; i < 7; i++) days.add(i);
  else {
    for (const item of dayText.split(',')) {
      const r = item.split('-');
      if (r.length === 1) days.add(dayIndex(r[0], input, text));
      else if (r.length === 2) {
        const a = dayIndex(r[0], input, text);
        const b = dayIndex(r[1], input, text);
        for (let i = a; ; i = (i + 1) % 7) {
          days.add(i);
          if (i === b) break;
        }
      } else throw new InputError(input, `'${text}': '${item}' is not a day or a range like Mon-Fri`);
    }
  }
  const se = span.split('-');
  if (se.length !== 2) throw new InputError(input, `'${text}': '${span}' is not a time span like 01:00-05:00`);
  const start = parseTime(se[0], input, text);
  const end = parseTime(se[1], input, text);
  if (start === end) throw new InputError(input, `'${text}': the window starts and ends at ${se[0]} (empty)`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new InputError(input, `'${text}': '${zone}' is not an IANA time zone (e.g. Europe/Berlin, UTC)`);
  }
  // Intl accepts some odd forms (lower case, legacy aliases); insist on a Region/City name or UTC as written
  if (!/^(UTC|[A-Z][A-Za-z_]+(\/[A-Z][A-Za-z0-9_+-]+)+)$/.test(zone)) throw new InputError(input, `'${text}': '${zone}' is not an IANA time zone name like Europe/Berlin or UTC`);
  return { text, days, start, end, zone };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Local weekday (0 = Sunday) and minute of day of `t` in `zone`. */
export function localTime(t: number, zone: string): { day: number; minute: number } {
  let f = formats.get(zone);
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  const parts = f.formatToParts(new Date(t));
  const get = (k: string): string => parts.find((p) => p.type === k)?.value ?? '';
  return { day: DAYS.indexOf(get('weekday') as (typeof DAYS)[number]), minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/** True when `t` is inside the window. */
export function inWindow(w: RebootWindow, t: number): boolean {
  const { day, minute } = localTime(t, w.zone);
  if (w.start < w.end) return w.days.has(day) && minute >= w.start && minute < w.end;
  // crosses midnight: the evening part on an opening day, or the morning part the day after one
  return (w.days.has(day) && minute >= w.start) || (w.days.has((day + 6) % 7) && minute < w.end);
}

const MINUTE = 60_000;

/** The first minute at or after `t` at which the window is open (searched up to 8 days ahead). */
export function nextOpening(w: RebootWindow, t: number): number {
  if (inWindow(w, t)) return t;
  let m = Math.ceil(t / MINUTE) * MINUTE;
  for (let i = 0; i < 8 * 24 * 60; i++, m += MINUTE) if (inWindow(w, m)) return m;
  throw new Error(`window '${w.text}' never opens`);
}

/** The first minute after `t` at which the (open) window closes. */
export function windowEnd(w: RebootWindow, t: number): number {
  let m = Math.floor(t / MINUTE) * MINUTE + MINUTE;
  for (let i = 0; i < 8 * 24 * 60; i++, m += MINUTE) if (!inWindow(w, m)) return m;
  return m;
}

/** `Sat 2026-12-12 01:00 Europe/Berlin (2026-12-12T00:00:00Z)` */
export function describeTime(t: number, zone: string): string {
  const local = new Intl.DateTimeFormat('en-CA', { timeZone: zone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(t))
    .reduce<Record<string, string>>((acc, p) => ((acc[p.type] = p.value), acc), {});
  return `${local.weekday} ${local.year}-${local.month}-${local.day} ${local.hour}:${local.minute} ${zone} (${new Date(t).toISOString().replace('.000', '')})`;
}
