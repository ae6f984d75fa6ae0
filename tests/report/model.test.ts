/**
 * The release page's model and renderer without a browser: merging per-site copies, escaping what records carry,
 * the attachment link parsing of the tab, and the Mongo capability's backup list attachment.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RECORD_ATTACHMENT_TYPE, type ReleaseRecord } from '../../src/helm-release/record';
import { attachBackupList } from '../../src/mongo/backup-list';
import type { Platform } from '../../src/platform/types';
import { BACKUP_LIST_ATTACHMENT_TYPE, RELEASE_RECORD_ATTACHMENT_TYPE, buildReport, formatDuration, isBackupList } from '../../src/report/model';
import { reportPage } from '../../src/report/page';
import { attachmentIds } from '../../src/web/attachments';
import { readFixture } from './scenario-records';

describe('release page model and renderer', () => {
  it('per site, the copy written last wins; records of another release are left out and named', () => {
    const f = readFixture('site2-failed');
    const old = JSON.parse(JSON.stringify(f.record)) as ReleaseRecord;
    old.sites.dublin = { ...old.sites.dublin, seq: 1, status: 'preflight-ok' };
    const other = { ...JSON.parse(JSON.stringify(f.record)), releaseId: 'another-run', updatedAt: '2000-01-01T00:00:00.000Z' } as ReleaseRecord;
    const m = buildReport([old, f.record, other], f.backupLists)!;
    assert.deepEqual(m.lanes.map((l) => `${l.site}:${l.status}`), ['seattle:rolled-back', 'dublin:rolled-back', 'tokyo:skipped']);
    assert.equal(m.result, 'rolled-back');
    assert.deepEqual(m.notes, ['left out a record of release ratings another-run (this page shows ratings run-site2-failed)']);
    assert.equal(buildReport([]), undefined);
  });

  it('everything from a record is escaped: a hostile error or site name stays text', () => {
    const f = readFixture('rollback-failed');
    const r = JSON.parse(JSON.stringify(f.record)) as ReleaseRecord;
    r.sites.dublin.error = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    r.release = 'rat"ings<b>';
    const html = reportPage([r]);
    assert.ok(!html.includes('<script>alert'), 'raw script from a record');
    assert.ok(!html.includes('<img src=x'), 'raw element from a record');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('rat&quot;ings&lt;b&gt;'));
    // the only script is the page's own keyboard script
    assert.equal(html.match(/<script>/g)?.length, 1);
  });

  it('durations read like durations', () => {
    assert.deepEqual([850, 12_340, 245_000, 7_380_000].map(formatDuration), ['850 ms', '12.3 s', '4 min 05 s', '2 h 03 min']);
  });

  it("the tab finds an attachment's timeline record in its link", () => {
    const href = 'https://dev.azure.com/org/5b1a/_apis/build/builds/42/0d6c7c55-1111-4a2b-9c3d-000000000001/7e0c0000-0000-4000-8000-000000000002/attachments/stackhub-ha.release-record/ratings-all';
    assert.deepEqual(attachmentIds({ _links: { self: { href } } }), { timelineId: '0d6c7c55-1111-4a2b-9c3d-000000000001', recordId: '7e0c0000-0000-4000-8000-000000000002' });
    assert.equal(attachmentIds({ _links: {} }), undefined);
    assert.equal(RELEASE_RECORD_ATTACHMENT_TYPE, RECORD_ATTACHMENT_TYPE);
  });

  it('mongo: a backup list is attached as stackhub-ha.backup-list where the platform has run attachments, and only there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-bl-'));
    try {
      const attached: [string, string, string][] = [];
      const base = { paths: { agentTemp: dir, toolCache: dir } } as unknown as Platform;
      const ado = { ...base, attach: (t: string, n: string, f: string) => void attached.push([t, n, f]) } as Platform;
      const row = { id: '20260501T031500Z-seat', time: '2026-05-01T03:15:00.000Z', sizeBytes: 10, scope: 'instance', encrypted: true, signed: true, status: 'complete' };
      const file = attachBackupList(ado, 'seattle', 'backup', [row], new Date('2026-05-01T03:16:00Z'))!;
      assert.deepEqual(attached, [[BACKUP_LIST_ATTACHMENT_TYPE, 'seattle-backup-backups', file]]);
      const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      assert.ok(isBackupList(doc));
      assert.deepEqual(doc, { schema: 'stackhub-ha/mongo-backup-list', version: 1, site: 'seattle', command: 'backup', createdAt: '2026-05-01T03:16:00.000Z', backups: [row] });
      assert.ok(file.startsWith(path.join(dir, 'stackhub-ha-backup-lists')), 'outside the private temp dir: the agent uploads it after the step');
      assert.equal(attachBackupList(base, 'seattle', 'list', [row]), undefined);
      assert.equal(fs.readdirSync(path.join(dir, 'stackhub-ha-backup-lists')).length, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
