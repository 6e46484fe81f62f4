/**
 * "Your country vs the region" for the reports dashboard (contract `network.region`). The region
 * is each group — the whole programme, each level of government, each role tier, the
 * decision-makers — summed over the countries the sources hold, each at its latest month, as the
 * observatory's region row sums them. A country that pushes to hubs (`NETWORK_HUBS`) reads every
 * hub's public JSON export and merges them: a country several hubs hold counts once (its newest
 * set), and a hub that is down only takes away the countries no other hub has. An instance that is
 * itself a hub (it follows peers) uses its own stored sets.
 */
import type { RegionComparison, RegionFigures, RegionGroups } from '../../core/contracts/region';
import type { Logger } from '../../core/log';
import type { IndicatorSummary, IndicatorSummaryRow, NetworkModels } from './network.model';
import { TOTAL } from './suppression';

const FETCH_TIMEOUT_MS = 5_000;
// A dashboard is opened often and a hub's export is large: each hub's answer is kept for a while
// (NETWORK_REGION_CACHE), a failure for at most a minute, so a hub that is down does not slow
// every page by the timeout and one that is back is read again soon.
const KEEP_FAILURE_MS = 60_000;

/** A group's published figure at a country's latest month; null: confidential (suppressed). */
type Cell = { servants: number; trained: number } | null;

/** One country's set as the region needs it: its latest month and the compared groups there. */
export interface CountryLatest {
  /** `country|publisher`: the same set read from two hubs is one country. */
  key: string;
  generatedAt: string;
  month: string;
  groups: Map<string, Cell>;
}

const groupKey = (level: string, tier: string, dm: string) => `${level}|${tier}|${dm}`;

/** The groups the dashboard compares: the total, one level, one tier, or the decision-makers. */
export function comparedGroup(level: string, tier: string, dm: string): boolean {
  const totals = [level, tier, dm].filter((v) => v === TOTAL).length;
  return totals === 3 || (totals === 2 && (dm === TOTAL || dm === 'yes'));
}

interface Observation {
  country?: unknown;
  publisher?: unknown;
  month?: unknown;
  level?: unknown;
  tier?: unknown;
  decisionMakers?: unknown;
  suppressed?: unknown;
  servants?: unknown;
  trained?: unknown;
}

/**
 * The countries of a hub's `/network/observatory/data.json`, or null when it is not one. The
 * export lists each set's observations together, in the order of its `countries` (a hub may hold
 * one country twice, e.g. followed at two addresses): each run of observations is one set, dated
 * by its entry there, and the newest of a country wins in mergeCountries.
 */
export function countriesFromExport(body: unknown): CountryLatest[] | null {
  const obs = (body as { observations?: unknown })?.observations;
  if (!Array.isArray(obs)) return null;
  const listed = (body as { countries?: unknown }).countries;
  const entries = (Array.isArray(listed) ? listed : []) as Array<Record<string, unknown> | null>;
  const sets: Array<CountryLatest & { at: number }> = [];
  let run: (CountryLatest & { at: number; seen: Set<string> }) | undefined;
  for (const o of obs as Observation[]) {
    if (typeof o?.country !== 'string' || typeof o.month !== 'string') continue;
    if (typeof o.level !== 'string' || typeof o.tier !== 'string' || typeof o.decisionMakers !== 'string') continue;
    const key = `${o.country}|${String(o.publisher ?? '')}`;
    const cell = `${groupKey(o.level, o.tier, o.decisionMakers)}|${o.month}`;
    // A set has each group and month once: another country, or the same cell again, starts the next set.
    if (run?.key !== key || run.seen.has(cell)) {
      run = { key, generatedAt: '', month: '', groups: new Map(), at: sets.length, seen: new Set() };
      sets.push(run);
    }
    run.seen.add(cell);
    if (!comparedGroup(o.level, o.tier, o.decisionMakers) || run.month > o.month) continue;
    if (run.month < o.month) {
      run.month = o.month;
      run.groups = new Map();
    }
    const ok = !o.suppressed && typeof o.servants === 'number' && typeof o.trained === 'number';
    run.groups.set(
      groupKey(o.level, o.tier, o.decisionMakers),
      ok ? { servants: o.servants as number, trained: o.trained as number } : null,
    );
  }
  // Dated by their `countries` entry when the runs match it one to one (else each counts as undated).
  const matches =
    sets.length === entries.length && sets.every((s, i) => s.key === `${entries[i]?.country}|${String(entries[i]?.publisher ?? '')}`);
  return sets
    .filter((s) => s.month)
    .map(({ at, key, month, groups }) => ({
      key,
      month,
      groups,
      generatedAt: matches && typeof entries[at]?.generatedAt === 'string' ? (entries[at]!.generatedAt as string) : '',
    }));
}

