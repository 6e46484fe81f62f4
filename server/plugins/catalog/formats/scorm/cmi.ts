/**
 * The SCORM run-time data model (RTE 1.2 `cmi.core.*`, 2004 `cmi.*`) as the LMS reads it from a
 * SCO's commits: its outcome (completion, success, score, time, exit), judged with the package's
 * mastery score and completion threshold as the LMS must (SCORM 1.2 RTE §3.4.4, 2004 RTE §4.2),
 * and the data the next session of a suspended attempt starts from.
 */
import { durationSeconds } from '../../launch/cmi5';

export type ScormRuntimeVersion = '1.2' | '2004';
type Obj = Record<string, unknown>;

export interface Outcome {
  completed: boolean;
  success?: 'passed' | 'failed';
  /** Scaled 0..1. */
  scaled?: number;
  raw?: number;
  min?: number;
  max?: number;
  exit: string;
  sessionSeconds?: number;
  interactions: Interaction[];
}

export interface Interaction {
  id: string;
  type?: string;
  response?: string;
  result?: string;
}

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const num = (v: unknown): number | undefined => {
  const s = str(v).trim();
  if (!s) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};
/** scorm-again renders lists as arrays, or as objects keyed "0", "1", … */
const list = (v: unknown): Obj[] =>
  Array.isArray(v)
    ? v.map(obj)
    : Object.values(obj(v))
        .filter((x) => typeof x === 'object')
        .map(obj);

/** SCORM 1.2 CMITimespan `HHHH:MM:SS.SS` in seconds. */
export function timespanSeconds(v: string): number | undefined {
  const m = /^(\d{2,4}):([0-5]\d):([0-5]\d)(\.\d{1,2})?$/.exec(v.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4] ?? 0) : undefined;
}

export function timespan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds * 100) / 100);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = (s % 60).toFixed(2).padStart(5, '0');
  return `${String(h).padStart(4, '0')}:${String(m).padStart(2, '0')}:${rest}`;
}

/** The `cmi` object of a commit, whether or not scorm-again wrapped it in `{ cmi: … }`. */
export function cmiOf(body: unknown): Obj {
  const b = obj(body);
  return b.cmi && typeof b.cmi === 'object' ? obj(b.cmi) : b;
}

export function outcomeOf(
  version: ScormRuntimeVersion,
  cmi: Obj,
  rules: {
    masteryScore?: number;
    completionThreshold?: number;
    /** SCORM 2004 delivery controls (default false). */
    completionSetByContent?: boolean;
    objectiveSetByContent?: boolean;
    finished?: boolean;
    normal?: boolean;
  },
): Outcome {
  const interactions = list(cmi.interactions)
    .map((i) => ({
      id: str(i.id),
      type: str(i.type) || undefined,
      response: str(version === '1.2' ? i.student_response : i.learner_response) || undefined,
      result: str(i.result) || undefined,
    }))
    .filter((i) => i.id);
  if (version === '1.2') {
    const core = obj(cmi.core);
    const score = obj(core.score);
    const raw = num(score.raw);
    const min = num(score.min);
    const max = num(score.max);
    let status = str(core.lesson_status);
    // RTE 1.2 §3.4.4 (cmi.core.lesson_status): a SCO that finishes a credit session without ever
    // setting a status is completed by the LMS (the golf "minimum calls" packages rely on it).
    if (rules.finished && rules.normal && (status === '' || status === 'not attempted')) status = 'completed';
    // RTE 1.2 §3.4.4: with a mastery score, the LMS judges a reported raw score against it.
    if (rules.masteryScore !== undefined && raw !== undefined && status !== 'not attempted' && status !== 'browsed' && status !== '')
      status = raw >= rules.masteryScore * 100 ? 'passed' : 'failed';
    const scaled =
      raw === undefined ? undefined : max !== undefined && min !== undefined && max > min ? (raw - min) / (max - min) : raw / 100;
    return {
      // SCORM 1.2 has one status for both: "failed" says the learner finished and did not pass (SCORM Cloud reads it so).
      completed: status === 'completed' || status === 'passed' || status === 'failed',
      success: status === 'passed' || status === 'failed' ? status : undefined,
      ...(scaled !== undefined ? { scaled: clamp01(scaled), raw, min, max } : {}),
      exit: str(core.exit),
      sessionSeconds: timespanSeconds(str(core.session_time)),
      interactions,
    };
  }
  const score = obj(cmi.score);
  const scaled = num(score.scaled);
  let completion = str(cmi.completion_status);
  const progress = num(cmi.progress_measure);
  // RTE 2004 §4.2.4.1 / §4.2.22.1: threshold and passing score decide when the package sets them.
  if (rules.completionThreshold !== undefined && progress !== undefined)
    completion = progress >= rules.completionThreshold ? 'completed' : 'incomplete';
  let success = str(cmi.success_status);
  if (rules.masteryScore !== undefined && scaled !== undefined) success = scaled >= rules.masteryScore ? 'passed' : 'failed';
  // SN End Attempt Process (UP.4), delivery controls false by default: an attempt of a credit
  // session that ends (not suspended) with completion (or success) "unknown" — the SCO never
  // said — is completed (its primary objective satisfied) by the LMS. The golf "minimum calls"
  // SCOs only call Initialize and Terminate. An objective satisfied by measure needs a measure.
  if (rules.finished && rules.normal && str(cmi.exit) !== 'suspend') {
    if (!rules.completionSetByContent && (completion === 'unknown' || completion === '')) completion = 'completed';
    if (!rules.objectiveSetByContent && rules.masteryScore === undefined && (success === 'unknown' || success === '')) success = 'passed';
  }
  return {
    completed: completion === 'completed',
    success: success === 'passed' || success === 'failed' ? success : undefined,
    ...(scaled !== undefined ? { scaled: clamp01(scaled), raw: num(score.raw), min: num(score.min), max: num(score.max) } : {}),
    exit: str(cmi.exit),
    sessionSeconds: durationSeconds(str(cmi.session_time)),
    interactions,
  };
}

