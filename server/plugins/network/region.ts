/**
 * "Your country vs the region" for the reports dashboard (contract `network.region`). The region
 * is the whole-programme total (`_T` level, tier and decision-makers) summed over the countries a
 * hub holds, each at its latest month — as the observatory's region row sums them. A country that
 * pushes to a hub (`NETWORK_HUBS`) reads the first hub's public JSON export; an instance that is
 * itself a hub (it follows peers) uses its own stored sets.
 */
import type { RegionComparison, RegionFigures } from '../../core/contracts/region';
import type { Logger } from '../../core/log';
import type { NetworkModels } from './network.model';
import { Observatory } from './observatory';
import { pageCountries } from './summaries';
import { TOTAL } from './suppression';

const FETCH_TIMEOUT_MS = 5_000;
// A dashboard is opened often and the hub's export is large: the answer is kept for a while
// (NETWORK_REGION_CACHE), a failure for at most a minute, so a hub that is down does not slow
// every page by the timeout and one that is back is read again soon.
const KEEP_FAILURE_MS = 60_000;

interface Observation {
  country?: unknown;
  month?: unknown;
  level?: unknown;
  tier?: unknown;
  decisionMakers?: unknown;
  suppressed?: unknown;
  servants?: unknown;
  trained?: unknown;
}

/** The region from the hub's `/network/observatory/data.json` (exported for the test of its reading). */
export function regionFromExport(body: unknown): RegionFigures | null {
  const obs = (body as { observations?: unknown })?.observations;
  if (!Array.isArray(obs)) return null;
  // Each country's latest month; a suppressed (or unreadable) total there adds nothing.
  const latest = new Map<string, { month: string; fig: { servants: number; trained: number } | null }>();
  for (const o of obs as Observation[]) {
    if (typeof o?.country !== 'string' || typeof o.month !== 'string') continue;
    if (o.level !== TOTAL || o.tier !== TOTAL || o.decisionMakers !== TOTAL) continue;
    const had = latest.get(o.country);
    if (had && had.month >= o.month) continue;
    const ok = !o.suppressed && typeof o.servants === 'number' && typeof o.trained === 'number';
    latest.set(o.country, { month: o.month, fig: ok ? { servants: o.servants as number, trained: o.trained as number } : null });
  }
  if (!latest.size) return null;
  const inSum = [...latest.values()].filter((v) => v.fig);
  const servants = inSum.reduce((n, v) => n + v.fig!.servants, 0);
  const trained = inSum.reduce((n, v) => n + v.fig!.trained, 0);
  return {
    countries: inSum.length,
    of: latest.size,
    servants,
    trained,
    share: servants ? Math.round((trained / servants) * 10000) / 10000 : null,
    month:
      inSum
        .map((v) => v.month)
        .sort()
        .pop() ?? '',
  };
}

export class Region {
  private kept?: { at: number; value: RegionComparison };

  constructor(
    private readonly m: NetworkModels,
    private readonly hubs: string[],
    private readonly log: Logger,
    private readonly keepMs: number,
  ) {}

  async compare(): Promise<RegionComparison | undefined> {
    if (this.hubs.length) return this.fromHub(this.hubs[0]);
    // Not pushing to a hub: a region only when this instance is one (it follows other countries).
    if (!(await this.m.summaries.countDocuments({ _id: { $ne: 'self' } }))) return undefined;
    const rows = Observatory.compare(await pageCountries(this.m, { level: TOTAL, tier: TOTAL, dm: TOTAL }), {
      level: TOTAL,
      tier: TOTAL,
      dm: TOTAL,
    });
    const r = Observatory.region(rows);
    const months = rows.filter((x) => x.figures).map((x) => x.month);
    return {
      source: 'self',
      region: r.countries
        ? { countries: r.countries, of: r.of, servants: r.servants, trained: r.trained, share: r.share, month: months.sort().pop()! }
        : null,
    };
  }

  private async fromHub(hub: string): Promise<RegionComparison> {
    const now = Date.now();
    if (this.kept && now - this.kept.at < (this.kept.value.region ? this.keepMs : Math.min(this.keepMs, KEEP_FAILURE_MS)))
      return this.kept.value;
    let region: RegionFigures | null = null;
    try {
      const res = await fetch(`${hub}/network/observatory/data.json`, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (res.ok) region = regionFromExport(await res.json());
      else this.log.warn({ hub, status: res.status }, 'network: the hub did not give its observatory export');
    } catch (err) {
      this.log.warn({ hub, err: (err as Error).message }, 'network: the hub could not be reached for the regional figure');
    }
    this.kept = { at: now, value: { source: hub, region } };
    return this.kept.value;
  }
}
