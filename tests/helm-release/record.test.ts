/** Site state from helm history, and the release record: schema, merge of per-site copies, results. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError, PreconditionError } from '../../src/shared/errors';
import {
  mergeRecords,
  overallResult,
  putSite,
  readRecords,
  sitesNeedingRollback,
  validateRecord,
  writeRecord,
  type ReleaseRecord,
} from '../../src/helm-release/record';
import { assertNotBlocked, isReleaseNotFound, parseHistory, splitChart, stateFromHistory } from '../../src/helm-release/state';

const H = (revision: number, status: string, chart = 'ratings-1.2.0', app = '2.4'): Record<string, unknown> => ({
  revision,
  updated: '2025-05-01T10:00:00.123456789Z',
  status,
  chart,
  app_version: app,
  description: 'x',
});

function record(extra: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    schema: 'stackhub-ha/helm-release-record',
    version: 1,
    releaseId: 'run-42',
    release: 'ratings',
    createdAt: '2025-05-01T10:00:00.000Z',
    updatedAt: '2025-05-01T10:00:00.000Z',
    chart: { source: 'oci', ref: 'oci://registry.corp.local/charts/ratings', name: 'ratings', version: '1.2.0', digest: `sha256:${'a'.repeat(64)}` },
    strategy: 'sequential',
    onFailure: 'rollback-all',
    siteOrder: ['a', 'b'],
    sites: {},
    ...extra,
  };
}

describe('helm-release state from helm history', () => {
  it('last deployed revision, chart and app version', () => {
    const s = stateFromHistory(parseHistory(JSON.stringify([H(1, 'superseded', 'ratings-1.0.0'), H(2, 'deployed', 'ratings-1.1.0-rc.1', '2.3'), H(3, 'failed')]), 'a'));
    assert.deepEqual(s, { installed: true, revision: 2, latestRevision: 3, chart: 'ratings-1.1.0-rc.1', chartVersion: '1.1.0-rc.1', appVersion: '2.3', status: 'failed', description: 'x' });
    assert.deepEqual(splitChart('my-chart-name-10.2.3'), { name: 'my-chart-name', version: '10.2.3' });
  });
  it('"not installed" only from `release: not found`', () => {
    assert.equal(isReleaseNotFound(['Error: release: not found']), true);
    for (const other of ['Error: Kubernetes cluster unreachable: connection refused', 'Error: query: failed to query with labels: secrets is forbidden', 'Error: context deadline exceeded', 'Error: release: not found in cache, cluster unreachable']) {
      assert.equal(isReleaseNotFound([other]), false, other);
    }
    assert.deepEqual(stateFromHistory([]), { installed: false });
  });
  it('pending-* blocks with how to clear it; no deployed revision blocks', () => {
    const pending = stateFromHistory(parseHistory(JSON.stringify([H(1, 'superseded'), H(2, 'deployed'), H(3, 'pending-upgrade')]), 'a'));
    assert.throws(() => assertNotBlocked(pending, 'ratings', 'ns', 'a'), (e: Error) => e instanceof PreconditionError && /pending-upgrade.*helm rollback ratings 2 -n ns/.test(e.message));
    const failedInstall = stateFromHistory(parseHistory(JSON.stringify([H(1, 'failed')]), 'a'));
    assert.throws(() => assertNotBlocked(failedInstall, 'ratings', 'ns', 'a'), /no deployed revision/);
    assert.throws(() => parseHistory('not json', 'a'), /not JSON/);
    assert.throws(() => parseHistory('{"a":1}', 'a'), /did not print a list/);
  });
});

describe('helm-release record', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-record-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('validates against the schema; unknown keys, wrong shapes and newer versions refused naming the input', () => {
    assert.equal(validateRecord(record(), 'recordFiles', 'x').release, 'ratings');
    assert.throws(() => validateRecord({ ...record(), extra: 1 }, 'recordFiles', 'f.json'), (e: Error) => e instanceof InputError && /input 'recordFiles': f.json: not a release record/.test(e.message));
    assert.throws(() => validateRecord({ ...record(), version: 3 }, 'record', 'x'), /version 3 is newer/);
    assert.throws(() => validateRecord({ hello: 'world' }, 'record', 'x'), /not a release record/);
  });

  it('merges per-site copies: the entry written last wins; other releases refused', () => {
    const base = record();
    const a = JSON.parse(JSON.stringify(base)) as ReleaseRecord;
    const b = JSON.parse(JSON.stringify(base)) as ReleaseRecord;
    putSite(a, { site: 'a', status: 'preflight-ok', changed: false });
    putSite(a, { site: 'a', status: 'succeeded', changed: true });
    putSite(b, { site: 'a', status: 'preflight-ok', changed: false });
    putSite(b, { site: 'b', status: 'failed', changed: true });
    const m = mergeRecords([b, a], 'recordFiles')!;
    assert.equal(m.sites.a.status, 'succeeded');
    assert.equal(m.sites.b.status, 'failed');
    assert.equal(m.result, 'failed');
    assert.deepEqual(sitesNeedingRollback(m), ['a', 'b']);
    assert.throws(() => mergeRecords([a, record({ releaseId: 'run-43' })], 'recordFiles'), /different releases/);
    assert.throws(() => mergeRecords([a, record({ chart: { ...base.chart, digest: `sha256:${'b'.repeat(64)}` } })], 'recordFiles'), /different releases/);
  });

  it('reads files and directories (downloaded artifacts), written atomically', async () => {
    const r = record();
    putSite(r, { site: 'a', status: 'unchanged', changed: false });
    await writeRecord(r, path.join(dir, 'art-a', 'ratings-a.json'));
    const r2 = record();
    putSite(r2, { site: 'b', status: 'unchanged', changed: false });
    await writeRecord(r2, path.join(dir, 'art-b', 'nested', 'ratings-b.json'));
    const merged = mergeRecords(readRecords([dir], 'recordFiles'), 'recordFiles')!;
    assert.deepEqual(Object.keys(merged.sites).sort(), ['a', 'b']);
    assert.equal(overallResult(merged), 'unchanged');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'art-a')), ['ratings-a.json'], 'no temp file left');
    assert.throws(() => readRecords([path.join(dir, 'nope')], 'recordFiles'), /cannot read/);
    fs.mkdirSync(path.join(dir, 'empty'));
    assert.throws(() => readRecords([path.join(dir, 'empty')], 'recordFiles'), /no release record/);
  });

  it('results add up', () => {
    const r = record();
    assert.equal(overallResult(r), 'pending');
    putSite(r, { site: 'a', status: 'rolled-back', changed: true });
    putSite(r, { site: 'b', status: 'rolled-back', changed: true });
    assert.equal(overallResult(r), 'rolled-back');
    assert.deepEqual(sitesNeedingRollback(r), []);
    putSite(r, { site: 'b', status: 'rollback-failed', changed: true });
    assert.equal(overallResult(r), 'rollback-failed');
    assert.deepEqual(sitesNeedingRollback(r), ['b']);
  });
});