const clamp01 = (n: number) => Math.min(1, Math.max(0, Math.round(n * 10000) / 10000));

/**
 * What a resumed attempt's SCO reads again (RTE: the LMS keeps the attempt's data): only elements
 * the SCO may have set and may read, so that loading them into the API cannot fail on a
 * read-only or write-only element.
 */
export function resumeData(version: ScormRuntimeVersion, cmi: Obj): Obj {
  const pick = (o: Obj, keys: string[]) => Object.fromEntries(keys.filter((k) => str(o[k]) !== '').map((k) => [k, str(o[k])]));
  if (version === '1.2') {
    const core = obj(cmi.core);
    return {
      core: { ...pick(core, ['lesson_location', 'lesson_status']), score: pick(obj(core.score), ['raw', 'min', 'max']) },
      ...pick(cmi, ['suspend_data', 'comments']),
      student_preference: pick(obj(cmi.student_preference), ['audio', 'language', 'speed', 'text']),
    };
  }
  return {
    ...pick(cmi, ['location', 'completion_status', 'success_status', 'progress_measure', 'suspend_data']),
    score: pick(obj(cmi.score), ['scaled', 'raw', 'min', 'max']),
    learner_preference: pick(obj(cmi.learner_preference), ['audio_level', 'language', 'delivery_speed', 'audio_captioning']),
  };
}

/** The LMS-set elements a session starts with (read-only to the SCO). */
export function launchData(
  version: ScormRuntimeVersion,
  d: {
    learnerId: string;
    learnerName: string;
    mode: 'normal' | 'browse' | 'review';
    entry: 'ab-initio' | 'resume' | '';
    totalSeconds: number;
    launchData?: string;
    masteryScore?: number;
    completionThreshold?: number;
  },
): Obj {
  const credit = d.mode === 'normal' ? 'credit' : 'no-credit';
  if (version === '1.2')
    return {
      core: {
        student_id: d.learnerId,
        student_name: d.learnerName,
        lesson_mode: d.mode,
        credit,
        entry: d.entry,
        total_time: timespan(d.totalSeconds),
      },
      ...(d.launchData ? { launch_data: d.launchData } : {}),
      ...(d.masteryScore !== undefined ? { student_data: { mastery_score: String(Math.round(d.masteryScore * 10000) / 100) } } : {}),
    };
  return {
    learner_id: d.learnerId,
    learner_name: d.learnerName,
    mode: d.mode,
    credit,
    entry: d.entry,
    total_time: `PT${Math.round(d.totalSeconds * 100) / 100}S`,
    ...(d.launchData ? { launch_data: d.launchData } : {}),
    ...(d.masteryScore !== undefined ? { scaled_passing_score: String(d.masteryScore) } : {}),
    ...(d.completionThreshold !== undefined ? { completion_threshold: String(d.completionThreshold) } : {}),
  };
}

/** Deep merge of plain objects (later wins). */
export function merge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === 'object' && !Array.isArray(v) ? merge(obj(out[k]), v as Obj) : v;
  return out;
}
