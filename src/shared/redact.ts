/** Redaction of URLs for messages: SAS tokens live in query strings, credentials in userinfo. */

/** Redacts userinfo and query string (and fragment) from a URL for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.host !== '') {
      u.username = '';
      u.password = '';
      u.search = '';
      u.hash = '';
      return u.href;
    }
  } catch {
    // fall through to the textual redaction
  }
  const noQuery = url.replace(/[?#][\s\S]*$/, '');
  return /^([a-z][a-z0-9+.-]*:)?\/\//i.test(noQuery)
    ? noQuery.replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)[\s\S]*@/i, '$1')
    : noQuery.replace(/^[^/]*@/, '');
}
