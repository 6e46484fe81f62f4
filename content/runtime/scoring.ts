/**
 * The protocol between an assessment page and the LMS that draws and scores its attempts,
 * shared by the page script (runtime.js) and the LMS (catalog plugin). The answer key never
 * crosses it: the page gets questions without it, and after answering only whether each question
 * was right and the feedback of the options the learner chose.
 */

/** Key of LMS.LaunchData holding the URL where the AU draws and scores attempts (only AUs the LMS scores). */
export const SCORING_EXTENSION = 'https://w3id.org/aprende-tic/launch-data/scoring';

/** Text in each language of the course. */
export type Texts = Record<string, string>;

/** `POST <scoring>/attempts` → the questions drawn for a new attempt, options in the order shown. */
export interface AttemptView {
  attempt: string;
  masteryScore: number;
  /** Question ids are positions (q1, q2 …) and option indexes are as shown: nothing ties them to the bank. */
  questions: Array<{ id: string; multiple: boolean; text: Texts; options: Array<{ text: Texts }> }>;
}

/** `POST <scoring>/attempts/<id>` with `{ answers: { q1: [0], q2: [1, 3] } }` → the LMS's verdict. */
export interface ScoredView {
  raw: number;
  min: 0;
  max: number;
  scaled: number;
  passed: boolean;
  /** Per question: right or not, the options chosen, and the feedback of each of them (same order). */
  questions: Record<string, { right: boolean; chosen: number[]; feedback: Texts[] }>;
}

// ---- drawing and scoring an attempt ------------------------------------------------------------
// One implementation for both scorers: the LMS (catalog plugin, with the bank it keeps) and the
// page itself in a SCORM 1.2 export (the bank travels in the package there: SCORM has no LMS scoring).

/** What a bank item holds (content/tools/item-bank.ts writes it). */
export interface ScoredItem {
  multiple: boolean;
  text: Texts;
  options: Array<{ correct: boolean; text: Texts; feedback: Texts }>;
}

/** A question of an attempt: which bank item, and its options in the order shown. */
export interface Drawn {
  item: number;
  options: number[];
}

/** A uniform integer in [0, n): cryptographic on both sides, so a draw cannot be predicted from earlier ones. */
export type RandomInt = (n: number) => number;

/** Fisher–Yates. */
function shuffled<T>(xs: readonly T[], randomInt: RandomInt): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** `ask` items of the bank in random order, each with its options shuffled. */
export function drawQuestions(items: readonly ScoredItem[], ask: number, randomInt: RandomInt): Drawn[] {
  return shuffled(
    items.map((_, i) => i),
    randomInt,
  )
    .slice(0, ask)
    .map((item) => ({
      item,
      options: shuffled(
        items[item].options.map((_, i) => i),
        randomInt,
      ),
    }));
}

/** The attempt as the page shows it: positions for ids, no key. */
export function questionsView(drawn: readonly Drawn[], items: readonly ScoredItem[]): AttemptView['questions'] {
  return drawn.map((d, qi) => ({
    id: `q${qi + 1}`,
    multiple: items[d.item].multiple,
    text: items[d.item].text,
    options: d.options.map((o) => ({ text: items[d.item].options[o].text })),
  }));
}

/** Right only when exactly the correct options were chosen. */
const isRight = (correct: number[], chosen: number[]) => correct.length === chosen.length && correct.every((i) => chosen.includes(i));

/** Scores valid answers (`{ q1: [shown option index, …] }`, every question answered). */
export function scoreAnswers(
  drawn: readonly Drawn[],
  items: readonly ScoredItem[],
  answers: Record<string, number[]>,
  masteryScore: number,
): ScoredView {
  const questions: ScoredView['questions'] = {};
  let raw = 0;
  drawn.forEach((d, qi) => {
    const id = `q${qi + 1}`;
    const item = items[d.item];
    const chosen = answers[id];
    const correct = d.options.flatMap((o, shown) => (item.options[o].correct ? [shown] : []));
    const right = isRight(correct, chosen);
    if (right) raw++;
    questions[id] = { right, chosen, feedback: chosen.map((shown): Texts => item.options[d.options[shown]].feedback) };
  });
  const max = drawn.length;
  // Rounded so that e.g. 8/10 is exactly 0.8 and compares equal to a 0.8 mastery score.
  const scaled = Math.round((raw / max) * 1e4) / 1e4;
  return { raw, min: 0, max, scaled, passed: scaled >= masteryScore, questions };
}
