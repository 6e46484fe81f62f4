import type { TFunction } from 'i18next';
import { HttpError, problem, problemText, type LocalizedProblem } from '../../../core/errors';

export interface Problem {
  /** The rule broken, citing the spec section (e.g. "cmi5 §14.1"); never translated. */
  rule: string;
  /** Where: an element path, AU id, zip entry or line (English when `place` is set). */
  where: string;
  /** The English, for API clients, the command line and logs. */
  message: string;
  /** The locale text of `message` (absent for a validator's own words, which we cannot translate). */
  key?: string;
  params?: Record<string, unknown>;
  /** `where` as a locale text, when it is words ("the zip") rather than a name or path. */
  place?: LocalizedProblem;
}

/** Where a problem is: a name or path as it is, or words to translate (see `at`). */
export type Where = string | LocalizedProblem;

/** A place in words: `catalog:package.at.<key>`. */
export const at = (key: string, params?: Record<string, unknown>): LocalizedProblem => problem(`catalog:package.at.${key}`, params);

/** A broken rule whose text is `catalog:package.<key>`. */
export function ruleProblem(rule: string, where: Where, key: string, params?: Record<string, unknown>): Problem {
  const p = problem(`catalog:package.${key}`, params);
  return typeof where === 'string' ? { rule, where, ...p } : { rule, where: where.message, place: where, ...p };
}

export const formatProblem = (p: Problem) => `${p.rule}: ${p.message} (at ${p.where})`;

/** One problem in the reader's language; the rule's name stays as the spec writes it. */
export const problemLine = (t: TFunction, p: Problem): string =>
  t('catalog:package.line', { rule: p.rule, message: problemText(t, p), where: p.place ? problemText(t, p.place) : p.where }) as string;

/**
 * A package that breaks a rule. 422 for content that breaks the spec, 413 for limits, 400 for
 * a file that is not a package at all. The message names the first problem; `details` lists all.
 */
export class PackageError extends HttpError {
  constructor(
    public readonly problems: Problem[],
    status = 422,
  ) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    // No `key`: a page shows `explain(t)`, the first problem and the rest in the reader's language.
    super(status, `Invalid course package: ${formatProblem(problems[0])}${more}`, { details: problems.map(formatProblem) });
    this.name = 'PackageError';
  }

  /** The first problem (saying how many more there are) and every problem, in the reader's language. */
  explain(t: TFunction): { reason: string; details: string[] } {
    const first = problemLine(t, this.problems[0]);
    const n = this.problems.length - 1;
    return {
      reason: n ? (t('catalog:package.more', { first, count: n }) as string) : first,
      details: this.problems.map((p) => problemLine(t, p)),
    };
  }
}

export const packageError = (rule: string, where: Where, key: string, params?: Record<string, unknown>, status = 422) =>
  new PackageError([ruleProblem(rule, where, key, params)], status);
