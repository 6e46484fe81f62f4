import type { CatalogService, CourseSummary } from '../../core/contracts/catalog';
import { matchingPage, queryTerms } from '../../core/search-text';
import { DEFAULT_TIERS, LEVELS } from '../../core/taxonomy';
import type { Person, PersonModel } from './person.model';
import { ALL, type OrgService } from './org.service';
import type { SettingsService } from './settings.service';
import type { SummaryService } from './summary.service';
import type { Counter, Summary } from './store.model';
import type { TrainedRule } from './trained-rule';
import { monthKey, type HistoryService } from './history.service';

export const TARGET_SHARE = 0.8;
export const BASELINE_FACTOR = 3;
const TREND_MONTHS = 12;

export interface Row {
  key: string;
  label?: string;
  total: number;
  trained: number;
  share: number | null;
}

export interface Dashboard {
  scope: { code: string; name: string; kind: string };
  generatedAt: string;
  rule: TrainedRule;
  total: number;
  trained: number;
  share: number | null;
  target: { share: number; needed: number; gap: number; met: boolean };
  baseline: null | { date: string; trained: number; target: number; gap: number; met: boolean; progress: number | null };
  decisionMakers: Row;
  byLevel: Row[];
  byTier: Row[];
  byInstitution: Row[];
  byUnit: Row[];
  /**
   * Month by month: `recorded` figures were taken at the time (the last daily snapshot of the
   * month); `estimated` ones, for months before recording began, count today's people by the date
   * they became trained, against today's total; the current month is `live`.
   */
  trend: Array<{ month: string; total: number; trained: number; share: number | null; source: 'live' | 'recorded' | 'estimated' }>;
}

const share = (k: number, t: number) => (t ? Math.round((k / t) * 10000) / 10000 : null);
const row = (key: string, c: Counter | undefined, label?: string): Row => ({
  key,
  label,
  total: c?.t ?? 0,
  trained: c?.k ?? 0,
  share: share(c?.k ?? 0, c?.t ?? 0),
});

/** Dashboard figures: read from one summary document per scope, never from people or statements. */
export class DashboardService {
  constructor(
    private readonly summaries: SummaryService,
    private readonly org: OrgService,
    private readonly settings: SettingsService,
    private readonly persons: PersonModel,
    private readonly catalog: () => CatalogService,
    private readonly history: HistoryService,
  ) {}

  async build(scope: string, now = new Date()): Promise<Dashboard> {
    const [s, rule, baseline, recorded] = await Promise.all([
      this.summaries.get(scope),
      this.settings.rule(),
      this.settings.baseline(),
      this.history.of(scope, trendMonths(now).slice(0, -1)),
    ]);
    const total = s.all?.t ?? 0;
    const trained = s.all?.k ?? 0;
    const needed = Math.ceil(total * TARGET_SHARE - 1e-9);
    const names = async (m: Record<string, Counter> | undefined) =>
      Promise.all(
        Object.entries(m ?? {})
          .filter(([, c]) => c.t > 0)
          .map(async ([k, c]) => row(k, c, await this.org.name(k))),
      ).then((rows) => rows.sort((a, b) => a.key.localeCompare(b.key)));
    const known = (keys: readonly string[], m: Record<string, Counter> | undefined) => [
      ...keys.map((k) => row(k, m?.[k])),
      ...Object.keys(m ?? {})
        .filter((k) => !keys.includes(k) && m![k].t > 0)
        .map((k) => row(k, m![k])),
    ];
    let base: Dashboard['baseline'] = null;
    if (baseline) {
      const date = baseline.date.toISOString().slice(0, 10);
      const b = trainedUpTo(s, date.replace(/-/g, ''));
      const target = b * BASELINE_FACTOR;
      base = {
        date,
        trained: b,
        target,
        gap: Math.max(0, target - trained),
        met: target > 0 && trained >= target,
        progress: target ? Math.round((trained / target) * 10000) / 10000 : null,
      };
    }
    const unit = scope === ALL ? undefined : await this.org.get(scope);
    return {
      scope: { code: scope, name: await this.org.name(scope), kind: unit?.kind ?? (scope === ALL ? 'all' : 'unit') },
      generatedAt: now.toISOString(),
      rule,
      total,
      trained,
      share: share(trained, total),
      target: { share: TARGET_SHARE, needed, gap: Math.max(0, needed - trained), met: total > 0 && trained >= needed },
      baseline: base,
      decisionMakers: row('decision-makers', s.dm),
      byLevel: known(LEVELS, s.level),
      byTier: known(DEFAULT_TIERS, s.tier),
      byInstitution: await names(s.institution),
      byUnit: await names(s.unit),
      trend: trend(s, total, now, recorded),
    };
  }

