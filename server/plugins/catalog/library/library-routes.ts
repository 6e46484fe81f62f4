import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Request, Response } from 'express';
import type { Route } from '../../../core/routes';
import { localizedError } from '../../../core/errors';
import { readManifest, type BuiltCourse } from '../../../../content/tools/build-library';

/**
 * `GET /catalog/library/<slug>.zip`: the built cmi5 package of a library course, public so other
 * institutions can import it (the library is openly licensed; the licence is in the zip).
 * `GET /catalog/library/scorm12/<slug>.zip`: its SCORM 1.2 export, for LMSs without cmi5. That
 * one holds the assessment's answer key (SCORM 1.2 pages score themselves), the key this platform
 * keeps from its own learners, so only catalog administrators download it.
 */
export function libraryRoutes(buildDir: string): Route[] {
  const send = (kind: 'cmi5' | 'scorm12') => (req: Request, res: Response) => {
    const m = /^([a-z0-9][a-z0-9-]*)\.zip$/.exec(String(req.params.file));
    if (!m) throw localizedError(404, 'catalog:library.notFound', { slug: String(req.params.file) });
    const entry: BuiltCourse | undefined = readManifest(buildDir)?.courses.find((c) => c.slug === m[1]);
    const rel = entry && (kind === 'cmi5' ? `${entry.slug}.zip` : entry.scorm12Zip);
    const file = rel && path.join(buildDir, rel);
    if (!entry || !file || !existsSync(file)) throw localizedError(404, 'catalog:library.notFound', { slug: m[1] });
    const etag = `"${kind === 'cmi5' ? entry.sha256 : entry.scorm12Sha256}"`;
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Length', String(statSync(file).size));
    res.setHeader('Content-Disposition', `attachment; filename="${entry.slug}${kind === 'cmi5' ? '' : '-scorm12'}.zip"`);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', kind === 'cmi5' ? 'public, max-age=3600' : 'private, no-store');
    if (req.headers['if-none-match'] === etag) return void res.status(304).end();
    createReadStream(file).pipe(res);
  };
  return [
    { method: 'get', path: '/library/:file', guard: 'public', handler: send('cmi5') },
    { method: 'get', path: '/library/scorm12/:file', guard: 'catalog:manage', handler: send('scorm12') },
  ];
}
