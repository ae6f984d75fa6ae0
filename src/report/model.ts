/**
 * The release page's model: what the release results tab (src/web/results-tab.ts) and the self-contained HTML file
 * of every release run (src/report/page.ts) draw, built from release records and Mongo backup lists. No Node and no
 * DOM: the same module runs in the browser bundle and in the tasks, the actions and the CLI.
 */
import type { ReleaseRecord, ReleaseResult, SiteRecord, SiteStatus, StepName, StepTiming } from '../helm-release/record';
import type { SiteState } from '../helm-release/state';
import type { TrafficSiteState, TrafficState } from '../traffic/api';

/** The ADO run attachment type of release records (helm release: `##vso[task.addattachment type=…]`). */
export const RELEASE_RECORD_ATTACHMENT_TYPE = 'stackhub-ha.release-record';

/** Schema id of a backup list document (the Mongo capability's `stackhub-ha.backup-list` attachment). */
export const BACKUP_LIST_SCHEMA = 'stackhub-ha/mongo-backup-list';
/** The ADO run attachment type of backup lists. */
export const BACKUP_LIST_ATTACHMENT_TYPE = 'stackhub-ha.backup-list';

/** One backup as a backup list holds it (the Mongo `list` row, or the backup a `backup` run made). */
export interface BackupListEntry {
  id: string;
  /** ISO time the backup completed. */
  time: string;
  sizeBytes?: number;
  scope?: string;
  database?: string;
  encrypted?: boolean;
  signed?: boolean;
  status?: string;
  location?: string;
}

/** A backup list document: the backups of one site, as a Mongo backup or list run saw them. */
export interface BackupList {
  schema: typeof BACKUP_LIST_SCHEMA;
  version: 1;
  site: string;
  /** `backup` (the one backup this run made) or `list` (every backup in the storage). */
  command: 'backup' | 'list';
  createdAt: string;
  backups: BackupListEntry[];
}

/** A drawn step of a lane. */
export interface BarModel {
  name: StepName;
  label: string;
  outcome: 'ok' | 'failed';
  /** `ok`, `failed`, `rollback-ok`, `rollback-failed`: the bar's colour. */
  tone: 'ok' | 'failed' | 'rollback-ok' | 'rollback-failed';
  startMs: number;
  endMs: number;
  durationMs: number;
  /** Position on the shared time axis, percent of its width. */
  leftPct: number;
  widthPct: number;
  detail?: string;
}

/** One site's lane. */
export interface LaneModel {
  site: string;
  status: SiteStatus;
  needsOperator: boolean;
  before: string;
  after: string;
  trafficBefore?: string;
  trafficAfter?: string;
  traffic?: string;
  backupId?: string;
  backupTime?: string;
  /** Recovery point: how much data the pre-release backup would lose if restored when the site's upgrade began. */
  rpoMs?: number;
  error?: string;
  rollback?: string;
  durationMs?: number;
  bars: BarModel[];
}

/** The page. */
export interface ReportModel {
  release: string;
  releaseId: string;
  chart: string;
  result: ReleaseResult;
  strategy: string;
  onFailure: string;
  createdAt: string;
  updatedAt: string;
  trafficProvider?: string;
  /** Sites that need an operator (rollback failed) and why. */
  operator: { site: string; why: string }[];
  lanes: LaneModel[];
  startMs: number;
  endMs: number;
  /** Backup lists that did not match any site of the release (shown as a table). */
  backups: { site: string; latest?: BackupListEntry; count: number }[];
  /** Problems reading the inputs (e.g. a record of another release), shown on the page. */
  notes: string[];
}

const STEP_LABELS: Record<StepName, string> = {
  preflight: 'preflight',
  backup: 'backup',
  drain: 'drain',
  upgrade: 'upgrade',
  verify: 'verify',
  'restore-traffic': 'restore traffic',
  rollback: 'rollback',
};

/** Whether a parsed document is a release record (shape only; the tasks validate against the schema). */
export function isReleaseRecord(doc: unknown): doc is ReleaseRecord {
  const d = doc as ReleaseRecord | null;
  return !!d && typeof d === 'object' && d.schema === 'stackhub-ha/helm-release-record' && typeof d.sites === 'object' && Array.isArray(d.siteOrder);
}

/** Whether a parsed document is a backup list. */
export function isBackupList(doc: unknown): doc is BackupList {
  const d = doc as BackupList | null;
  return !!d && typeof d === 'object' && d.schema === BACKUP_LIST_SCHEMA && typeof d.site === 'string' && Array.isArray(d.backups);
}

/** Builds a backup list document. */
export function backupListDocument(site: string, command: BackupList['command'], backups: readonly BackupListEntry[], now = new Date()): BackupList {
  return {
    schema: BACKUP_LIST_SCHEMA,
    version: 1,
    site,
    command,
    createdAt: now.toISOString(),
    backups: backups.map((b) => ({ ...b })),
  };
}

