/** Mongo restore and drill: find a backup, verify it completely, then stream it into mongorestore. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Readable } from 'node:stream';
import type { RunContext } from '../platform/capability';
import { DecryptError } from '../shared/crypto';
import { InputError, PreconditionError, StackHubError, oneLine } from '../shared/errors';
import {
  downloadToVerifiedCopy,
  freeBytes,
  listSets,
  verifyManifest,
  type Manifest,
  type ManifestObject,
  type SetEntry,
  type Storage,
  type VerifiedCopy,
} from '../shared/storage';
import { drillDatabaseName, mongorestoreArgs, mongoshCountScript, type MongoUri, type Scope } from './args';
import type { MongoEndpoint, MongoStorageInputs } from './inputs';
import { openPlace, type ToolPlace } from './place';
import { MANIFEST_KIND, defaultOps, scopeDir, parseRestoredLine, human, heartbeat, type MongoManifestData, type OpsOptions } from './ops-common';

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
