/**
 * The one renderer of the release page: the model (model.ts) → HTML markup. The results tab puts it into its
 * document; page.ts wraps it into the self-contained HTML file each release run writes. Pure string building: every
 * value from a record passes {@link esc}.
 */
import { formatDuration, type BarModel, type LaneModel, type ReportModel } from './model';

/** HTML-escapes text for element content and attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function time(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function fact(label: string, value: string | undefined, key: string): string {
  if (value === undefined || value === '') return '';
  return `<div data-fact="${esc(key)}"><dt>${esc(label)}</dt><dd>${esc(value)}</dd></div>`;
}

function barHtml(lane: LaneModel, b: BarModel, i: number): string {
  const dur = formatDuration(b.durationMs);
  const outcome = b.outcome === 'ok' ? 'ok' : 'FAILED';
  const label = `${lane.site}, step ${i + 1} of ${lane.bars.length}: ${b.label}, ${outcome}, ${dur}${b.detail ? `. ${b.detail}` : ''}`;
  const title = `${b.label}: ${outcome}, ${dur} (${time(new Date(b.startMs).toISOString())} → ${time(new Date(b.endMs).toISOString())})${b.detail ? `\n${b.detail}` : ''}`;
  return (
    `<span class="shr-bar" role="img" tabindex="0" data-step="${esc(b.name)}" data-outcome="${esc(b.outcome)}" data-tone="${esc(b.tone)}"` +
    ` data-duration-ms="${Math.round(b.durationMs)}" style="left:${b.leftPct.toFixed(3)}%;width:${b.widthPct.toFixed(3)}%"` +
    ` aria-label="${esc(label)}" title="${esc(title)}">${esc(b.label)} ${esc(dur)}</span>`
  );
}

function laneHtml(l: LaneModel): string {
  const traffic = l.trafficBefore || l.trafficAfter ? `${l.trafficBefore ?? '—'} → ${l.trafficAfter ?? '—'}` : undefined;
  const rpo = l.rpoMs !== undefined ? formatDuration(l.rpoMs) : !l.backupId ? undefined : l.backupTime ? 'n/a (the site was not upgraded)' : 'unknown (no backup list attached)';
  const steps = l.bars.map((b) => `${b.label} ${b.outcome === 'ok' ? 'ok' : 'failed'}`).join(', ');
  const aria = `site ${l.site}: ${l.needsOperator ? 'NEEDS AN OPERATOR, ' : ''}${l.status}; helm ${l.before} → ${l.after}${traffic ? `; GSLB ${traffic}` : ''}${l.backupId ? `; backup ${l.backupId}, RPO ${rpo}` : ''}; ${l.bars.length ? `steps: ${steps}` : 'no step timings'}`;
  return [
    `<li class="shr-lane" tabindex="0" data-site="${esc(l.site)}" data-status="${esc(l.status)}" data-operator="${l.needsOperator}" aria-label="${esc(aria)}">`,
    `<div class="shr-lane-head"><h2>${esc(l.site)}</h2><span class="shr-status" data-status="${esc(l.status)}">${esc(l.needsOperator ? 'ROLLBACK FAILED: NEEDS AN OPERATOR' : l.status)}</span>`,
    l.durationMs !== undefined ? `<span class="shr-dur">${esc(formatDuration(l.durationMs))}</span>` : '',
    `</div>`,
    `<dl class="shr-facts">`,
    fact('helm', `${l.before} → ${l.after}`, 'helm'),
    fact('GSLB', traffic, 'gslb'),
    fact('traffic', l.traffic, 'traffic'),
    fact('backup', l.backupId ? `${l.backupId}${l.backupTime ? ` (${time(l.backupTime)})` : ''}` : undefined, 'backup'),
    fact('RPO', rpo, 'rpo'),
    fact('rollback', l.rollback, 'rollback'),
    `</dl>`,
    l.bars.length
      ? `<div class="shr-track" role="group" aria-label="${esc(`steps of ${l.site}`)}">${l.bars.map((b, i) => barHtml(l, b, i)).join('')}</div>`
      : `<p class="shr-empty">no step timings (record version 1, or the site was not reached)</p>`,
    l.error ? `<p class="shr-error">${esc(l.error)}</p>` : '',
    `</li>`,
  ].join('');
}

function legend(): string {
  const items: [string, string][] = [
    ['ok', 'step ok'],
    ['failed', 'step failed'],
    ['rollback-ok', 'rolled back'],
    ['rollback-failed', 'rollback failed'],
  ];
  return `<ul class="shr-legend" aria-label="colours">${items.map(([t, l]) => `<li><span class="shr-bar-key" style="background:var(--shr-${t === 'ok' ? 'ok' : t === 'failed' ? 'failed' : t === 'rollback-ok' ? 'rb' : 'rbfail'})"></span>${esc(l)}</li>`).join('')}</ul>`;
}

function gslbTable(m: ReportModel): string {
  const rows = m.lanes.filter((l) => l.trafficBefore || l.trafficAfter);
  if (!rows.length) return '';
  return [
    `<h3>GSLB${m.trafficProvider ? ` (${esc(m.trafficProvider)})` : ''}</h3>`,
    `<table class="shr-gslb"><thead><tr><th scope="col">site</th><th scope="col">before the release</th><th scope="col">after</th></tr></thead><tbody>`,
    ...rows.map((l) => `<tr data-site="${esc(l.site)}"><th scope="row">${esc(l.site)}</th><td>${esc(l.trafficBefore ?? '—')}</td><td>${esc(l.trafficAfter ?? '—')}</td></tr>`),
    `</tbody></table>`,
  ].join('');
}

function backupTable(m: ReportModel): string {
  if (!m.backups.length) return '';
  return [
    `<h3>Mongo backups</h3><table class="shr-backups"><thead><tr><th scope="col">site</th><th scope="col">latest backup</th><th scope="col">completed</th><th scope="col">age at release start</th><th scope="col">backups listed</th></tr></thead><tbody>`,
    ...m.backups.map(
      (b) =>
        `<tr data-site="${esc(b.site)}"><th scope="row">${esc(b.site)}</th><td>${esc(b.latest?.id ?? '—')}</td><td>${esc(time(b.latest?.time))}</td><td>${esc(b.latest ? formatDuration(m.startMs - Date.parse(b.latest.time)) : '')}</td><td>${b.count}</td></tr>`,
    ),
    `</tbody></table>`,
  ].join('');
}

/** The banner naming every site that needs an operator ('' when none does). */
export function operatorBanner(m: ReportModel): string {
  if (!m.operator.length) return '';
  return (
    `<div class="shr-banner" role="alert" data-operator-sites="${esc(m.operator.map((o) => o.site).join(' '))}">` +
    `${m.operator.length === 1 ? `Site ${esc(m.operator[0].site)} NEEDS AN OPERATOR` : `Sites ${esc(m.operator.map((o) => o.site).join(', '))} NEED AN OPERATOR`}: the rollback failed, the site does not run what it ran before the release.` +
    `<ul>${m.operator.map((o) => `<li><strong>${esc(o.site)}</strong>: ${esc(o.why)}</li>`).join('')}</ul></div>`
  );
}

