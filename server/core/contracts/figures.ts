/**
 * What the `reports` plugin offers for summaries sent to people (the notifications plugin's HR
 * digest): the dashboard's headline figures for one scope, read from its summary document.
 */
export interface TrainingFigures {
  scope: { code: string; name: string };
  total: number;
  trained: number;
  share: number | null;
  target: { share: number; needed: number; gap: number; met: boolean };
}

export interface FiguresSource {
  /** `'*'` is the whole country (the national programme's scope), otherwise an org unit's subtree. */
  of(scope: string): Promise<TrainingFigures>;
}

declare module '../services' {
  interface Services {
    'reports.figures': FiguresSource;
  }
}