/**
 * Merges copies of one release's record (per-site jobs attach one each): per site the entry written last (highest
 * `seq`, then `updatedAt`) wins, as `mergeRecords` in src/helm-release/record.ts does. Records of other releases
 * than the newest one are left out and named in `notes`.
 */
export function mergeForReport(records: readonly ReleaseRecord[], notes: string[] = []): ReleaseRecord | undefined {
  if (!records.length) return undefined;
  const newest = [...records].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))[0];
  const same = records.filter((r) => r.releaseId === newest.releaseId && r.release === newest.release);
  for (const r of records) if (!same.includes(r)) notes.push(`left out a record of release ${r.release} ${r.releaseId} (this page shows ${newest.release} ${newest.releaseId})`);
  const out: ReleaseRecord = JSON.parse(JSON.stringify(same[0])) as ReleaseRecord;
  for (const r of same.slice(1)) {
    if (r.createdAt < out.createdAt) out.createdAt = r.createdAt;
    if (r.updatedAt > out.updatedAt) out.updatedAt = r.updatedAt;
    for (const [n, s] of Object.entries(r.sites)) {
      const have = out.sites[n];
      if (!have || s.seq > have.seq || (s.seq === have.seq && s.updatedAt > have.updatedAt)) out.sites[n] = JSON.parse(JSON.stringify(s)) as SiteRecord;
    }
    if (r.backups) out.backups = { ...r.backups, ...(out.backups ?? {}) };
    if (r.traffic?.before && (!out.traffic?.before || r.traffic.before.capturedAt < out.traffic.before.capturedAt)) {
      out.traffic = { ...(out.traffic ?? {}), provider: r.traffic.provider ?? out.traffic?.provider, before: r.traffic.before };
    }
    if (r.traffic?.after && (!out.traffic?.after || r.traffic.after.capturedAt > out.traffic.after.capturedAt)) out.traffic = { ...(out.traffic ?? {}), after: r.traffic.after };
  }
  out.result = resultOf(out);
  return out;
}

function resultOf(r: ReleaseRecord): ReleaseResult {
  const st = r.siteOrder.map((n) => r.sites[n]?.status ?? 'pending');
  if (st.includes('rollback-failed')) return 'rollback-failed';
  if (st.includes('failed')) return 'failed';
  if (st.includes('rolled-back')) return 'rolled-back';
  if (st.includes('preflight-failed')) return 'preflight-failed';
  if (r.result === 'dry-run') return 'dry-run';
  if (st.every((s) => s === 'unchanged')) return 'unchanged';
  if (st.every((s) => s === 'succeeded' || s === 'unchanged')) return 'succeeded';
  return r.result ?? 'pending';
}

/** `rev 3 (1.3.0)`, `not installed`, `—`. */
export function describeSiteState(s: SiteState | undefined): string {
  if (!s) return '—';
  if (!s.installed) return 'not installed';
  return `rev ${s.revision ?? '?'}${s.chartVersion ? ` (${s.chartVersion})` : ''}`;
}

