/**
 * The release page as one self-contained HTML file (the `reportFile` of every release run): the markup of
 * render.ts, the style sheet inline, the keyboard script inline. Nothing else: no script, style sheet, font or
 * image from anywhere, so it opens the same on an air-gapped jump box as in a browser with internet.
 */
import { installKeyboard } from './keyboard';
import { buildReport, type BackupList } from './model';
import { esc, renderMessage, renderReport } from './render';
import { REPORT_CSS } from './styles';
import type { ReleaseRecord } from '../helm-release/record';

/**
 * The keyboard script as inline JS. Bundlers that keep function names (esbuild `keepNames`, tsx) wrap nested
 * functions in `__name(fn, "name")`: the shim makes that a no-op.
 */
export function keyboardScript(): string {
  return `(function(){var __name=function(f){return f};(${installKeyboard.toString()})(document);})();`;
}

/** An HTML document in the page's one shell (language, charset, viewport, light and dark): `head` and `body` are markup. */
export function htmlDocument(title: string, head: readonly string[], body: readonly string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    ...head,
    `<title>${esc(title)}</title>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The whole HTML document for release records (and backup lists). */
export function reportPage(records: readonly ReleaseRecord[], lists: readonly BackupList[] = []): string {
  const m = buildReport(records, lists);
  const title = m ? `Release ${m.release} · ${m.result}` : 'Release';
  const body = m ? renderReport(m) : renderMessage('Multi-site release', 'No release record.');
  return htmlDocument(
    title,
    [
      // nothing may load from anywhere: the page is complete as it is
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
      `<style>${REPORT_CSS}</style>`,
    ],
    [body, `<script>${keyboardScript()}</script>`],
  );
}
