/**
 * The cmi5 statement rules (§9, §7.1, §10.2.2) the LRS enforces for statements an AU sends with
 * its launch token. Pure: given the session as stored and a batch, it either returns the session
 * as it would be after the batch, or throws a 403 naming the rule (the whole batch is rejected).
 */
import { HttpError } from '../../../core/errors';
import type { XapiStatement } from '../../../core/contracts/lrs';
import { CATEGORY_CMI5, CATEGORY_MOVEON, EXT, VERB, VERB_NAMES, type LaunchMode, type VerbName } from './cmi5';

export interface RuleState {
  sessionId: string;
  registration: string;
  activityId: string;
  /** The AU's publisher id, which the contextTemplate puts in `grouping`. */
  auId: string;
  actor: Record<string, unknown>;
  launchMode: LaunchMode;
  masteryScore?: number;
  state: 'launched' | 'initialized' | 'terminated' | 'abandoned';
  /** cmi5 defined verbs already used in the session. */
  verbs: string[];
  /** The AU has read cmi5LearnerPreferences in this session (§11.0: on startup, before "initialized"). */
  preferencesRead: boolean;
  /** Per registration for this AU (§9.3 "within a registration"). */
  completed: boolean;
  passed: boolean;
  /**
   * Present when the LMS scores this AU (the library's assessments): the results of the session's
   * attempts it scored. A "passed"/"failed" must report one of them; without, cmi5's trust model holds.
   */
  scoredAttempts?: Array<{ passed: boolean; scaled: number; raw: number }>;
}

/** AUs may only send these cmi5 defined verbs; the others are the LMS's (§9.3). */
const AU_VERBS: ReadonlySet<VerbName> = new Set(['initialized', 'completed', 'passed', 'failed', 'terminated']);

/** UTC: `Z` or a zero offset (§9.7). */
const UTC = /(?:Z|[+-]00(?::?00)?)$/i;

const reject = (rule: string) => new HttpError(403, `cmi5: ${rule}`, { details: { spec: 'cmi5', rule } });

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const ids = (v: unknown): string[] =>
  Array.isArray(v) ? v.map((a) => asObj(a)?.id).filter((x): x is string => typeof x === 'string') : [];

function sameAgent(a: unknown, b: Obj): boolean {
  const x = asObj(a);
  const xa = asObj(x?.account);
  const ba = asObj(b.account)!;
  return !!x && (x.objectType === undefined || x.objectType === 'Agent') && !!xa && xa.homePage === ba.homePage && xa.name === ba.name;
}

export function checkBatch(initial: RuleState, statements: XapiStatement[]): RuleState {
  const s: RuleState = { ...initial, verbs: [...initial.verbs] };
  for (const [i, st] of statements.entries()) {
    const at = statements.length > 1 ? ` (statement ${i})` : '';
    const verbId = asObj(st.verb)?.id;
    if (verbId === VERB.voided) throw reject(`AUs may not void statements (§6.3)${at}`);
    if (s.state === 'terminated') throw reject(`the session has been terminated; no more statements are accepted (§9.3.8)${at}`);
    if (s.state === 'abandoned') throw reject(`the session was abandoned; no more statements are accepted (§9.3.6)${at}`);
    // §9.1 and §9.7 hold for every statement of the AU, cmi5 defined or allowed.
    if (typeof st.id !== 'string') throw reject(`every statement an AU sends must have an id (§9.1)${at}`);
    if (typeof st.timestamp !== 'string') throw reject(`every statement must have a timestamp (§9.7)${at}`);
    if (!UTC.test(st.timestamp)) throw reject(`timestamps must be recorded in UTC (§9.7), not ${st.timestamp}${at}`);
    if (!sameAgent(st.actor, s.actor)) throw reject(`actor must be the launch actor (§9.2)${at}`);
    const ctx = asObj(st.context);
    if (ctx?.registration !== s.registration) throw reject(`context.registration must be the launch registration (§9.6.1)${at}`);
    const sessionId = asObj(ctx?.extensions)?.[EXT.sessionId];
    if (sessionId !== s.sessionId) throw reject(`context extension sessionid must be this session's id (§9.6.3.1)${at}`);

    const ca = asObj(ctx?.contextActivities);
    const categories = ids(ca?.category);
    const defined = categories.includes(CATEGORY_CMI5);
    const name = typeof verbId === 'string' ? VERB_NAMES.get(verbId) : undefined;
    if (!defined) {
      if (categories.includes(CATEGORY_MOVEON))
        throw reject(`only cmi5 defined statements with success or completion may carry the moveOn category (§9.6.2.2)${at}`);
      // "cmi5 allowed" statements only between initialized and terminated (§7.1.3).
      if (s.state !== 'initialized') throw reject(`the first statement of a session must be "initialized" (§9.3.2)${at}`);
      continue;
    }
    if (!name || !AU_VERBS.has(name)) throw reject(`verb ${String(verbId)} is not a cmi5 defined verb an AU may send (§9.3)${at}`);
    if (asObj(st.object)?.id !== s.activityId) throw reject(`object.id must be the launch activityId (§9.4)${at}`);
    if (!ids(ca?.grouping).includes(s.auId))
      throw reject(`contextActivities.grouping must contain the AU's publisher id from the contextTemplate (§9.6.2.3)${at}`);
    if (s.state === 'launched' && name !== 'initialized')
      throw reject(`the first statement of a session must be "initialized" (§9.3.2)${at}`);
    if (s.verbs.includes(name)) throw reject(`"${name}" was already sent in this session (§9.3)${at}`);
    if (s.launchMode !== 'Normal' && name !== 'initialized' && name !== 'terminated') {
      throw reject(`in ${s.launchMode} mode an AU may only send "initialized" and "terminated" (§10.2.2)${at}`);
    }
    if (name === 'initialized' && !s.preferencesRead)
      throw reject(`the AU must read the cmi5LearnerPreferences agent profile before "initialized" (§11.0)${at}`);
    checkResult(name, asObj(st.result), categories, asObj(ctx?.extensions), s, at);
    if (name === 'completed' && s.completed) throw reject(`"completed" was already recorded in this registration (§9.3.3)${at}`);
    if (name === 'passed' && s.passed) throw reject(`"passed" was already recorded in this registration (§9.3.4)${at}`);
    if (name === 'failed' && s.passed) throw reject(`"failed" may not follow "passed" in a registration (§9.3)${at}`);
    if ((name === 'passed' || name === 'failed') && (s.verbs.includes('passed') || s.verbs.includes('failed'))) {
      throw reject(`only one of "passed" and "failed" may be sent in a session (§9.3)${at}`);
    }
    s.verbs.push(name);
    if (name === 'initialized') s.state = 'initialized';
    if (name === 'terminated') s.state = 'terminated';
    if (name === 'completed') s.completed = true;
    if (name === 'passed') s.passed = true;
  }
  return s;
}

