/**
 * The hub's observatory: the verified indicator sets of every country (peers, and this instance's
 * own when it publishes one), compared in tables and trend charts and exported as CSV, JSON and
 * SDMX-CSV. It holds counts only — what the countries signed, already suppressed.
 */
import type { IndicatorSet, NetworkModels } from './network.model';
import { derive, IndicatorPayload, type IndicatorRow } from './indicators';
import { TOTAL } from './suppression';

export interface Selection {
  level: string;
  tier: string;
  dm: string;
  month?: string;
}

export interface Country {
  country: string;
  publisher: string;
  origin: string;
  generatedAt: Date;
  verifiedAt: Date;
  k: number;
  payload: IndicatorPayload;
  /** This instance's own set ("your country" beside the region). */
  own: boolean;
  /** How a peer's set arrived (pulled or pushed); absent for this instance's own. */
  via?: 'pull' | 'push';
}

/** A set as the exports read it: its header, and its rows one at a time (summaries.ts exportSets). */
export interface ExportSet {
  country: string;
  publisher: string;
  origin: string;
  generatedAt: Date;
  k: number;
  rule: Record<string, unknown>;
  via?: 'pull' | 'push';
  payload: Pick<IndicatorPayload, 'months' | 'targets' | 'baselineDate'>;
  rows: () => AsyncIterable<IndicatorRow> | Iterable<IndicatorRow>;
}

export const SDMX_DATAFLOW = 'APRENDE_TIC:DF_ICT_TRAINED_SERVANTS(1.0)';
const MEASURES = ['SERVANTS', 'TRAINED', 'SHARE', 'PROGRESS_80', 'BASELINE_TRAINED', 'PROGRESS_3X'] as const;

export class Observatory {
  constructor(private readonly m: NetworkModels) {}

  async countries(): Promise<Country[]> {
    const sets = await this.m.indicators.find({}).lean<IndicatorSet[]>();
    return sets
      .map((s) => {
        const payload = s.payload as unknown as IndicatorPayload;
        return {
          country: s.country,
          publisher: s.publisher,
          origin: payload.publisher.origin,
          generatedAt: s.generatedAt,
          verifiedAt: s.verifiedAt,
          k: payload.k,
          payload,
          own: s._id === 'self',
          via: s.via,
        };
      })
      .sort((a, b) => a.country.localeCompare(b.country) || a.origin.localeCompare(b.origin));
  }

  /** Dimension values seen in any set, for the page's selectors. */
  static options(countries: Country[]) {
    const vals = (f: (r: IndicatorRow) => string) =>
      [...new Set(countries.flatMap((c) => c.payload.rows.map(f)))].filter((v) => v !== TOTAL).sort();
    return {
      levels: vals((r) => r.level),
      tiers: vals((r) => r.tier),
      months: [...new Set(countries.flatMap((c) => c.payload.months))].sort(),
    };
  }

  /** The same options from the summaries the page reads (their rows are only the selected one). */
  static summaryOptions(countries: Array<Country & { levels: string[]; tiers: string[] }>) {
    const all = (f: (c: (typeof countries)[number]) => string[]) => [...new Set(countries.flatMap(f))].sort();
    return { levels: all((c) => c.levels), tiers: all((c) => c.tiers), months: all((c) => c.payload.months) };
  }

  /** One row per country for the selected combination and month (its latest when none is chosen). */
  static compare(countries: Country[], sel: Selection) {
    return countries.map((c) => {
      const month = sel.month && c.payload.months.includes(sel.month) ? sel.month : c.payload.months[c.payload.months.length - 1];
      const i = c.payload.months.indexOf(month);
      const row = find(c.payload, sel);
      return {
        country: c.country,
        publisher: c.publisher,
        own: c.own,
        month,
        suppressed: !!row?.suppressed,
        absent: !row,
        figures: row && i >= 0 ? derive(c.payload, row, i) : null,
        rule: c.payload.rule,
        baselineDate: c.payload.baselineDate,
      };
    });
  }

  /**
   * The region: the compared group summed over the countries that publish it (a country whose
   * group is confidential or empty adds nothing, and the count says how many are in). Each
   * country's month is the one its row shows.
   */
  static region(rows: ReturnType<typeof Observatory.compare>, targetShare = 0.8) {
    const inRows = rows.filter((r) => r.figures);
    const servants = inRows.reduce((n, r) => n + r.figures!.servants, 0);
    const trained = inRows.reduce((n, r) => n + r.figures!.trained, 0);
    const needed = Math.ceil(servants * targetShare - 1e-9);
    const round = (x: number) => Math.round(x * 10000) / 10000;
    return {
      countries: inRows.length,
      of: rows.length,
      servants,
      trained,
      share: servants ? round(trained / servants) : null,
      progressTarget: needed ? round(trained / needed) : null,
    };
  }

