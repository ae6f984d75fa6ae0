/**
 * The stateful helm double (helm-double.cjs) for tests and the bench: installs a `helm` wrapper into a directory with
 * its configuration baked in (so a test needs no process.env changes), scripts failures at a site and step, and reads
 * the per-site release state and the log of calls.
 *
 * ```ts
 * const h = installHelmDouble({ dir, version: '3.17.3', real: v31.helm, render: v34.helm });
 * h.fault({ site: 'b', step: 'upgrade' });           // the upgrade of site b fails (a failed revision is left)
 * h.fault({ site: 'a', step: 'history', mode: 'unreachable' });
 * h.release('a', 'ratings', 'ratings')?.revisions;   // what the double holds for site a
 * ```
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Steps a fault can hit (helm subcommands; `get-values`, `get-manifest`). */
export type HelmStep = 'history' | 'status' | 'upgrade' | 'rollback' | 'uninstall' | 'test' | 'get-values' | 'get-manifest';

/** A scripted failure. */
export interface HelmFault {
  /** the site (kube context), or '*' */
  site: string;
  step: HelmStep;
  /** `fail` (default), `unreachable`, `forbidden`, `timeout`, `pending` (upgrade leaves pending-upgrade), `hang` (sleeps `ms`) */
  mode?: 'fail' | 'unreachable' | 'forbidden' | 'timeout' | 'pending' | 'hang';
  message?: string;
  /** how many calls it hits (default: all) */
  count?: number;
  /** let this many matching calls pass first */
  skip?: number;
  ms?: number;
}

/** One revision as the double stores it. */
export interface DoubleRevision {
  revision: number;
  updated: string;
  status: string;
  meta: { name: string; version: string; appVersion?: string };
  config: unknown;
  manifest: string;
  description: string;
}

/** One logged call. */
export interface DoubleCall {
  argv: string[];
  site?: string;
  code: number;
  start: number;
  end: number;
  /** helm's directories and KUBECONFIG as the call saw them */
  env: Record<string, string | undefined>;
}

/** An installed double. */
export interface HelmDouble {
  /** the `helm` executable (a wrapper script) */
  bin: string;
  dir: string;
  stateDir: string;
  version: string;
  fault(f: HelmFault): void;
  clearFaults(): void;
  /** Calls of `step` wait (at most `ms`) until `peers` of them have started: concurrent calls meet, serial ones do not. */
  meet(step: HelmStep, peers: number, ms?: number): void;
  /** A release's stored state on a site, or undefined. */
  release(site: string, namespace: string, release: string): { name: string; revisions: DoubleRevision[] } | undefined;
  /** Seeds a release's state (e.g. an existing install, or a pending-upgrade). */
  seed(site: string, namespace: string, release: string, revisions: Partial<DoubleRevision>[]): void;
  calls(): DoubleCall[];
  clearCalls(): void;
}

const SCRIPT = path.join(__dirname, 'helm-double.cjs');

/** Installs the double as `<dir>/bin/helm`. */
export function installHelmDouble(o: {
  dir: string;
  version: string;
  real?: string;
  render?: string;
  sleepMs?: number;
  /** extra time per site (kube context) */
  sleepSites?: Record<string, number>;
  /** answer lint and template itself (no real helm; for the bench) */
  stubClient?: boolean;
  /** the wrapper logs each call's wall time as seen from outside (`<state>/wrapper-times.log`: start end, ns) */
  timed?: boolean;
  node?: string;
}): HelmDouble {
  const bin = path.join(o.dir, 'bin', 'helm');
  const stateDir = path.join(o.dir, 'state');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const env = [
    `HELM_DOUBLE_STATE=${q(stateDir)}`,
    `HELM_DOUBLE_VERSION=${q(o.version)}`,
    ...(o.real ? [`HELM_DOUBLE_REAL=${q(o.real)}`] : []),
    ...(o.render ? [`HELM_DOUBLE_RENDER=${q(o.render)}`] : []),
    ...(o.sleepMs ? [`HELM_DOUBLE_SLEEP_MS=${o.sleepMs}`] : []),
    ...(o.sleepSites ? [`HELM_DOUBLE_SLEEP_SITES=${q(JSON.stringify(o.sleepSites))}`] : []),
    ...(o.stubClient ? ['HELM_DOUBLE_STUB_CLIENT=1'] : []),
    // the double needs yaml and tar from the repo's node_modules
    `NODE_PATH=${q(path.resolve(__dirname, '..', '..', '..', 'node_modules'))}`,
  ];
  // client-only commands go straight to the real helm (one process less); the rest to the double
  const direct = o.real ? `case "$1" in lint|template|show|package|pull|registry|repo|dependency) exec ${q(o.real)} "$@";; esac\n` : '';
  const call = `${q(o.node ?? process.execPath)} ${q(SCRIPT)} "$@"`;
  const body = o.timed
    ? `start=$(date +%s%N)\n${call}\nrc=$?\necho "$start $(date +%s%N)" >> ${q(path.join(stateDir, 'wrapper-times.log'))}\nexit $rc\n`
    : `exec ${call}\n`;
  fs.writeFileSync(bin, `#!/bin/sh\n${env.map((e) => `export ${e}`).join('\n')}\n${direct}${body}`, { mode: 0o755 });
  const faultsFile = path.join(stateDir, 'faults.json');
  const callsFile = path.join(stateDir, 'calls.jsonl');
  return {
    bin,
    dir: o.dir,
    stateDir,
    version: o.version,
    fault(f) {
      const list = fs.existsSync(faultsFile) ? (JSON.parse(fs.readFileSync(faultsFile, 'utf8')) as HelmFault[]) : [];
      list.push(f);
      fs.writeFileSync(faultsFile, JSON.stringify(list, null, 2));
    },
    meet(step, peers, ms = 30_000) {
      const file = path.join(stateDir, 'meet.json');
      const all = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
      fs.writeFileSync(file, JSON.stringify({ ...all, [step]: { peers, ms } }));
    },
    clearFaults() {
      fs.rmSync(faultsFile, { force: true });
    },
    release(site, namespace, release) {
      const f = path.join(stateDir, site, namespace, `${release}.json`);
      return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
    },
    seed(site, namespace, release, revisions) {
      const f = path.join(stateDir, site, namespace, `${release}.json`);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      const full = revisions.map((r, i) => ({
        revision: i + 1,
        updated: new Date(Date.UTC(2025, 0, 1 + i)).toISOString().replace('Z', '123456Z'),
        status: 'superseded',
        meta: { name: 'ratings', version: '1.0.0', appVersion: '1.0' },
        config: null,
        manifest: '',
        description: i === 0 ? 'Install complete' : 'Upgrade complete',
        ...r,
      }));
      fs.writeFileSync(f, JSON.stringify({ name: release, namespace, revisions: full }, null, 2));
    },
    calls() {
      return fs.existsSync(callsFile)
        ? fs.readFileSync(callsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as DoubleCall)
        : [];
    },
    clearCalls() {
      fs.rmSync(callsFile, { force: true });
    },
  };
}
