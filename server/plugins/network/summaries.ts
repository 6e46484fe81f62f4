/**
 * Storing a verified indicator set, and the observatory page's reads. A signed set of 60 months is
 * large (the JWS repeats the payload) and the page needs only one row of it per country: reading
 * 33 whole sets took most of the page's time. So every set is stored with a summary (what the
 * selectors and the source notes need) and its rows one document each; the page reads the
 * summaries and, by `_id`, the one row it compares. The exports stream the rows set by set
 * (exportSets): a hub of 33 countries × 60 months is 855,000 SDMX lines, and the signed sets
 * (each JWS repeating its payload) were read whole before the first line went out.
 */
import type { IndicatorPayload, IndicatorRow } from './indicators';
import type { IndicatorSet, IndicatorSummary, IndicatorSummaryRow, NetworkModels } from './network.model';
import type { Country, ExportSet, Selection } from './observatory';
import { TOTAL } from './suppression';

const rowId = (set: string, level: string, tier: string, dm: string) => `${set}|${level}|${tier}|${dm}`;

/** Replaces a set with its summary and rows (every writer of `network_indicator_sets` comes here). */
export async function storeIndicatorSet(m: NetworkModels, doc: IndicatorSet): Promise<void> {
  const p = doc.payload as unknown as IndicatorPayload;
  await m.indicators.replaceOne({ _id: doc._id }, doc, { upsert: true });
  await writeSummary(m, doc._id, p, doc.publisher, doc.generatedAt, doc.verifiedAt);
}

async function writeSummary(m: NetworkModels, set: string, p: IndicatorPayload, publisher: string, generatedAt: Date, verifiedAt: Date) {
  const dims = (f: (r: IndicatorPayload['rows'][number]) => string) => [...new Set(p.rows.map(f))].filter((v) => v !== TOTAL).sort();
  const summary: IndicatorSummary = {
    _id: set,
    country: p.publisher.country,
    publisher,
    origin: p.publisher.origin,
    generatedAt,
    verifiedAt,
    k: p.k,
    rule: p.rule,
    ...(p.baselineDate ? { baselineDate: p.baselineDate } : {}),
    targets: p.targets,
    months: p.months,
    levels: dims((r) => r.level),
    tiers: dims((r) => r.tier),
  };
  const rows: IndicatorSummaryRow[] = p.rows.map((r) => ({ _id: rowId(set, r.level, r.tier, r.dm), set, ...r }));
  if (rows.length)
    await m.summaryRows.bulkWrite(rows.map((r) => ({ replaceOne: { filter: { _id: r._id }, replacement: r, upsert: true } })));
  await m.summaryRows.deleteMany({ set, _id: { $nin: rows.map((r) => r._id) } });
  await m.summaries.replaceOne({ _id: set }, summary, { upsert: true });
}

export async function removeIndicatorSet(m: NetworkModels, set: string): Promise<void> {
  await m.indicators.deleteOne({ _id: set });
  await m.summaries.deleteOne({ _id: set });
  await m.summaryRows.deleteMany({ set });
}

/** Sets stored before summaries existed get theirs (once, at start-up). */
export async function backfillSummaries(m: NetworkModels): Promise<number> {
  const have = new Set((await m.summaries.find({}, { _id: 1 }).lean<Array<{ _id: string }>>()).map((s) => s._id));
  const missing = (await m.indicators.find({}, { _id: 1 }).lean<Array<{ _id: string }>>()).filter((s) => !have.has(s._id));
  for (const { _id } of missing) {
    const doc = await m.indicators.findById(_id).lean<IndicatorSet>();
    if (doc) await writeSummary(m, doc._id, doc.payload as unknown as IndicatorPayload, doc.publisher, doc.generatedAt, doc.verifiedAt);
  }
  return missing.length;
}

/**
 * The countries as the comparison page needs them: each with its summary and, as its only row,
 * the selected combination (absent when the country does not publish it). `levels`/`tiers` are
 * every value the set has, for the selectors.
 */
export async function pageCountries(m: NetworkModels, sel: Selection): Promise<Array<Country & { levels: string[]; tiers: string[] }>> {
  const summaries = await m.summaries.find({}).lean<IndicatorSummary[]>();
  const ids = summaries.map((s) => rowId(s._id, sel.level, sel.tier, sel.dm));
  const rows = new Map(
    (ids.length ? await m.summaryRows.find({ _id: { $in: ids } }).lean<IndicatorSummaryRow[]>() : []).map((r) => [r.set, r]),
  );
  return summaries
    .map((s) => {
      const row = rows.get(s._id);
      const payload = {
        publisher: { publisher: s.publisher, country: s.country, origin: s.origin },
        k: s.k,
        rule: s.rule,
        ...(s.baselineDate ? { baselineDate: s.baselineDate } : {}),
        targets: s.targets,
        months: s.months,
        rows: row
          ? [
              {
                level: row.level,
                tier: row.tier,
                dm: row.dm,
                suppressed: row.suppressed,
                servants: row.servants,
                trained: row.trained,
                baselineTrained: row.baselineTrained,
              },
            ]
          : [],
      } as unknown as IndicatorPayload;
      return {
        country: s.country,
        publisher: s.publisher,
        origin: s.origin,
        generatedAt: s.generatedAt,
        verifiedAt: s.verifiedAt,
        k: s.k,
        payload,
        own: s._id === 'self',
        levels: s.levels,
        tiers: s.tiers,
      };
    })
    .sort((a, b) => a.country.localeCompare(b.country) || a.origin.localeCompare(b.origin));
}

/**
 * The exports' source: every stored set in the observatory's order (country, then origin), each
 * with its rows read by a cursor when the export reaches it — only the small summaries are held.
 * The rows are the verified sets' own, as storeIndicatorSet wrote them.
 */
export async function exportSets(m: NetworkModels): Promise<ExportSet[]> {
  const [summaries, sets] = await Promise.all([
    m.summaries.find({}).lean<IndicatorSummary[]>(),
    m.indicators.find({}, { via: 1 }).lean<Array<Pick<IndicatorSet, '_id' | 'via'>>>(),
  ]);
  const via = new Map(sets.map((s) => [s._id, s.via]));
  return summaries
    .sort((a, b) => a.country.localeCompare(b.country) || a.origin.localeCompare(b.origin))
    .map((s) => ({
      country: s.country,
      publisher: s.publisher,
      origin: s.origin,
      generatedAt: s.generatedAt,
      k: s.k,
      rule: s.rule,
      ...(via.get(s._id) ? { via: via.get(s._id) } : {}),
      payload: { months: s.months, targets: s.targets, ...(s.baselineDate ? { baselineDate: s.baselineDate } : {}) },
      rows: () =>
        m.summaryRows
          .find({ set: s._id })
          .sort({ _id: 1 })
          .lean<IndicatorSummaryRow[]>()
          .cursor({ batchSize: 200 }) as AsyncIterable<IndicatorRow>,
    }));
}