/** The countries of this instance's own observatory (summaries and the compared rows). */
async function ownCountries(m: NetworkModels): Promise<CountryLatest[]> {
  const [summaries, rows] = await Promise.all([
    m.summaries.find({}).lean<IndicatorSummary[]>(),
    m.summaryRows
      .find({
        $or: [
          { tier: TOTAL, dm: TOTAL },
          { level: TOTAL, dm: TOTAL },
          { level: TOTAL, tier: TOTAL },
        ],
      })
      .lean<IndicatorSummaryRow[]>(),
  ]);
  const bySet = new Map(
    summaries.map((s) => [
      s._id,
      {
        key: `${s.country}|${s.publisher}`,
        generatedAt: s.generatedAt.toISOString(),
        month: s.months[s.months.length - 1],
        groups: new Map<string, Cell>(),
        last: s.months.length - 1,
      },
    ]),
  );
  for (const r of rows) {
    const c = bySet.get(r.set);
    if (!c || !comparedGroup(r.level, r.tier, r.dm)) continue;
    const ok = !r.suppressed && r.servants !== undefined && r.trained;
    c.groups.set(groupKey(r.level, r.tier, r.dm), ok ? { servants: r.servants!, trained: r.trained![c.last] ?? 0 } : null);
  }
  return [...bySet.values()];
}

/** Several sources' countries as one: a country held by more than one counts once, its newest set. */
export function mergeCountries(lists: CountryLatest[][]): CountryLatest[] {
  const merged = new Map<string, CountryLatest>();
  for (const c of lists.flat()) {
    const had = merged.get(c.key);
    if (!had || had.generatedAt < c.generatedAt || (had.generatedAt === c.generatedAt && had.month < c.month)) merged.set(c.key, c);
  }
  return [...merged.values()];
}

/** Each group summed over the countries that publish it (a confidential one adds nothing). */
export function regionGroups(countries: CountryLatest[]): RegionGroups | null {
  if (!countries.length) return null;
  const sum = (key: string): RegionFigures | undefined => {
    const inSum = countries.filter((c) => c.groups.get(key));
    if (!inSum.length) return undefined;
    const servants = inSum.reduce((n, c) => n + c.groups.get(key)!.servants, 0);
    const trained = inSum.reduce((n, c) => n + c.groups.get(key)!.trained, 0);
    return {
      countries: inSum.length,
      of: countries.length,
      servants,
      trained,
      share: servants ? Math.round((trained / servants) * 10000) / 10000 : null,
      month: inSum
        .map((c) => c.month)
        .sort()
        .pop()!,
    };
  };
  const values = (pick: (parts: string[]) => string | undefined) =>
    [...new Set(countries.flatMap((c) => [...c.groups.keys()].map((k) => pick(k.split('|')))))].filter((v): v is string => !!v).sort();
  const byLevel: Record<string, RegionFigures> = {};
  for (const level of values(([l, t, d]) => (l !== TOTAL && t === TOTAL && d === TOTAL ? l : undefined))) {
    const f = sum(groupKey(level, TOTAL, TOTAL));
    if (f) byLevel[level] = f;
  }
  const byTier: Record<string, RegionFigures> = {};
  for (const tier of values(([l, t, d]) => (l === TOTAL && t !== TOTAL && d === TOTAL ? t : undefined))) {
    const f = sum(groupKey(TOTAL, tier, TOTAL));
    if (f) byTier[tier] = f;
  }
  return { total: sum(groupKey(TOTAL, TOTAL, TOTAL)), byLevel, byTier, decisionMakers: sum(groupKey(TOTAL, TOTAL, 'yes')) };
}

export class Region {
  private readonly kept = new Map<string, { at: number; countries: CountryLatest[] | null }>();
  /** A hub being read: dashboards opened meanwhile wait for that answer instead of asking again. */
  private readonly reading = new Map<string, Promise<CountryLatest[] | null>>();

  constructor(
    private readonly m: NetworkModels,
    private readonly hubs: string[],
    private readonly log: Logger,
    private readonly keepMs: number,
  ) {}

  async compare(): Promise<RegionComparison | undefined> {
    if (this.hubs.length) {
      const answers = await Promise.all(this.hubs.map((hub) => this.fromHub(hub)));
      const read = answers.filter((a): a is CountryLatest[] => a !== null);
      return {
        source: 'hubs',
        hubs: this.hubs.map((url, i) => ({ url, answered: answers[i] !== null })),
        region: read.length ? regionGroups(mergeCountries(read)) : null,
      };
    }
    // Not pushing to a hub: a region only when this instance is one (it follows other countries).
    if (!(await this.m.summaries.countDocuments({ _id: { $ne: 'self' } }))) return undefined;
    return { source: 'self', hubs: [], region: regionGroups(await ownCountries(this.m)) };
  }

  private async fromHub(hub: string): Promise<CountryLatest[] | null> {
    const now = Date.now();
    const kept = this.kept.get(hub);
    if (kept && now - kept.at < (kept.countries ? this.keepMs : Math.min(this.keepMs, KEEP_FAILURE_MS))) return kept.countries;
    let p = this.reading.get(hub);
    if (!p) {
      p = this.read(hub).finally(() => this.reading.delete(hub));
      this.reading.set(hub, p);
    }
    const countries = await p;
    this.kept.set(hub, { at: now, countries });
    return countries;
  }

  private async read(hub: string): Promise<CountryLatest[] | null> {
    try {
      const res = await fetch(`${hub}/network/observatory/data.json`, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!res.ok) {
        this.log.warn({ hub, status: res.status }, 'network: the hub did not give its observatory export');
        await res.body?.cancel();
        return null;
      }
      const countries = countriesFromExport(await res.json());
      if (!countries) this.log.warn({ hub }, 'network: the hub answered something that is not an observatory export');
      return countries;
    } catch (err) {
      this.log.warn({ hub, err: (err as Error).message }, 'network: the hub could not be reached for the regional figure');
      return null;
    }
  }
}
