/**
 * The five operations of Mongo backup. Layout: `<prefix>/<site>/<instance|database>/<timestamp>-<id>/archive.age`
 * + `manifest.json`, the manifest written last (src/shared/storage/sets.ts). One module per operation: backup.ts,
 * restore.ts (restore and drill), list-prune.ts; what they share is in ops-common.ts.
 */
import { guardSameHub } from '../shared/storage';

export { MANIFEST_KIND, scopeDir, parseDumpedLine, parseRestoredLine, type MongoManifestData, type OpsOptions } from './ops-common';
export { backup, type BackupResult } from './backup';
export { findBackup, restore, drill, type RestoreResult, type DrillResult } from './restore';
export { listBackups, prune, type BackupRow, type PruneResult } from './list-prune';

/** Re-exported for the capability. */
export { guardSameHub };
