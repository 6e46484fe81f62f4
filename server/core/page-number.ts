/**
 * The page number of a paged list from `?page=`: a whole number from 1 to 100,000, else 1.
 * `Number('1e400')` is Infinity and `1.5` or `-1` are no pages: passed on as a skip, either made
 * the database query fail with a 500.
 */
export function pageNumber(v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : 1;
  return Math.min(Math.max(n, 1), 100_000);
}