  /** Share month by month per country for the selected combination (null where suppressed). */
  static trend(countries: Country[], sel: Selection) {
    const months = Observatory.options(countries).months;
    return {
      months,
      series: countries.map((c) => {
        const row = find(c.payload, sel);
        return {
          country: c.country,
          points: months.map((m) => {
            const i = c.payload.months.indexOf(m);
            const f = row && i >= 0 ? derive(c.payload, row, i) : null;
            return { month: m, share: f?.share ?? null, suppressed: !!row?.suppressed };
          }),
        };
      }),
    };
  }

  /** A whole set held in memory as an export reads it (the page's countries, the bench's comparison). */
  static exportSet(c: Country): ExportSet {
    return { ...c, rule: c.payload.rule, rows: () => c.payload.rows };
  }

  /**
   * Every row of every set, month by month (the CSV, SDMX-CSV and JSON exports), one set's rows at
   * a time: each set's observations come together, in the order of the sets.
   */
  static async *flat(sets: Iterable<ExportSet>) {
    for (const c of sets) {
      const p = c.payload as IndicatorPayload;
      const last = p.months.length - 1;
      for await (const r of c.rows()) {
        for (let i = 0; i <= last; i++) {
          const f = derive(p, r, i);
          yield {
            country: c.country,
            publisher: c.publisher,
            month: p.months[i],
            level: r.level,
            tier: r.tier,
            decisionMakers: r.dm,
            suppressed: !!r.suppressed,
            estimated: i < last,
            servants: f?.servants ?? null,
            trained: f?.trained ?? null,
            share: f?.share ?? null,
            progressTarget80: f?.progressTarget ?? null,
            baselineTrained: f?.baselineTrained ?? null,
            progressBaseline3x: f?.progressBaseline ?? null,
          };
        }
      }
    }
  }

  static readonly csvColumns = [
    'country',
    'publisher',
    'month',
    'level',
    'tier',
    'decision_makers',
    'suppressed',
    'estimated',
    'servants',
    'trained',
    'share',
    'progress_target_80',
    'baseline_trained',
    'progress_baseline_3x',
  ];

  static async *csvRows(sets: Iterable<ExportSet>): AsyncIterable<unknown[]> {
    for await (const r of Observatory.flat(sets)) {
      yield [
        r.country,
        r.publisher,
        r.month,
        r.level,
        r.tier,
        r.decisionMakers,
        r.suppressed ? 'yes' : 'no',
        r.estimated ? 'yes' : 'no',
        r.servants ?? '',
        r.trained ?? '',
        r.share ?? '',
        r.progressTarget80 ?? '',
        r.baselineTrained ?? '',
        r.progressBaseline3x ?? '',
      ];
    }
  }

  /**
   * SDMX-CSV (version 1.0 of the format): one observation per line, the dataflow first, then the
   * dimensions (REF_AREA is the ISO 3166-1 alpha-3 country, `_T` a total), the measure, OBS_VALUE
   * and the attributes: OBS_STATUS `A` (normal: the live month) or `E` (estimated: past months
   * counted from training dates), CONF_STATUS `F` (free) or `C` (confidential: suppressed, no value).
   */
  static readonly sdmxColumns = [
    'DATAFLOW',
    'REF_AREA',
    'TIME_PERIOD',
    'GOV_LEVEL',
    'ROLE_TIER',
    'DECISION_MAKER',
    'MEASURE',
    'OBS_VALUE',
    'UNIT_MEASURE',
    'OBS_STATUS',
    'CONF_STATUS',
  ];

  static async *sdmxRows(sets: Iterable<ExportSet>): AsyncIterable<unknown[]> {
    for await (const r of Observatory.flat(sets)) {
      const dm = r.decisionMakers === TOTAL ? TOTAL : r.decisionMakers === 'yes' ? 'Y' : 'N';
      const base = [SDMX_DATAFLOW, r.country, r.month, r.level, r.tier, dm];
      const values: Record<(typeof MEASURES)[number], number | null> = {
        SERVANTS: r.servants,
        TRAINED: r.trained,
        SHARE: r.share,
        PROGRESS_80: r.progressTarget80,
        BASELINE_TRAINED: r.baselineTrained,
        PROGRESS_3X: r.progressBaseline3x,
      };
      for (const m of MEASURES) {
        if (!r.suppressed && values[m] === null) continue; // not defined (no baseline, no servants)
        const unit = m === 'SERVANTS' || m === 'TRAINED' || m === 'BASELINE_TRAINED' ? 'PERSONS' : 'RATIO';
        yield [...base, m, r.suppressed ? '' : values[m], unit, r.estimated ? 'E' : 'A', r.suppressed ? 'C' : 'F'];
      }
    }
  }
}

function find(p: IndicatorPayload, sel: Selection): IndicatorRow | undefined {
  return p.rows.find((r) => r.level === sel.level && r.tier === sel.tier && r.dm === sel.dm);
}
