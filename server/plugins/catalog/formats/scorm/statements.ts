/**
 * A SCORM session's outcomes as xAPI statements following ADL's xAPI SCORM Profile (§3.2, §5):
 * the SCO as a `lesson` activity, the attempt and the course in `grouping`, the profile in
 * `category`, ADL verbs (initialized, resumed, completed, passed, failed, scored, responded,
 * suspended, terminated). Ids are derived from the session and commit, so a retried commit
 * re-sends the same statements and the LRS stores them once.
 */
import { createHash } from 'node:crypto';
import { XAPI_INTERACTION_TYPES, type XapiStatement } from '../../../../core/contracts/lrs';
import type { Interaction, Outcome } from './cmi';

export const SCORM_PROFILE = 'http://adlnet.gov/xapi/profile/scorm';
export const ACTIVITY_STATE = 'https://w3id.org/xapi/scorm/activity-state';
export const ATTEMPT_STATE = 'https://w3id.org/xapi/scorm/attempt-state';

const VERBS = {
  initialized: 'http://adlnet.gov/expapi/verbs/initialized',
  resumed: 'http://adlnet.gov/expapi/verbs/resumed',
  completed: 'http://adlnet.gov/expapi/verbs/completed',
  passed: 'http://adlnet.gov/expapi/verbs/passed',
  failed: 'http://adlnet.gov/expapi/verbs/failed',
  scored: 'http://adlnet.gov/expapi/verbs/scored',
  responded: 'http://adlnet.gov/expapi/verbs/responded',
  suspended: 'http://adlnet.gov/expapi/verbs/suspended',
  terminated: 'http://adlnet.gov/expapi/verbs/terminated',
} as const;
export type ScormVerb = keyof typeof VERBS;
export const SCORM_VERB_IDS = VERBS;

const TYPES = {
  lesson: 'http://adlnet.gov/expapi/activities/lesson',
  course: 'http://adlnet.gov/expapi/activities/course',
  attempt: 'http://adlnet.gov/expapi/activities/attempt',
  interaction: 'http://adlnet.gov/expapi/activities/cmi.interaction',
} as const;

/** SCORM's interaction types are xAPI's interactionType words ("fill-in" and friends). */
const INTERACTION_TYPES = new Set(XAPI_INTERACTION_TYPES);

export interface StatementContext {
  actor: Record<string, unknown>;
  registration: string;
  sessionId: string;
  scoActivityId: string;
  scoTitle: string;
  attemptIri: string;
  courseActivityId: string;
  /** When the SCO did it (the commit's time), so a retry builds the identical statement. */
  at: string;
}

/** A UUID (version 5 layout) from a name: the same session, commit and statement kind give the same id. */
export function statementId(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\n')).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function base(c: StatementContext, verb: ScormVerb, key: string, extra: { result?: Record<string, unknown>; parent?: boolean } = {}) {
  return {
    id: statementId(c.sessionId, key, verb),
    actor: c.actor,
    verb: { id: VERBS[verb], display: { 'en-US': verb } },
    object: {
      objectType: 'Activity',
      id: c.scoActivityId,
      definition: { type: TYPES.lesson, name: { und: c.scoTitle || c.scoActivityId } },
    },
    ...(extra.result ? { result: extra.result } : {}),
    context: {
      registration: c.registration,
      contextActivities: {
        grouping: [
          { objectType: 'Activity', id: c.attemptIri, definition: { type: TYPES.attempt } },
          { objectType: 'Activity', id: c.courseActivityId, definition: { type: TYPES.course } },
        ],
        category: [{ objectType: 'Activity', id: SCORM_PROFILE }],
      },
    },
    timestamp: c.at,
  } satisfies XapiStatement;
}

export const scoreOf = (o: Outcome) =>
  o.scaled === undefined
    ? undefined
    : {
        scaled: o.scaled,
        ...(o.raw !== undefined && o.min !== undefined && o.max !== undefined && o.min <= o.raw && o.raw <= o.max
          ? { raw: o.raw, min: o.min, max: o.max }
          : {}),
      };

export const duration = (seconds: number | undefined) => `PT${Math.max(0, Math.round((seconds ?? 0) * 100) / 100)}S`;

export const initializedStatement = (c: StatementContext, key: string) => base(c, 'initialized', key);
export const resumedStatement = (c: StatementContext, key: string) => base(c, 'resumed', key);

export function outcomeStatements(
  c: StatementContext,
  key: string,
  before: { completed?: boolean; success?: string; scoreKey?: string },
  o: Outcome,
): XapiStatement[] {
  const out: XapiStatement[] = [];
  const score = scoreOf(o);
  if (o.completed && !before.completed) out.push(base(c, 'completed', key, { result: { completion: true } }));
  if (o.success && o.success !== before.success)
    out.push(base(c, o.success, key, { result: { success: o.success === 'passed', ...(score ? { score } : {}) } }));
  else if (score && JSON.stringify(score) !== before.scoreKey) out.push(base(c, 'scored', key, { result: { score } }));
  return out;
}

export function respondedStatement(c: StatementContext, key: string, index: number, i: Interaction): XapiStatement {
  const s = base(c, 'responded', `${key}#${index}`, {
    result: {
      ...(i.response !== undefined ? { response: i.response } : {}),
      ...(i.result === 'correct' ? { success: true } : i.result === 'incorrect' || i.result === 'wrong' ? { success: false } : {}),
    },
  });
  const type = i.type && INTERACTION_TYPES.has(i.type) ? i.type : 'other';
  return {
    ...s,
    object: {
      objectType: 'Activity',
      id: `${c.scoActivityId}/interactions/${encodeURIComponent(i.id)}`,
      definition: { type: TYPES.interaction, interactionType: type, name: { und: i.id } },
    },
    context: {
      ...s.context,
      contextActivities: { ...s.context.contextActivities, parent: [{ objectType: 'Activity', id: c.scoActivityId }] },
    },
  };
}

export function endStatements(c: StatementContext, key: string, o: Outcome): XapiStatement[] {
  const result = { duration: duration(o.sessionSeconds) };
  return [...(o.exit === 'suspend' ? [base(c, 'suspended', key, { result })] : []), base(c, 'terminated', key, { result })];
}
