/**
 * Prerequisites of SCORM items, read into the catalog's own expressions (../../prerequisites.ts):
 *  - SCORM 1.2 `adlcp:prerequisites` (type aicc_script): the simple subset of the AICC script —
 *    item identifiers combined with `&` (and), `|` (or), `~` (not) and parentheses; `&` binds
 *    tighter than `|`, as Moodle and SCORM Cloud read it. Comparisons (`=`, `<>`) and sets
 *    (`n*{…}`) are refused, naming the rule: a prerequisite this server cannot enforce is not
 *    silently opened.
 *  - SCORM 2004 sequencing where it says the same: a `preConditionRule` whose action is
 *    `disabled` and whose conditions test, through an objective's `mapInfo`, whether the global
 *    objective another item writes is satisfied. Other sequencing is not run (as before), so a
 *    rule that does not map is left out rather than guessed.
 */
import type { Prerequisite } from '../../course.model';
import type { XmlElement } from '../../package/xml-tree';

export const PREREQ_RULE_12 = 'SCORM 1.2 CAM §2.3.2.5.2 (adlcp:prerequisites)';
export const PREREQ_RULE_2004 = 'SCORM 2004 SN §3.2 (imsss:preConditionRule)';

/** A long script is a mistake or an attack: real ones name a handful of items. */
export const MAX_SCRIPT = 2000;
const MAX_NESTING = 32;

export type ScriptProblem =
  | { key: 'scorm.prereqSyntax'; params: { value: string; pos: number } }
  | { key: 'scorm.prereqUnsupported'; params: { value: string; op: string } }
  | { key: 'scorm.prereqUnknown'; params: { value: string; id: string } }
  | { key: 'scorm.prereqTooLong'; params: { max: number } };

/**
 * Parses an AICC script of the simple subset; `resolve` turns an item identifier into a course
 * node id (undefined: no such item). Throws the first problem.
 */
export function parseAiccScript(script: string, resolve: (identifier: string) => string | undefined): Prerequisite {
  const value = script.trim();
  if (value.length > MAX_SCRIPT) throw { key: 'scorm.prereqTooLong', params: { max: MAX_SCRIPT } } satisfies ScriptProblem;
  let i = 0;
  const fail = (p: ScriptProblem): never => {
    throw p;
  };
  const skip = () => {
    while (i < value.length && /\s/.test(value[i])) i++;
  };
  const peek = () => (skip(), value[i]);
  const unsupported = () => {
    const m = /^(<>|[=*{},])/.exec(value.slice(i));
    if (m) fail({ key: 'scorm.prereqUnsupported', params: { value, op: m[1] } });
  };
  const or = (depth: number): Prerequisite => {
    const parts = [and(depth)];
    while (peek() === '|') {
      i++;
      parts.push(and(depth));
    }
    return parts.length === 1 ? parts[0] : { any: parts };
  };
  const and = (depth: number): Prerequisite => {
    const parts = [unary(depth)];
    while (peek() === '&') {
      i++;
      parts.push(unary(depth));
    }
    return parts.length === 1 ? parts[0] : { all: parts };
  };
  const unary = (depth: number): Prerequisite => {
    if (depth > MAX_NESTING) fail({ key: 'scorm.prereqSyntax', params: { value, pos: i + 1 } });
    const c = peek();
    if (c === '~') {
      i++;
      return { not: unary(depth + 1) };
    }
    if (c === '(') {
      i++;
      const inner = or(depth + 1);
      if (peek() !== ')') {
        unsupported();
        fail({ key: 'scorm.prereqSyntax', params: { value, pos: i + 1 } });
      }
      i++;
      return inner;
    }
    const m = /^[A-Za-z_][\w.-]*/.exec(value.slice(i));
    if (!m) {
      unsupported();
      return fail({ key: 'scorm.prereqSyntax', params: { value, pos: i + 1 } });
    }
    i += m[0].length;
    const id = resolve(m[0]);
    if (!id) fail({ key: 'scorm.prereqUnknown', params: { value, id: m[0] } });
    return { item: id! };
  };
  const expr = or(0);
  if (peek() !== undefined) {
    unsupported();
    fail({ key: 'scorm.prereqSyntax', params: { value, pos: i + 1 } });
  }
  return expr;
}

