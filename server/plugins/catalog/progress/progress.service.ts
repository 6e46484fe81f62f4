/**
 * Progress documents: one per learner and course, changed as statements are stored (never
 * recomputed by scanning statements). Also issues the LMS's `satisfied` statements (cmi5 §9.3.9)
 * when moveOn is met, and tells other plugins through hooks.
 */
import { randomUUID } from 'node:crypto';
import { isDuplicateKey } from '../../../core/db/connect';
import type { Hooks } from '../../../core/services';
import type { Emission } from '../../../core/events/hooks';
import type { CourseProgress, CourseSummary, SatisfiedProgress } from '../../../core/contracts/catalog';
import type { LrsStatements, XapiStatement } from '../../../core/contracts/lrs';
import { allAus, type CourseReader, type CourseRecord, type CourseVersionRecord } from '../paths/course-reader';
import { blockIds, evaluate } from '../launch/move-on';
import { learnerActor, lmsActivityId } from '../launch/cmi5';
import { satisfiedStatement } from '../launch/statements';
import type { Locks } from '../../../core/locks';
import type { AuProgress, LearnerCourse, LearnerDoc, ProgressDoc, ProgressModels, RegistrationDoc } from './progress.model';

export interface AuChange {
  completed?: boolean;
  passed?: boolean;
  failed?: boolean;
  waived?: boolean;
  waiveReason?: string;
  waiveComment?: string;
  waivedBy?: string;
  score?: number;
  launchedAt?: Date;
  attempted?: boolean;
}

/** A session ends once; its id only has to be remembered until a repeated delivery is impossible. */
const MAX_TIMED_SESSIONS = 50;

export const progressId = (userId: string, courseId: string) => `${userId}:${courseId}`;

export function toSummary(c: CourseRecord, version = c.currentVersion): CourseSummary {
  return {
    id: c._id,
    version,
    title: Object.fromEntries(c.title.map((t) => [t.lang, t.text])),
    hours: c.hours,
    tiers: c.tiers,
    levels: c.levels,
  };
}

/** Compare-and-set attempts on a learner's summary before giving up (each lost one means another write got in). */
const MAX_LINE_ATTEMPTS = 50;

export class ProgressService {
  constructor(
    private readonly m: ProgressModels,
    private readonly courses: CourseReader,
    private readonly statements: () => LrsStatements,
    private readonly hooks: Hooks,
    private readonly baseUrl: string,
    private readonly locks: Locks,
  ) {}

  /** Runs `fn` with no other progress change of the same registration in between, in any process. */
  serial<T>(registration: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.exclusive(`catalog.registration|${registration}`, fn);
  }

  async registration(reg: string): Promise<RegistrationDoc | null> {
    return this.m.registrations.findById(reg).lean<RegistrationDoc>();
  }

  async get(userId: string, courseId: string): Promise<ProgressDoc | null> {
    return this.m.progress.findById(progressId(userId, courseId)).lean<ProgressDoc>();
  }

  async many(userId: string, courseIds: string[]): Promise<ProgressDoc[]> {
    const docs = await Promise.all(courseIds.map((c) => this.get(userId, c)));
    return docs.filter((d): d is ProgressDoc => !!d);
  }

  /** One pass over the satisfied documents, only the fields a recompute needs, in large batches. */
  satisfied(): AsyncIterable<SatisfiedProgress> {
    return this.m.progress
      .find({ satisfied: true }, { _id: 0, userId: 1, courseId: 1, satisfiedAt: 1, updatedAt: 1 })
      .lean<SatisfiedProgress[]>()
      .cursor({ batchSize: 10_000 });
  }

  async learnerCourses(userId: string): Promise<LearnerCourse[]> {
    const doc = await this.m.learners.findById(userId).lean<LearnerDoc>();
    return doc ? parseLines(doc.courses) : [];
  }

