/**
 * The five operations of Mongo backup. Layout: `<prefix>/<site>/<instance|database>/<timestamp>-<id>/archive.age`
 * + `manifest.json`, the manifest written last (src/shared/storage/sets.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { RunContext } from '../platform/capability';
import { DecryptError } from '../shared/crypto';
import { InputError, PreconditionError, StackHubError, oneLine } from '../shared/errors';
import {
  compactTime,
  deleteSet,
  downloadToVerifiedCopy,
  freeBytes,
  guardSameHub,
  joinKey,
  listSets,
  planRetention,
  SetWriter,
  shortId,
  verifyManifest,
  type IncompleteUpload,
  type Manifest,
  type ManifestObject,
  type SetEntry,
  type Storage,
  type VerifiedCopy,
} from '../shared/storage';
import { drillDatabaseName, mongodumpArgs, mongorestoreArgs, mongoshCountScript, type MongoUri, type Scope } from './args';
import type { MongoBackupInputs, MongoEndpoint, MongoStorageInputs } from './inputs';
import { openPlace, type ToolPlace } from './place';

/** The manifest `kind` of Mongo backups. */
export const MANIFEST_KIND = 'mongo-backup';

/** The capability-specific block of a Mongo backup manifest. */
export interface MongoManifestData {
  scope: Scope;
  database?: string;
  collection?: string;
  excludeCollections?: string[];
  oplog: boolean;
  readPreference?: string;
  /** Where it was dumped from: place, hosts or pod (never a credential). */
  source: Record<string, unknown>;
  tools: { mongodump?: string };
  /** Per-collection document counts reported by mongodump (`db.collection` → n). */
  counts: Record<string, number>;
  /** The archive object (mongodump --archive --gzip, age-encrypted unless encryption none). */
  archive: string;
}

/** Operation options that tests inject. */
export interface OpsOptions {
  now: () => Date;
  /** Free bytes in a directory (default fs.statfs). */
  freeBytes?: (dir: string) => Promise<number | undefined>;
}

const defaultOps: OpsOptions = { now: () => new Date() };

/** `<site>/<instance|database>` */
export function scopeDir(site: string, scope: Scope, database?: string): string {
  return joinKey(site, scope === 'instance' ? 'instance' : database!);
}

/** `done dumping db.coll (12 documents)` → ['db.coll', 12] */
export function parseDumpedLine(line: string): [string, number] | undefined {
  const m = /done dumping (\S+) \((\d+) documents?\)/.exec(line);
  return m ? [m[1], Number(m[2])] : undefined;
}

