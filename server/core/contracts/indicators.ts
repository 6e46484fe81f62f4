/**
 * What the `reports` plugin offers the `network` plugin's observatory: counts of the roster by
 * level of government × role tier × decision-maker, with how many were trained at each month's
 * end — numbers only, never a person. Suppression of small cells is the publisher's job
 * (network), since it depends on which marginals are published beside the cells.
 */
export interface IndicatorCell {
  level: string;
  tier: string;
  decisionMaker: boolean;
  /** Active servants in the roster (the denominator). */
  servants: number;
  /** Trained at the end of each requested month (the current month: now), by `YYYY-MM`. */
  trained: Record<string, number>;
  /** Trained on the baseline date (0 without a baseline). */
  baselineTrained: number;
}

export interface IndicatorTable {
  /** The "trained" rule in force: every required course of the tier satisfied, plus these. */
  rule: { minHours: number; validityYears: number };
  /** YYYY-MM-DD, when the programme set one. */
  baselineDate?: string;
  cells: IndicatorCell[];
}

export interface IndicatorSource {
  /**
   * One pass over today's roster: past months count today's servants by the date they became
   * trained (as the dashboard's estimated months do), the current month is live.
   */
  table(months: string[], now?: Date): Promise<IndicatorTable>;
}

declare module '../services' {
  interface Services {
    'reports.indicators': IndicatorSource;
  }
}
