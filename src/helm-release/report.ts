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

/** Mermaid task names must not hold `:`, `;` or `#`. */
const mermaidText = (t: string): string => t.replace(/[:;#]/g, ' ').replace(/\s+/g, ' ').trim();

/**
 * A compact Mermaid gantt of the release: one section per site, one bar per step (record version 2 step timings),
 * `crit` for a failed step. Undefined when no site has step timings (e.g. a version-1 record).
 */
export function releaseGantt(r: ReleaseRecord, sites: readonly string[]): string | undefined {
  const L = ['gantt', `  title ${mermaidText(`release ${r.release} ${r.chart.version}`)}`, '  dateFormat x', '  axisFormat %H:%M:%S'];
  let bars = 0;
  for (const n of sites) {
    const steps = r.sites[n]?.steps ?? [];
    if (!steps.length) continue;
    L.push(`  section ${mermaidText(n)}${r.sites[n]!.status === 'rollback-failed' ? ' NEEDS AN OPERATOR' : ''}`);
    for (const st of steps) {
      const a = Date.parse(st.startedAt);
      // a bar of zero length is not drawn: at least 1 ms
      const b = Math.max(Date.parse(st.endedAt), a + 1);
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      L.push(`  ${mermaidText(st.name)} ${((b - a) / 1000).toFixed(1)}s :${st.outcome === 'failed' ? 'crit, ' : ''}${a}, ${b}`);
      bars++;
    }
  }
  return bars ? L.join('\n') : undefined;
}

/** The gantt as a summary section (GitHub step summary and the ADO summary both render ```mermaid blocks). */
export function ganttReport(summary: Summary, r: ReleaseRecord, sites: readonly string[]): void {
  const g = releaseGantt(r, sites);
  if (!g) return;
  summary.heading('Timeline');
  summary.text('```mermaid\n' + g + '\n```');
}
