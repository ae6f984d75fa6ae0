/** The run summary of a release: one row per site (site · before → after · gates · duration · result), preflight checks, redacted diffs. */
import type { Summary } from '../platform/summary';
import type { DiffStats } from './manifest';
import type { ReleaseRecord, SiteRecord } from './record';
import { describeState } from './state';

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`;
}

function gatesCell(e: SiteRecord): string {
  if (!e.gates?.length) return e.status === 'unchanged' ? 'no change' : '—';
  return e.gates.map((g) => `${g.ok ? '✓' : '✗'} ${g.name}`).join(', ');
}

function resultCell(e: SiteRecord): string {
  const loud = e.status === 'rollback-failed' ? '**ROLLBACK FAILED: needs an operator**' : e.status;
  const extra = [e.error, e.rollback && e.rollback.action !== 'none' ? `${e.rollback.action}: ${e.rollback.detail ?? ''}` : e.rollback?.detail].filter(Boolean);
  return extra.length ? `${loud} (${extra.join('; ')})` : loud;
}

/** The per-site table. */
export function siteTable(summary: Summary, r: ReleaseRecord, sites: readonly string[]): void {
  summary.table(
    ['site', 'before → after', 'gates', 'traffic', 'duration', 'result'],
    sites.map((n) => {
      const e = r.sites[n] ?? { site: n, seq: 0, updatedAt: '', status: 'pending' as const, changed: false };
      const traffic = e.traffic
        ? [e.traffic.drained ? 'drained' : e.traffic.servingBefore === false ? 'not serving' : '', e.traffic.restored ? 'restored' : e.traffic.drained ? 'stays drained' : '']
            .filter(Boolean)
            .join(' → ')
        : '';
      return [n, `${describeState(e.before)} → ${describeState(e.after ?? (e.status === 'unchanged' ? e.before : undefined))}`, gatesCell(e), traffic, seconds(e.durationMs), resultCell(e)];
    }),
  );
}

/** The preflight table and the redacted diffs. */
export function preflightReport(
  summary: Summary,
  r: ReleaseRecord,
  sites: readonly string[],
  diffs: ReadonlyMap<string, { text: string; stats: DiffStats; truncated: boolean }>,
): void {
  summary.heading('Preflight');
  summary.table(
    ['site', 'result', 'checks'],
    sites.map((n) => {
      const p = r.sites[n]?.preflight;
      if (!p) return [n, 'not run', ''];
      return [n, p.ok ? 'passed' : '**failed**', p.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`).join('\n')];
    }),
  );
  for (const n of sites) {
    const d = diffs.get(n);
    if (!d) continue;
    const { added, changed, removed } = d.stats;
    if (added + changed + removed === 0) {
      summary.text(`**${n}**: no change in the rendered manifests`);
      continue;
    }
    // a fence longer than any backtick run inside
    const fence = '`'.repeat(Math.max(3, ...[...d.text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
    summary.text(
      `<details><summary>${n}: ${added} added, ${changed} changed, ${removed} removed (Secret data and secret values redacted)${d.truncated ? ', truncated' : ''}</summary>\n\n${fence}diff\n${d.text}\n${fence}\n\n</details>`,
    );
  }
}

/** Header lines: release, chart, record. */
export function headerReport(summary: Summary, r: ReleaseRecord, extra: string[]): void {
  summary.text(
    [
      `Release \`${r.release}\` · chart \`${r.chart.name}\` ${r.chart.version}${r.chart.appVersion ? ` (app ${r.chart.appVersion})` : ''} · ${r.strategy}${r.strategy === 'parallel' ? ` (max ${r.maxParallel ?? 1})` : ''} · on failure ${r.onFailure} · release id \`${r.releaseId}\``,
      ...extra,
    ].join('  \n'),
  );
}
