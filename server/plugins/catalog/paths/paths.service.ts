/**
 * Role tiers, learning paths (required courses per tier, optionally per level of government) and
 * enrolment: a learner's required courses follow from their profile and are enrolled
 * automatically; optional published courses can be self-enrolled.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isDuplicateKey } from '../../../core/db/connect';
import { HttpError, localizedError } from '../../../core/errors';
import type { SessionUser } from '../../../core/permissions';
import type { Hooks } from '../../../core/services';
import { DEFAULT_TIERS, LEVELS } from '../../../core/taxonomy';
import type { ProgressService } from '../progress/progress.service';
import type { CourseReader } from './course-reader';
import type { EnrollmentDoc, PathDoc, PathModels, TierDoc } from './paths.model';
import type { PersonDeadlines } from './person-deadlines';

/** The tier every servant belongs to, whatever their own tier (digital basics, security...). */
export const ALL_TIER = 'all';

const TierCode = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9-]{1,39}$/); // its message is catalog:errors.tierCode
const PathInput = z.object({
  tier: TierCode,
  level: z.enum(LEVELS).optional(),
  courses: z.array(z.string().min(1).max(2000)).max(500),
  // YYYY-MM-DD; '' clears the deadline, absent keeps the one set.
  due: z
    .string()
    .trim()
    .regex(/^(\d{4}-\d{2}-\d{2})?$/, 'due date must be a date (YYYY-MM-DD)')
    .refine((v) => !v || !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), 'due date must be a date (YYYY-MM-DD)')
    .optional(),
});

export const pathId = (tier: string, level?: string) => (level ? `${tier}:${level}` : tier);

/**
 * Paths are read on every "my path" page and change rarely: they are kept in memory for a few
 * seconds. A change made through this process clears the cache at once; other server processes
 * see it within PATH_CACHE_MS.
 */
const PATH_CACHE_MS = 5_000;

export class PathsService {
  private readonly cache = new Map<string, { at: number; doc: PathDoc | null }>();

  constructor(
    private readonly m: PathModels,
    private readonly courses: CourseReader,
    private readonly progress: ProgressService,
    private readonly hooks: Hooks,
    readonly personDeadlines: PersonDeadlines,
  ) {}

  /** First start: the core's default tiers (idempotent; admins may add more). */
  async seedTiers(): Promise<void> {
    await Promise.all(
      DEFAULT_TIERS.map((t, i) =>
        this.m.tiers.updateOne({ _id: t }, { $setOnInsert: { _id: t, order: i * 10, label: [] } }, { upsert: true }),
      ),
    );
  }

  async tiers(): Promise<TierDoc[]> {
    return this.m.tiers.find().sort({ order: 1, _id: 1 }).lean<TierDoc[]>();
  }

  async addTier(code: string, label: Array<{ lang: string; text: string }>): Promise<void> {
    const parsed = TierCode.safeParse(code);
    if (!parsed.success) throw localizedError(400, 'catalog:errors.tierCode', { code });
    const labels = label.filter((l) => l.text.trim()).map((l) => ({ lang: l.lang, text: l.text.trim().slice(0, 120) }));
    try {
      await this.m.tiers.create({ _id: parsed.data, order: 100, label: labels });
    } catch (err) {
      if (isDuplicateKey(err)) throw localizedError(409, 'catalog:errors.tierExists', { tier: parsed.data });
      throw err;
    }
  }

