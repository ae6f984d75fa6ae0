/**
 * The release record: a versioned JSON document (record.schema.json, docs/release-record.md) that the first stage of
 * a release creates and every later stage reads and extends. It says what each site ran before the release (so a
 * rollback stage on each site can restore it), what the release did there, the traffic state before and after, gate
 * results and durations. It holds no values and no secrets: values only as hashes.
 *
 * Per-site jobs of one stage run in parallel and each writes its own copy; a later stage reads them all and
 * {@link mergeRecords} keeps, per site, the entry written last (highest `seq`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import type { TrafficState } from '../traffic/api';
import { InputError } from '../shared/errors';
import type { ChartSourceKind } from './chart';
import type { SiteState } from './state';
import { RELEASE_RECORD_ATTACHMENT_TYPE } from '../report/model';
import schema from './record.schema.json';

/** Schema id of the record. */
export const RECORD_SCHEMA = 'stackhub-ha/helm-release-record';
/**
 * Current record version. 2 added `sites.<site>.steps` (start/end of each step); a version-1 record (no steps) is
 * still read, and a record is written with version 2 from then on.
 */
export const RECORD_VERSION = 2;

/** The ADO run attachment type of release records (for the extension's release results tab). */
export const RECORD_ATTACHMENT_TYPE = RELEASE_RECORD_ATTACHMENT_TYPE;

