import { z } from 'zod';
import type { CatalogService, CourseProgress, CourseSummary } from '../../core/contracts/catalog';

/** The programme's definition of "trained" (domain.md): explicit and configurable. */
export const TrainedRule = z.object({
  /** Minimum nominal hours of the required courses counted (0 = no minimum). */
  minHours: z.coerce.number().min(0, 'minHours must be 0 or more').max(10_000).default(0),
  /** A course counts for this many years after it was satisfied (0 = forever). */
  validityYears: z.coerce.number().min(0, 'validityYears must be 0 or more').max(50).default(0),
});
export type TrainedRule = z.infer<typeof TrainedRule>;
export const DEFAULT_RULE: TrainedRule = { minHours: 0, validityYears: 0 };

export interface Verdict {
  trained: boolean;
  trainedAt?: Date;
  expiresAt?: Date;
  missing: string[];
  hoursShort: number;
  /** Courses that made the person trained (for the `reports.person.trained` hook and traceability). */
  courseIds: string[];
}

/** What the rule needs of a progress document. */
export type ProgressFact = Pick<CourseProgress, 'courseId' | 'satisfied' | 'satisfiedAt' | 'updatedAt'>;

const YEAR_MS = 365.25 * 86400_000;

/**
 * The rule applied to one person's facts. Pure: the same facts give the same verdict, so tests
 * and the background recompute agree with the per-event update.
 */
export function judge(
  required: string[],
  progress: ProgressFact[],
  courses: Map<string, CourseSummary | undefined>,
  rule: TrainedRule,
  now: Date,
): Verdict {
  const byCourse = new Map(progress.map((p) => [p.courseId, p]));
  const counted: Array<{ id: string; at: Date }> = [];
  const missing: string[] = [];
  for (const id of required) {
    const p = byCourse.get(id);
    const at = p?.satisfied ? new Date(p.satisfiedAt ?? p.updatedAt) : undefined;
    const valid = at && (!rule.validityYears || now.getTime() - at.getTime() < rule.validityYears * YEAR_MS);
    if (at && valid) counted.push({ id, at });
    else missing.push(id);
  }
  const hours = counted.reduce((sum, c) => sum + (courses.get(c.id)?.hours ?? 0), 0);
  const hoursShort = Math.max(0, rule.minHours - hours);
  // A tier with no learning path cannot make anyone trained: the figure would be meaningless.
  const trained = required.length > 0 && missing.length === 0 && hoursShort === 0;
  if (!trained) return { trained, missing, hoursShort, courseIds: [] };
  const times = counted.map((c) => c.at.getTime());
  return {
    trained,
    trainedAt: new Date(Math.max(...times)),
    expiresAt: rule.validityYears ? new Date(Math.min(...times) + rule.validityYears * YEAR_MS) : undefined,
    missing,
    hoursShort,
    courseIds: counted.map((c) => c.id),
  };
}

/** Catalog answers memoised for one batch or job: paths and courses are few, people many. */
export class CatalogFacts {
  private readonly paths = new Map<string, Promise<string[]>>();
  private readonly courses = new Map<string, Promise<CourseSummary | undefined>>();
  constructor(private readonly catalog: CatalogService) {}

  required(tier: string, level?: string): Promise<string[]> {
    const key = `${tier}|${level ?? ''}`;
    if (!this.paths.has(key)) this.paths.set(key, this.catalog.requiredCourses(tier, level));
    return this.paths.get(key)!;
  }

  course(id: string): Promise<CourseSummary | undefined> {
    if (!this.courses.has(id)) this.courses.set(id, this.catalog.getCourse(id));
    return this.courses.get(id)!;
  }

  /**
   * Evaluates one person, reading their progress unless it is given (a brand-new account has none;
   * a full recompute has read everyone's in one pass).
   */
  async verdict(
    p: { userId?: string; tier: string; level?: string },
    rule: TrainedRule,
    now: Date,
    given?: ProgressFact[],
  ): Promise<Verdict> {
    const required = await this.required(p.tier, p.level);
    const progress = given ?? (p.userId && required.length ? await this.catalog.progressOf(p.userId, required) : []);
    const courses = new Map<string, CourseSummary | undefined>();
    if (rule.minHours) for (const id of required) courses.set(id, await this.course(id));
    return judge(required, progress, courses, rule, now);
  }
}
