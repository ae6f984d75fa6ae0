export async function load(url, context, next) {
  if (url.endsWith('.json') && url.includes('/node_modules/@actions/') && !context.importAttributes?.type) {
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
  }
  return next(url, context);
}
