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
  /** The deadline of each required course that has one (its path's due date). */
  deadlines(tier: string | undefined, level?: string): Promise<Map<string, Date>>;
  /** One person's deadline of each required course: the one HR set for them, else their path's. */
  deadlinesFor(person: { id: string; tier?: string; level?: string }): Promise<Map<string, Date>>;
  /** The deadlines HR set for these people (not their paths'), by account id. */
  personDeadlines(userIds: string[]): Promise<Map<string, Date>>;
  /** Progress documents of one learner (by _id lookups, not scans). */
  progressOf(userId: string, courseIds: string[]): Promise<CourseProgress[]>;
  /** Every satisfied progress document, streamed in one pass (a full recompute reads them once). */
  satisfiedProgress(): AsyncIterable<SatisfiedProgress>;
}

/** Where a course shared by another institution came from (kept with the course, shown on its page). */
export interface CourseProvenance {
  /** The publishing instance's base URL. */
  origin: string;
  /** The publishing institution, as its signed feed names it. */
  publisher: string;
  /** The course's version at the origin (local version numbers are the importer's own). */
  originVersion: number;
  license: string;
  /** SHA-256 of the package as published and verified. */
  sha256: string;
  importedAt: Date;
}

/** A course as an exchange between institutions sees it: what a feed publishes about it. */
export interface ExchangeCourse extends CourseSummary {
  description: Record<string, string>;
  topics: string[];
  languages: string[];
  license?: string;
  published: boolean;
  provenance?: CourseProvenance;
}

/** What the `network` plugin needs of the catalog to share courses between institutions. */
export interface CatalogExchange {
  courses(): Promise<ExchangeCourse[]>;
  course(courseId: string): Promise<ExchangeCourse | undefined>;
  /** Writes a stored version as a deterministic cmi5 zip (same version, same bytes). */
  writePackage(courseId: string, version: number, dest: string): Promise<void>;
  /**
   * The normal import (every check of an upload), refusing before anything is stored a package
   * whose course id is not `expectCourseId`; the provenance is kept on the course.
   */
  importPackage(input: {
    filePath: string;
    expectCourseId: string;
    provenance: CourseProvenance;
    importedBy?: string;
  }): Promise<{ courseId: string; version: number; alreadyInstalled: boolean }>;
}

/**
 * The role tiers of this deployment: the built-in ones (labelled by core:tiers.*) and those an
 * admin added (labelled here, by language). Account pages offer them; rosters accept them.
 */
export interface CatalogTier {
  code: string;
  /** The admin's labels by language; empty for the built-in tiers. */
  labels: Record<string, string>;
}
export interface CatalogTiers {
  list(): Promise<CatalogTier[]>;
}

declare module '../services' {
  interface Services {
    catalog: CatalogService;
    'catalog.exchange': CatalogExchange;
    'catalog.tiers': CatalogTiers;
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
