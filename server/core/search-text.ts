/**
 * Free-text search as people type it: case- and accent-insensitive ("informacion" finds
 * "Información", "gestao" finds "Gestão"), every word of the query must appear. Used where the
 * searched lists are read whole anyway (the catalogue, the drill-down scan), so no index is needed.
 */

/** Lower case without diacritics (Unicode NFD, combining marks removed). */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The words of a query, folded (at most 10, each at most 100 characters). */
export function queryTerms(q: unknown): string[] {
  if (typeof q !== 'string') return [];
  return fold(q.slice(0, 500))
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 10)
    .map((w) => w.slice(0, 100));
}

/** Whether every term appears in one of the texts. */
export function matchesAll(terms: string[], texts: Array<string | undefined>): boolean {
  if (!terms.length) return true;
  const hay = fold(texts.filter(Boolean).join(' \u0000 '));
  return terms.every((t) => hay.includes(t));
}

/**
 * One page of the items of a scan that match every term, and how many match in all: for lists
 * searched by free text, where no index can serve an accent-folded "contains".
 */
export async function matchingPage<T>(
  items: AsyncIterable<T>,
  terms: string[],
  texts: (item: T) => Array<string | undefined | null>,
  skip: number,
  limit: number,
): Promise<[T[], number]> {
  const page: T[] = [];
  let total = 0;
  for await (const item of items) {
    if (
      !matchesAll(
        terms,
        texts(item).map((t) => t ?? undefined),
      )
    )
      continue;
    if (total >= skip && page.length < limit) page.push(item);
    total++;
  }
  return [page, total];
}
