/** Mongo backup: mongodump streamed (compressed, encrypted) into a new backup set. */
import { PassThrough } from 'node:stream';
import type { RunContext } from '../platform/capability';
import {
  compactTime,
  joinKey,
  SetWriter,
  shortId,
  type Manifest,
  type ManifestObject,
  type Storage,
} from '../shared/storage';
import { mongodumpArgs } from './args';
import type { MongoBackupInputs } from './inputs';
import { openPlace } from './place';
import { MANIFEST_KIND, defaultOps, scopeDir, parseDumpedLine, human, heartbeat, type MongoManifestData, type OpsOptions } from './ops-common';

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
