/**
 * The SCORM API goes into the SCO's own page: a SCO finds `API` / `API_1484_11` on its window or
 * a parent's, and a sandboxed page cannot see a parent of another origin. So the launch file,
 * when opened with a session's start parameter, is served with two script tags at the top of its
 * <head> (scorm-again, then our player), before any script of the SCO runs.
 */
import { START_PARAM, VERSION_PARAM, scriptsFor } from './params';
/** Larger pages are served untouched (a launch page is a few KB; this bounds the memory a request holds). */
export const MAX_INJECT_BYTES = 8 * 1024 * 1024;

/** The SCORM version to inject for, when this request opens a SCO session. */
export function injectionFor(query: Record<string, unknown>, contentType: string, size: number): '1.2' | '2004' | undefined {
  if (typeof query[START_PARAM] !== 'string' || !/^text\/html|^application\/xhtml\+xml/i.test(contentType) || size > MAX_INJECT_BYTES)
    return undefined;
  return query[VERSION_PARAM] === '1.2' ? '1.2' : '2004';
}

/** The page with the script tags after its <head> (or <html>, or at the very start). */
export function injectApi(page: Buffer, baseUrl: string, version: '1.2' | '2004'): Buffer {
  const tags = Buffer.from(
    scriptsFor(baseUrl, version)
      .map((src) => `<script src="${src}"></script>`)
      .join(''),
  );
  // Byte offsets of ASCII markup are the same in every ASCII-compatible encoding.
  const head = page.subarray(0, 65536).toString('latin1');
  const m = /<head(\s[^>]*)?>/i.exec(head) ?? /<html(\s[^>]*)?>/i.exec(head) ?? /<!doctype[^>]*>/i.exec(head);
  const at = m ? m.index + m[0].length : 0;
  return Buffer.concat([page.subarray(0, at), tags, page.subarray(at)]);
}