function checkResult(
  name: VerbName,
  result: Obj | undefined,
  categories: string[],
  extensions: Obj | undefined,
  s: RuleState,
  at: string,
): void {
  const score = asObj(result?.score);
  if (score && name !== 'passed' && name !== 'failed') throw reject(`only "passed" and "failed" may carry a score (§9.5.1)${at}`);
  if (score?.raw !== undefined && (score.min === undefined || score.max === undefined))
    throw reject(`a score with "raw" must also give "min" and "max" (§9.5.1)${at}`);
  const success = result?.success;
  if (name === 'passed' && success !== true) throw reject(`"passed" must have result.success true (§9.5.2)${at}`);
  if (name === 'failed' && success !== false) throw reject(`"failed" must have result.success false (§9.5.2)${at}`);
  if (name !== 'passed' && name !== 'failed' && success !== undefined) throw reject(`"${name}" may not have result.success (§9.5.2)${at}`);
  const completion = result?.completion;
  if (name === 'completed' && completion !== true) throw reject(`"completed" must have result.completion true (§9.5.3)${at}`);
  if (name !== 'completed' && completion !== undefined) throw reject(`"${name}" may not have result.completion (§9.5.3)${at}`);
  if (['terminated', 'completed', 'passed', 'failed'].includes(name) && typeof result?.duration !== 'string') {
    throw reject(`"${name}" must have result.duration (§9.5.4)${at}`);
  }
  const needsMoveOn = success !== undefined || completion !== undefined;
  if (needsMoveOn !== categories.includes(CATEGORY_MOVEON)) {
    throw reject(`the moveOn category must be present exactly when result has success or completion (§9.6.2.2)${at}`);
  }
  const scaled = score?.scaled;
  if (scaled !== undefined && s.masteryScore !== undefined && typeof scaled === 'number') {
    if (name === 'passed' && scaled < s.masteryScore)
      throw reject(`"passed" with scaled score ${scaled} below the masteryScore ${s.masteryScore} (§9.3.4)${at}`);
    if (name === 'failed' && scaled >= s.masteryScore)
      throw reject(`"failed" with scaled score ${scaled} at or above the masteryScore ${s.masteryScore} (§9.3.5)${at}`);
  }
  if ((name === 'passed' || name === 'failed') && s.scoredAttempts) {
    const matches = s.scoredAttempts.some(
      (a) => a.passed === (name === 'passed') && a.scaled === scaled && (score?.raw === undefined || a.raw === score.raw),
    );
    if (!matches)
      throw reject(
        `this AU is scored by the LMS: "${name}" must report the score of an attempt the LMS scored in this session (scaled ${String(scaled)})${at}`,
      );
  }
  if (name === 'passed' || name === 'failed') {
    const given = extensions?.[EXT.masteryScore];
    const judged = typeof scaled === 'number' && s.masteryScore !== undefined;
    if ((judged || given !== undefined) && given !== s.masteryScore)
      throw reject(
        `"${name}" judged against the masteryScore must carry it (${s.masteryScore}) in the masteryscore extension (§9.6.3.2)${at}`,
      );
  }
}