/** The page body for a model (markup only: styles in styles.ts, keys in keyboard.ts). */
export function renderReport(m: ReportModel): string {
  return [
    `<main class="shr" data-result="${esc(m.result)}" aria-labelledby="shr-title">`,
    `<h1 id="shr-title">Multi-site release ${esc(m.release)}</h1>`,
    `<p class="shr-meta">chart ${esc(m.chart)} · <span class="shr-result" data-result="${esc(m.result)}">${esc(m.result)}</span> · ${esc(m.strategy)} · on failure ${esc(m.onFailure)} · release id <code>${esc(m.releaseId)}</code> · ${esc(time(m.createdAt))}</p>`,
    operatorBanner(m),
    ...m.notes.map((n) => `<p class="shr-notes">${esc(n)}</p>`),
    legend(),
    `<div class="shr-axis" aria-hidden="true"><span>${esc(time(new Date(m.startMs).toISOString()))}</span><span>+${esc(formatDuration(m.endMs - m.startMs))}</span></div>`,
    `<ol class="shr-lanes" aria-label="sites, in release order (arrow keys move between sites and steps)">${m.lanes.map(laneHtml).join('')}</ol>`,
    `<p class="shr-detail" aria-live="polite" id="shr-detail">Focus a step (Tab, or the arrow keys) to read it here.</p>`,
    gslbTable(m),
    backupTable(m),
    `</main>`,
  ].join('\n');
}

/** A page that says there is nothing to draw (or what went wrong). */
export function renderMessage(title: string, message: string): string {
  return `<main class="shr" aria-labelledby="shr-title"><h1 id="shr-title">${esc(title)}</h1><p class="shr-empty" role="status">${esc(message)}</p></main>`;
}
