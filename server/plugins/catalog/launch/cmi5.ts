/** cmi5 vocabulary (cmi5 spec §9) and the LMS-generated activity ids (§8.1.5, §9.4). */
import { createHash } from 'node:crypto';

export const VERB = {
  launched: 'http://adlnet.gov/expapi/verbs/launched',
  initialized: 'http://adlnet.gov/expapi/verbs/initialized',
  completed: 'http://adlnet.gov/expapi/verbs/completed',
  passed: 'http://adlnet.gov/expapi/verbs/passed',
  failed: 'http://adlnet.gov/expapi/verbs/failed',
  abandoned: 'https://w3id.org/xapi/adl/verbs/abandoned',
  waived: 'https://w3id.org/xapi/adl/verbs/waived',
  terminated: 'http://adlnet.gov/expapi/verbs/terminated',
  satisfied: 'https://w3id.org/xapi/adl/verbs/satisfied',
  voided: 'http://adlnet.gov/expapi/verbs/voided',
} as const;
export type VerbName = keyof typeof VERB;

export const VERB_NAMES = new Map<string, VerbName>(Object.entries(VERB).map(([k, v]) => [v, k as VerbName]));

export const CATEGORY_CMI5 = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
export const CATEGORY_MOVEON = 'https://w3id.org/xapi/cmi5/context/categories/moveon';

export const EXT = {
  sessionId: 'https://w3id.org/xapi/cmi5/context/extensions/sessionid',
  masteryScore: 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore',
  launchMode: 'https://w3id.org/xapi/cmi5/context/extensions/launchmode',
  launchUrl: 'https://w3id.org/xapi/cmi5/context/extensions/launchurl',
  moveOn: 'https://w3id.org/xapi/cmi5/context/extensions/moveon',
  launchParameters: 'https://w3id.org/xapi/cmi5/context/extensions/launchparameters',
  reason: 'https://w3id.org/xapi/cmi5/result/extensions/reason',
  progress: 'https://w3id.org/xapi/cmi5/result/extensions/progress',
} as const;

export const ACTIVITY_TYPE = {
  block: 'https://w3id.org/xapi/cmi5/activitytype/block',
  course: 'https://w3id.org/xapi/cmi5/activitytype/course',
} as const;

export const LAUNCH_DATA = 'LMS.LaunchData';
export const LEARNER_PREFERENCES = 'cmi5LearnerPreferences';

export const WAIVE_REASONS = ['Tested Out', 'Equivalent AU', 'Equivalent Outside Activity', 'Administrative'] as const;
export type WaiveReason = (typeof WAIVE_REASONS)[number];

export const LAUNCH_MODES = ['Normal', 'Browse', 'Review'] as const;
export type LaunchMode = (typeof LAUNCH_MODES)[number];

/**
 * The launch modes a learner may choose for an AU (§10.2.2), the default first. An AU not yet
 * attempted may be opened to look around (Browse) or to read it through (Review) without being
 * recorded; one satisfied is reviewed (it can no longer change the outcome); one begun but not
 * satisfied is continued in Normal, where it can be finished. NotApplicable AUs are satisfied at
 * registration and stay open in every mode.
 */
export function launchModes(moveOn: string, au: { satisfied?: boolean; attempted?: boolean } | undefined): LaunchMode[] {
  if (au?.satisfied && moveOn !== 'NotApplicable') return ['Review', 'Browse'];
  if (!au?.attempted) return ['Normal', 'Browse', 'Review'];
  return ['Normal'];
}

/**
 * The LMS's own activity ids for an AU, block or course: stable for all registrations and
 * versions (§8.1.5 "SHOULD use the same"), and never equal to the publisher's id (§9.4).
 */
export function lmsActivityId(baseUrl: string, kind: 'au' | 'block' | 'course', courseId: string, publisherId: string): string {
  const h = createHash('sha256').update(`${courseId}\n${kind}\n${publisherId}`).digest('hex').slice(0, 32);
  return `${baseUrl}/catalog/activities/${kind}/${h}`;
}

/** The learner as cmi5 wants them (§9.2): an account on this LMS, no personal data. */
export function learnerActor(baseUrl: string, userId: string) {
  return { objectType: 'Agent', account: { homePage: baseUrl, name: userId } };
}

/** ISO 8601 duration (as xAPI uses it) in seconds; undefined when it is not one. */
export function durationSeconds(d: unknown): number | undefined {
  if (typeof d !== 'string') return undefined;
  const m =
    /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      d,
    );
  if (!m || d === 'P' || d.endsWith('T')) return undefined;
  const [y, mo, w, day, h, mi, s] = m.slice(1).map((x) => (x ? Number(x) : 0));
  return Math.round(((((y * 365 + mo * 30 + w * 7 + day) * 24 + h) * 60 + mi) * 60 + s) * 100) / 100;
}

export function isoDuration(seconds: number): string {
  return `PT${Math.max(0, Math.round(seconds * 100) / 100)}S`;
}
