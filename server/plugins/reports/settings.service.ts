import { z } from 'zod';
import { localizedError } from '../../core/errors';
import type { SettingModel } from './store.model';
import { DEFAULT_RULE, TrainedRule } from './trained-rule';

const Baseline = z.object({ date: z.coerce.date({ message: 'date must be a date (YYYY-MM-DD)' }) });
export type Baseline = z.infer<typeof Baseline>;

/** The programme's settings: the "trained" rule and the baseline date (targets are 80% and 3× baseline). */
export class SettingsService {
  constructor(private readonly settings: SettingModel) {}

  async rule(): Promise<TrainedRule> {
    const doc = await this.settings.findById('trained-rule').lean();
    return doc ? TrainedRule.parse(doc.value) : DEFAULT_RULE;
  }

  /** Returns whether the rule changed (then everyone must be re-evaluated). */
  async setRule(input: unknown, by: string): Promise<boolean> {
    const parsed = TrainedRule.safeParse(input);
    if (!parsed.success) {
      const field = parsed.error.issues[0].path[0] === 'validityYears' ? 'validityYears' : 'minHours';
      throw localizedError(400, `reports:settings.invalid.${field}`);
    }
    const before = await this.rule();
    await this.settings.replaceOne(
      { _id: 'trained-rule' },
      { _id: 'trained-rule', value: parsed.data, updatedAt: new Date(), updatedBy: by },
      { upsert: true },
    );
    return JSON.stringify(before) !== JSON.stringify(parsed.data);
  }

  async baseline(): Promise<Baseline | undefined> {
    const doc = await this.settings.findById('baseline').lean();
    return doc ? Baseline.parse(doc.value) : undefined;
  }

  async setBaseline(input: unknown, by: string): Promise<void> {
    const parsed = Baseline.safeParse(input);
    if (!parsed.success) throw localizedError(400, 'reports:settings.invalid.baselineDate');
    if (parsed.data.date.getTime() > Date.now()) throw localizedError(400, 'reports:settings.invalid.baselineFuture');
    await this.settings.replaceOne(
      { _id: 'baseline' },
      { _id: 'baseline', value: { date: parsed.data.date.toISOString().slice(0, 10) }, updatedAt: new Date(), updatedBy: by },
      { upsert: true },
    );
  }
}
