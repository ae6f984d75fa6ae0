/**
 * The release records that the release page's tests and screenshots draw, made by running the suite's release
 * scenarios (tests/helm-release/scenarios.test.ts) for real: the helm double with the real helm and kubectl against
 * the fake Kubernetes API, the in-memory traffic controller. Three scenarios:
 *   - all-green: three sites upgraded;
 *   - site2-failed: the second site's upgrade fails, sites 1..2 are rolled back, site 3 untouched;
 *   - rollback-failed: the second site fails and the first site's rollback fails (an operator is needed).
 * Each scenario also gets the backup list the Mongo capability would attach for each site's pre-release backup
 * (src/mongo/backup-list.ts writes the same document).
 *
 * `node node_modules/tsx/dist/cli.mjs tests/report/scenario-records.ts` rewrites the fixtures in
 * tests/fixtures/release-records/; tests/report/fixtures.test.ts fails when they drift from what the scenarios do.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ReleaseRecord } from '../../src/helm-release/record';
import { backupListDocument, type BackupList } from '../../src/report/model';
import { startFakeKubeApi } from '../helpers/helm-double/kube-api';
import { FakeTraffic, World, chartVersion } from '../helm-release/world';
import { ROOT } from '../helpers/harness';

export const FIXTURE_DIR = path.join(ROOT, 'tests', 'fixtures', 'release-records');
export const SCENARIOS = ['all-green', 'site2-failed', 'rollback-failed'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** One scenario's outcome: the record the run wrote, the page it wrote, the backup lists. */
export interface ScenarioRun {
  name: ScenarioName;
  record: ReleaseRecord;
  /** The release page (reportFile) the run wrote. */
  reportHtml: string;
  backupLists: BackupList[];
}

/** The fixture file of a scenario: `{ record, backupLists }`. */
export function fixtureFile(name: ScenarioName): string {
  return path.join(FIXTURE_DIR, `${name}.json`);
}

/** Reads a scenario's fixture. */
export function readFixture(name: ScenarioName): { record: ReleaseRecord; backupLists: BackupList[] } {
  return JSON.parse(fs.readFileSync(fixtureFile(name), 'utf8')) as { record: ReleaseRecord; backupLists: BackupList[] };
}

const SITES3 = ['seattle', 'dublin', 'tokyo'];

/** Runs the three scenarios (about ten seconds: real helm and kubectl). */
export async function runScenarios(): Promise<ScenarioRun[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'report-scen-'));
  const api = await startFakeKubeApi(path.join(tmp, 'tls'));
  const chart13 = chartVersion(tmp, '1.3.0');
  const out: ScenarioRun[] = [];
  try {
    const scenario = async (name: ScenarioName, sites: string[], faults: [string, 'upgrade' | 'rollback'][]): Promise<void> => {
      const w = new World(sites);
      try {
        await w.start({ api });
        w.traffic = new FakeTraffic(sites);
        await w.install();
        for (const [s, step] of faults) w.fault(s, step);
        const backupIds = sites.map((s, i) => `20260501T0${3 + i}1500Z-${s.slice(0, 4)}`);
        const r = await w.run({ chart: chart13, trafficProvider: 'fake', drainWaitSeconds: '0', releaseId: `run-${name}`, backupIds: sites.map((s, i) => `${s}=${backupIds[i]}`).join('\n') });
        if (!r.record) throw new Error(`${name}: the run wrote no record (${r.failed})`);
        const start = Date.parse(r.record.createdAt);
        const backupLists = sites.map((s, i) =>
          backupListDocument(
            s,
            'backup',
            [{ id: backupIds[i], time: new Date(start - (4 + 3 * i) * 60_000).toISOString(), sizeBytes: 48_211_000 + i * 1_000_000, scope: 'instance', encrypted: true, signed: true, status: 'complete', location: `s3://backups/ratings/${s}/instance/${backupIds[i]}` }],
            new Date(start - (3 + 3 * i) * 60_000),
          ),
        );
        out.push({ name, record: r.record, reportHtml: fs.readFileSync(r.outputs.reportFile, 'utf8'), backupLists });
      } finally {
        await w.close();
      }
    };
    await scenario('all-green', SITES3, []);
    await scenario('site2-failed', SITES3, [['dublin', 'upgrade']]);
    await scenario('rollback-failed', ['seattle', 'dublin'], [['dublin', 'upgrade'], ['seattle', 'rollback']]);
  } finally {
    await api.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

/** What a scenario did, without what changes from run to run (times, durations, ports, digests). */
export function shapeOf(record: ReleaseRecord, lists: readonly BackupList[]): unknown {
  const norm = (s: string | undefined): string | undefined => s?.replace(/\d+(\.\d+)?\s*(ms|s)\b/g, 'N').replace(/:\d{2,5}\b/g, ':PORT').replace(/\/tmp\/[^\s'"]+/g, 'TMP');
  return {
    release: record.release,
    releaseId: record.releaseId,
    chart: `${record.chart.name} ${record.chart.version}`,
    result: record.result,
    siteOrder: record.siteOrder,
    backups: record.backups,
    traffic: ['before', 'after'].map((k) => (record.traffic as Record<string, { sites: { site: string; enabled: boolean }[] } | undefined>)?.[k]?.sites.map((s) => `${s.site}:${s.enabled}`)),
    sites: record.siteOrder.map((n) => {
      const e = record.sites[n];
      return {
        site: n,
        status: e?.status,
        changed: e?.changed,
        before: e?.before?.revision,
        after: e?.after?.revision,
        steps: e?.steps?.map((s) => `${s.name}:${s.outcome}`),
        rollback: e?.rollback ? `${e.rollback.action}:${e.rollback.ok}` : undefined,
        traffic: e?.traffic,
        error: norm(e?.error),
        backupId: e?.backupId,
      };
    }),
    lists: lists.map((l) => `${l.site}:${l.backups.map((b) => b.id).join(',')}`),
  };
}

if (require.main === module) {
  runScenarios()
    .then((runs) => {
      fs.mkdirSync(FIXTURE_DIR, { recursive: true });
      for (const r of runs) {
        fs.writeFileSync(fixtureFile(r.name), JSON.stringify({ record: r.record, backupLists: r.backupLists }, null, 2) + '\n');
        console.log(`wrote ${path.relative(ROOT, fixtureFile(r.name))} (${r.record.result})`);
      }
    })
    .catch((e: Error) => {
      console.error(e.stack);
      process.exit(1);
    });
}