/** `finished restoring db.coll (12 documents, 0 failures)` → ['db.coll', 12, 0] */
export function parseRestoredLine(line: string): [string, number, number] | undefined {
  const m = /finished restoring (\S+) \((\d+) documents?, (\d+) failures?\)/.exec(line);
  return m ? [m[1], Number(m[2]), Number(m[3])] : undefined;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function human(n: number): string {
  return n >= 1073741824 ? `${(n / 1073741824).toFixed(2)} GiB` : n >= 1048576 ? mib(n) : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** A heartbeat every ~10 s with the bytes moved so far. */
function heartbeat(ctx: RunContext, what: string): { tick: (bytes: number) => void; stop: () => void } {
  let bytes = 0;
  let last = 0;
  const timer = setInterval(() => ctx.log.progress(undefined, `${what}: ${mib(bytes)}`), 10_000);
  timer.unref();
  return {
    tick: (b) => {
      bytes = b;
      if (b - last >= 256 * 1048576) {
        last = b;
        ctx.log.progress(undefined, `${what}: ${mib(b)}`);
      }
    },
    stop: () => clearInterval(timer),
  };
}

// ------------------------------------------------------------------------------------------------ backup

/** Outputs of backup. */
export interface BackupResult {
  backupId: string;
  location: string;
  sizeBytes: number;
  sha256: string;
  durationSeconds: number;
  manifest: Manifest<MongoManifestData>;
}

/**
 * dump stdout → age → SHA-256 → storage, all streamed; the manifest is written only after mongodump exited 0 and
 * the upload completed. A failure on either side stops the other (mongodump is killed when the upload fails) and
 * leaves no manifest.
 */
export async function backup(inputs: MongoBackupInputs, store: Storage, ctx: RunContext, ops: OpsOptions = defaultOps): Promise<BackupResult> {
  const started = ops.now();
  const enc = inputs.enc.write;
  if (enc.format === 'none') ctx.log.warning('encryption is none: the backup is stored in PLAINTEXT (never for personal data)');
  if (!inputs.enc.signingKey) ctx.log.info('no signingKey: the manifest is not signed (restores with a verifyKey will refuse it)');
  const place = await openPlace(inputs.source!, inputs.kube, ctx);
  const setName = `${compactTime(started)}-${shortId()}`;
  const dir = joinKey(scopeDir(inputs.site, inputs.scope, inputs.database), setName);
  const archive = enc.format === 'age' ? 'archive.age' : 'archive.gz';
  ctx.summary.table(['backup', 'value'], [
    ['id', setName],
    ['site', inputs.site],
    ['scope', inputs.scope === 'instance' ? 'instance (--oplog)' : `database ${inputs.database}`],
    ['source', place.description],
    ['target', store.location(dir)],
    ['encryption', enc.format === 'age' ? `age, ${enc.recipients.length} recipient(s)` : 'NONE (plaintext)'],
  ]);
  try {
    // the version is for the manifest only: ask for it while the dump runs
    const versionP = place.toolVersion('mongodump').catch((e: unknown) => e as Error);
    ctx.log.info(`mongodump in ${place.description} → ${store.location(joinKey(dir, archive))}`);
    const counts: Record<string, number> = {};
    const hb = heartbeat(ctx, 'stored');
    const writer = new SetWriter(store, dir, { encryption: enc, onProgress: hb.tick });
    const ac = new AbortController();
    const pipe = new PassThrough({ highWaterMark: 1024 * 1024 });
    const dumpP = place
      .dump(
        (cfg) =>
          mongodumpArgs({
            scope: inputs.scope,
            database: inputs.database,
            collection: inputs.collection,
            excludeCollections: inputs.excludeCollections,
            readPreference: inputs.readPreference,
            configPath: cfg,
            extraArgs: inputs.dumpExtraArgs,
          }),
        pipe,
        {
          timeoutMs: inputs.timeoutMs,
          signal: ac.signal,
          onStderr: (l) => {
            const c = parseDumpedLine(l);
            if (c) counts[c[0]] = c[1];
          },
        },
      )
      .then(
        () => void pipe.end(),
        (e: unknown) => {
          pipe.destroy(e instanceof Error ? e : new Error(String(e)));
          throw e;
        },
      );
    const putP = writer.put(archive, pipe).catch((e: unknown) => {
      ac.abort(e instanceof Error ? e : new Error(String(e)));
      throw e;
    });
    const [d, p] = await Promise.allSettled([dumpP, putP]);
    hb.stop();
    if (d.status === 'rejected' || p.status === 'rejected') {
      // the root cause: the dump when it failed by itself, else the store
      const storeFailed = p.status === 'rejected' && (d.status === 'fulfilled' || ac.signal.aborted);
      const err = storeFailed ? (p as PromiseRejectedResult).reason : (d as PromiseRejectedResult).reason;
      const left = await writer.abandon();
      if (left) ctx.log.warning(`the interrupted backup ${setName} could not be removed (${left}); prune reports and removes it`);
      ctx.summary.text(`**No manifest written**: backup ${setName} did not complete.`);
      throw err;
    }
    const obj = (p as PromiseFulfilledResult<ManifestObject>).value;
    const v = await versionP;
    if (v instanceof Error) throw v;
    const mongodumpVersion = v;
    ctx.log.info(`mongodump ${mongodumpVersion ?? '(version unknown)'}: ${human(obj.plainSize)} dumped`);
    const data: MongoManifestData = {
      scope: inputs.scope,
      database: inputs.database,
      collection: inputs.collection,
      excludeCollections: inputs.excludeCollections.length ? inputs.excludeCollections : undefined,
      oplog: inputs.scope === 'instance',
      readPreference: inputs.readPreference,
      source: place.source,
      tools: { mongodump: mongodumpVersion },
      counts,
      archive,
    };
    const manifest = await writer.commit({ kind: MANIFEST_KIND, id: setName, site: inputs.site, data }, inputs.enc.signingKey);
    const durationSeconds = Math.round((ops.now().getTime() - started.getTime()) / 100) / 10;
    ctx.log.progress(100, `backup ${setName}: ${human(obj.size)} stored`);
    ctx.summary.table(
      ['collection', 'documents'],
      Object.entries(counts).map(([k, v]) => [k, v]),
    );
    ctx.summary.table(['result', 'value'], [
      ['stored', `${human(obj.size)} (${obj.size} bytes; ${human(obj.plainSize)} before encryption)`],
      ['sha256', obj.sha256],
      ['signed', manifest.signature ? `yes (${manifest.signature.keyFingerprint})` : 'no'],
      ['duration', `${durationSeconds} s`],
    ]);
    return { backupId: setName, location: store.location(dir), sizeBytes: obj.size, sha256: obj.sha256, durationSeconds, manifest };
  } finally {
    const w = await place.cleanup();
    if (w) ctx.log.warning(w);
  }
}

// ------------------------------------------------------------------------------------------------ finding backups

/** Finds the backup to restore: `latest` (newest complete) or an id (full set name or its id suffix). */
export async function findBackup(store: Storage, parent: string, backupId: string): Promise<SetEntry<MongoManifestData>> {
  const sets = await listSets<MongoManifestData>(store, parent);
  const complete = sets.filter((s) => s.manifest && s.manifest.kind === MANIFEST_KIND);
  if (backupId === 'latest') {
    const latest = complete.sort((a, b) => Date.parse(b.manifest!.completedAt) - Date.parse(a.manifest!.completedAt))[0];
    if (!latest) throw new InputError('backupId', `no complete backup under ${store.location(parent)} (${sets.length} without a manifest)`);
    return latest;
  }
  const hit = sets.find((s) => s.name === backupId || s.name.endsWith(`-${backupId}`) || s.manifest?.id === backupId);
  if (!hit) {
    const known = complete.slice(-3).map((s) => s.name).join(', ');
    throw new InputError('backupId', `unknown backup id '${backupId}' under ${store.location(parent)}${known ? ` (newest: ${known})` : ''}`);
  }
  if (!hit.manifest) throw new PreconditionError(`backup ${hit.name} has no ${hit.manifestError ? 'valid ' : ''}manifest: it is an interrupted backup and cannot be restored${hit.manifestError ? ` (${hit.manifestError})` : ''}`);
  return hit;
}

// ------------------------------------------------------------------------------------------------ restore

/** A private download dir under workDirectory (or the run's temp dir), removed by the caller. */
function downloadDir(inputs: MongoStorageInputs, ctx: RunContext): string {
  const base = inputs.workDirectory ?? ctx.tempDir;
  try {
    fs.mkdirSync(base, { recursive: true });
  } catch (e) {
    throw new InputError('workDirectory', `cannot create ${base}: ${(e as NodeJS.ErrnoException).code ?? oneLine(e)}`);
  }
  try {
    const d = fs.mkdtempSync(path.join(base, 'stackhub-ha-restore-'));
    fs.chmodSync(d, 0o700);
    return d;
  } catch (e) {
    throw new InputError('workDirectory', `cannot create a private directory in ${base}: ${(e as NodeJS.ErrnoException).code ?? oneLine(e)}`);
  }
}

/**
 * Verifies a backup and downloads it into a private dir: signature, free space (for the ciphertext only), then in one
 * network pass SHA-256 + size + every age chunk's tag. The caller closes the returned copy.
 */
async function fetchVerified(
  inputs: MongoStorageInputs,
  store: Storage,
  set: SetEntry<MongoManifestData>,
  work: string,
  ctx: RunContext,
  ops: OpsOptions,
): Promise<{ copy: VerifiedCopy; obj: ManifestObject; manifest: Manifest<MongoManifestData>; signed: boolean }> {
  const manifest = set.manifest!;
  // 1. signature (before a single byte of the archive is read)
  const sig = verifyManifest(manifest, inputs.enc.verifyKey, `backup ${set.name}`);
  if (!inputs.enc.verifyKey) ctx.log.warning(`no verifyKey: backup ${set.name} is ${sig.signed ? 'signed but not verified' : 'unsigned'}; anyone who can write to the storage could have forged it`);
  const obj = manifest.objects.find((o) => o.name === manifest.data.archive) ?? manifest.objects[0];
  if (!obj) throw new PreconditionError(`backup ${set.name}: the manifest lists no archive`);
  if (obj.encrypted && !inputs.enc.identities?.length) throw new InputError('ageIdentity', `backup ${set.name} is encrypted: set the age identity that matches its recipients (${manifest.encryption.format === 'age' ? manifest.encryption.recipients.join(', ') : ''})`);
  // 2. free space
  const free = await (ops.freeBytes ?? freeBytes)(work);
  const need = obj.size + 16 * 1048576;
  if (free !== undefined && free < need) {
    throw new InputError('workDirectory', `needs ${human(need)} free to download backup ${set.name} (${obj.size} bytes), ${human(free)} available in ${inputs.workDirectory ?? 'the agent temp dir'}`);
  }
  // 3. one network pass: the ciphertext into a private 0600 descriptor, with size, SHA-256 and every age chunk's tag
  //    checked in the same stream; mongorestore later reads the copy decrypted with the keystream (verified-copy.ts)
  const file = path.join(work, obj.name);
  const hb = heartbeat(ctx, 'downloaded and verified');
  let copy: VerifiedCopy;
  try {
    copy = await downloadToVerifiedCopy(store, set.dir, obj, file, { identities: inputs.enc.identities, onProgress: hb.tick });
  } catch (e) {
    if (e instanceof DecryptError) throw new PreconditionError(`backup ${set.name} refused: ${e.message}`);
    throw e;
  } finally {
    hb.stop();
  }
  ctx.log.info(`backup ${set.name}: ${human(obj.size)} downloaded; SHA-256${obj.encrypted ? ', age authentication' : ''}${sig.verified ? ' and signature' : ''} verified`);
  return { copy, obj, manifest, signed: sig.verified };
}

/** Streams a verified archive into mongorestore. Returns per-collection restored counts and failures. */
async function runRestore(
  place: ToolPlace,
  copy: VerifiedCopy,
  spec: { scope: Scope; database?: string; targetDatabase?: string; drop: boolean; extraArgs: string[] },
  timeoutMs: number,
): Promise<{ restored: Record<string, number>; failures: number }> {
  const plain: Readable = copy.plaintext();
  const ac = new AbortController();
  plain.once('error', (e) => ac.abort(e));
  const restored: Record<string, number> = {};
  let failures = 0;
  await place.restore(
    (cfg) => mongorestoreArgs({ scope: spec.scope, database: spec.database, targetDatabase: spec.targetDatabase, drop: spec.drop, configPath: cfg, extraArgs: spec.extraArgs }),
    plain,
    {
      timeoutMs,
      signal: ac.signal,
      onStderr: (l) => {
        const r = parseRestoredLine(l);
        if (r) {
          restored[r[0]] = r[1];
          failures += r[2];
        }
      },
    },
  );
  return { restored, failures };
}

/** Outputs of restore. */
export interface RestoreResult {
  backupId: string;
  location: string;
  sizeBytes: number;
  sha256: string;
  durationSeconds: number;
}

/** Restore: latest or by id; verified completely before mongorestore starts. */
export async function restore(inputs: MongoStorageInputs, store: Storage, ctx: RunContext, ops: OpsOptions = defaultOps): Promise<RestoreResult> {
  const started = ops.now();
  const parent = scopeDir(inputs.site, inputs.scope, inputs.database);
  const set = await findBackup(store, parent, inputs.backupId);
  const m = set.manifest!;
  if (m.data.scope !== inputs.scope) throw new InputError('scope', `backup ${set.name} has scope ${m.data.scope}`);
  // resolve the target (pod, RBAC) before downloading anything
  const place = await openPlace(inputs.source!, inputs.kube, ctx);
  const work = downloadDir(inputs, ctx);
  let closeCopy = (): void => undefined;
  try {
    const { copy, obj } = await fetchVerified(inputs, store, set, work, ctx, ops);
    closeCopy = copy.close;
    if (m.data.scope === 'instance') ctx.log.warning(`restoring scope instance also restores the admin users and roles of backup ${set.name}${inputs.drop ? ' (--drop: existing users and roles are replaced)' : ''}`);
    ctx.log.info(`mongorestore into ${place.description}${inputs.targetDatabase ? ` as database ${inputs.targetDatabase}` : ''}`);
    const r = await runRestore(place, copy, { scope: m.data.scope, database: m.data.database, targetDatabase: inputs.targetDatabase, drop: inputs.drop ?? false, extraArgs: inputs.restoreExtraArgs }, inputs.timeoutMs);
    if (r.failures > 0) ctx.log.warning(`mongorestore reported ${r.failures} document(s) that failed to restore`);
    const durationSeconds = Math.round((ops.now().getTime() - started.getTime()) / 100) / 10;
    ctx.summary.table(['restore', 'value'], [
      ['backup', set.name],
      ['taken', m.completedAt],
      ['into', place.description + (inputs.targetDatabase ? ` as ${inputs.targetDatabase}` : '')],
      ['verified', 'signature ' + (inputs.enc.verifyKey ? 'yes' : 'not checked (no verifyKey)') + `, SHA-256 yes${obj.encrypted ? ', age yes' : ''}`],
      ['documents', Object.values(r.restored).reduce((a, b) => a + b, 0)],
      ['failures', r.failures],
      ['duration', `${durationSeconds} s`],
    ]);
    return { backupId: set.name, location: store.location(set.dir), sizeBytes: obj.size, sha256: obj.sha256, durationSeconds };
  } finally {
    closeCopy();
    fs.rmSync(work, { recursive: true, force: true });
    const w = await place.cleanup();
    if (w) ctx.log.warning(w);
  }
}

// ------------------------------------------------------------------------------------------------ drill

/** Outputs of drill. */
export interface DrillResult extends RestoreResult {
  rpoSeconds: number;
  rtoSeconds: number;
  verified: boolean;
}

const SYSTEM_DBS = new Set(['admin', 'config', 'local']);

/**
 * Drill: restore the latest backup into a scratch target (or, for scope database, the same instance under
 * `<db>_drill_<id>`), compare per-collection counts with the manifest, drop what it restored, report RPO and RTO.
 */
export async function drill(inputs: MongoStorageInputs, store: Storage, ctx: RunContext, ops: OpsOptions = defaultOps): Promise<DrillResult> {
  const parent = scopeDir(inputs.site, inputs.scope, inputs.database);
  const set = await findBackup(store, parent, inputs.backupId);
  const m = set.manifest!;
  const rpoSeconds = Math.round((ops.now().getTime() - Date.parse(m.completedAt)) / 1000);
  const sameInstance = inputs.drillTarget === 'same-instance';
  const target: MongoEndpoint = sameInstance ? inputs.source! : inputs.scratch!;
  const renamed = sameInstance ? drillDatabaseName(m.data.database!, set.name.split('-').pop()!.slice(0, 8)) : undefined;
  const place = await openPlace(target, inputs.kube, ctx);
  const work = downloadDir(inputs, ctx);
  const t0 = ops.now();
  const map = (ns: string): string => (renamed && ns.startsWith(`${m.data.database}.`) ? `${renamed}.${ns.slice(m.data.database!.length + 1)}` : ns);
  const expected = Object.fromEntries(Object.entries(m.data.counts).filter(([ns]) => !SYSTEM_DBS.has(ns.split('.')[0])).map(([ns, n]) => [map(ns), n]));
  const databases = [...new Set([...Object.keys(expected).map((ns) => ns.split('.')[0]), ...(renamed ? [renamed] : m.data.database ? [m.data.database] : [])])];
  let restoredAny = false;
  let closeCopy = (): void => undefined;
  try {
    const { copy, obj } = await fetchVerified(inputs, store, set, work, ctx, ops);
    closeCopy = copy.close;
    ctx.log.info(`drill: restoring backup ${set.name} into ${place.description}${renamed ? ` as ${renamed}` : ' (scratch)'}`);
    restoredAny = true;
    // scope instance: no --drop (it would replace the scratch instance's users with the backup's)
    await runRestore(place, copy, { scope: m.data.scope, database: m.data.database, targetDatabase: renamed, drop: m.data.scope === 'database', extraArgs: inputs.restoreExtraArgs }, inputs.timeoutMs);
    const rtoSeconds = Math.round((ops.now().getTime() - t0.getTime()) / 100) / 10;
    // count and drop in one mongosh session
    const out = await place.mongosh((cfg) => mongoshCountScript({ databases, drop: true, connection: connectionFor(target, cfg) }), { timeoutMs: inputs.timeoutMs });
    restoredAny = false;
    const line = out.split('\n').find((l) => l.startsWith('STACKHUB_RESULT '));
    if (!line) throw new StackHubError('drill: mongosh printed no result (see its output above)');
    const result = JSON.parse(line.slice('STACKHUB_RESULT '.length)) as { counts: Record<string, number>; dropped: string[] };
    const rows: unknown[][] = [];
    let verified = true;
    for (const ns of [...new Set([...Object.keys(expected), ...Object.keys(result.counts)])].sort()) {
      const want = expected[ns];
      const got = result.counts[ns];
      const ok = want === got;
      if (!ok) verified = false;
      rows.push([ns, want ?? '(not in backup)', got ?? '(missing)', ok ? 'ok' : 'DIFFERENT']);
    }
    if (Object.keys(expected).length === 0) {
      verified = false;
      ctx.log.warning('the manifest holds no per-collection counts: nothing to compare');
    }
    ctx.summary.table(['drill', 'value'], [
      ['backup', set.name],
      ['taken', m.completedAt],
      ['target', place.description + (renamed ? ` as ${renamed}` : '')],
      ['RPO (age of the backup)', `${rpoSeconds} s`],
      ['RTO (download, verify, restore)', `${rtoSeconds} s`],
      ['counts', verified ? 'match the manifest' : 'DIFFER from the manifest'],
      ['dropped', result.dropped.join(', ')],
    ]);
    ctx.summary.table(['collection', 'manifest', 'restored', ''], rows);
    if (!verified) throw new PreconditionError(`drill of backup ${set.name}: restored counts differ from the manifest (see the summary); the drill databases were dropped`);
    return {
      backupId: set.name,
      location: store.location(set.dir),
      sizeBytes: obj.size,
      sha256: obj.sha256,
      durationSeconds: rtoSeconds,
      rpoSeconds,
      rtoSeconds,
      verified,
    };
  } finally {
    closeCopy();
    fs.rmSync(work, { recursive: true, force: true });
    if (restoredAny) {
      // the restore or the count failed after data may have been written: drop it anyway
      try {
        await place.mongosh((cfg) => mongoshCountScript({ databases, drop: true, connection: connectionFor(target, cfg) }), { timeoutMs: inputs.timeoutMs });
      } catch (e) {
        ctx.log.warning(`drill: could not drop ${databases.join(', ')} from ${place.description}: ${oneLine(e)}`);
      }
    }
    const w = await place.cleanup();
    if (w) ctx.log.warning(w);
  }
}

function connectionFor(ep: MongoEndpoint, cfgPath: string): { uri: MongoUri } | { configPath: string } {
  if (ep.place === 'agent') return { uri: ep.uri };
  return 'configPath' in ep.config ? { configPath: ep.config.configPath } : { configPath: cfgPath };
}

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

/** Re-exported for the capability. */
export { guardSameHub };