/** The steps of a site's release, in order; `rollback` only when it was rolled back. */
export const STEP_NAMES = ['preflight', 'backup', 'drain', 'upgrade', 'verify', 'restore-traffic', 'rollback'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** When one step of a site ran and how it ended (record version 2). */
export interface StepTiming {
  name: StepName;
  startedAt: string;
  endedAt: string;
  outcome: 'ok' | 'failed';
  detail?: string;
}

/** A check or gate with its outcome. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  durationMs?: number;
}

/** Where a site is in the release. */
export type SiteStatus =
  | 'pending'
  | 'preflight-ok'
  | 'preflight-failed'
  | 'unchanged'
  | 'upgrading'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'rollback-failed'
  | 'skipped';

/** Overall outcome. */
export type ReleaseResult = 'pending' | 'dry-run' | 'preflight-failed' | 'succeeded' | 'unchanged' | 'failed' | 'rolled-back' | 'rollback-failed';

/** One site's entry. */
export interface SiteRecord {
  site: string;
  /** Incremented by every command that writes the entry; the highest wins when copies are merged. */
  seq: number;
  updatedAt: string;
  namespace?: string;
  helmVersion?: string;
  /** sha256 of the canonical JSON of the site's desired user values */
  valuesHash?: string;
  status: SiteStatus;
  /** true once this release ran `helm upgrade` on the site, whatever its outcome */
  changed: boolean;
  preflight?: {
    ok: boolean;
    at: string;
    checks: Check[];
    diff?: { added: number; changed: number; removed: number; unchanged: number };
    loadBalancers?: { existing: number; chart: number; limit: number };
  };
  before?: SiteState;
  after?: SiteState;
  gates?: Check[];
  traffic?: { servingBefore?: boolean; drained?: boolean; restored?: boolean; servingAfter?: boolean; detail?: string };
  rollback?: { ok: boolean; action: 'rollback' | 'uninstall' | 'none'; toRevision?: number; at: string; detail?: string };
  startedAt?: string;
  durationMs?: number;
  error?: string;
  backupId?: string;
  /** Record version 2: each step's start and end, in the order they ran (a repeated step replaces its earlier run). */
  steps?: StepTiming[];
}

/** Returns `steps` with `step` in place of an earlier run of the same step (kept in the order steps ran). */
export function withStep(steps: readonly StepTiming[] | undefined, step: StepTiming): StepTiming[] {
  return [...(steps ?? []).filter((s) => s.name !== step.name), step];
}

/** The record. */
/** A replica-set primary in the record. */
export interface MongoPrimaryRef {
  host: string;
  site?: string;
}

/** The release record (record.schema.json). */
export interface ReleaseRecord {
  schema: typeof RECORD_SCHEMA;
  /** 1 (no step timings) or 2; always written as {@link RECORD_VERSION}. */
  version: 1 | typeof RECORD_VERSION;
  releaseId: string;
  release: string;
  createdAt: string;
  updatedAt: string;
  chart: { source: ChartSourceKind; ref: string; repoUrl?: string; name: string; version: string; appVersion?: string; digest: string };
  strategy: 'sequential' | 'parallel';
  maxParallel?: number;
  onFailure: 'rollback-all' | 'stop' | 'continue';
  /** Site names in the sites file's order (the first is the canary). */
  siteOrder: string[];
  /** site → id of the pre-release backup (Mongo backup step) */
  backups?: Record<string, string>;
  traffic?: { provider?: string; before?: TrafficState; after?: TrafficState };
  /** Where the MongoDB replica set's primary was before the release and after it (null: no primary). */
  mongo?: { before?: MongoPrimaryRef | null; after?: MongoPrimaryRef | null };
  result?: ReleaseResult;
  sites: Record<string, SiteRecord>;
}

let validator: ReturnType<Ajv['compile']> | undefined;

/** Validates a parsed document against the schema; throws InputError naming `input`. */
export function validateRecord(doc: unknown, input: string, where: string): ReleaseRecord {
  const d = doc as { schema?: unknown; version?: unknown };
  if (d && typeof d === 'object' && d.schema === RECORD_SCHEMA && typeof d.version === 'number' && d.version > RECORD_VERSION) {
    throw new InputError(input, `${where}: record version ${d.version} is newer than this task understands (${RECORD_VERSION}): update the task`);
  }
  validator ??= new Ajv({ allErrors: false, strict: false }).compile(schema);
  if (!validator(doc)) {
    const e = validator.errors?.[0];
    throw new InputError(input, `${where}: not a release record (${e?.instancePath || '/'} ${e?.message ?? 'is invalid'})`);
  }
  return doc as ReleaseRecord;
}

/** Reads every record in the given files and directories (`*.json` inside); a missing path is an error. */
export function readRecords(paths: readonly string[], input: string): ReleaseRecord[] {
  const files: string[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new InputError(input, `cannot read ${p}`);
    }
    if (st.isDirectory()) {
      const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const f = path.join(dir, e.name);
          if (e.isDirectory()) walk(f);
          else if (e.name.endsWith('.json')) files.push(f);
        }
      };
      walk(p);
    } else files.push(p);
  }
  if (paths.length > 0 && files.length === 0) throw new InputError(input, `no release record (*.json) in ${paths.join(', ')}`);
  return files.map((f) => {
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch (e) {
      throw new InputError(input, `${f}: not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    return validateRecord(doc, input, f);
  });
}

/** Parses an inline record (the `record` output of an earlier step). */
export function parseRecordText(text: string, input: string): ReleaseRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(input, `not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return validateRecord(doc, input, 'the inline record');
}

function newer(a: SiteRecord, b: SiteRecord): SiteRecord {
  if (a.seq !== b.seq) return a.seq > b.seq ? a : b;
  return a.updatedAt >= b.updatedAt ? a : b;
}

/**
 * Merges copies of one release's record: same releaseId, release and chart digest required (InputError naming
 * `input` otherwise); per site the entry with the highest `seq` wins.
 */
export function mergeRecords(records: readonly ReleaseRecord[], input: string): ReleaseRecord | undefined {
  if (records.length === 0) return undefined;
  const first = records[0];
  for (const r of records.slice(1)) {
    if (r.releaseId !== first.releaseId || r.release !== first.release || r.chart.digest !== first.chart.digest) {
      throw new InputError(
        input,
        `the records belong to different releases (${first.release} ${first.releaseId} chart ${first.chart.version} vs ${r.release} ${r.releaseId} chart ${r.chart.version})`,
      );
    }
  }
  const out: ReleaseRecord = JSON.parse(JSON.stringify(first)) as ReleaseRecord;
  for (const r of records.slice(1)) {
    if (r.createdAt < out.createdAt) out.createdAt = r.createdAt;
    if (r.updatedAt > out.updatedAt) out.updatedAt = r.updatedAt;
    for (const [name, s] of Object.entries(r.sites)) out.sites[name] = out.sites[name] ? newer(out.sites[name], s) : s;
    if (r.backups) out.backups = { ...r.backups, ...(out.backups ?? {}) };
    if (r.traffic?.before && (!out.traffic?.before || r.traffic.before.capturedAt < out.traffic.before.capturedAt)) {
      out.traffic = { ...(out.traffic ?? {}), provider: r.traffic.provider ?? out.traffic?.provider, before: r.traffic.before };
    }
    if (r.traffic?.after && (!out.traffic?.after || r.traffic.after.capturedAt > out.traffic.after.capturedAt)) {
      out.traffic = { ...(out.traffic ?? {}), after: r.traffic.after };
    }
  }
  out.sites = JSON.parse(JSON.stringify(out.sites)) as Record<string, SiteRecord>;
  out.result = overallResult(out);
  return out;
}

/** The overall result the site entries add up to. */
export function overallResult(r: ReleaseRecord): ReleaseResult {
  const st = r.siteOrder.map((n) => r.sites[n]?.status ?? 'pending');
  if (st.includes('rollback-failed')) return 'rollback-failed';
  if (st.includes('failed')) return 'failed';
  if (st.includes('rolled-back')) return 'rolled-back';
  if (st.includes('preflight-failed')) return 'preflight-failed';
  if (st.every((s) => s === 'unchanged')) return 'unchanged';
  if (st.every((s) => s === 'succeeded' || s === 'unchanged')) return 'succeeded';
  return 'pending';
}

/** Sites this release changed that are not (verifiably) back to their state before it. */
export function sitesNeedingRollback(r: ReleaseRecord): string[] {
  return r.siteOrder.filter((n) => {
    const s = r.sites[n];
    return s?.changed === true && s.status !== 'rolled-back';
  });
}

/** Replaces a site's entry, bumping its seq. */
export function putSite(r: ReleaseRecord, entry: Omit<SiteRecord, 'seq' | 'updatedAt'> & Partial<Pick<SiteRecord, 'seq' | 'updatedAt'>>, now = new Date()): SiteRecord {
  const prev = r.sites[entry.site];
  const e: SiteRecord = { ...entry, seq: Math.max(prev?.seq ?? 0, entry.seq ?? 0) + 1, updatedAt: now.toISOString() };
  r.sites[entry.site] = e;
  r.updatedAt = e.updatedAt;
  r.result = overallResult(r);
  return e;
}

/**
 * Writes the record (0644: it holds no secrets) via a temp file + rename, without blocking the event loop: the
 * orchestrated run writes it while other sites' helm calls finish, and a synchronous write (plus rename) of a
 * many-site record held all of them up.
 */
export async function writeRecord(r: ReleaseRecord, file: string): Promise<void> {
  const text = JSON.stringify(r, null, 2) + '\n';
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, text, { mode: 0o644 });
  await fs.promises.rename(tmp, file);
}
