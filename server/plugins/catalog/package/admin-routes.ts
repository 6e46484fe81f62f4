/** Course package administration (upload, publish, versions, metadata) and AU file serving. */
import type { Request, RequestHandler, Response } from 'express';
import { HttpError, notFound, errorText } from '../../../core/errors';
import type { Route } from '../../../core/routes';
import { reviewOverdue } from '../../../core/review-date';
import { DEFAULT_TIERS, LEVELS } from '../../../core/taxonomy';
import type { StructureNode } from '../course.model';
import type { CoursesService } from '../courses.service';
import { pick } from '../paths/course-reader';
import { contentHandler } from './content-route';
import { PackageError } from './package-error';
import type { PackageSettings } from './settings';
import { receiveUpload } from './upload';

export interface PackageRouteOptions {
  baseUrl: string;
  settings: PackageSettings;
  /** The CSRF check of the plugin's forms (a multipart upload is checked by hand). */
  csrf: RequestHandler;
  /** Role tiers offered in the metadata form (the paths store's list when there is one). */
  tierOptions?: () => Promise<string[]>;
  /** The library slug of a built-in course, whose cmi5 and SCORM 1.2 packages the course page offers. */
  librarySlug?: (courseId: string) => string | undefined;
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);
const MAX_OUTLINE = 300;

/** The structure as an indented outline, cut at MAX_OUTLINE rows to keep the page light. */
function outline(nodes: StructureNode[], depth = 0, out: Array<{ node: StructureNode; depth: number }> = []) {
  for (const n of nodes) {
    if (out.length >= MAX_OUTLINE) break;
    out.push({ node: n, depth });
    if (n.type === 'block') outline(n.children, depth + 1, out);
  }
  return out;
}

export function packageRoutes(courses: CoursesService, opts: PackageRouteOptions): { routes: Route[]; rootRoutes: Route[] } {
  const listPage = async (req: Request, res: Response, status = 200, error?: string, details?: string[]) => {
    const all = await courses.listCourses();
    res.status(status).render('catalog/admin-courses', {
      title: req.t('catalog:admin.title'),
      courses: all,
      reviewOverdue,
      error,
      details: details ?? [],
      maxMb: Math.round(opts.settings.maxPackageBytes / 1048576),
      pick,
    });
  };

  const upload = async (req: Request, res: Response) => {
    const got = await receiveUpload(req, res, { field: 'package', maxBytes: opts.settings.maxPackageBytes, csrf: opts.csrf }).catch(
      async (err) => {
        if (err instanceof HttpError && err.status < 500 && err.status !== 403 && req.accepts(['html', 'json']) === 'html') {
          await listPage(req, res, err.status, errorText(req.t, err));
          return null;
        }
        throw err;
      },
    );
    if (!got) return;
    try {
      const r = await courses.importPackage({ filePath: got.filePath, originalName: got.originalName, importedBy: req.user!.id });
      if (req.accepts(['html', 'json']) === 'json') return res.status(r.alreadyInstalled ? 200 : 201).json(r);
      const q = new URLSearchParams({ id: r.courseId, [r.alreadyInstalled ? 'same' : 'imported']: String(r.version) });
      res.redirect(303, `/catalog/admin/course?${q}`);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500 || req.accepts(['html', 'json']) === 'json') throw err;
      const { reason, details } = err instanceof PackageError ? err.explain(req.t) : { reason: errorText(req.t, err), details: [] };
      await listPage(req, res, err.status, req.t('catalog:import.rejected', { reason }), details.length > 1 ? details : []);
    } finally {
      await got.cleanup();
    }
  };

  const coursePage = async (req: Request, res: Response, status = 200, error?: string, message?: string) => {
    const id = str(req.query.id) || str(req.body?.id);
    const course = await courses.getCourse(id);
    if (!course) throw notFound(`No course ${id}`);
    const [versions, current, tiers] = await Promise.all([
      courses.listVersions(id),
      courses.getVersion(id, course.currentVersion),
      opts.tierOptions?.() ?? Promise.resolve([...DEFAULT_TIERS]),
    ]);
    const imported = str(req.query.imported);
    const same = str(req.query.same);
    res.status(status).render('catalog/admin-course', {
      title: pick(course.title, req.lang) || course._id,
      course,
      reviewOverdue,
      versions,
      rows: current ? outline(current.structure) : [],
      auCount: current?.auCount ?? 0,
      maxOutline: MAX_OUTLINE,
      contentUrl: (url: string) => (current ? courses.contentUrl(current, url) : url),
      tiers: [...new Set([...tiers, ...course.tiers])],
      levels: LEVELS,
      librarySlug: opts.librarySlug?.(course._id),
      pick,
      error,
      message:
        message ??
        (imported
          ? req.t('catalog:import.imported', { version: imported })
          : same
            ? req.t('catalog:import.alreadyInstalled', { version: same })
            : undefined),
    });
  };

  const publish = async (req: Request, res: Response) => {
    const id = str(req.body.id);
    await courses.setPublished(id, str(req.body.published) === '1');
    res.redirect(303, `/catalog/admin/course?${new URLSearchParams({ id })}`);
  };

  const saveMeta = async (req: Request, res: Response) => {
    const id = str(req.body.id);
    try {
      await courses.updateMeta(id, {
        tiers: list(req.body.tiers),
        levels: list(req.body.levels) as never,
        topics: str(req.body.topics)
          .split(/[\s,]+/)
          .filter(Boolean),
        hours: str(req.body.hours) || '0',
      });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 400) throw err;
      return coursePage(req, res, 400, errorText(req.t, err));
    }
    await coursePage(req, res, 200, undefined, req.t('catalog:admin.saved'));
  };

  return {
    routes: [
      { method: 'get', path: '/admin/courses', guard: 'catalog:manage', handler: (req, res) => listPage(req, res) },
      { method: 'get', path: '/admin/course', guard: 'catalog:manage', handler: (req, res) => coursePage(req, res) },
      { method: 'post', path: '/admin/course/publish', guard: 'catalog:manage', handler: publish },
      { method: 'post', path: '/admin/course/meta', guard: 'catalog:manage', handler: saveMeta },
      {
        method: 'get',
        path: '/content/:packageId/*path',
        guard: 'public',
        handler: contentHandler(courses, { baseUrl: opts.baseUrl, contentOrigin: opts.settings.contentOrigin }),
      },
      {
        method: 'get',
        path: '/scorm-content/:packageId/*path',
        guard: 'public',
        handler: contentHandler(courses, { baseUrl: opts.baseUrl, contentOrigin: opts.settings.contentOrigin, scorm: true }),
      },
    ],
    // Outside the plugin router: its body parsers and CSRF check do not understand multipart.
    rootRoutes: [{ method: 'post', path: '/catalog/admin/courses', guard: 'catalog:manage', handler: upload }],
  };
}
