import type { Counter } from './store.model';
import type { HistoryModel } from './store.model';
import type { SummaryService } from './summary.service';

export const monthKey = (d: Date) => d.toISOString().slice(0, 7);

/**
 * Month-end figures as they were: every scope's total and trained, recorded daily into the current
 * month's documents, so a month's record is its last day's state. The trend then shows what was
 * true then (with the roster of then as denominator) rather than today's people's training dates.
 * One small document per month and scope (`_id` = `YYYY-MM|scope`): the dashboard reads twelve by
 * `_id`, the only lookup the embedded engine indexes.
 */
export class HistoryService {
  constructor(
    private readonly history: HistoryModel,
    private readonly summaries: SummaryService,
  ) {}

  async snapshot(now = new Date()): Promise<number> {
    const month = monthKey(now);
    const all = await this.summaries.all();
    await this.history.bulkWrite(
      all.map((s) => {
        const _id = `${month}|${s._id}`;
        return { replaceOne: { filter: { _id }, replacement: { _id, t: s.all?.t ?? 0, k: s.all?.k ?? 0, takenAt: now }, upsert: true } };
      }),
    );
    return all.length;
  }

  /** Recorded figures of a scope for the given months (absent months are simply missing). */
  async of(scope: string, months: string[]): Promise<Map<string, Counter>> {
    const docs = await Promise.all(months.map((m) => this.history.findById(`${m}|${scope}`).lean<{ t: number; k: number }>()));
    const out = new Map<string, Counter>();
    docs.forEach((d, i) => d && out.set(months[i], { t: d.t, k: d.k }));
    return out;
  }
}
