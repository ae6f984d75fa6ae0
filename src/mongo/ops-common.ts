/** What the Mongo backup operations share: the manifest kind and data, injected options, archive log lines, a progress heartbeat. */
import type { RunContext } from '../platform/capability';
import {
  joinKey,
} from '../shared/storage';
import { type Scope } from './args';

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

export const defaultOps: OpsOptions = { now: () => new Date() };

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

export function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function human(n: number): string {
  return n >= 1073741824 ? `${(n / 1073741824).toFixed(2)} GiB` : n >= 1048576 ? mib(n) : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** A heartbeat every ~10 s with the bytes moved so far. */
export function heartbeat(ctx: RunContext, what: string): { tick: (bytes: number) => void; stop: () => void } {
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
