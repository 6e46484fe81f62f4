/**
 * Prerequisites of a unit: a boolean expression over other units and modules of the same course
 * (from SCORM 1.2 `adlcp:prerequisites`, and the SCORM 2004 sequencing rules that say the same).
 * A unit whose prerequisites are not met is shown on the course page with the reason, in the
 * reader's language, and cannot be launched. A unit or module counts as done once its moveOn is
 * met (satisfied) or it is waived: what the course page shows as done.
 */
import type { TFunction } from 'i18next';
import { HttpError } from '../../core/errors';
import { english } from '../../core/i18n';
import type { LangMap, Prerequisite, StructureNode } from './course.model';
import { pick } from './paths/course-reader';
import type { AuProgress } from './progress/progress.model';

export type { Prerequisite };

/** What a learner has done in the course, as the course page and the launch read it. */
export interface DoneState {
  aus: Pick<AuProgress, 'auId' | 'satisfied' | 'waived'>[];
  satisfiedBlocks: string[];
}

export function isMet(p: Prerequisite, done: (id: string) => boolean): boolean {
  if ('item' in p) return done(p.item);
  if ('not' in p) return !isMet(p.not, done);
  if ('all' in p) return p.all.every((q) => isMet(q, done));
  return p.any.some((q) => isMet(q, done));
}

/**
 * The ids that must be done for the expression to hold, whichever way it is met: every part of an
 * "and", what all parts of an "or" share, nothing under a "not". Units that need each other this
 * way can never open (a circle the import refuses); "~A" or "A | B" cannot close a unit for ever.
 */
export function requiredIds(p: Prerequisite): Set<string> {
  if ('item' in p) return new Set([p.item]);
  if ('not' in p) return new Set();
  const parts = ('all' in p ? p.all : p.any).map(requiredIds);
  if ('all' in p) return new Set(parts.flatMap((x) => [...x]));
  return parts.reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
}

/** done(id) of a learner's progress (no progress: nothing is done). */
export function doneOf(state: DoneState | null | undefined): (id: string) => boolean {
  const aus = new Map((state?.aus ?? []).map((a) => [a.auId, a]));
  const blocks = new Set(state?.satisfiedBlocks ?? []);
  return (id) => blocks.has(id) || !!aus.get(id)?.satisfied || !!aus.get(id)?.waived;
}

/** Titles of the course's units and modules by id, for the reason. */
export function titlesOf(nodes: StructureNode[], out = new Map<string, LangMap>()): Map<string, LangMap> {
  for (const n of nodes) {
    out.set(n.id, n.title);
    if (n.type === 'block') titlesOf(n.children, out);
  }
  return out;
}

/**
 * The expression as a sentence in the reader's language: "it opens when you have completed “A”
 * and (“B” or not “C”)". Nested groups of the other operator get parentheses.
 */
export function explainPrerequisite(t: TFunction, p: Prerequisite, title: (id: string) => string): string {
  const say = (q: Prerequisite, top: boolean): string => {
    if ('item' in q) return t('catalog:prerequisites.item', { title: title(q.item) }) as string;
    if ('not' in q)
      return 'item' in q.not
        ? (t('catalog:prerequisites.notItem', { title: title(q.not.item) }) as string)
        : (t('catalog:prerequisites.not', { expr: say(q.not, false) }) as string);
    const parts = ('all' in q ? q.all : q.any).map((x) => say(x, false));
    const joined = parts.join(` ${t(`catalog:prerequisites.${'all' in q ? 'and' : 'or'}`) as string} `);
    return top || parts.length < 2 ? joined : `(${joined})`;
  };
  return t('catalog:prerequisites.locked', { expr: say(p, true) }) as string;
}

/** A title in a language, for the reason: the unit's own, else its id. */
export const titleIn = (titles: Map<string, LangMap>, lang: string) => (id: string) => pick(titles.get(id), lang) || id;

/** The English of the reason, for API clients and logs. */
const englishT = ((key: string, params?: Record<string, unknown>) => english(key, params)) as TFunction;

/**
 * A launch refused because the unit's prerequisites are not met (409: the learner's progress, not
 * the request, stands in the way). Says itself in the page's language, as a PackageError does.
 */
export class PrerequisitesError extends HttpError {
  constructor(
    private readonly prerequisite: Prerequisite,
    private readonly titles: Map<string, LangMap>,
  ) {
    super(409, explainPrerequisite(englishT, prerequisite, titleIn(titles, 'en')), { details: { prerequisites: prerequisite } });
    this.name = 'PrerequisitesError';
  }

  explain(t: TFunction): { reason: string; details: string[] } {
    return {
      reason: explainPrerequisite(t, this.prerequisite, titleIn(this.titles, (t as TFunction & { lng?: string }).lng ?? 'es')),
      details: [],
    };
  }
}
