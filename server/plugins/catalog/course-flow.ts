/**
 * Where a learner stands in a course, as the course page says it: each activity's place in its
 * module ("2 of 3"), whether a module is done, under way or not started, and — back from an
 * activity — how it went and which one comes next.
 */
import type { AuProgress } from './progress/progress.model';
import { allAus, type AuNode, type CourseNode } from './paths/course-reader';

export type BlockState = 'done' | 'open' | 'notStarted';

/** An AU's place among the activities of its module (or of the course when it is not in one). */
export function auPositions(nodes: CourseNode[]): Map<string, { n: number; total: number }> {
  const out = new Map<string, { n: number; total: number }>();
  const walk = (ns: CourseNode[]) => {
    const aus = ns.filter((n): n is AuNode => n.type === 'au');
    aus.forEach((a, i) => out.set(a.id, { n: i + 1, total: aus.length }));
    for (const n of ns) if (n.type === 'block') walk(n.children);
  };
  walk(nodes);
  return out;
}

/** Something happened in this AU: launched once, or a result (a waiver counts too). */
const touched = (a: AuProgress | undefined) =>
  !!a && (!!a.lastLaunchedAt || !!a.attempted || a.completed || a.passed || a.failed || a.waived || a.satisfied);

/** Done when cmi5 satisfied it; under way once any of its AUs was opened; else not started. */
export function blockStates(nodes: CourseNode[], auState: Map<string, AuProgress>, satisfiedBlocks: Set<string>): Map<string, BlockState> {
  const out = new Map<string, BlockState>();
  const walk = (ns: CourseNode[]) => {
    for (const n of ns) {
      if (n.type !== 'block') continue;
      out.set(
        n.id,
        satisfiedBlocks.has(n.id) ? 'done' : allAus(n.children).some((a) => touched(auState.get(a.id))) ? 'open' : 'notStarted',
      );
      walk(n.children);
    }
  };
  walk(nodes);
  return out;
}

/** What the person did in an AU, for the message on their return: done is its moveOn met. */
export function auOutcome(a: AuProgress | undefined): 'done' | 'failed' | 'notDone' {
  if (a && (a.satisfied || a.waived)) return 'done';
  if (a?.failed) return 'failed';
  return 'notDone';
}

/**
 * Back from AU `fromId`: that AU and the next one to do — the first after it in course order
 * not yet satisfied, else the first such before it. `undefined` when `fromId` is not in the course.
 */
export function returnedFrom(
  nodes: CourseNode[],
  auState: Map<string, AuProgress>,
  fromId: string,
): { au: AuNode; outcome: ReturnType<typeof auOutcome>; next?: AuNode } | undefined {
  const aus = allAus(nodes);
  const i = aus.findIndex((a) => a.id === fromId);
  if (i < 0) return undefined;
  const open = (a: AuNode) => a.id !== fromId && !auState.get(a.id)?.satisfied && !auState.get(a.id)?.waived;
  const outcome = auOutcome(auState.get(fromId));
  // Not done yet: the same AU is what comes next, so no other is offered.
  const next = outcome === 'done' ? (aus.slice(i + 1).find(open) ?? aus.slice(0, i).find(open)) : undefined;
  return { au: aus[i], outcome, next };
}