  /**
   * Read-modify-write of one line of the learner's summary (two of their courses may change at
   * once, in any process): a compare-and-set on the summary's text, tried again if another write
   * came in between. One write instead of a lease's three (take, check, give up), and every write
   * queues for the embedded engine's single writer.
   */
  private async updateLine(
    userId: string,
    courseId: string,
    change: (line: LearnerCourse | undefined) => LearnerCourse | undefined,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_LINE_ATTEMPTS; attempt++) {
      const doc = await this.m.learners.findById(userId, { courses: 1 }).lean<LearnerDoc>();
      const lines = doc ? parseLines(doc.courses) : [];
      const i = lines.findIndex((l) => l.courseId === courseId);
      const next = change(i >= 0 ? lines[i] : undefined);
      if (!next) return;
      if (i >= 0) lines[i] = next;
      else lines.push(next);
      const courses = JSON.stringify(lines);
      if (doc) {
        const r = await this.m.learners.updateOne({ _id: userId, courses: doc.courses }, { $set: { courses, updatedAt: new Date() } });
        if (r.matchedCount === 1) return;
      } else {
        try {
          await this.m.learners.create({ _id: userId, courses, updatedAt: new Date() });
          return;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
    }
    throw new Error(`the course summary of ${userId} kept changing under ${MAX_LINE_ATTEMPTS} attempts to update it`);
  }

  /**
   * Creates the registration and progress of a new enrolment, then evaluates moveOn at once
   * (cmi5 §9.6.1: NotApplicable AUs may satisfy blocks or the course at registration).
   */
  async start(e: {
    userId: string;
    course: CourseRecord;
    version: CourseVersionRecord;
    registration: string;
    source: 'path' | 'self';
    at: Date;
  }): Promise<ProgressDoc> {
    const { userId, course, version, registration } = e;
    await this.m.registrations.updateOne(
      { _id: registration },
      { $setOnInsert: { userId, courseId: course._id, courseVersion: version.version } },
      { upsert: true },
    );
    const aus: AuProgress[] = allAus(version.structure).map((a) => ({
      auId: a.id,
      completed: false,
      passed: false,
      failed: false,
      waived: false,
      satisfied: false,
    }));
    const doc: ProgressDoc = {
      _id: progressId(userId, course._id),
      userId,
      courseId: course._id,
      courseVersion: version.version,
      registration,
      status: 'not-started',
      satisfied: false,
      timeSpentSeconds: 0,
      updatedAt: e.at,
      aus,
      satisfiedBlocks: [],
    };
    try {
      await this.m.progress.create(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const line: LearnerCourse = {
      courseId: course._id,
      title: course.title,
      hours: course.hours,
      source: e.source,
      registration,
      status: 'not-started',
      satisfied: false,
      auTotal: aus.length,
      auDone: 0,
      enrolledAt: e.at,
      updatedAt: e.at,
    };
    await this.updateLine(userId, course._id, (existing) => existing ?? line);
    return this.serial(registration, () => this.change(registration, undefined, {}, { sessionId: randomUUID() }));
  }

  /**
   * Applies a change to one AU (or none, to re-evaluate), issues `satisfied` statements for
   * newly satisfied blocks and the course, saves, and fires the hooks. Call inside `serial`.
   */
  async change(
    registration: string,
    auId: string | undefined,
    delta: AuChange,
    opts: {
      sessionId: string;
      addSeconds?: number;
      activeSessionId?: string | null;
      /** What the unit's session said that makes this change (a SCORM commit's statements): stored first, in the same write. */
      statements?: XapiStatement[];
    },
  ): Promise<ProgressDoc> {
    const reg = await this.registration(registration);
    if (!reg) throw new Error(`unknown registration ${registration}`);
    const [doc, version, course] = await Promise.all([
      this.m.progress.findById(progressId(reg.userId, reg.courseId)).lean<ProgressDoc>(),
      this.courses.getVersion(reg.courseId, reg.courseVersion),
      this.courses.getCourse(reg.courseId),
    ]);
    if (!doc || !version || !course) throw new Error(`progress of registration ${registration} is incomplete`);
    const now = new Date();
    const aus = new Map(doc.aus.map((a) => [a.auId, { ...a }]));
    if (auId) {
      const a = aus.get(auId) ?? { auId, completed: false, passed: false, failed: false, waived: false, satisfied: false };
      if (delta.completed) a.completed = true;
      if (delta.passed) a.passed = true;
      if (delta.failed) a.failed = true;
      if (delta.waived) {
        a.waived = true;
        a.waiveReason = delta.waiveReason;
        a.waiveComment = delta.waiveComment;
        a.waivedBy = delta.waivedBy;
      }
      if (delta.score !== undefined) a.score = delta.score;
      if (delta.launchedAt) a.lastLaunchedAt = delta.launchedAt;
      if (delta.attempted) a.attempted = true;
      aus.set(auId, a);
    }
    const sat = evaluate(version.structure, (au) => aus.get(au.id) ?? {});
    for (const a of aus.values()) a.satisfied = sat.aus.has(a.auId);

    const actor = learnerActor(this.baseUrl, reg.userId);
    const out: XapiStatement[] = [];
    const newBlocks = blockIds(version.structure).filter((b) => sat.blocks.has(b) && !(doc.satisfiedBlocks ?? []).includes(b));
    for (const b of newBlocks) {
      out.push(
        satisfiedStatement({
          actor,
          registration,
          sessionId: opts.sessionId,
          publisherId: b,
          kind: 'block',
          objectId: lmsActivityId(this.baseUrl, 'block', reg.courseId, b),
        }),
      );
    }
    const newlySatisfied = sat.course && !doc.satisfied;
    if (newlySatisfied) {
      out.push(
        satisfiedStatement({
          actor,
          registration,
          sessionId: opts.sessionId,
          publisherId: reg.courseId,
          kind: 'course',
          objectId: lmsActivityId(this.baseUrl, 'course', reg.courseId, reg.courseId),
        }),
      );
    }
    // Statements first: if storing fails, progress is unchanged and the next statement retries.
    // One write, in order — the session's own, inner blocks, the course last: the LRS gives each a
    // later `stored` than the one before, so reports and AUs listing by `stored` see them in that
    // order (§9.3.9). Their ids are named by registration and object (a SCORM commit's by session
    // and sequence number): a change repeated after a crash stores none twice.
    const batch = [...(opts.statements ?? []), ...out];
    if (batch.length) await this.statements().storeAsSystem(batch, { once: true });

    const list = [...aus.values()];
    const addSeconds = doc.timedSessions?.includes(opts.sessionId) ? 0 : (opts.addSeconds ?? 0);
    const scores = list.map((a) => a.score).filter((s): s is number => typeof s === 'number');
    const started = !!auId || !!doc.startedAt;
    const satisfied = doc.satisfied || sat.course;
    const next: ProgressDoc = {
      ...doc,
      aus: list,
      satisfiedBlocks: [...(doc.satisfiedBlocks ?? []), ...newBlocks],
      satisfied,
      satisfiedAt: doc.satisfiedAt ?? (sat.course ? now : undefined),
      startedAt: doc.startedAt ?? (auId ? now : undefined),
      score: scores.length ? Math.round((scores.reduce((s, x) => s + x, 0) / scores.length) * 10000) / 10000 : doc.score,
      timeSpentSeconds: Math.round((doc.timeSpentSeconds + addSeconds) * 100) / 100,
      ...(addSeconds ? { timedSessions: [...(doc.timedSessions ?? []), opts.sessionId].slice(-MAX_TIMED_SESSIONS) } : {}),
      status: satisfied ? (list.length && list.every((a) => a.waived) ? 'waived' : 'satisfied') : started ? 'in-progress' : 'not-started',
      updatedAt: now,
    };
    // A session's end clears the active session only if it still is that one: its follow-up can
    // arrive (from the outbox) after the learner has launched the next AU.
    if (opts.activeSessionId === null) {
      if (next.activeSessionId === opts.sessionId) delete next.activeSessionId;
    } else if (opts.activeSessionId) next.activeSessionId = opts.activeSessionId;
    for (const k of Object.keys(next) as Array<keyof ProgressDoc>) if (next[k] === undefined) delete next[k];
    const progress = publicProgress(next);
    // Recorded with the write: reports and certificates follow once it is saved, even after a crash.
    const emissions: Emission[] = [{ event: 'catalog.progress.changed', payload: { progress } }];
    if (newlySatisfied)
      emissions.push({
        event: 'catalog.course.satisfied',
        payload: { userId: reg.userId, course: toSummary(course, reg.courseVersion), progress },
      });
    await this.hooks.emitWith(emissions, async () => {
      await this.m.progress.replaceOne({ _id: doc._id }, next);
      await this.updateLine(
        reg.userId,
        reg.courseId,
        (line) =>
          line && {
            ...line,
            status: next.status,
            satisfied: next.satisfied,
            auDone: sat.aus.size,
            updatedAt: now,
            ...(next.satisfiedAt ? { satisfiedAt: next.satisfiedAt } : {}),
          },
      );
    });
    return next;
  }
}

/** The contract's view of a progress document (without the per-AU details). */
export function publicProgress(d: ProgressDoc): CourseProgress {
  const { aus: _aus, satisfiedBlocks: _b, activeSessionId: _s, completedAt: _c, timedSessions: _t, ...rest } = d;
  return rest;
}

function parseLines(json: string): LearnerCourse[] {
  const lines = JSON.parse(json) as LearnerCourse[];
  for (const l of lines) {
    l.enrolledAt = new Date(l.enrolledAt);
    l.updatedAt = new Date(l.updatedAt);
    if (l.satisfiedAt) l.satisfiedAt = new Date(l.satisfiedAt);
  }
  return lines;
}
