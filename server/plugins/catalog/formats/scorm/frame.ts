/**
 * The frame page: with a content origin, a SCO runs in a frame of this page, which holds the
 * SCORM API (scorm-again and our player), as an LMS's frameset does. Content written for such
 * LMSs looks for the API only in `parent` / `opener` / `top` (never in its own window), declares
 * `var API = null` in its own window, has frames calling functions of their parent, or moves its
 * frame from a launch page to another page; all of that works because this page and every file of
 * the package share the content origin (sandboxed with allow-same-origin, see content-route.ts).
 * Without a content origin SCOs are launched directly, the API injected into their own page.
 */
import type { Request, Response } from 'express';
import { HttpError } from '../../../../core/errors';
import { SANDBOX, SCORM_CONTENT_PREFIX } from '../../package/content-route';
import { SCO_PARAM, START_PARAM, VERSION_PARAM, scriptsFor } from './params';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function frameHandler(opts: { baseUrl: string; contentOrigin: string; title: (lang: string) => string }) {
  const lmsOrigin = new URL(opts.baseUrl).origin;
  const contentHost = new URL(opts.contentOrigin).host;
  const scoPrefix = `${opts.contentOrigin}${SCORM_CONTENT_PREFIX}/`;
  return (req: Request, res: Response) => {
    // Only on the content origin: on the LMS's own origin this page would share it with package code.
    if (req.headers.host !== contentHost) throw new HttpError(404, 'The SCORM frame page is served on the content origin only');
    const sco = req.query[SCO_PARAM];
    const start = req.query[START_PARAM];
    const version = req.query[VERSION_PARAM] === '1.2' ? '1.2' : '2004';
    if (typeof sco !== 'string' || !sco.startsWith(scoPrefix) || /[\s"'<>]/.test(sco))
      throw new HttpError(400, `SCORM frame: ${SCO_PARAM} must be a page of a SCORM package on this content origin`);
    if (typeof start !== 'string' || !/^[\w-]+$/.test(start)) throw new HttpError(400, `SCORM frame: ${START_PARAM} is missing`);
    const lang = typeof req.query.lang === 'string' && /^(es|pt|en)$/.test(req.query.lang) ? req.query.lang : 'es';
    const title = esc(opts.title(lang));
    const scripts = scriptsFor(opts.baseUrl, version)
      .map((src) => `<script src="${esc(src)}"></script>`)
      .join('');
    res.setHeader(
      'Content-Security-Policy',
      `${SANDBOX} allow-same-origin; default-src 'none'; script-src ${lmsOrigin}; connect-src ${lmsOrigin}; style-src 'unsafe-inline'; frame-src ${opts.contentOrigin}; frame-ancestors 'self' ${lmsOrigin}`,
    );
    res.removeHeader('X-Frame-Options');
    res.removeHeader('Cross-Origin-Opener-Policy');
    res.setHeader('Cache-Control', 'no-store');
    res
      .type('html')
      .send(
        `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>${scripts}` +
          `<style>html,body{margin:0;height:100%;overflow:hidden}iframe{border:0;width:100%;height:100%;display:block}</style></head>` +
          `<body><iframe id="sco" title="${title}" src="${esc(sco)}" allow="fullscreen; autoplay"></iframe></body></html>`,
      );
  };
}
