// @actions/workflow-parser (ESM, built for bundlers) imports its JSON schemas without `with { type: 'json' }`, which
// Node's own ESM loader refuses. This loader hook adds the attribute for those files only.
export async function load(url, context, next) {
  if (url.endsWith('.json') && url.includes('/node_modules/@actions/') && !context.importAttributes?.type) {
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
  }
  return next(url, context);
}