  /**
   * The people behind a figure: untrained (or all) active people of a scope with what each still
   * needs. A scan, paged — drill-down is occasional, unlike the dashboard.
   */
  async people(
    scopeUnits: string[] | '*',
    opts: { status: 'untrained' | 'trained' | 'all'; skip: number; limit: number; decisionMakers?: boolean; q?: string },
  ) {
    const filter: Record<string, unknown> = { active: true };
    if (scopeUnits !== '*') filter.unit = { $in: scopeUnits };
    if (opts.status !== 'all') filter.trained = opts.status === 'trained';
    if (opts.decisionMakers) filter.decisionMaker = true;
    const terms = queryTerms(opts.q);
    const [list, total] = terms.length
      ? await this.searchPeople(filter, terms, opts.skip, opts.limit)
      : await Promise.all([
          this.persons.find(filter).sort({ _id: 1 }).skip(opts.skip).limit(opts.limit).lean<Person[]>(),
          this.persons.countDocuments(filter),
        ]);
    const catalog = this.catalog();
    const courses = new Map<string, CourseSummary | undefined>();
    for (const id of new Set(list.flatMap((p) => p.missing ?? []))) courses.set(id, await catalog.getCourse(id));
    return { total, people: list, courses };
  }

  /** By name, employee id or e-mail, accent- and case-insensitive: one scan of the scope, paged. */
  private searchPeople(filter: Record<string, unknown>, terms: string[], skip: number, limit: number): Promise<[Person[], number]> {
    const scan = this.persons.find(filter).sort({ _id: 1 }).lean<Person[]>().cursor() as AsyncIterable<Person>;
    return matchingPage(scan, terms, (p) => [p.name, p.employeeId, p.email], skip, limit);
  }
}

/** People trained on or before a day (YYYYMMDD), from the per-day counts. */
export function trainedUpTo(s: Summary, day: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(s.days ?? {})) if (k.slice(1) <= day) n += v;
  return n;
}

/** The last TREND_MONTHS months, oldest first, ending with the current one (YYYY-MM). */
export function trendMonths(now: Date): string[] {
  return Array.from({ length: TREND_MONTHS }, (_, i) =>
    monthKey(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (TREND_MONTHS - 1 - i), 1))),
  );
}

/**
 * Trained at the end of each of the last months: the recorded month-end figures where there are
 * any, otherwise a running sum of the per-day counts of today's people; the current month live.
 */
export function trend(s: Summary, total: number, now: Date, recorded = new Map<string, Counter>()): Dashboard['trend'] {
  const months = trendMonths(now);
  const all = months.map((month, i) => {
    if (i === months.length - 1)
      return { month, total, trained: s.all?.k ?? 0, share: share(s.all?.k ?? 0, total), source: 'live' as const };
    const r = recorded.get(month);
    if (r) return { month, total: r.t, trained: r.k, share: share(r.k, r.t), source: 'recorded' as const };
    const [y, m] = month.split('-').map(Number);
    const end = new Date(Date.UTC(y, m, 0)); // last day of that month
    const k = trainedUpTo(s, end.toISOString().slice(0, 10).replace(/-/g, ''));
    return { month, total, trained: k, share: share(k, total), source: 'estimated' as const };
  });
  // Estimated months before anyone was trained say nothing (a fresh install would show 11 of
  // "0 %"): the trend starts at the first month with a record or someone trained.
  const first = all.findIndex((m) => m.source !== 'estimated' || m.trained > 0);
  return all.slice(first);
}
