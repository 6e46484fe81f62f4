/**
 * Small-cell suppression for the published indicators. Every combination of level × tier ×
 * decision-maker is published, with each dimension either a value or its total (`_T`, as SDMX
 * writes it), so readers get the cells and every marginal. A row of fewer than `k` servants is
 * suppressed (primary); then, because a published marginal minus its published parts would give a
 * suppressed row back, more rows are suppressed (secondary) until no suppressed row is determined
 * by the published ones — checked exactly, on the whole linear system of "a marginal is the sum of
 * its parts", not one equation at a time. Interval bounds (non-negativity) are not considered.
 */

export const TOTAL = '_T';

export interface Row {
  level: string;
  tier: string;
  /** `yes`, `no` or `_T`. */
  dm: string;
  servants: number;
}

type Dim = 'level' | 'tier' | 'dm';
const DIMS: Dim[] = ['level', 'tier', 'dm'];
const key = (r: Pick<Row, Dim>) => `${r.level}|${r.tier}|${r.dm}`;

/**
 * Suppresses rows of `rows` (every combination, totals included; rows absent are known zeros).
 * Returns the set of suppressed rows.
 */
export function suppress<R extends Row>(rows: R[], k: number): Set<R> {
  const byKey = new Map(rows.map((r) => [key(r), r]));
  const values: Record<Dim, string[]> = {
    level: [...new Set(rows.map((r) => r.level))].filter((v) => v !== TOTAL),
    tier: [...new Set(rows.map((r) => r.tier))].filter((v) => v !== TOTAL),
    dm: [...new Set(rows.map((r) => r.dm))].filter((v) => v !== TOTAL),
  };
  // A marginal equals the sum of its parts along each dimension it totals.
  const equations: R[][] = []; // [parent, ...children]
  for (const parent of rows) {
    for (const d of DIMS) {
      if (parent[d] !== TOTAL) continue;
      const children = values[d].map((v) => byKey.get(key({ ...parent, [d]: v }))).filter((c): c is R => !!c);
      equations.push([parent, ...children]);
    }
  }
  const suppressed = new Set(rows.filter((r) => r.servants > 0 && r.servants < k));
  const grand = byKey.get(key({ level: TOTAL, tier: TOTAL, dm: TOTAL }));
  for (;;) {
    const exposed = determined(equations, suppressed);
    if (!exposed) return suppressed;
    // Hide the smallest published row that shares an equation with the exposed one (the grand
    // total last). When those are all hidden already (the row equals another through empty
    // siblings), widen to every equation that holds a hidden row. Then check the whole system again.
    const published = (r: R) => !suppressed.has(r) && r.servants > 0;
    const near = equations
      .filter((e) => e.includes(exposed))
      .flat()
      .filter(published);
    const candidates = near.length
      ? near
      : equations
          .filter((e) => e.some((r) => suppressed.has(r)))
          .flat()
          .filter(published);
    const pick =
      candidates.filter((r) => r !== grand).sort((a, b) => a.servants - b.servants || key(a).localeCompare(key(b)))[0] ??
      (grand && candidates.includes(grand) ? grand : undefined);
    if (!pick) throw new Error(`suppression: no row left to hide for ${key(exposed)}`);
    suppressed.add(pick);
  }
}

/**
 * A suppressed row whose value follows from the published ones, or undefined. Unknowns are the
 * suppressed rows; each equation is a row of a matrix (parent +1, children −1). An unknown is
 * determined exactly when its unit vector lies in the row space: in the reduced row echelon form,
 * its column is a pivot whose row has no other non-zero entry.
 */
export function determined<R>(equations: R[][], unknown: Set<R>): R | undefined {
  const ids = [...unknown];
  const col = new Map(ids.map((r, i) => [r, i]));
  const matrix: number[][] = [];
  for (const [parent, ...children] of equations) {
    const row = new Array<number>(ids.length).fill(0);
    let any = false;
    const put = (r: R, v: number) => {
      const c = col.get(r);
      if (c !== undefined) {
        row[c] += v;
        any = true;
      }
    };
    put(parent, 1);
    for (const c of children) put(c, -1);
    if (any) matrix.push(row);
  }
  // Gaussian elimination to reduced row echelon form. Entries stay small integers or simple
  // fractions; a tolerance absorbs floating-point noise.
  const EPS = 1e-9;
  let rank = 0;
  const pivots: number[] = [];
  for (let c = 0; c < ids.length && rank < matrix.length; c++) {
    let best = -1;
    for (let r = rank; r < matrix.length; r++)
      if (Math.abs(matrix[r][c]) > EPS && (best < 0 || Math.abs(matrix[r][c]) > Math.abs(matrix[best][c]))) best = r;
    if (best < 0) continue;
    [matrix[rank], matrix[best]] = [matrix[best], matrix[rank]];
    const p = matrix[rank][c];
    for (let j = c; j < ids.length; j++) matrix[rank][j] /= p;
    for (let r = 0; r < matrix.length; r++) {
      if (r === rank || Math.abs(matrix[r][c]) <= EPS) continue;
      const f = matrix[r][c];
      for (let j = c; j < ids.length; j++) matrix[r][j] -= f * matrix[rank][j];
    }
    pivots.push(c);
    rank++;
  }
  for (let i = 0; i < rank; i++) {
    const others = matrix[i].some((v, j) => j !== pivots[i] && Math.abs(v) > EPS);
    if (!others) return ids[pivots[i]];
  }
  return undefined;
}
