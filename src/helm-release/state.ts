/**
 * A site's release state from `helm history <release> -o json`: the last revision whose status is `deployed`, its
 * chart and app version, and whether an operation is pending. "Not installed" is concluded ONLY from helm's
 * `release: not found`; any other failure to read (unreachable, RBAC, timeout) is an error, because rollback-all
 * must never uninstall a live release on the strength of a failed read.
 */
import { PreconditionError } from '../shared/errors';

/** One entry of `helm history -o json` (helm 3 and 4: `[{revision, updated, status, chart, app_version, description}]`). */
export interface HistoryEntry {
  revision: number;
  updated: string;
  status: string;
  /** `<name>-<version>` */
  chart: string;
  app_version: string;
  description: string;
}

/** What a site runs (or ran), as recorded in the release record. */
export interface SiteState {
  installed: boolean;
  /** Last revision whose status is `deployed` (undefined when none is). */
  revision?: number;
  /** Highest revision of any status. */
  latestRevision?: number;
  /** `<name>-<version>` of the deployed revision */
  chart?: string;
  chartVersion?: string;
  appVersion?: string;
  /** Status of the latest revision. */
  status?: string;
  description?: string;
}

/** The statuses helm leaves while an operation runs (or after it was killed). */
export const PENDING = ['pending-install', 'pending-upgrade', 'pending-rollback'] as const;

/** Whether helm's error output says the release does not exist (and only that). */
export function isReleaseNotFound(stderrTail: readonly string[]): boolean {
  return stderrTail.some((l) => /^Error: release: not found\s*$/.test(l.trim()));
}

/** Parses `helm history -o json` output; throws PreconditionError when it is not that. */
export function parseHistory(stdout: string, where: string): HistoryEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new PreconditionError(`${where}: helm history printed something that is not JSON`);
  }
  if (!Array.isArray(doc)) throw new PreconditionError(`${where}: helm history -o json did not print a list`);
  return doc.map((e: Record<string, unknown>) => {
    if (typeof e?.revision !== 'number' || typeof e.status !== 'string') {
      throw new PreconditionError(`${where}: unexpected helm history entry ${JSON.stringify(e).slice(0, 120)}`);
    }
    return {
      revision: e.revision,
      updated: String(e.updated ?? ''),
      status: e.status,
      chart: String(e.chart ?? ''),
      app_version: String(e.app_version ?? ''),
      description: String(e.description ?? ''),
    };
  });
}

/** Splits `name-1.2.3` into name and version (the version is the part after the last dash that starts a semver). */
export function splitChart(chart: string): { name: string; version: string } {
  const m = /^(.*)-(v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?)$/.exec(chart);
  return m ? { name: m[1], version: m[2] } : { name: chart, version: '' };
}

/** The state a history describes. */
export function stateFromHistory(history: readonly HistoryEntry[]): SiteState {
  if (history.length === 0) return { installed: false };
  const sorted = [...history].sort((a, b) => a.revision - b.revision);
  const latest = sorted[sorted.length - 1];
  const deployed = [...sorted].reverse().find((e) => e.status === 'deployed');
  // a release whose every revision is uninstalled (kept with --keep-history) is not installed
  if (!deployed && sorted.every((e) => e.status === 'uninstalled')) {
    return { installed: false, latestRevision: latest.revision, status: latest.status };
  }
  return {
    installed: true,
    revision: deployed?.revision,
    latestRevision: latest.revision,
    chart: deployed?.chart,
    chartVersion: deployed ? splitChart(deployed.chart).version : undefined,
    appVersion: deployed?.app_version,
    status: latest.status,
    description: latest.description,
  };
}

/** Throws when the state blocks a release: an operation pending, or an installed release with no deployed revision. */
export function assertNotBlocked(state: SiteState, release: string, namespace: string, site: string): void {
  if (state.status && (PENDING as readonly string[]).includes(state.status)) {
    const to = state.revision;
    throw new PreconditionError(
      `site ${site}: release ${release} is ${state.status} (revision ${state.latestRevision}): another helm operation is running or was killed. ` +
        `When no helm operation is running on it, clear it with \`helm rollback ${release}${to ? ` ${to}` : ''} -n ${namespace}\`` +
        `${to ? '' : ` (or \`helm uninstall ${release} -n ${namespace}\` when it never deployed)`}, then run the release again`,
    );
  }
  if (state.installed && state.revision === undefined) {
    throw new PreconditionError(
      `site ${site}: release ${release} has no deployed revision (latest ${state.latestRevision} is ${state.status}): ` +
        `an operator must decide what it should run (\`helm history ${release} -n ${namespace}\`) before a release can roll back to it`,
    );
  }
}

/** A one-word description of a state for tables: `rev 4 (ratings-1.2.3)` or `not installed`. */
export function describeState(s: SiteState | undefined): string {
  if (!s) return '—';
  if (!s.installed) return 'not installed';
  return `rev ${s.revision ?? '?'}${s.chartVersion ? ` (${s.chartVersion})` : ''}`;
}
