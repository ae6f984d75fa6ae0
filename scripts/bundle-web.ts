/**
 * Bundles the "Multi-site release" build results tab (src/web/results-tab.ts with azure-devops-extension-sdk and
 * azure-devops-extension-api) into one script and its page: `dist/web/results-tab.{html,js}`, which the .vsix
 * carries (vss-extension.json `files`). Browser code: nothing from a CDN, no web font; the style sheet is inside
 * the script.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { htmlDocument } from '../src/report/page';

const ROOT = path.resolve(__dirname, '..');

/** Where the tab's files go, relative to the repository (and inside the .vsix). */
export const WEB_DIR = 'dist/web';
/** The tab's files. */
export const WEB_FILES = ['results-tab.html', 'results-tab.js'] as const;
/** The tab's page, as the contribution's `uri` names it. */
export const TAB_URI = `${WEB_DIR}/results-tab.html`;
/** The page weight budget: every file of the tab, gzipped. */
export const WEB_BUDGET_GZIP_BYTES = 300 * 1024;

/** The tab's HTML page: the script and nothing else. */
export function tabHtml(): string {
  return htmlDocument('Multi-site release', [], ['<div id="app"><main class="shr"><p role="status">Loading the release record…</p></main></div>', '<script src="results-tab.js"></script>']);
}

/** Builds the tab into `outDir` (default `<repo>/dist/web`); returns the written files. */
export async function bundleWeb(outDir = path.join(ROOT, WEB_DIR)): Promise<string[]> {
  fs.mkdirSync(outDir, { recursive: true });
  const js = path.join(outDir, 'results-tab.js');
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/web/results-tab.ts'],
    outfile: js,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15', 'edge100'],
    conditions: ['import', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    minify: true,
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const html = path.join(outDir, 'results-tab.html');
  fs.writeFileSync(html, tabHtml());
  return [html, js];
}

/** Bytes of each tab file, raw and gzipped (level 9, as a web server would send it at most). */
export function webWeight(dir = path.join(ROOT, WEB_DIR)): { file: string; bytes: number; gzip: number }[] {
  return WEB_FILES.map((f) => {
    const b = fs.readFileSync(path.join(dir, f));
    return { file: f, bytes: b.length, gzip: gzipSync(b, { level: 9 }).length };
  });
}

if (require.main === module) {
  bundleWeb()
    .then(() => {
      for (const w of webWeight()) console.log(`web     ${WEB_DIR}/${w.file} ${w.bytes} B (${w.gzip} B gzipped)`);
    })
    .catch((e: Error) => {
      console.error(`web bundle failed: ${e.message}`);
      process.exit(1);
    });
}
