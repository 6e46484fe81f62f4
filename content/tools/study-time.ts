/**
 * Study time derived from the text, so that the hours a course claims (and its certificates
 * print) follow one stated method instead of a writer's guess:
 *
 *   lesson minutes     = words of the lesson (title, objectives, body) / READING_WPM
 *   assessment minutes = words of one attempt (intro, and the questions asked with their options
 *                        and feedback, at the bank's average length) / READING_WPM
 *                        + MINUTES_PER_QUESTION for each question asked (deciding and answering)
 *   course hours       = (lesson minutes + assessment minutes) of the Spanish version, rounded up
 *                        to the next quarter of an hour
 *
 * READING_WPM is a study-reading rate, below the 175–300 words per minute range in which most
 * adults read non-fiction silently (mean 238; Brysbaert, M. (2019), "How many words do we read per
 * minute? A review and meta-analysis of reading rate", Journal of Memory and Language 109, 104047),
 * because these lessons are read to learn and apply: tables, cases and checklists are read more
 * slowly than running text, and many learners read them on a phone.
 */
import type { Assessment, LessonFrontMatter } from './course-schema';

export const READING_WPM = 150;
export const MINUTES_PER_QUESTION = 1;

/** Words as a reader sees them: letters and digits, Markdown punctuation (|, #, *, >) left out. */
export function countWords(text: string): number {
  return (text.match(/[\p{L}\p{N}]+(?:['’.,-][\p{L}\p{N}]+)*/gu) ?? []).length;
}

export function lessonWords(meta: LessonFrontMatter, markdown: string): number {
  return countWords([meta.title, ...meta.objectives, markdown].join('\n'));
}

/**
 * Words a learner reads in one attempt: the title and intro, and the questions asked — the
 * average question of the bank times the number asked (each attempt draws `ask` of them).
 */
export function assessmentWords(a: Assessment): number {
  const questions = a.questions.reduce((s, q) => s + countWords([q.text, ...q.options.flatMap((o) => [o.text, o.feedback])].join('\n')), 0);
  return countWords([a.title, a.intro].join('\n')) + Math.round((questions * a.ask) / a.questions.length);
}

export const readingMinutes = (words: number) => Math.max(1, Math.ceil(words / READING_WPM));

export const assessmentMinutes = (a: Assessment) => readingMinutes(assessmentWords(a)) + a.ask * MINUTES_PER_QUESTION;

export interface StudyTime {
  lessonMinutes: number[];
  assessmentMinutes: number;
  words: number;
  hours: number;
}

export function studyTime(lessons: Array<{ meta: LessonFrontMatter; markdown: string }>, assessment: Assessment): StudyTime {
  const lessonMinutes = lessons.map((l) => readingMinutes(lessonWords(l.meta, l.markdown)));
  const am = assessmentMinutes(assessment);
  const total = lessonMinutes.reduce((s, m) => s + m, 0) + am;
  return {
    lessonMinutes,
    assessmentMinutes: am,
    words: lessons.reduce((s, l) => s + lessonWords(l.meta, l.markdown), 0) + assessmentWords(assessment),
    hours: Math.ceil(total / 15) / 4,
  };
}
