/**
 * Rules about what an assessment teaches, beyond its format (course-schema.ts): an assessment a
 * learner can pass by a trick instead of by knowing the subject would make the certificate it
 * leads to meaningless. The editor's checklist in content/README.md covers what a program cannot
 * judge (plausible distractors, questions that test understanding).
 */
import type { Assessment } from './course-schema';

/**
 * Above this share of single-answer questions whose correct option is the (strictly) longest,
 * "pick the longest" becomes a strategy. 0.5 keeps that strategy far below any mastery score
 * while leaving writers free to make the right answer the fullest one now and then.
 */
export const MAX_LONGEST_CORRECT_SHARE = 0.5;

export interface AssessmentReport {
  /** single-answer questions */
  single: number;
  /** of them, those whose correct option is longer than every other option */
  longestCorrect: number;
  share: number;
  /** number of correct options of each "select all that apply" question, in order */
  multipleCorrect: number[];
}

const len = (s: string) => [...s.trim()].length;

type Question = Assessment['questions'][number];

function correctIsLongest(q: Question): boolean {
  const right = q.options.find((o) => o.correct)!;
  return q.options.every((o) => o === right || len(o.text) < len(right.text));
}

export function assessmentReport(a: Assessment): AssessmentReport {
  const singles = a.questions.filter((q) => !q.multiple);
  const longestCorrect = singles.filter(correctIsLongest).length;
  return {
    single: singles.length,
    longestCorrect,
    share: singles.length ? longestCorrect / singles.length : 0,
    multipleCorrect: a.questions.filter((q) => q.multiple).map((q) => q.options.filter((o) => o.correct).length),
  };
}

/** What breaks the rules, as "file: field: message" lines (empty when the assessment passes). */
export function assessmentProblems(file: string, a: Assessment): string[] {
  const r = assessmentReport(a);
  const out: string[] = [];
  if (r.share > MAX_LONGEST_CORRECT_SHARE) {
    const which = a.questions.filter((q) => !q.multiple && correctIsLongest(q)).map((q) => q.id);
    out.push(
      `${file}: questions: the correct option is the longest in ${r.longestCorrect} of ${r.single} single-answer questions ` +
        `(${Math.round(r.share * 100)} %, at most ${Math.round(MAX_LONGEST_CORRECT_SHARE * 100)} % allowed: ${which.join(', ')}); ` +
        'shorten the correct option or make a wrong one as complete',
    );
  }
  if (r.multipleCorrect.length >= 2 && new Set(r.multipleCorrect).size === 1) {
    out.push(
      `${file}: questions: every "select all that apply" question has exactly ${r.multipleCorrect[0]} correct options; ` +
        'vary the number so that it gives nothing away',
    );
  }
  a.questions.forEach((q, i) => {
    if (q.multiple && q.options.every((o) => o.correct))
      out.push(`${file}: questions.${i}.options: every option is correct, so selecting all of them always wins`);
  });
  return out;
}
