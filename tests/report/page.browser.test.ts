/**
 * The release page in a real browser (Debian chromium through playwright-core): the self-contained HTML file of
 * the three scenario runs (fixtures made by tests/report/scenario-records.ts), its DOM, keyboard navigation, light
 * and dark themes, its weight, and screenshots for docs/images/ (committed; the README shows them).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type * as http from 'node:http';
import { reportPage } from '../../src/report/page';
import { ROOT } from '../helpers/harness';
import { startHttpServer, type TestServer } from '../helpers/servers';
import { browserMissing, launchBrowser, type TestBrowser } from './browser';
import { SCENARIOS, readFixture, type ScenarioName } from './scenario-records';

// The committed screenshots in docs/images are refreshed only on request (STACKHUB_UPDATE_SCREENSHOTS=1), so a test run
// leaves the checkout clean; otherwise they go to a temp dir and are checked there.
const IMAGES = process.env.STACKHUB_UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'images') : fs.mkdtempSync(path.join(os.tmpdir(), 'release-shots-'));
const BUDGET = 300 * 1024;

describe('release page in chromium (standalone HTML file)', function () {
  this.timeout(120_000);
  let server: TestServer;
  let browser: TestBrowser;
  const pages = new Map<string, string>();

  before(async function () {
    const why = browserMissing();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    for (const s of SCENARIOS) {
      const f = readFixture(s);
      pages.set(s, reportPage([f.record], f.backupLists));
    }
    server = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      const name = (req.url ?? '').replace(/^\/|\.html$/g, '');
      const html = pages.get(name);
      if (!html) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(() => assert.deepEqual(browser?.blocked ?? [], [], 'the page tried to reach a host other than 127.0.0.1'));

  async function open(s: ScenarioName, scheme: 'light' | 'dark' = 'light'): Promise<import('playwright-core').Page> {
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${server.url}/${s}.html`);
    return page;
  }

  async function lanes(page: import('playwright-core').Page): Promise<{ site: string; status: string; operator: string; steps: string[] }[]> {
    return page.$$eval('.shr-lane', (els) =>
      els.map((l) => ({
        site: l.getAttribute('data-site')!,
        status: l.getAttribute('data-status')!,
        operator: l.getAttribute('data-operator')!,
        steps: Array.from(l.querySelectorAll('.shr-bar')).map((b) => `${b.getAttribute('data-step')}:${b.getAttribute('data-tone')}`),
      })),
    );
  }

  it('all sites green: three lanes of green steps, GSLB and backups with RPO, no banner', async () => {
    const page = await open('all-green');
    assert.deepEqual(await lanes(page), ['seattle', 'dublin', 'tokyo'].map((site) => ({
      site,
      status: 'succeeded',
      operator: 'false',
      steps: ['preflight:ok', 'drain:ok', 'upgrade:ok', 'verify:ok', 'restore-traffic:ok'],
    })));
    assert.equal(await page.locator('.shr-banner').count(), 0);
    assert.equal(await page.locator('main.shr').getAttribute('data-result'), 'succeeded');
    assert.equal(await page.locator('.shr-lane[data-site="dublin"] [data-fact="helm"] dd').textContent(), 'rev 1 (1.2.0) → rev 2 (1.3.0)');
    assert.match((await page.locator('.shr-lane[data-site="tokyo"] [data-fact="backup"] dd').textContent())!, /^20260501T051500Z-toky \(2026-/);
    assert.match((await page.locator('.shr-lane[data-site="tokyo"] [data-fact="rpo"] dd').textContent())!, /^10 min \d\d s$/);
    assert.deepEqual(await page.$$eval('.shr-gslb tbody tr', (rows) => rows.map((r) => Array.from(r.children).map((c) => c.textContent).join(' | '))), [
      'seattle | serving | serving',
      'dublin | serving | serving',
      'tokyo | serving | serving',
    ]);
    // each bar's width follows its duration: the longest step has the widest bar
    const bars = await page.$$eval('.shr-lane[data-site="seattle"] .shr-bar', (els) => els.map((b) => ({ ms: Number(b.getAttribute('data-duration-ms')), w: b.getBoundingClientRect().width })));
    const longest = bars.reduce((a, b) => (b.ms > a.ms ? b : a));
    assert.equal(Math.max(...bars.map((b) => b.w)), longest.w);
    await page.close();
  });

  it('site 2 failed: sites 1-2 rolled back (their rollback bars), site 3 only preflighted, no banner', async () => {
    const page = await open('site2-failed');
    assert.deepEqual(await lanes(page), [
      { site: 'seattle', status: 'rolled-back', operator: 'false', steps: ['preflight:ok', 'drain:ok', 'upgrade:ok', 'verify:ok', 'restore-traffic:ok', 'rollback:rollback-ok'] },
      { site: 'dublin', status: 'rolled-back', operator: 'false', steps: ['preflight:ok', 'drain:ok', 'upgrade:failed', 'rollback:rollback-ok'] },
      { site: 'tokyo', status: 'skipped', operator: 'false', steps: ['preflight:ok'] },
    ]);
    assert.equal(await page.locator('.shr-banner').count(), 0);
    assert.match((await page.locator('.shr-lane[data-site="dublin"] .shr-error').textContent())!, /^helm upgrade: helm failed with exit code 1/);
    assert.match((await page.locator('.shr-lane[data-site="seattle"] [data-fact="rollback"] dd').textContent())!, /^rollback to rev 1: ok/);
    assert.equal(await page.locator('.shr-lane[data-site="tokyo"] [data-fact="helm"] dd').textContent(), 'rev 1 (1.2.0) → —');
    assert.equal(await page.locator('.shr-lane[data-site="tokyo"] [data-fact="rpo"] dd').textContent(), 'n/a (the site was not upgraded)');
    await page.close();
  });

  it('a rollback that failed: the NEEDS AN OPERATOR banner names the site; its lane and rollback bar say so', async () => {
    const page = await open('rollback-failed');
    assert.deepEqual(await lanes(page), [
      { site: 'seattle', status: 'rollback-failed', operator: 'true', steps: ['preflight:ok', 'drain:ok', 'upgrade:ok', 'verify:ok', 'restore-traffic:ok', 'rollback:rollback-failed'] },
      { site: 'dublin', status: 'rolled-back', operator: 'false', steps: ['preflight:ok', 'drain:ok', 'upgrade:failed', 'rollback:rollback-ok'] },
    ]);
    const banner = page.locator('.shr-banner');
    assert.equal(await banner.getAttribute('role'), 'alert');
    assert.equal(await banner.getAttribute('data-operator-sites'), 'seattle');
    assert.match((await banner.textContent())!, /^Site seattle NEEDS AN OPERATOR: the rollback failed.*seattle: helm failed with exit code 1: Error: timed out waiting for the condition/);
    assert.equal(await page.locator('.shr-lane[data-site="seattle"] .shr-status').textContent(), 'ROLLBACK FAILED: NEEDS AN OPERATOR');
    assert.match((await page.locator('.shr-lane[data-site="seattle"]').getAttribute('aria-label'))!, /^site seattle: NEEDS AN OPERATOR, rollback-failed; helm rev 1 \(1\.2\.0\) → rev 2 \(1\.3\.0\)/);
    await page.close();
  });

  it('keyboard: Tab goes lane, its steps, next lane; arrows move between sites and steps; a focused step is read out', async () => {
    const page = await open('site2-failed');
    const focused = (): Promise<string> =>
      page.evaluate(() => {
        const a = document.activeElement as HTMLElement;
        return a.classList.contains('shr-lane') ? `lane ${a.dataset.site}` : a.classList.contains('shr-bar') ? `bar ${a.closest<HTMLElement>('.shr-lane')!.dataset.site} ${a.dataset.step}` : a.tagName;
      });
    const seq: string[] = [];
    for (let i = 0; i < 9; i++) {
      await page.keyboard.press('Tab');
      seq.push(await focused());
    }
    assert.deepEqual(seq, [
      'lane seattle', 'bar seattle preflight', 'bar seattle drain', 'bar seattle upgrade', 'bar seattle verify', 'bar seattle restore-traffic', 'bar seattle rollback',
      'lane dublin', 'bar dublin preflight',
    ]);
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'lane dublin');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'lane tokyo');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), 'bar dublin upgrade');
    assert.match((await page.locator('#shr-detail').textContent())!, /^dublin, step 3 of 4: upgrade, FAILED, [\d.]+ m?s/);
    assert.equal(await page.locator('#shr-detail').getAttribute('aria-live'), 'polite');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await focused(), 'bar dublin drain');
    await page.keyboard.press('Escape');
    assert.equal(await focused(), 'lane dublin');
    await page.keyboard.press('End');
    assert.equal(await focused(), 'lane tokyo');
    await page.keyboard.press('Home');
    assert.equal(await focused(), 'lane seattle');
    // every lane and bar has a name for screen readers; the focus ring is visible
    assert.equal(await page.locator('.shr-lane:not([aria-label]), .shr-bar:not([aria-label])').count(), 0);
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'none');
    await page.close();
  });

  it('light and dark themes follow prefers-color-scheme; screenshots of the three scenarios for docs/', async () => {
    fs.mkdirSync(IMAGES, { recursive: true });
    const sizes: Record<string, number> = {};
    const bg: Record<string, string> = {};
    for (const [s, scheme] of [['all-green', 'light'], ['site2-failed', 'light'], ['rollback-failed', 'light'], ['rollback-failed', 'dark']] as const) {
      const page = await open(s, scheme);
      bg[`${s}-${scheme}`] = await page.locator('main.shr').evaluate((m) => getComputedStyle(m).backgroundColor);
      const file = path.join(IMAGES, `release-${s}${scheme === 'dark' ? '-dark' : ''}.png`);
      await page.locator('main.shr').screenshot({ path: file });
      sizes[path.basename(file)] = fs.statSync(file).size;
      await page.close();
    }
    console.log(`      screenshots: ${Object.entries(sizes).map(([f, n]) => `${f} ${n} B`).join(', ')}`);
    for (const [f, n] of Object.entries(sizes)) assert.ok(n > 15_000 && n < 2_000_000, `${f}: ${n} bytes is not a picture of the page`);
    assert.equal(bg['all-green-light'], 'rgb(255, 255, 255)');
    assert.equal(bg['rollback-failed-dark'], 'rgb(27, 27, 27)');
    assert.notEqual(sizes['release-rollback-failed.png'], sizes['release-rollback-failed-dark.png']);
  });

  it('page weight: each standalone page is far below 300 KB gzipped; it names no host', () => {
    for (const [s, html] of pages) {
      const gz = gzipSync(html, { level: 9 }).length;
      console.log(`      ${s}.html: ${html.length} B, ${gz} B gzipped`);
      assert.ok(gz <= BUDGET, `${s}: ${gz} B gzipped`);
      assert.deepEqual(html.match(/\b(?:src|href)=/g) ?? [], [], `${s}: the page references a file`);
      assert.deepEqual(html.match(/https?:\/\//g) ?? [], [], `${s}: the page names a host`);
    }
  });
});