function trafficSite(t: TrafficState | undefined, site: string): string | undefined {
  const s: TrafficSiteState | undefined = t?.sites.find((x) => x.site === site);
  if (!s) return undefined;
  const extra = [s.priority !== undefined ? `priority ${s.priority}` : '', s.weight !== undefined ? `weight ${s.weight}` : '', s.health ?? ''].filter(Boolean);
  return `${s.enabled ? 'serving' : 'drained'}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

function trafficLine(e: SiteRecord): string | undefined {
  const t = e.traffic;
  if (!t) return undefined;
  const a = t.drained ? 'drained' : t.servingBefore === false ? 'not serving' : '';
  const b = t.restored ? 'restored' : t.drained ? 'stays drained' : '';
  return [a, b].filter(Boolean).join(' → ') || undefined;
}

function toneOf(st: StepTiming): BarModel['tone'] {
  if (st.name === 'rollback') return st.outcome === 'ok' ? 'rollback-ok' : 'rollback-failed';
  return st.outcome;
}

/** The newest complete backup with this id among the lists (any site), or undefined. */
function findBackup(lists: readonly BackupList[], site: string, id: string): BackupListEntry | undefined {
  const all = lists.filter((l) => l.site === site).flatMap((l) => l.backups);
  return all.find((b) => b.id === id) ?? lists.flatMap((l) => l.backups).find((b) => b.id === id);
}

/** Builds the page's model. `records`: every release record attachment of the run; `lists`: every backup list. */
export function buildReport(records: readonly ReleaseRecord[], lists: readonly BackupList[] = []): ReportModel | undefined {
  const notes: string[] = [];
  const r = mergeForReport(records, notes);
  if (!r) return undefined;
  const order = [...r.siteOrder, ...Object.keys(r.sites).filter((n) => !r.siteOrder.includes(n))];
  const times = order.flatMap((n) => (r.sites[n]?.steps ?? []).flatMap((s) => [Date.parse(s.startedAt), Date.parse(s.endedAt)])).filter(Number.isFinite);
  const startMs = times.length ? Math.min(...times) : Date.parse(r.createdAt);
  const endMs = Math.max(times.length ? Math.max(...times) : Date.parse(r.updatedAt), startMs + 1);
  const span = endMs - startMs;
  const operator: ReportModel['operator'] = [];
  const lanes: LaneModel[] = order.map((n) => {
    const e: SiteRecord = r.sites[n] ?? { site: n, seq: 0, updatedAt: '', status: 'pending', changed: false };
    const bars: BarModel[] = (e.steps ?? [])
      .map((st) => {
        const a = Date.parse(st.startedAt);
        const b = Math.max(Date.parse(st.endedAt), a);
        const leftPct = ((a - startMs) / span) * 100;
        return {
          name: st.name,
          label: STEP_LABELS[st.name] ?? st.name,
          outcome: st.outcome,
          tone: toneOf(st),
          startMs: a,
          endMs: b,
          durationMs: b - a,
          leftPct: Math.max(0, Math.min(100, leftPct)),
          widthPct: Math.max(0, Math.min(100 - leftPct, ((b - a) / span) * 100)),
          ...(st.detail ? { detail: st.detail } : {}),
        };
      })
      .filter((b) => Number.isFinite(b.startMs) && Number.isFinite(b.endMs));
    const needsOperator = e.status === 'rollback-failed';
    if (needsOperator) operator.push({ site: n, why: e.rollback?.detail ?? e.error ?? 'its rollback failed' });
    const backupId = e.backupId ?? r.backups?.[n];
    const backup = backupId ? findBackup(lists, n, backupId) : undefined;
    // the site's data starts to change with its drain (or its upgrade): a site that was never upgraded has no RPO
    const upgradeAt = (e.steps ?? []).find((s) => s.name === 'upgrade' || s.name === 'drain')?.startedAt ?? (e.changed ? e.startedAt : undefined);
    const rpoMs = backup && upgradeAt ? Date.parse(upgradeAt) - Date.parse(backup.time) : undefined;
    const rb = e.rollback && e.rollback.action !== 'none' ? `${e.rollback.action}${e.rollback.toRevision !== undefined ? ` to rev ${e.rollback.toRevision}` : ''}: ${e.rollback.ok ? 'ok' : 'FAILED'}${e.rollback.detail ? ` (${e.rollback.detail})` : ''}` : undefined;
    return {
      site: n,
      status: e.status,
      needsOperator,
      before: describeSiteState(e.before),
      after: describeSiteState(e.after ?? (e.status === 'unchanged' ? e.before : undefined)),
      trafficBefore: trafficSite(r.traffic?.before, n),
      trafficAfter: trafficSite(r.traffic?.after, n),
      traffic: trafficLine(e),
      ...(backupId ? { backupId } : {}),
      ...(backup ? { backupTime: backup.time } : {}),
      ...(rpoMs !== undefined && Number.isFinite(rpoMs) ? { rpoMs } : {}),
      ...(e.error ? { error: e.error } : {}),
      ...(rb ? { rollback: rb } : {}),
      ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
      bars,
    };
  });
  const sites = new Set(order);
  const backups = [...new Set(lists.map((l) => l.site))]
    .filter((s) => !sites.has(s) || !lanes.find((l) => l.site === s)?.backupId)
    .map((s) => {
      const all = lists.filter((l) => l.site === s).flatMap((l) => l.backups).filter((b) => !b.status || b.status === 'complete');
      const latest = [...all].sort((a, b) => (a.time < b.time ? 1 : -1))[0];
      return { site: s, ...(latest ? { latest } : {}), count: new Set(all.map((b) => b.id)).size };
    });
  return {
    release: r.release,
    releaseId: r.releaseId,
    chart: `${r.chart.name} ${r.chart.version}${r.chart.appVersion ? ` (app ${r.chart.appVersion})` : ''}`,
    result: r.result ?? 'pending',
    strategy: r.strategy === 'parallel' ? `parallel (max ${r.maxParallel ?? 1})` : r.strategy,
    onFailure: r.onFailure,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    ...(r.traffic?.provider ?? r.traffic?.before?.provider ? { trafficProvider: r.traffic?.provider ?? r.traffic?.before?.provider } : {}),
    operator,
    lanes,
    startMs,
    endMs,
    backups,
    notes,
  };
}

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const neg = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${neg}${Math.round(a)} ms`;
  if (a < 60_000) return `${neg}${(a / 1000).toFixed(1)} s`;
  if (a < 3_600_000) return `${neg}${Math.floor(a / 60_000)} min ${String(Math.floor((a % 60_000) / 1000)).padStart(2, '0')} s`;
  return `${neg}${Math.floor(a / 3_600_000)} h ${String(Math.floor((a % 3_600_000) / 60_000)).padStart(2, '0')} min`;
}
