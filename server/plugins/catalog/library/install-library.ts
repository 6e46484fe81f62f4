/**
 * Installs the built-in course library (content/courses): builds the cmi5 packages when the
 * sources changed, imports each through the catalog's importer (the same sha256 is recognised,
 * so re-running changes nothing), publishes courses installed for the first time and puts
 * them on the learning paths their course.yaml names.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpError } from '../../../core/errors';
import type { Runtime } from '../../../core/plugin';
import { buildLibrary, DEFAULT_OUT, DEFAULT_SRC, type BuiltCourse } from '../../../../content/tools/build-library';
import { bankDigest, type ItemBank } from '../../../../content/tools/item-bank';

export interface InstallReport {
  courses: Array<{ slug: string; courseId: string; version: number; alreadyInstalled: boolean }>;
  /** Courses whose sources or package were rejected: the others are still installed. */
  errors: Array<{ course: string; message: string }>;
  pathsAdded: number;
}

/** Where built packages live: CONTENT_BUILD_DIR, or content/build in the checkout. */
export function libraryBuildDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.CONTENT_BUILD_DIR ? path.resolve(env.CONTENT_BUILD_DIR) : DEFAULT_OUT;
}

export async function installLibrary(
  rt: Pick<Runtime, 'services' | 'config'>,
  opts: { forceBuild?: boolean; src?: string; log?: (line: string) => void } = {},
): Promise<InstallReport> {
  const log = opts.log ?? (() => {});
  const built = await buildLibrary({ src: opts.src ?? DEFAULT_SRC, out: libraryBuildDir(rt.config.env), force: opts.forceBuild, log });
  const courses = rt.services.get('catalog.courses');
  const report: InstallReport = {
    courses: [],
    errors: (built.errors ?? []).map((e) => ({ course: e.dir, message: e.message })),
    pathsAdded: 0,
  };
  let firstInstalls = 0;
  for (const c of built.courses as BuiltCourse[]) {
    try {
      const r = await courses.importPackage({ filePath: c.zip, originalName: `${c.slug}.zip`, importedBy: 'content:install' });
      // The assessment's key is not in the package: the LMS keeps the bank and scores the attempts.
      const bank = JSON.parse(readFileSync(c.bank, 'utf8')) as ItemBank;
      await rt.services.get('catalog.assessments').installBank(r.courseId, r.version, bank, bankDigest(bank));
      // Only a course new to this server is published: an admin who unpublished a library course keeps it so.
      if (!r.alreadyInstalled && r.version === 1) {
        await courses.setPublished(r.courseId, true);
        firstInstalls++;
      }
      report.courses.push({ slug: c.slug, courseId: r.courseId, version: r.version, alreadyInstalled: r.alreadyInstalled });
      log(`${r.alreadyInstalled ? 'already installed' : 'installed'} ${c.slug} (${r.courseId} v${r.version})`);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      report.errors.push({ course: c.slug, message: err.message });
      log(`rejected ${c.slug}: ${err.message}`);
    }
  }
  // Paths follow each course's tiers/levels, but only when new courses arrived, so that a
  // restart does not put back a course an admin took off a path.
  if (firstInstalls) report.pathsAdded = await rt.services.get('catalog.paths').applyCourseMeta('content:install');
  return report;
}
