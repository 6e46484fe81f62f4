import type { IndicatorCell, IndicatorSource } from '../../core/contracts/indicators';
import type { PersonModel } from './person.model';
import type { SettingsService } from './settings.service';

/** Last instant of a month `YYYY-MM` (UTC). */
const monthEnd = (month: string) => {
  const [y, m] = month.split('-').map(Number);
  return Date.UTC(y, m, 1) - 1;
};

/** The `reports.indicators` contract: roster counts by level × tier × decision-maker, streamed once. */
export function indicatorSource(people: PersonModel, settings: SettingsService): IndicatorSource {
  return {
    async table(months, now = new Date()) {
      const [rule, baseline] = await Promise.all([settings.rule(), settings.baseline()]);
      const current = now.toISOString().slice(0, 7);
      const ends = months.map((m) => [m, m >= current ? Infinity : monthEnd(m)] as const);
      const baseEnd = baseline ? baseline.date.getTime() + 86_400_000 - 1 : undefined;
      const cells = new Map<string, IndicatorCell>();
      const cursor = people
        .find({ active: true }, { level: 1, tier: 1, decisionMaker: 1, trained: 1, trainedAt: 1 })
        .lean<Array<{ level: string; tier: string; decisionMaker?: boolean; trained?: boolean; trainedAt?: Date }>>()
        .cursor();
      for await (const p of cursor) {
        const key = `${p.level}|${p.tier}|${p.decisionMaker ? 1 : 0}`;
        let c = cells.get(key);
        if (!c) {
          c = {
            level: p.level,
            tier: p.tier,
            decisionMaker: !!p.decisionMaker,
            servants: 0,
            trained: Object.fromEntries(months.map((m) => [m, 0])),
            baselineTrained: 0,
          };
          cells.set(key, c);
        }
        c.servants++;
        if (!p.trained) continue;
        const at = p.trainedAt ? new Date(p.trainedAt).getTime() : -Infinity;
        for (const [m, end] of ends) if (at <= end) c.trained[m]++;
        if (baseEnd !== undefined && at <= baseEnd) c.baselineTrained++;
      }
      return {
        rule: { minHours: rule.minHours, validityYears: rule.validityYears },
        ...(baseline ? { baselineDate: baseline.date.toISOString().slice(0, 10) } : {}),
        cells: [...cells.values()],
      };
    },
  };
}