  async getPath(tier: string, level?: string): Promise<PathDoc | null> {
    const id = pathId(tier, level);
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < PATH_CACHE_MS) return hit.doc;
    const doc = await this.m.paths.findById(id).lean<PathDoc>();
    this.cache.set(id, { at: Date.now(), doc });
    return doc;
  }

  /** The courses one path requires: the level-specific path if there is one, else the tier's. */
  private async pathCourses(tier: string, level?: string): Promise<string[]> {
    const specific = level ? await this.getPath(tier, level) : null;
    if (specific) return specific.courses;
    return (await this.getPath(tier))?.courses ?? [];
  }

  /** Required course ids for a person of `tier` at `level`: the "all servants" path plus their tier's. */
  async requiredCourses(tier?: string, level?: string): Promise<string[]> {
    const tiers = tier && tier !== ALL_TIER ? [ALL_TIER, tier] : [ALL_TIER];
    const lists = await Promise.all(tiers.map((t) => this.pathCourses(t, level)));
    return [...new Set(lists.flat())];
  }

  /**
   * The deadline of each required course of a person of `tier` at `level`: the due date of the
   * path (the "all servants" one or their tier's) that requires it, the earlier if both do.
   */
  async deadlines(tier?: string, level?: string): Promise<Map<string, Date>> {
    const tiers = tier && tier !== ALL_TIER ? [ALL_TIER, tier] : [ALL_TIER];
    const docs = await Promise.all(tiers.map(async (t) => (level ? await this.getPath(t, level) : null) ?? (await this.getPath(t))));
    const due = new Map<string, Date>();
    for (const d of docs) {
      if (!d?.dueAt) continue;
      const at = new Date(d.dueAt);
      for (const c of d.courses) if (!due.has(c) || at < due.get(c)!) due.set(c, at);
    }
    return due;
  }

  /**
   * One person's deadlines: their path's (above), unless HR set a deadline for them — then that
   * date for every required course of their path, earlier or later than the path's.
   */
  async deadlinesFor(person: { id: string; tier?: string; level?: string }): Promise<Map<string, Date>> {
    const [own, path] = await Promise.all([this.personDeadlines.of(person.id), this.deadlines(person.tier, person.level)]);
    if (!own) return path;
    return new Map((await this.requiredCourses(person.tier, person.level)).map((c) => [c, own]));
  }

  async setPath(input: { tier: string; level?: string; courses: string[]; due?: string }, by?: string): Promise<PathDoc> {
    const parsed = PathInput.safeParse(input);
    if (!parsed.success) {
      const field = String(parsed.error.issues[0].path[0] ?? '');
      if (field === 'due') throw localizedError(400, 'catalog:errors.pathDue', { value: input.due });
      if (field === 'tier') throw localizedError(400, 'catalog:errors.tierUnknown', { tier: input.tier });
      if (field === 'level') throw localizedError(400, 'catalog:errors.pathLevel', { value: String(input.level) });
      // What is left is the course list (too long, or an empty id): no form sends one.
      throw localizedError(400, 'catalog:errors.pathCourses', {}, parsed.error.issues);
    }
    const { tier, level, due } = parsed.data;
    if (!(await this.m.tiers.findById(tier).lean())) throw localizedError(400, 'catalog:errors.tierUnknown', { tier });
    const courses = [...new Set(parsed.data.courses)];
    const found = await Promise.all(courses.map((c) => this.courses.getCourse(c)));
    const missing = courses.filter((_, i) => !found[i]);
    if (missing.length) throw localizedError(400, 'catalog:errors.noSuchCourses', { courses: missing.join(', ') });
    // The last instant of the due day in UTC: nobody is late on the day itself, wherever they are.
    const dueAt =
      due === undefined
        ? (await this.m.paths.findById(pathId(tier, level)).lean<PathDoc>())?.dueAt
        : due
          ? new Date(`${due}T23:59:59Z`)
          : undefined;
    const doc: PathDoc = {
      _id: pathId(tier, level),
      tier,
      ...(level ? { level } : {}),
      courses,
      ...(dueAt ? { dueAt } : {}),
      updatedAt: new Date(),
      ...(by ? { updatedBy: by } : {}),
    };
    await this.m.paths.replaceOne({ _id: doc._id }, doc, { upsert: true });
    this.cache.delete(doc._id);
    await this.hooks.emit('catalog.paths.changed', { tier, at: new Date() });
    return doc;
  }

  /** Removes a level-specific override, so that level follows the tier's general path again. */
  async removeOverride(tier: string, level: string): Promise<void> {
    if (!(LEVELS as readonly string[]).includes(level)) throw localizedError(400, 'catalog:errors.pathLevel', { value: level });
    await this.m.paths.deleteOne({ _id: pathId(tier, level) });
    this.cache.delete(pathId(tier, level));
    await this.hooks.emit('catalog.paths.changed', { tier, at: new Date() });
  }

  /**
   * Adds each published course to the paths its own metadata names (cmi5.xml courseMeta tiers and
   * levels). Courses restricted to some levels go to those levels' paths, which start as a copy
   * of the tier's general path. Returns how many path entries were added.
   */
  async applyCourseMeta(by?: string): Promise<number> {
    let added = 0;
    const courses = (await this.courses.listCourses({ publishedOnly: true })).filter((c) => c.tiers.length);
    const tiers = new Set((await this.tiers()).map((t) => t._id));
    for (const c of courses) {
      const levels = c.levels.filter((l) => (LEVELS as readonly string[]).includes(l));
      const targets = levels.length === 0 || levels.length === LEVELS.length ? [undefined] : levels;
      for (const tier of c.tiers.filter((t) => tiers.has(t))) {
        for (const level of targets) {
          const current = level
            ? ((await this.getPath(tier, level))?.courses ?? (await this.getPath(tier))?.courses ?? [])
            : ((await this.getPath(tier))?.courses ?? []);
          if (current.includes(c._id)) continue;
          await this.setPath({ tier, level, courses: [...current, c._id] }, by);
          added++;
        }
      }
    }
    return added;
  }

  async enrollment(userId: string, courseId: string): Promise<EnrollmentDoc | null> {
    return this.m.enrollments.findById(`${userId}:${courseId}`).lean<EnrollmentDoc>();
  }

  /**
   * Enrols a learner in the course's current version (fixed from then on). Idempotent: an
   * existing enrolment is returned as it is. Unpublished courses cannot be enrolled (403).
   */
  async enrol(user: Pick<SessionUser, 'id'>, courseId: string, source: 'path' | 'self'): Promise<EnrollmentDoc> {
    const existing = await this.enrollment(user.id, courseId);
    if (existing) return existing;
    const course = await this.courses.getCourse(courseId);
    if (!course) throw new HttpError(404, `No such course ${courseId}`, { key: 'core:errors.404.body' });
    if (!course.published) throw new HttpError(403, `Course ${courseId} is not published`, { key: 'catalog:errors.unpublished' });
    const version = await this.courses.getVersion(courseId, course.currentVersion);
    if (!version) throw new HttpError(409, `Course ${courseId} has no version ${course.currentVersion}`);
    const doc: EnrollmentDoc = {
      _id: `${user.id}:${courseId}`,
      userId: user.id,
      courseId,
      courseVersion: version.version,
      registration: randomUUID(),
      source,
      createdAt: new Date(),
    };
    try {
      await this.m.enrollments.create(doc);
    } catch (err) {
      // Two requests raced: the first one's enrolment (and registration) wins.
      if (isDuplicateKey(err)) return (await this.enrollment(user.id, courseId))!;
      throw err;
    }
    await this.progress.start({ userId: user.id, course, version, registration: doc.registration, source, at: doc.createdAt });
    return doc;
  }

  /**
   * The learner's required courses, enrolling them in any they are not yet enrolled in
   * (published ones only: an unpublished course in a path waits until it is published).
   */
  async syncPath(
    user: Pick<SessionUser, 'id' | 'tier' | 'level'>,
    enrolled: Set<string>,
  ): Promise<{ required: string[]; added: string[] }> {
    const required = await this.requiredCourses(user.tier, user.level);
    const added: string[] = [];
    for (const courseId of required.filter((c) => !enrolled.has(c))) {
      const course = await this.courses.getCourse(courseId);
      if (!course?.published) continue;
      await this.enrol(user, courseId, 'path');
      added.push(courseId);
    }
    return { required, added };
  }
}
