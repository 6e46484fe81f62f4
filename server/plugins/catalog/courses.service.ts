/**
 * Courses and their versions: package import (cmi5 zip or standalone cmi5.xml, SCORM zip; the
 * format is detected from the manifest at the zip's root), the course list,
 * publishing and the metadata admins assign. Learners' registrations point at a version, which is
 * never modified, so importing a new version never breaks a course someone is taking.
 */
import { CONTENT_PREFIX, SCORM_CONTENT_PREFIX } from './package/content-route';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Connection } from 'mongoose';
import { z } from 'zod';
import { HttpError, notFound } from '../../core/errors';
import { isDuplicateKey } from '../../core/db/connect';
import { LEVELS } from '../../core/taxonomy';
import type { CourseProvenance } from '../../core/contracts/catalog';
import {
  courseModel,
  courseVersionModel,
  type Course,
  type CourseModel,
  type CourseVersion,
  type CourseVersionModel,
} from './course.model';
import { PACKAGE_FORMATS, type DescribedCourse } from './formats';
import { sniffXmlEncoding } from './package/course-structure';
import { PackageError, at, packageError } from './package/package-error';
import { createPackageStore, GridFsPackageStore, type PackageStore } from './package/package-store';
import type { PackageSettings } from './package/settings';
import { eachZipFile, inspectZip } from './package/zip-package';
import { writePackageArchive } from './package/package-archive';

export interface ImportInput {
  filePath: string;
  /** The name the file had on the uploader's machine (tells a standalone cmi5.xml from a zip). */
  originalName?: string;
  importedBy?: string;
  /** Refuse, before storing anything, a package whose course id is another. */
  expectCourseId?: string;
  /** Where a course shared by another institution came from; kept on the course. */
  provenance?: CourseProvenance;
}

export interface ImportResult {
  courseId: string;
  version: number;
  auCount: number;
  /** Absent for cmi5 (as on stored versions). */
  format?: Exclude<DescribedCourse['format'], 'cmi5'>;
  /** The identical file (same sha256) was already imported: nothing changed. */
  alreadyInstalled: boolean;
}

export type VersionSummary = Omit<CourseVersion, 'structure'>;

const code = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/i, 'use letters, digits and hyphens');
const MetaInput = z.object({
  tiers: z.array(code).max(50),
  levels: z.array(z.enum(LEVELS)).max(LEVELS.length),
  topics: z.array(code).max(50),
  hours: z.coerce.number().min(0).max(10000),
});
export type MetaInput = z.input<typeof MetaInput>;

export class CoursesService {
  readonly courses: CourseModel;
  readonly versions: CourseVersionModel;
  readonly store: PackageStore;

  constructor(
    db: Connection,
    private readonly settings: PackageSettings,
    /** The server's public base URL, for content URLs when no CONTENT_ORIGIN is set. */
    private readonly baseUrl: string,
  ) {
    this.courses = courseModel(db);
    this.versions = courseVersionModel(db);
    this.store = createPackageStore(db, settings.packageDir);
  }

  async init(): Promise<void> {
    await Promise.all([this.courses.init(), this.versions.init()]);
    if (this.store instanceof GridFsPackageStore) await this.store.init();
  }

  /**
   * Validates the whole package before storing anything, stores its files, then records the
   * version and moves the course's current version. Any failure removes what was stored.
   */
  async importPackage(input: ImportInput): Promise<ImportResult> {
    const { filePath } = input;
    const size = (await stat(filePath)).size;
    if (size > this.settings.maxPackageBytes) {
      throw packageError('limit', at('upload'), 'limit.package', { mb: mb(size), max: mb(this.settings.maxPackageBytes) }, 413);
    }
    const kind = await sniff(filePath, input.originalName);
    let parsed: DescribedCourse;
    if (kind === 'zip') {
      const zip = await inspectZip(
        filePath,
        this.settings,
        PACKAGE_FORMATS.map((f) => ({ name: f.manifestName, rule: f.zipRule })),
      );
      const format = PACKAGE_FORMATS.find((f) => zip.manifests.has(f.manifestName));
      if (!format) throw noManifest(zip.nested);
      parsed = await format.describe(zip.manifests.get(format.manifestName)!, {
        source: 'zip',
        files: zip.files,
        maxAus: this.settings.maxAus,
      });
    } else {
      if (size > this.settings.maxXmlBytes)
        throw packageError('limit', 'cmi5.xml', 'limit.largerThan', { mb: mb(this.settings.maxXmlBytes) }, 413);
      const xml = await readFile(filePath);
      if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<([A-Za-z_][\w.-]*:)?manifest[\s>]/.test(xml.subarray(0, 4096).toString('latin1')))
        throw packageError('SCORM CAM §3.2 (PIF)', input.originalName ? `"${input.originalName}"` : at('upload'), 'scormAlone');
      parsed = await PACKAGE_FORMATS.find((f) => f.standalone)!.describe(xml, { source: 'xml', maxAus: this.settings.maxAus });
    }
    if (input.expectCourseId !== undefined && parsed.id !== input.expectCourseId) {
      throw new HttpError(422, `The package is course ${parsed.id}, not ${input.expectCourseId}`);
    }
    const sha256 = await sha256Of(filePath);

