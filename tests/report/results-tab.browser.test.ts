/**
 * The results tab's SDK glue in a real browser: the bundled tab (scripts/bundle-web.ts) framed by a minimal ADO host
 * (fake-ado-host.ts) that answers the SDK handshake and serves a fixed attachment list from a fake Build REST API.
 * The tab must find the release records and backup lists through getAttachments / getAttachment with the host's
 * token, merge the per-site copies, draw them in the host's theme, and reach nothing but the host's REST API.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { WEB_BUDGET_GZIP_BYTES, bundleWeb, webWeight } from '../../scripts/bundle-web';
import type { ReleaseRecord } from '../../src/helm-release/record';
import { BACKUP_LIST_ATTACHMENT_TYPE, RELEASE_RECORD_ATTACHMENT_TYPE } from '../../src/report/model';
import { ATTACHMENTS_API_VERSION } from '../../src/web/attachments';
import { browserMissing, launchBrowser, type TestBrowser } from './browser';
import { ACCESS_TOKEN, BUILD_ID, PROJECT_ID, startFakeHost, type FakeAttachment, type FakeHost } from './fake-ado-host';
import { readFixture } from './scenario-records';

const TIMELINE = '0d6c7c55-1111-4a2b-9c3d-000000000001';
const rec = (n: number): string => `7e0c0000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('release results tab in chromium (fake ADO host, SDK handshake, Build REST API)', function () {
  this.timeout(120_000);
  let tmp: string;
  let tabFiles: Map<string, { type: string; body: Buffer }>;
  let browser: TestBrowser;
  const hosts: FakeHost[] = [];

  before(async function () {
    const why = browserMissing();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-tab-'));
    const [html, js] = await bundleWeb(path.join(tmp, 'web'));
    tabFiles = new Map([
      ['/dist/web/results-tab.html', { type: 'text/html; charset=utf-8', body: fs.readFileSync(html) }],
      ['/dist/web/results-tab.js', { type: 'text/javascript; charset=utf-8', body: fs.readFileSync(js) }],
    ]);
    browser = await launchBrowser();
  });
  after(async () => {
    for (const h of hosts) await h.close();
    await browser?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(() => assert.deepEqual(browser?.blocked ?? [], [], 'the tab tried to reach a host other than 127.0.0.1'));

  /** The rollback-failed run as the per-site jobs attach it: an older copy of the record and the final one. */
  function attachments(): FakeAttachment[] {
    const f = readFixture('rollback-failed');
    const older = JSON.parse(JSON.stringify(f.record)) as ReleaseRecord;
    older.sites.seattle = { ...older.sites.seattle, seq: 1, status: 'succeeded', steps: older.sites.seattle.steps?.slice(0, 3) };
    return [
      { type: RELEASE_RECORD_ATTACHMENT_TYPE, name: 'ratings-seattle', timelineId: TIMELINE, recordId: rec(1), body: JSON.stringify(older) },
      { type: RELEASE_RECORD_ATTACHMENT_TYPE, name: 'ratings-all', timelineId: TIMELINE, recordId: rec(2), body: JSON.stringify(f.record) },
      ...f.backupLists.map((l, i) => ({ type: BACKUP_LIST_ATTACHMENT_TYPE, name: `${l.site}-backup-backups`, timelineId: TIMELINE, recordId: rec(10 + i), body: JSON.stringify(l) })),
      // another type of the same run: never asked for
      { type: 'Distributedtask.Core.Summary', name: 'summary', timelineId: TIMELINE, recordId: rec(2), body: '# summary' },
    ];
  }

  async function openTab(o: { withOnBuildChanged?: boolean; themeData?: Record<string, string> } = {}): Promise<{ host: FakeHost; frame: Frame; page: import('playwright-core').Page }> {
    const host = await startFakeHost({ tabFiles, attachments: attachments(), themeData: o.themeData, withOnBuildChanged: o.withOnBuildChanged });
    hosts.push(host);
    const page = await browser.context.newPage();
    await page.goto(host.hostUrl);
    await page.waitForFunction(() => (window as unknown as { __loaded: boolean }).__loaded === true, undefined, { timeout: 30_000 });
    const frame = page.frames().find((f) => f.url().endsWith('/dist/web/results-tab.html'))!;
    await frame.waitForSelector('.shr-lane');
    return { host, frame, page };
  }

  it('handshake, then the attachments through the Build REST API: lanes, the operator banner, backups, merged copies', async () => {
    const { host, frame, page } = await openTab({ themeData: { 'background-color': 'rgb(12, 34, 56)', 'text-primary-color': 'rgb(250, 250, 250)' } });
    const calls = (await page.evaluate(() => (window as unknown as { __xdmCalls: string[] }).__xdmCalls)).filter((c) => !c.startsWith('__proxyFunctions.'));
    assert.deepEqual(calls.slice(0, 1), ['DevOps.HostControl.initialHandshake']);
    assert.ok(calls.includes('DevOps.ServiceManager.getService'), calls.join(', '));
    assert.ok(calls.includes('location:965220d5-5bb9-42cf-8d67-9b146df2a5a4'), 'the Build resource area is located through the host');
    assert.ok(calls.includes('DevOps.HostControl.getAccessToken'));
    const init = await page.evaluate(() => (window as unknown as { __initOptions: Record<string, unknown> }).__initOptions);
    assert.equal(init.applyTheme, true);
    assert.equal(init.loaded, false);
    // what the tab drew
    const lanes = await frame.$$eval('.shr-lane', (els) => els.map((l) => `${l.getAttribute('data-site')}:${l.getAttribute('data-status')}:${l.querySelectorAll('.shr-bar').length}`));
    assert.deepEqual(lanes, ['seattle:rollback-failed:6', 'dublin:rolled-back:4'], 'per site, the copy written last wins');
    assert.match((await frame.locator('.shr-banner[role="alert"]').textContent())!, /^Site seattle NEEDS AN OPERATOR/);
    assert.match((await frame.locator('.shr-lane[data-site="dublin"] [data-fact="rpo"] dd').textContent())!, /^7 min \d\d s$/);
    // the ADO theme variables win over the page's own colours
    assert.equal(await frame.locator('main.shr').evaluate((m) => getComputedStyle(m).backgroundColor), 'rgb(12, 34, 56)');
    assert.equal(await frame.locator('main.shr h1').evaluate((m) => getComputedStyle(m).color), 'rgb(250, 250, 250)');
    // the REST calls: the two types listed, each attachment read by its timeline record, with the host's token
    const seen = host.requests.map((r) => `${r.method} ${r.path.replace(`/DefaultCollection/${PROJECT_ID}/_apis/build/builds/${BUILD_ID}/`, '')}`).sort();
    assert.deepEqual(seen, [
      `GET ${TIMELINE}/${rec(1)}/attachments/${RELEASE_RECORD_ATTACHMENT_TYPE}/ratings-seattle`,
      `GET ${TIMELINE}/${rec(10)}/attachments/${BACKUP_LIST_ATTACHMENT_TYPE}/seattle-backup-backups`,
      `GET ${TIMELINE}/${rec(11)}/attachments/${BACKUP_LIST_ATTACHMENT_TYPE}/dublin-backup-backups`,
      `GET ${TIMELINE}/${rec(2)}/attachments/${RELEASE_RECORD_ATTACHMENT_TYPE}/ratings-all`,
      `GET attachments/${BACKUP_LIST_ATTACHMENT_TYPE}`,
      `GET attachments/${RELEASE_RECORD_ATTACHMENT_TYPE}`,
    ].sort());
    for (const r of host.requests) {
      assert.equal(r.authorization, `Bearer ${ACCESS_TOKEN}`);
      assert.equal(r.apiVersion, ATTACHMENTS_API_VERSION, 'an API version Azure DevOps Server 2020/2022 serve');
    }
    // nothing but the host page, the tab's two files and the host's REST API
    const kinds = [...new Set(browser.requests.map((u) => new URL(u).pathname.replace(/\/DefaultCollection\/.*/, '/DefaultCollection/…')))].sort();
    assert.deepEqual(kinds, ['/DefaultCollection/…', '/dist/web/results-tab.html', '/dist/web/results-tab.js', '/host.html']);
    await page.close();
  });

  it('keyboard inside the frame: Tab reaches the lanes and their steps', async () => {
    const { frame, page } = await openTab();
    await frame.locator('.shr-lane').first().focus();
    await page.keyboard.press('Tab');
    assert.equal(await frame.evaluate(() => (document.activeElement as HTMLElement).dataset.step), 'preflight');
    await page.keyboard.press('ArrowDown');
    assert.equal(await frame.evaluate(() => (document.activeElement as HTMLElement).dataset.site), 'dublin');
    assert.match((await frame.locator('#shr-detail').textContent())!, /^site dublin: rolled-back/);
    await page.close();
  });

  it('without onBuildChanged in the configuration, the build comes from the build page data service', async () => {
    const { page, frame } = await openTab({ withOnBuildChanged: false });
    const calls = await page.evaluate(() => (window as unknown as { __xdmCalls: string[] }).__xdmCalls);
    assert.ok(calls.filter((c) => c === 'DevOps.ServiceManager.getService').length >= 2, calls.join(', '));
    assert.equal(await frame.locator('.shr-lane').count(), 2);
    await page.close();
  });

  it(`page weight: the tab's files are at most ${WEB_BUDGET_GZIP_BYTES / 1024} KB gzipped`, () => {
    const w = webWeight(path.join(tmp, 'web'));
    const total = w.reduce((a, b) => a + b.gzip, 0);
    console.log(`      ${w.map((x) => `${x.file} ${x.bytes} B (${x.gzip} B gzipped)`).join(', ')}; total ${total} B gzipped`);
    assert.ok(total <= WEB_BUDGET_GZIP_BYTES, `${total} B gzipped`);
  });
});
