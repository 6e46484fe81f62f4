/**
 * moveOn evaluation (cmi5 §9.3.9, §13.1.4): an AU is satisfied by its moveOn criterion or a waiver,
 * a block when all its children are, the course when all its top-level children are.
 */
import type { AuNode, CourseNode, MoveOn } from '../paths/course-reader';

export interface AuFlags {
  completed?: boolean;
  passed?: boolean;
  waived?: boolean;
}

export function auMeetsMoveOn(moveOn: MoveOn, f: AuFlags): boolean {
  if (f.waived) return true;
  switch (moveOn) {
    case 'NotApplicable':
      return true;
    case 'Completed':
      return !!f.completed;
    case 'Passed':
      return !!f.passed;
    case 'CompletedAndPassed':
      return !!f.completed && !!f.passed;
    case 'CompletedOrPassed':
      return !!f.completed || !!f.passed;
  }
}

export interface Satisfaction {
  aus: Set<string>;
  blocks: Set<string>;
  course: boolean;
}

/** Which AUs and blocks (publisher ids) meet their moveOn, and whether the course does. */
export function evaluate(structure: CourseNode[], flagsOf: (au: AuNode) => AuFlags): Satisfaction {
  const aus = new Set<string>();
  const blocks = new Set<string>();
  const walk = (n: CourseNode): boolean => {
    if (n.type === 'au') {
      const ok = auMeetsMoveOn(n.moveOn, flagsOf(n));
      if (ok) aus.add(n.id);
      return ok;
    }
    // Every child is visited (no short-circuit) so nested blocks are evaluated too.
    const results = n.children.map(walk);
    const ok = results.every(Boolean);
    if (ok) blocks.add(n.id);
    return ok;
  };
  const top = structure.map(walk);
  return { aus, blocks, course: top.length > 0 && top.every(Boolean) };
}

/** Publisher ids of the blocks in a structure, outermost last (the order satisfied statements go out). */
export function blockIds(structure: CourseNode[]): string[] {
  const out: string[] = [];
  const walk = (ns: CourseNode[]) => {
    for (const n of ns) {
      if (n.type === 'block') {
        walk(n.children);
        out.push(n.id);
      }
    }
  };
  walk(structure);
  return out;
}
