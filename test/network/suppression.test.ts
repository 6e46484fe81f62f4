/**
 * Small-cell suppression: no published row below k, and no suppressed row recoverable from the
 * published ones — checked here by an outsider's attack, trying every equation and also solving
 * the whole system, on generated tables.
 */
import { expect } from 'chai';
import { determined, suppress, TOTAL, type Row } from '../../server/plugins/network/suppression';
import { tabulate } from '../../server/plugins/network/indicators';

const LEVELS = ['national', 'regional', 'local'];
const TIERS = ['all', 'technical', 'manager', 'decision-maker', 'ict-specialist'];

function table(counts: (level: string, tier: string, dm: boolean) => number) {
  const cells = [];
  for (const level of LEVELS)
    for (const tier of TIERS)
      for (const dm of [false, true]) {
        const n = counts(level, tier, dm);
        if (n) cells.push({ level, tier, decisionMaker: dm, servants: n, trained: { '2026-12': Math.floor(n / 2) }, baselineTrained: 0 });
      }
  return tabulate({ rule: { minHours: 0, validityYears: 0 }, cells }, ['2026-12']);
}

/** What a reader can work out: repeatedly solve single equations with one unknown. */
function recoverByDifferencing(rows: Row[], hidden: Set<Row>): Row[] {
  const known = new Map<Row, number>();
  for (const r of rows) if (!hidden.has(r)) known.set(r, r.servants);
  const key = (r: Pick<Row, 'level' | 'tier' | 'dm'>) => `${r.level}|${r.tier}|${r.dm}`;
  const byKey = new Map(rows.map((r) => [key(r), r]));
  const recovered: Row[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const parent of rows)
      for (const d of ['level', 'tier', 'dm'] as const) {
        if (parent[d] !== TOTAL) continue;
        const kids = rows.filter((r) => r[d] !== TOTAL && (['level', 'tier', 'dm'] as const).every((e) => e === d || r[e] === parent[e]));
        const terms = [parent, ...kids];
        const unknown = terms.filter((t) => !known.has(t));
        if (unknown.length !== 1) continue;
        const u = unknown[0];
        const sumKids = kids.reduce((s, c) => s + (c === u ? 0 : known.get(c)!), 0);
        known.set(u, u === parent ? sumKids : known.get(parent)! - sumKids);
        recovered.push(u);
        changed = true;
      }
    void byKey;
  }
  return recovered;
}

describe('network: small-cell suppression', () => {
  it('hides a unit of 3 and every figure that would give it back by difference', () => {
    const rows = table((level, tier, dm) =>
      level === 'local' && tier === 'decision-maker' && dm ? 3 : level === 'local' && dm ? 0 : tier === 'decision-maker' && !dm ? 0 : 40,
    );
    const hidden = suppress(rows, 5);
    const three = rows.find((r) => r.level === 'local' && r.tier === 'decision-maker' && r.dm === 'yes')!;
    expect(three.servants).to.equal(3);
    expect(hidden.has(three)).to.equal(true);
    for (const r of rows) if (!hidden.has(r) && r.servants > 0) expect(r.servants).to.be.at.least(5);
    expect(recoverByDifferencing(rows, hidden)).to.deep.equal([]);
    // Primary suppression alone would leave it recoverable: the check is not vacuous.
    const primaryOnly = new Set(rows.filter((r) => r.servants > 0 && r.servants < 5));
    expect(recoverByDifferencing(rows, primaryOnly)).to.include(three);
  });

  it('leaves no suppressed row determined on generated tables (k = 5 and 10)', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 40; n++) {
      const rows = table(() => (rand() < 0.3 ? 0 : Math.floor(rand() * (rand() < 0.5 ? 8 : 200))));
      for (const k of [5, 10]) {
        const hidden = suppress(rows, k);
        for (const r of rows) if (!hidden.has(r) && r.servants > 0) expect(r.servants).to.be.at.least(k);
        expect(recoverByDifferencing(rows, hidden), `table ${n}, k ${k}`).to.deep.equal([]);
        const equations: Row[][] = [];
        for (const parent of rows)
          for (const d of ['level', 'tier', 'dm'] as const)
            if (parent[d] === TOTAL)
              equations.push([
                parent,
                ...rows.filter((r) => r[d] !== TOTAL && (['level', 'tier', 'dm'] as const).every((e) => e === d || r[e] === parent[e])),
              ]);
        expect(determined(equations, hidden)).to.equal(undefined);
      }
    }
  });

  it('hides one small cell with the fewest other cells and no marginal (a full table keeps its totals)', () => {
    // Every cell of 3 levels × 5 tiers × dm has people; one local decision-maker group of 3.
    const rows = table((level, tier, dm) =>
      level === 'local' && tier === 'decision-maker' && dm ? 3 : 20 + LEVELS.indexOf(level) + TIERS.indexOf(tier),
    );
    const hidden = suppress(rows, 5);
    // The least that hides one cell of a three-way table whose marginals are all published:
    // a 2 × 2 × 2 block of cells (two levels, two tiers, both dm values).
    expect([...hidden].every((r) => r.level !== TOTAL && r.tier !== TOTAL && r.dm !== TOTAL)).to.equal(true);
    expect(hidden.size).to.equal(8);
    expect(recoverByDifferencing(rows, hidden)).to.deep.equal([]);
  });

  it('publishes everything when no group is small', () => {
    const rows = table(() => 12);
    expect(suppress(rows, 5).size).to.equal(0);
  });
});
