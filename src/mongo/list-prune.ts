/** Mongo list and prune: the backups of a site, and the retention policy applied to them. */
import type { RunContext } from '../platform/capability';
import {
  deleteSet,
  joinKey,
  listSets,
  planRetention,
  type IncompleteUpload,
  type Storage,
} from '../shared/storage';
import type { MongoStorageInputs } from './inputs';
import { defaultOps, type MongoManifestData, type OpsOptions } from './ops-common';

// ------------------------------------------------------------------------------------------------ list

/** One row of `list`. */
export interface BackupRow {
  id: string;
  time: string;
  sizeBytes: number;
  scope: string;
  database?: string;
  encrypted: boolean;
  signed: boolean;
  status: 'complete' | 'incomplete' | 'invalid';
  location: string;
}

/** The scope directories (`instance`, database names) under a site. */
async function scopeDirs(store: Storage, site: string): Promise<string[]> {
  const objs = await store.list(`${site}/`);
  const dirs = new Set<string>();
  for (const o of objs) {
    const parts = o.key.split('/');
    if (parts.length >= 4) dirs.add(parts[1]);
  }
  return [...dirs].sort();
}

/** Every backup of the site (or of one scope directory when `only` is set). */
export async function listBackups(store: Storage, site: string, only?: string): Promise<BackupRow[]> {
  const dirs = only ? [only] : await scopeDirs(store, site);
  const rows: BackupRow[] = [];
  for (const d of dirs) {
    for (const s of await listSets<MongoManifestData>(store, joinKey(site, d))) {
      const m = s.manifest;
      const archive = m?.objects.find((o) => o.name === m.data.archive) ?? m?.objects[0];
      rows.push({
        id: s.name,
        time: m?.completedAt ?? s.lastModified.toISOString(),
        sizeBytes: archive?.size ?? s.bytes,
        scope: m?.data.scope ?? (d === 'instance' ? 'instance' : 'database'),
        database: m?.data.database ?? (d === 'instance' ? undefined : d),
        encrypted: m ? m.encryption.format === 'age' : false,
        signed: !!m?.signature,
        status: m ? 'complete' : s.manifestError ? 'invalid' : 'incomplete',
        location: store.location(s.dir),
      });
    }
  }
  return rows.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
}

// ------------------------------------------------------------------------------------------------ prune

/** What prune did (or would do). */
export interface PruneResult {
  deleted: number;
  orphans: number;
  uploads: number;
  kept: number;
}

/**
 * Retention per scope directory: keep the newest N and/or those younger than D days; never the newest complete
 * backup; only backups with a manifest count. Prefixes without a manifest and incomplete uploads older than the
 * grace period are interrupted backups: reported and removed. Dry run deletes nothing.
 */
export async function prune(inputs: MongoStorageInputs, store: Storage, ctx: RunContext, ops: OpsOptions = defaultOps): Promise<PruneResult> {
  const now = ops.now();
  const only = inputs.database ? inputs.database : undefined;
  const dirs = only ? [only] : await scopeDirs(store, inputs.site);
  // interrupted S3 multipart / filesystem partial writes may exist where no object does yet
  const uploadsAll = await store.listIncompleteUploads(`${inputs.site}/`);
  for (const u of uploadsAll) {
    const d = u.key.split('/')[1];
    if (d && !dirs.includes(d) && (!only || d === only)) dirs.push(d);
  }
  const rows: unknown[][] = [];
  const total: PruneResult = { deleted: 0, orphans: 0, uploads: 0, kept: 0 };
  const dry = inputs.retention.dryRun;
  for (const d of dirs.sort()) {
    const parent = joinKey(inputs.site, d);
    const sets = await listSets<MongoManifestData>(store, parent);
    const uploads = uploadsAll.filter((u) => u.key.startsWith(`${parent}/`));
    const plan = planRetention(sets, uploads, { ...inputs.retention, now });
    for (const s of plan.keep) rows.push([d, s.name, 'keep', s.manifest!.completedAt]);
    for (const s of plan.pending) rows.push([d, s.name, 'keep (no manifest yet, within grace period)', s.lastModified.toISOString()]);
    for (const s of plan.expire) {
      rows.push([d, s.name, dry ? 'would delete (expired)' : 'deleted (expired)', s.manifest!.completedAt]);
      if (!dry) await deleteSet(store, s);
    }
    for (const s of plan.orphans) {
      ctx.log.warning(`interrupted backup (no manifest): ${store.location(s.dir)}, last written ${s.lastModified.toISOString()}${dry ? '' : ' — removing'}`);
      rows.push([d, s.name, dry ? 'would delete (interrupted, no manifest)' : 'deleted (interrupted, no manifest)', s.lastModified.toISOString()]);
      if (!dry) await deleteSet(store, s);
    }
    for (const u of plan.staleUploads) rows.push([d, u.key, describeUpload(u, dry), u.initiated?.toISOString() ?? '']);
    if (!dry) for (const u of plan.staleUploads) await store.abortIncompleteUpload(u);
    total.deleted += plan.expire.length;
    total.orphans += plan.orphans.length;
    total.uploads += plan.staleUploads.filter((u) => u.abortable).length;
    total.kept += plan.keep.length;
  }
  ctx.summary.text(
    `Retention: ${[inputs.retention.keepLast !== undefined ? `newest ${inputs.retention.keepLast}` : '', inputs.retention.keepDays !== undefined ? `younger than ${inputs.retention.keepDays} days` : ''].filter(Boolean).join(' or ')}; the newest complete backup is always kept. Interrupted backups older than ${inputs.retention.orphanGraceHours} h are removed.${dry ? ' **Dry run: nothing deleted.**' : ''}`,
  );
  ctx.summary.table(['scope', 'backup', 'action', 'time'], rows);
  return total;
}

function describeUpload(u: IncompleteUpload, dry: boolean): string {
  if (!u.abortable) return 'uncommitted upload (the service removes it after 7 days)';
  return dry ? 'would abort (incomplete upload)' : 'aborted (incomplete upload)';
}
