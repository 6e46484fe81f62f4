/**
 * Small-cell suppression for the published indicators. Every combination of level × tier ×
 * decision-maker is published, with each dimension either a value or its total (`_T`, as SDMX
 * writes it), so readers get the cells and every marginal. A row of fewer than `k` servants is
 * suppressed (primary); then, because a published marginal minus its published parts would give a
 * suppressed row back, more rows are suppressed (secondary): first the cheapest 2 × 2 × 2 block
 * of cells around each small cell (marginals stay published), then whatever the exact check
 * still finds, until no suppressed row is determined
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
/** How many dimensions a row totals: 0 for a cell, 3 for the grand total. */
const totals = (r: Pick<Row, Dim>) => DIMS.filter((d) => r[d] === TOTAL).length;

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
  for (const cell of [...suppressed].filter((r) => totals(r) === 0).sort((a, b) => a.servants - b.servants))
    for (const r of cheapestCube(cell, values, byKey, suppressed)) suppressed.add(r);
  const grand = byKey.get(key({ level: TOTAL, tier: TOTAL, dm: TOTAL }));
  for (;;) {
    const exposed = determined(equations, suppressed);
    if (!exposed) return suppressed;
    // Hide a published row that shares an equation with a hidden one: the most detailed first
    // (cells before marginals: hiding a marginal exposes its own marginals in turn), then one
    // sharing an equation with the exposed row, then the smallest; the grand total last.
    const published = (r: R) => !suppressed.has(r) && r.servants > 0;
    const near = new Set(
      equations
        .filter((e) => e.includes(exposed))
        .flat()
        .filter(published),
    );
    const [pick] = [
      ...new Set(
        equations
          .filter((e) => e.some((r) => suppressed.has(r)))
          .flat()
          .filter(published),
      ),
    ].sort(
      (a, b) =>
        Number(a === grand) - Number(b === grand) ||
        totals(a) - totals(b) ||
        Number(near.has(b)) - Number(near.has(a)) ||
        a.servants - b.servants ||
        key(a).localeCompare(key(b)),
    );
    if (!pick) throw new Error(`suppression: no row left to hide for ${key(exposed)}`);
    suppressed.add(pick);
  }
}

/**
 * The hypercube method (as statistical offices' tools such as τ-ARGUS do it): a cell of a
 * three-way table whose marginals are all published is protected by hiding the other seven
 * corners of a 2 × 2 × 2 block through it — any change +x at the corners of one parity and −x
 * at the others leaves every marginal unchanged, so no corner is determined. The block with the
 * fewest newly hidden servants is taken; corners must be non-empty groups (an empty group is a
 * known zero). Undefined when no block exists (a dimension with one value): the exact check
 * then hides what is needed.
 */
function cheapestCube<R extends Row>(cell: R, values: Record<Dim, string[]>, byKey: Map<string, R>, hidden: Set<R>): R[] {
  let best: { cost: number; rows: R[] } | undefined;
  for (const level of values.level.filter((v) => v !== cell.level))
    for (const tier of values.tier.filter((v) => v !== cell.tier))
      for (const dm of values.dm.filter((v) => v !== cell.dm)) {
        const rows: R[] = [];
        let cost = 0;
        for (const l of [cell.level, level])
          for (const t of [cell.tier, tier])
            for (const d of [cell.dm, dm]) {
              const r = byKey.get(key({ level: l, tier: t, dm: d }));
              if (!r || r.servants <= 0) cost = Infinity;
              else if (r !== cell) rows.push(r);
              if (r && !hidden.has(r)) cost += r.servants;
            }
        if (cost < (best?.cost ?? Infinity)) best = { cost, rows };
      }
  return best?.rows ?? [];
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