    const course = await this.courses.findById(parsed.id).lean<Course>();
    if (course) {
      const same = (await this.listVersions(parsed.id)).find((v) => v.sha256 === sha256);
      if (same) {
        if (input.provenance) await this.courses.updateOne({ _id: parsed.id }, { $set: { provenance: input.provenance } });
        return { courseId: parsed.id, version: same.version, auCount: same.auCount, ...formatField(parsed), alreadyInstalled: true };
      }
    }

    const packageId = randomBytes(12).toString('hex');
    const version = (course?.currentVersion ?? 0) + 1;
    const versionId = `${parsed.id}#v${version}`;
    let versionStored = false;
    try {
      const zipRule = PACKAGE_FORMATS.find((f) => f.id === parsed.format)!.zipRule;
      if (kind === 'zip') await eachZipFile(filePath, async (name, body) => void (await this.store.put(packageId, name, body)), zipRule);
      else await this.store.put(packageId, 'cmi5.xml', createReadStream(filePath));
      await this.store.flush(packageId);

      await this.versions.create({
        _id: versionId,
        courseId: parsed.id,
        version,
        packageId,
        source: kind,
        // cmi5 versions keep the shape they had before formats existed (absent = cmi5).
        ...(parsed.format !== 'cmi5' ? { format: parsed.format, formatVersion: parsed.formatVersion } : {}),
        importedAt: new Date(),
        ...(input.importedBy ? { importedBy: input.importedBy } : {}),
        sha256,
        auCount: parsed.auCount,
        structure: parsed.structure,
      });
      versionStored = true;

      const fromPackage = {
        title: parsed.title,
        description: parsed.description,
        // Metadata in the package wins; without it, what an admin assigned is kept.
        ...(parsed.meta?.hours !== undefined ? { hours: parsed.meta.hours } : {}),
        ...(parsed.meta?.reviewed ? { reviewed: parsed.meta.reviewed } : {}),
        ...(parsed.meta?.tiers ? { tiers: parsed.meta.tiers } : {}),
        ...(parsed.meta?.levels ? { levels: parsed.meta.levels } : {}),
        ...(parsed.meta?.topics ? { topics: parsed.meta.topics } : {}),
        ...(parsed.meta?.languages ? { languages: parsed.meta.languages } : {}),
        ...(parsed.meta?.license ? { license: parsed.meta.license } : {}),
        ...(parsed.meta?.credits ? { credits: parsed.meta.credits } : {}),
        ...(input.provenance ? { provenance: input.provenance } : {}),
      };
      if (!course) {
        await this.courses.create({
          _id: parsed.id,
          hours: 0,
          tiers: [],
          levels: [],
          topics: [],
          languages: [],
          ...fromPackage,
          published: false,
          currentVersion: version,
        });
      } else {
        // Conditional on the version we started from: two imports of one course cannot both win.
        const moved = await this.courses.updateOne(
          { _id: parsed.id, currentVersion: course.currentVersion },
          { $set: { ...fromPackage, currentVersion: version } },
        );
        if (moved.matchedCount !== 1)
          throw new HttpError(409, `Another version of ${parsed.id} was imported at the same time; import again`);
      }
      return { courseId: parsed.id, version, auCount: parsed.auCount, ...formatField(parsed), alreadyInstalled: false };
    } catch (err) {
      if (versionStored) await this.versions.deleteOne({ _id: versionId });
      await this.store.remove(packageId);
      if (isDuplicateKey(err)) throw new HttpError(409, `Another version of ${parsed.id} was imported at the same time; import again`);
      if (err instanceof HttpError) throw err;
      if (isZipDataError(err))
        throw packageError(
          PACKAGE_FORMATS.find((f) => f.id === parsed.format)!.zipRule,
          at('zip'),
          'zip.corruptEntry',
          { error: (err as Error).message },
          400,
        );
      throw err;
    }
  }

  /** A stored version as a deterministic cmi5 zip at `dest` (for sharing it with other institutions). */
  async writeArchive(courseId: string, version: number, dest: string): Promise<void> {
    const v = await this.getVersion(courseId, version);
    if (!v) throw notFound(`No version ${version} of course ${courseId}`);
    await writePackageArchive(this.store, v.packageId, dest);
  }

  async listCourses(opts: { publishedOnly?: boolean } = {}): Promise<Course[]> {
    const list = await this.courses.find(opts.publishedOnly ? { published: true } : {}).lean<Course[]>();
    return list.sort((a, b) => (a.title[0]?.text ?? a._id).localeCompare(b.title[0]?.text ?? b._id));
  }

  async getCourse(id: string): Promise<Course | null> {
    return this.courses.findById(id).lean<Course>();
  }

  async getVersion(courseId: string, version: number): Promise<CourseVersion | null> {
    return this.versions.findById(`${courseId}#v${version}`).lean<CourseVersion>();
  }

  /** Every version of a course, newest first, without the structure (read by `_id`, no scan). */
  async listVersions(courseId: string): Promise<VersionSummary[]> {
    const course = await this.getCourse(courseId);
    if (!course) return [];
    const ids = Array.from({ length: course.currentVersion }, (_, i) => `${courseId}#v${course.currentVersion - i}`);
    const found = await Promise.all(ids.map((id) => this.versions.findById(id).select('-structure').lean<VersionSummary>()));
    return found.filter((v): v is VersionSummary => !!v);
  }

  async setPublished(id: string, published: boolean): Promise<void> {
    const r = await this.courses.updateOne({ _id: id }, { $set: { published } });
    if (r.matchedCount === 0) throw notFound(`No course ${id}`);
  }

  async updateMeta(id: string, input: MetaInput): Promise<Course> {
    const parsed = MetaInput.safeParse(input);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new HttpError(400, `${i.path.join('.')}: ${i.message}`, {
        details: parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`),
      });
    }
    const m = parsed.data;
    const updated = await this.courses
      .findOneAndUpdate(
        { _id: id },
        { $set: { tiers: [...new Set(m.tiers)], levels: [...new Set(m.levels)], topics: [...new Set(m.topics)], hours: m.hours } },
        { returnDocument: 'after' },
      )
      .lean<Course>();
    if (!updated) throw notFound(`No course ${id}`);
    return updated;
  }

  /** Where a browser loads an AU: absolute URLs as they are, package files on the content route. */
  contentUrl(version: Pick<CourseVersion, 'packageId'>, auUrl: string, route: 'content' | 'scorm' = 'content'): string {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(auUrl)) return auUrl;
    // SCORM's own route only pays off on a content origin (without one its files stay opaque, like any package's).
    const prefix = route === 'scorm' && this.settings.contentOrigin ? SCORM_CONTENT_PREFIX : CONTENT_PREFIX;
    return `${this.settings.contentOrigin ?? this.baseUrl}${prefix}/${version.packageId}/${auUrl}`;
  }

  /** A stored package file, for the content route. */
  async openContent(
    packageId: string,
    name: string,
    range?: { start: number; end: number },
  ): Promise<{ file: NonNullable<Awaited<ReturnType<PackageStore['stat']>>>; body: () => Readable } | null> {
    if (!/^[a-f0-9]{24}$/.test(packageId)) return null;
    const file = await this.store.stat(packageId, name);
    if (!file) return null;
    return { file, body: () => this.store.read(packageId, name, range) };
  }
}

const formatField = (p: DescribedCourse) => (p.format !== 'cmi5' ? { format: p.format } : {});

/** No format's manifest at the zip's root: say where one was found, if it was (a zipped folder). */
function noManifest(nested: Map<string, string>): PackageError {
  const cmi5 = nested.get('cmi5.xml');
  if (cmi5) return packageError('cmi5 §14', at('zip'), 'notAtRoot', { manifest: 'cmi5.xml', path: cmi5 });
  const scorm = nested.get('imsmanifest.xml');
  if (scorm) return packageError('SCORM CAM §3.2 (PIF)', at('zip'), 'notAtRoot', { manifest: 'imsmanifest.xml', path: scorm });
  return packageError('cmi5 §14', at('zip'), 'noManifest');
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** Zip or standalone XML, by the file's first bytes (the name is only a hint). */
async function sniff(filePath: string, originalName?: string): Promise<'zip' | 'xml'> {
  const fh = await open(filePath, 'r');
  const head = Buffer.alloc(8);
  try {
    await fh.read(head, 0, 8, 0);
  } finally {
    await fh.close();
  }
  if (head[0] === 0x50 && head[1] === 0x4b) return 'zip';
  const text = head.toString('latin1').replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '');
  if (/^\s*</.test(text) || sniffXmlEncoding(head)) return 'xml';
  throw packageError('cmi5 §14', originalName ? `"${originalName}"` : at('upload'), 'notAPackage', undefined, 400);
}

async function sha256Of(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of createReadStream(filePath)) hash.update(c as Buffer);
  return hash.digest('hex');
}

function isZipDataError(err: unknown): boolean {
  const m = (err as Error)?.message ?? '';
  return /too many bytes|not enough bytes|invalid|unexpected end|incorrect header|crc/i.test(m);
}

export { PackageError };
