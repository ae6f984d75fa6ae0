/** GitHub step-summary limits (kept apart from github.ts so tests need not load @actions/core). */

/** GitHub drops a step summary larger than this entirely. */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

/** Cuts a summary so that it fits GitHub's limit, with a note saying so. */
export function fitSummary(markdown: string, limit = STEP_SUMMARY_LIMIT): string {
  if (Buffer.byteLength(markdown, 'utf8') <= limit) return markdown;
  const note = '\n\n_(summary truncated: GitHub drops step summaries over 1 MiB)_\n';
  let cut = Buffer.from(markdown, 'utf8').subarray(0, limit - Buffer.byteLength(note) - 4).toString('utf8');
  cut = cut.replace(/\uFFFD+$/, '');
  return cut.slice(0, cut.lastIndexOf('\n') > 0 ? cut.lastIndexOf('\n') : cut.length) + note;
}