const IMSSS = 'http://www.imsglobal.org/xsd/imsss';
const kids = (el: XmlElement | undefined, name: string) => (el?.children ?? []).filter((c) => c.ns === IMSSS && c.name === name);
const kid = (el: XmlElement | undefined, name: string) => kids(el, name)[0];
const attr = (el: XmlElement, name: string, dflt = '') => (el.attrs[name] ?? dflt).trim();

/** An item's objectives (primary and others): objectiveID → its mapInfo elements. */
function objectivesOf(item: XmlElement): Map<string, XmlElement[]> {
  const objectives = kid(kid(item, 'sequencing'), 'objectives');
  const out = new Map<string, XmlElement[]>();
  for (const o of [...kids(objectives, 'primaryObjective'), ...kids(objectives, 'objective')]) {
    const id = attr(o, 'objectiveID');
    if (id) out.set(id, kids(o, 'mapInfo'));
  }
  return out;
}

/**
 * SCORM 2004: each item's prerequisites from its `disabled` pre-condition rules, where every
 * condition reads whether another item's objective is satisfied (through the global objective
 * that item writes). `items` are the organization's items with the course node each names.
 */
export function sequencingPrerequisites(items: Array<{ el: XmlElement; nodeId: string }>): Map<XmlElement, Prerequisite> {
  // Which item writes each global objective's satisfaction (more than one writer: ambiguous, not mapped).
  const writers = new Map<string, string | null>();
  for (const { el, nodeId } of items)
    for (const maps of objectivesOf(el).values())
      for (const m of maps) {
        const target = attr(m, 'targetObjectiveID');
        if (!target || attr(m, 'writeSatisfiedStatus', 'false') !== 'true') continue;
        writers.set(target, writers.has(target) && writers.get(target) !== nodeId ? null : nodeId);
      }
  const out = new Map<XmlElement, Prerequisite>();
  for (const { el, nodeId } of items) {
    const objectives = objectivesOf(el);
    /** The other item whose satisfaction an objective of this item reads. */
    const readsFrom = (objectiveId: string): string | undefined => {
      for (const m of objectives.get(objectiveId) ?? []) {
        if (attr(m, 'readSatisfiedStatus', 'true') !== 'true') continue;
        const writer = writers.get(attr(m, 'targetObjectiveID'));
        if (writer && writer !== nodeId) return writer;
      }
      return undefined;
    };
    const rules: Prerequisite[] = [];
    for (const rule of kids(kid(kid(el, 'sequencing'), 'sequencingRules'), 'preConditionRule')) {
      if (attr(kid(rule, 'ruleAction') ?? rule, 'action') !== 'disabled') continue;
      const conditionsEl = kid(rule, 'ruleConditions');
      const combination = attr(conditionsEl ?? rule, 'conditionCombination', 'all');
      let conditions = kids(conditionsEl, 'ruleCondition').map((c) => ({
        condition: attr(c, 'condition'),
        not: attr(c, 'operator', 'noOp') === 'not',
        objective: attr(c, 'referencedObjective'),
      }));
      // "not satisfied X or not known X" is "not satisfied X" (a satisfied objective is known): the golf samples' form.
      if (combination === 'any')
        conditions = conditions.filter(
          (c) =>
            !(c.condition === 'objectiveStatusKnown' && c.not) ||
            !conditions.some((d) => d.condition === 'satisfied' && d.not && d.objective === c.objective),
        );
      const mapped = conditions.map((c) => {
        const from = c.condition === 'satisfied' && c.objective ? readsFrom(c.objective) : undefined;
        // The rule disables when the condition holds; the item opens when it does not.
        return from && (c.not ? { item: from } : { not: { item: from } });
      });
      if (!mapped.length || mapped.some((m) => !m)) continue;
      const opens = mapped as Prerequisite[];
      // Disabled when all (any) conditions hold: open when any (all) of them does not.
      rules.push(opens.length === 1 ? opens[0] : combination === 'any' ? { all: opens } : { any: opens });
    }
    if (rules.length) out.set(el, rules.length === 1 ? rules[0] : { all: rules });
  }
  return out;
}
