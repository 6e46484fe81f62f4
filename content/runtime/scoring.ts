/**
 * Scoring of an assessment AU. Bundled into the page (a static AU scores in the browser) and
 * imported by the tests, so what is tested is exactly what learners are scored with.
 */
export interface AnswerKey {
  masteryScore: number;
  /** Per question, in order: the indexes of the correct options. */
  questions: Array<{ id: string; correct: number[] }>;
}

export interface ScoreResult {
  raw: number;
  min: 0;
  max: number;
  scaled: number;
  passed: boolean;
  /** Per question id: answered exactly right (all correct options chosen, no wrong one). */
  perQuestion: Record<string, boolean>;
}

export function isRight(correct: number[], chosen: number[]): boolean {
  const c = new Set(correct);
  const s = new Set(chosen);
  return c.size === s.size && [...c].every((i) => s.has(i));
}

/** `answers[questionId]` = indexes of the chosen options. `masteryScore` from LMS.LaunchData wins over the built one. */
export function score(key: AnswerKey, answers: Record<string, number[]>, masteryScore = key.masteryScore): ScoreResult {
  const perQuestion: Record<string, boolean> = {};
  let raw = 0;
  for (const q of key.questions) {
    perQuestion[q.id] = isRight(q.correct, answers[q.id] ?? []);
    if (perQuestion[q.id]) raw++;
  }
  const max = key.questions.length;
  // Rounded so that e.g. 8/10 is exactly 0.8 and compares equal to a 0.8 mastery score.
  const scaled = max ? Math.round((raw / max) * 1e4) / 1e4 : 0;
  return { raw, min: 0, max, scaled, passed: scaled >= masteryScore, perQuestion };
}
