import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Route } from '../../../core/routes';
import { localizedError } from '../../../core/errors';
import { readManifest } from '../../../../content/tools/build-library';

/**
 * `GET /catalog/library/<slug>.zip`: the built package of a library course, public so other
 * institutions can import it (the library is openly licensed; the licence is in the zip).
 */
export function libraryRoutes(buildDir: string): Route[] {
  return [
    {
      method: 'get',
      path: '/library/:file',
      guard: 'public',
      handler: (req, res) => {
        const m = /^([a-z0-9][a-z0-9-]*)\.zip$/.exec(String(req.params.file));
        if (!m) throw localizedError(404, 'catalog:library.notFound', { slug: String(req.params.file) });
        const entry = readManifest(buildDir)?.courses.find((c) => c.slug === m[1]);
        const file = entry && path.join(buildDir, `${entry.slug}.zip`);
        if (!entry || !file || !existsSync(file)) throw localizedError(404, 'catalog:library.notFound', { slug: m[1] });
        res.setHeader('Content-Type', 'application/zip');
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader('Content-Disposition', `attachment; filename="${entry.slug}.zip"`);
        res.setHeader('ETag', `"${entry.sha256}"`);
        res.setHeader('Cache-Control', 'public, max-age=3600');
        if (req.headers['if-none-match'] === `"${entry.sha256}"`) return void res.status(304).end();
        createReadStream(file).pipe(res);
      },
    },
  ];
}
