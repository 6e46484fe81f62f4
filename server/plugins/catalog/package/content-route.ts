/**
 * Serves AU files from package storage. Third-party package code must not act as the signed-in
 * person, so every file is sandboxed without allow-same-origin (the page gets an opaque origin:
 * no cookies, no same-origin calls to our API) and, when CONTENT_ORIGIN is set, comes from that
 * separate origin only. The AU reaches the LRS with its launch token over CORS.
 *
 * SCORM content expects its frames, pop-ups and launch pages to share one origin with the window
 * holding the API (`parent.API`, `window.top`, `opener`, a frame calling a function of its
 * parent), which opaque origins cannot give (each document gets its own). So SCORM sessions are
 * launched in our frame page (formats/scorm/frame.ts) with their files on a route of their own
 * (`/catalog/scorm-content/…`) where, on the content origin, files are sandboxed with
 * allow-same-origin: they share the content origin, which is another host than the LMS's (its
 * cookies are not sent there, its pages cannot be read from there).
 * Without CONTENT_ORIGIN that route serves files exactly like the other one (opaque origins).
 */
import type { Request, Response } from 'express';
import { notFound } from '../../../core/errors';
import type { CoursesService } from '../courses.service';
import { injectApi, injectionFor } from '../formats/scorm/inject';

export const SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';
export const CONTENT_PREFIX = '/catalog/content';
export const SCORM_CONTENT_PREFIX = '/catalog/scorm-content';

/** Parses a single `bytes=` range; multiple ranges are answered with the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (!m[1] && !m[2])) return undefined;
  let start: number;
  let end: number;
  if (!m[1]) {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  }
  return start > end || start >= size ? 'invalid' : { start, end };
}

export function contentHandler(courses: CoursesService, opts: { baseUrl: string; contentOrigin?: string; scorm?: boolean }) {
  const lmsOrigin = new URL(opts.baseUrl).origin;
  const contentHost = opts.contentOrigin ? new URL(opts.contentOrigin).host : undefined;
  // Reached only on the content host (see the redirect below), never on the LMS's.
  const sameOrigin = !!(opts.scorm && contentHost);
  const sandbox = sameOrigin ? `${SANDBOX} allow-same-origin` : SANDBOX;
  return async (req: Request, res: Response) => {
    const packageId = String(req.params.packageId);
    const segments = ([] as string[]).concat((req.params as Record<string, string | string[]>).path ?? []);
    if (!segments.length || segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) throw notFound();
    const name = segments.join('/');
    // With a content origin, package files never come from the LMS's own origin.
    if (contentHost && req.headers.host !== contentHost) {
      return res.redirect(308, `${opts.contentOrigin}${req.originalUrl}`);
    }
    const found = await courses.openContent(packageId, name);
    if (!found) throw notFound(`No file ${name} in package ${packageId}`);
    const { file } = found;

    // Replaces the app-wide helmet headers that would fight the sandbox and the framing by the LMS.
    res.removeHeader('X-Frame-Options');
    res.removeHeader('Cross-Origin-Opener-Policy');
    res.setHeader('Content-Security-Policy', `${sandbox}; frame-ancestors 'self' ${lmsOrigin}`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('ETag', file.etag);
    res.setHeader('Last-Modified', file.lastModified.toUTCString());
    // A package id is never reused and its files never change.
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Accept-Ranges', 'bytes');

    const scormApi = injectionFor(req.query, file.contentType, file.size);
    if (scormApi) {
      // A SCO page opened for a session: served with the SCORM API, never cached (the start URL is single-use).
      const parts: Buffer[] = [];
      for await (const c of found.body()) parts.push(c as Buffer);
      const page = injectApi(Buffer.concat(parts), opts.baseUrl, scormApi);
      res.setHeader('Cache-Control', 'no-store');
      res.removeHeader('ETag');
      res.removeHeader('Accept-Ranges');
      res.setHeader('Content-Length', String(page.length));
      return req.method === 'HEAD' ? res.end() : res.end(page);
    }

    const inm = req.headers['if-none-match'];
    if (inm && inm.split(/\s*,\s*/).includes(file.etag)) return res.status(304).end();

    const ifRange = req.headers['if-range'];
    const range = !ifRange || ifRange === file.etag ? parseRange(req.headers.range, file.size) : undefined;
    if (range === 'invalid') {
      res.setHeader('Content-Range', `bytes */${file.size}`);
      return res.status(416).end();
    }
    if (range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
      // A compressed partial response would not match the range it claims.
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable, no-transform');
    } else res.setHeader('Content-Length', String(file.size));
    if (req.method === 'HEAD') return res.end();
    const body = range ? (await courses.openContent(packageId, name, range))!.body() : found.body();
    body.on('error', (err) => res.destroy(err));
    body.pipe(res);
  };
}
