/**
 * The one check for every redirect target taken from a request (`?next=`, a form's `next`): only a
 * path on this server is followed, anything else becomes `/`. Checked by resolving it the way a
 * browser does, against a placeholder origin: browsers read `\` as `/` and drop tabs and newlines,
 * so `/\evil.example` or `/<TAB>/evil.example` would otherwise leave the site.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.length > 2000) return '/';
  const base = 'http://this-server.invalid';
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return '/';
  }
  return url.origin === base ? url.pathname + url.search + url.hash : '/';
}
