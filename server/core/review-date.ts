/**
 * Courses state the date their content was last checked against its sources (`reviewed` in the
 * library's course.yaml, `<meta:reviewed>` in a package). Laws, standards and institutions change:
 * a course whose check is older than this is flagged for review where administrators see it.
 */
export const REVIEW_INTERVAL_MONTHS = 24;

/** A calendar date, YYYY-MM-DD, that exists (2026-02-30 does not). */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** True when `reviewed` (YYYY-MM-DD) is REVIEW_INTERVAL_MONTHS or more before `now`. */
export function reviewOverdue(reviewed: string, now: Date = new Date()): boolean {
  const due = new Date(`${reviewed}T00:00:00Z`);
  due.setUTCMonth(due.getUTCMonth() + REVIEW_INTERVAL_MONTHS);
  return now.getTime() >= due.getTime();
}
