/**
 * The item bank of a course's assessment, as the LMS stores it: every question with its key and
 * feedback in each language. It is written beside the package (`build/banks/<slug>.json`), never
 * inside it, and the library installer hands it to the LMS, which draws and scores attempts.
 */
import { createHash } from 'node:crypto';
import { auIri } from './cmi5-xml';
import type { Lang } from './course-schema';
import type { CourseSource } from './load-course';

export type Texts = Record<string, string>;

export interface BankItem {
  /** The question's id in the sources (q1 …), for authors; learners never see it. */
  id: string;
  multiple: boolean;
  text: Texts;
  options: Array<{ correct: boolean; text: Texts; feedback: Texts }>;
}

export interface ItemBank {
  /** The assessment AU's publisher id (cmi5.xml) */
  auId: string;
  /** Questions asked per attempt */
  ask: number;
  masteryScore: number;
  languages: string[];
  items: BankItem[];
}

export function itemBank(src: CourseSource): ItemBank {
  const langs = src.meta.languages as Lang[];
  const per = (f: (l: Lang) => string): Texts => Object.fromEntries(langs.map((l) => [l, f(l)]));
  const es = src.assessments.es;
  return {
    auId: auIri(src.meta.id, 'assessment'),
    ask: es.ask,
    masteryScore: src.meta.masteryScore,
    languages: langs,
    items: es.questions.map((q, qi) => ({
      id: q.id,
      multiple: q.multiple,
      text: per((l) => src.assessments[l].questions[qi].text),
      options: q.options.map((o, oi) => ({
        correct: !!o.correct,
        text: per((l) => src.assessments[l].questions[qi].options[oi].text),
        feedback: per((l) => src.assessments[l].questions[qi].options[oi].feedback),
      })),
    })),
  };
}

/** What the package declares (cmi5.xml), so that a changed bank makes a new version of the course. */
export const bankDigest = (bank: ItemBank) => createHash('sha256').update(JSON.stringify(bank)).digest('hex');
