/**
 * What the `catalog` plugin offers the others: learning paths and per-learner progress.
 */
export interface CourseSummary {
  id: string; // course IRI
  version: number;
  title: Record<string, string>; // by language
  hours: number;
  tiers: string[];
  levels: string[];
}

export interface CourseProgress {
  /** `${userId}:${courseId}` */
  _id: string;
  userId: string;
  courseId: string;
  courseVersion: number;
  registration: string;
  status: 'not-started' | 'in-progress' | 'completed' | 'passed' | 'failed' | 'satisfied' | 'waived';
  satisfied: boolean;
  satisfiedAt?: Date;
  score?: number; // scaled 0..1
  timeSpentSeconds: number;
  startedAt?: Date;
  updatedAt: Date;
}

/** What a full recompute needs of a satisfied progress document. */
export type SatisfiedProgress = Pick<CourseProgress, 'userId' | 'courseId' | 'satisfiedAt' | 'updatedAt'>;

export interface CatalogService {
  getCourse(courseId: string): Promise<CourseSummary | undefined>;
  /** Required course ids for a tier at a level (the learning path). */
  requiredCourses(tier: string, level?: string): Promise<string[]>;
  /** Progress documents of one learner (by _id lookups, not scans). */
  progressOf(userId: string, courseIds: string[]): Promise<CourseProgress[]>;
  /** Every satisfied progress document, streamed in one pass (a full recompute reads them once). */
  satisfiedProgress(): AsyncIterable<SatisfiedProgress>;
}

declare module '../services' {
  interface Services {
    catalog: CatalogService;
  }
  interface HookEvents {
    /** A learner's progress document changed (reports update summaries from this). */
    'catalog.progress.changed': { progress: CourseProgress };
    /** A course became satisfied for a learner (emitted once per registration; handlers must be idempotent). */
    'catalog.course.satisfied': { userId: string; course: CourseSummary; progress: CourseProgress };
    /** A learning path changed (reports recompute "trained"). */
    'catalog.paths.changed': { tier?: string; at: Date };
  }
}
