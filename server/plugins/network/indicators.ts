/**
 * The observatory's indicator sets. A national instance publishes, for each of the last months,
 * every level × tier × decision-maker combination (values and totals) of its roster: servants,
 * trained, and from them the share, the progress against 80 % and against 3× the baseline.
 * Small cells are suppressed (suppression.ts) before anything is signed; people never leave.
 */
import { z } from 'zod';
import type { IndicatorSource, IndicatorTable } from '../../core/contracts/indicators';
import { TOTAL, suppress } from './suppression';
import type { Identity } from './publisher';
import { sign, type SigningKey } from './signing';

export const INDICATORS_TYPE = 'application/vnd.aprende-tic.indicators+json';
export const TARGET_SHARE = 0.8;
export const BASELINE_FACTOR = 3;

const dim = z.string().min(1).max(100);
const Row = z.object({
  level: dim,
  tier: dim,
  dm: z.enum(['yes', 'no', TOTAL]),
  suppressed: z.literal(true).optional(),
  servants: z.number().int().min(0).optional(),
  /** Trained at each month's end, aligned with `months`. */
  trained: z.array(z.number().int().min(0)).optional(),
  baselineTrained: z.number().int().min(0).optional(),
});
export const IndicatorPayload = z.object({
  type: z.literal('indicators'),
  version: z.literal(1),
  publisher: z.object({ publisher: z.string().min(1).max(300), country: z.string().regex(/^[A-Z]{3}$/), origin: z.string().url() }),
  generatedAt: z.string().datetime(),
  k: z.number().int().min(2),
  rule: z.object({ definition: z.string().max(500), minHours: z.number().min(0), validityYears: z.number().min(0) }),
  baselineDate: z.string().date().optional(),
  targets: z.object({ share: z.number(), baselineFactor: z.number() }),
  months: z
    .array(z.string().regex(/^\d{4}-\d{2}$/))
    .min(1)
    .max(240),
  /** Past months count today's roster by training dates; the last month is live. */
  monthsSource: z.literal('estimated-from-training-dates'),
  rows: z.array(Row).max(100_000),
});
export type IndicatorPayload = z.infer<typeof IndicatorPayload>;
export type IndicatorRow = z.infer<typeof Row>;

/** The last `n` months, oldest first, ending with the current one (YYYY-MM). */
export function lastMonths(n: number, now = new Date()): string[] {
  return Array.from({ length: n }, (_, i) =>
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (n - 1 - i), 1)).toISOString().slice(0, 7),
  );
}

/** Every combination with totals, summed from the cells; empty combinations are left out. */
export function tabulate(table: IndicatorTable, months: string[]) {
  type Acc = { level: string; tier: string; dm: string; servants: number; trained: number[]; baselineTrained: number };
  const rows = new Map<string, Acc>();
  for (const c of table.cells) {
    const dmv = c.decisionMaker ? 'yes' : 'no';
    for (const level of [c.level, TOTAL])
      for (const tier of [c.tier, TOTAL])
        for (const dm of [dmv, TOTAL]) {
          const k = `${level}|${tier}|${dm}`;
          let r = rows.get(k);
          if (!r) rows.set(k, (r = { level, tier, dm, servants: 0, trained: months.map(() => 0), baselineTrained: 0 }));
          r.servants += c.servants;
          months.forEach((m, i) => (r!.trained[i] += c.trained[m] ?? 0));
          r.baselineTrained += c.baselineTrained;
        }
  }
  if (!rows.size)
    rows.set(`${TOTAL}|${TOTAL}|${TOTAL}`, {
      level: TOTAL,
      tier: TOTAL,
      dm: TOTAL,
      servants: 0,
      trained: months.map(() => 0),
      baselineTrained: 0,
    });
  return [...rows.values()].sort((a, b) => `${a.level}|${a.tier}|${a.dm}`.localeCompare(`${b.level}|${b.tier}|${b.dm}`));
}

export async function buildIndicators(
  source: IndicatorSource,
  identity: Identity,
  key: SigningKey,
  opts: { k: number; months: number },
  now = new Date(),
) {
  const months = lastMonths(opts.months, now);
  const table = await source.table(months, now);
  const rows = tabulate(table, months);
  const hidden = suppress(rows, opts.k);
  const payload: IndicatorPayload = {
    type: 'indicators',
    version: 1,
    publisher: identity,
    generatedAt: now.toISOString(),
    k: opts.k,
    rule: { definition: 'every required course of the tier (and level) satisfied', ...table.rule },
    ...(table.baselineDate ? { baselineDate: table.baselineDate } : {}),
    targets: { share: TARGET_SHARE, baselineFactor: BASELINE_FACTOR },
    months,
    monthsSource: 'estimated-from-training-dates',
    rows: rows.map((r) =>
      hidden.has(r) ? { level: r.level, tier: r.tier, dm: r.dm as 'yes', suppressed: true as const } : { ...r, dm: r.dm as 'yes' },
    ),
  };
  return { payload, jws: await sign(key, INDICATORS_TYPE, payload) };
}

/** What a published row means month by month: the figures the observatory shows and exports. */
export function derive(p: IndicatorPayload, r: IndicatorRow, monthIndex: number) {
  if (r.suppressed || r.servants === undefined || !r.trained) return null;
  const servants = r.servants;
  const trained = r.trained[monthIndex] ?? 0;
  const needed = Math.ceil(servants * p.targets.share - 1e-9);
  const baselineTarget = p.baselineDate ? (r.baselineTrained ?? 0) * p.targets.baselineFactor : null;
  const round = (x: number) => Math.round(x * 10000) / 10000;
  return {
    servants,
    trained,
    share: servants ? round(trained / servants) : null,
    /** Trained as a share of the 80 % target (1 = met). */
    progressTarget: needed ? round(trained / needed) : null,
    baselineTrained: p.baselineDate ? (r.baselineTrained ?? 0) : null,
    baselineTarget,
    progressBaseline: baselineTarget ? round(trained / baselineTarget) : null,
  };
}
