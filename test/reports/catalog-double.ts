/**
 * A real provider of the `catalog` contract (server/core/contracts/catalog.ts) for the reports
 * tests, storing courses, paths and progress documents in the test database — a stand-in for the
 * catalog plugin being built in parallel, used through the same service and hooks.
 */
import { Schema, type Connection, type Model } from 'mongoose';
import type { Plugin, PluginContext } from '../../server/core/plugin';
import type { CatalogService, CourseProgress, CourseSummary, SatisfiedProgress } from '../../server/core/contracts/catalog';
import type { LmsApp } from '../../server/app';

interface CourseDoc {
  _id: string;
  hours: number;
  title: Record<string, string>;
}
interface PathDoc {
  _id: string;
  courses: string[];
}

function models(db: Connection) {
  const course =
    (db.models.TestCourse as Model<CourseDoc>) ??
    db.model<CourseDoc>(
      'TestCourse',
      new Schema<CourseDoc>(
        { _id: String, hours: Number, title: Schema.Types.Mixed },
        { collection: 'catalog_test_courses', versionKey: false },
      ),
    );
  const path =
    (db.models.TestPath as Model<PathDoc>) ??
    db.model<PathDoc>(
      'TestPath',
      new Schema<PathDoc>({ _id: String, courses: [String] }, { collection: 'catalog_test_paths', versionKey: false }),
    );
  const progress =
    (db.models.TestProgress as Model<CourseProgress>) ??
    db.model<CourseProgress>(
      'TestProgress',
      new Schema<CourseProgress>(
        {
          _id: String,
          userId: String,
          courseId: String,
          courseVersion: Number,
          registration: String,
          status: String,
          satisfied: Boolean,
          satisfiedAt: Date,
          timeSpentSeconds: Number,
          updatedAt: Date,
        },
        { collection: 'catalog_test_progress', versionKey: false },
      ),
    );
  return { course, path, progress };
}

export class CatalogDouble implements CatalogService {
  constructor(
    private readonly m: ReturnType<typeof models>,
    private readonly ctx: PluginContext,
  ) {}

  async getCourse(courseId: string): Promise<CourseSummary | undefined> {
    const c = await this.m.course.findById(courseId).lean<CourseDoc>();
    return c ? { id: c._id, version: 1, title: c.title, hours: c.hours, tiers: [], levels: [] } : undefined;
  }

  async requiredCourses(tier: string): Promise<string[]> {
    return (await this.m.path.findById(tier).lean<PathDoc>())?.courses ?? [];
  }

  async deadlines(): Promise<Map<string, Date>> {
    return new Map();
  }

  async deadlinesFor(): Promise<Map<string, Date>> {
    return new Map();
  }

  async personDeadlines(): Promise<Map<string, Date>> {
    return new Map();
  }

  async progressOf(userId: string, courseIds: string[]): Promise<CourseProgress[]> {
    const docs = await Promise.all(courseIds.map((c) => this.m.progress.findById(`${userId}:${c}`).lean<CourseProgress>()));
    return docs.filter((d): d is CourseProgress => !!d);
  }

  satisfiedProgress(): AsyncIterable<SatisfiedProgress> {
    return this.m.progress
      .find({ satisfied: true }, { _id: 0, userId: 1, courseId: 1, satisfiedAt: 1, updatedAt: 1 })
      .lean<SatisfiedProgress[]>()
      .cursor({ batchSize: 10_000 });
  }

  async addCourse(id: string, hours: number, title = id): Promise<void> {
    await this.m.course.replaceOne({ _id: id }, { _id: id, hours, title: { es: title, pt: title, en: title } }, { upsert: true });
  }

  async setPath(tier: string, courses: string[]): Promise<void> {
    await this.m.path.replaceOne({ _id: tier }, { _id: tier, courses }, { upsert: true });
    await this.ctx.hooks.emit('catalog.paths.changed', { tier, at: new Date() });
    await this.ctx.events.settled(); // the reports tests read the follow-up next
  }

  progressDoc(userId: string, courseId: string, satisfiedAt: Date): CourseProgress {
    return {
      _id: `${userId}:${courseId}`,
      userId,
      courseId,
      courseVersion: 1,
      registration: `reg-${userId}-${courseId}`,
      status: 'satisfied',
      satisfied: true,
      satisfiedAt,
      timeSpentSeconds: 3600,
      updatedAt: satisfiedAt,
    };
  }

  /** Bulk fixture loading: progress documents written without events (a recompute picks them up). */
  async insertProgress(docs: CourseProgress[]): Promise<void> {
    for (let i = 0; i < docs.length; i += 5000) await this.m.progress.insertMany(docs.slice(i, i + 5000), { ordered: true });
  }

  /** What the catalog does when a learner satisfies a course: store progress, then tell the others. */
  async satisfy(userId: string, courseId: string, at = new Date()): Promise<void> {
    const doc = this.progressDoc(userId, courseId, at);
    await this.m.progress.replaceOne({ _id: doc._id }, doc, { upsert: true });
    await this.ctx.hooks.emit('catalog.progress.changed', { progress: doc });
    await this.ctx.events.settled();
  }
}

declare module '../../server/core/services' {
  interface Services {
    'catalog.double': CatalogDouble;
  }
}

export const catalogDoublePlugin: Plugin = {
  manifest: {
    name: 'catalog',
    version: '0.0.0-test',
    core: 1,
    dependencies: ['accounts'],
    personalData: false,
    events: {
      emits: {
        'catalog.progress.changed': { description: 'progress changed', key: (p) => `${p.progress._id}@${+p.progress.updatedAt}` },
        'catalog.paths.changed': { description: 'a path changed', key: (p) => `${p.tier}@${+p.at}` },
      },
    },
  },
  async register(ctx) {
    const svc = new CatalogDouble(models(ctx.db), ctx);
    ctx.services.provide('catalog', 'catalog', svc);
    ctx.services.provide('catalog', 'catalog.double', svc);
  },
};

export const catalogOf = (lms: LmsApp) => lms.services.get('catalog.double');
