import { HttpError } from '../../../core/errors';

export interface Problem {
  /** The rule broken, citing the spec section (e.g. "cmi5 §14.1"). */
  rule: string;
  /** Where: an element path, AU id, zip entry or line. */
  where: string;
  message: string;
}

export const formatProblem = (p: Problem) => `${p.rule}: ${p.message} (at ${p.where})`;

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
    super(status, `Invalid course package: ${formatProblem(problems[0])}${more}`, { details: problems.map(formatProblem) });
    this.name = 'PackageError';
  }
}

export const packageError = (rule: string, where: string, message: string, status = 422) =>
  new PackageError([{ rule, where, message }], status);
