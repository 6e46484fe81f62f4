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
