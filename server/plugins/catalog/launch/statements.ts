/** The statements the LMS itself makes (cmi5 §9.3): launched, abandoned, waived, satisfied. */
import { randomUUID } from 'node:crypto';
import type { XapiStatement } from '../../../core/contracts/lrs';
import { stableId } from '../../../core/ids';
import { ACTIVITY_TYPE, CATEGORY_CMI5, CATEGORY_MOVEON, EXT, VERB, type LaunchMode, type VerbName } from './cmi5';

const verb = (name: VerbName) => ({ id: VERB[name], display: { 'en-US': name } });

interface Base {
  actor: Record<string, unknown>;
  registration: string;
  sessionId: string;
  /** Publisher id of the AU, block or course (grouping, §9.6.2.3). */
  publisherId: string;
}

function context(b: Base, opts: { moveOn?: boolean; extensions?: Record<string, unknown> } = {}) {
  return {
    registration: b.registration,
    contextActivities: {
      category: [{ id: CATEGORY_CMI5 }, ...(opts.moveOn ? [{ id: CATEGORY_MOVEON }] : [])],
      grouping: [{ id: b.publisherId }],
    },
    extensions: { [EXT.sessionId]: b.sessionId, ...opts.extensions },
  };
}

export function launchedStatement(
  b: Base & {
    activityId: string;
    launchMode: LaunchMode;
    launchUrl: string;
    moveOn: string;
    masteryScore?: number;
    launchParameters?: string;
  },
): XapiStatement {
  return {
    id: randomUUID(),
    actor: b.actor,
    verb: verb('launched'),
    object: { objectType: 'Activity', id: b.activityId },
    context: context(b, {
      extensions: {
        [EXT.launchMode]: b.launchMode,
        [EXT.launchUrl]: b.launchUrl,
        [EXT.moveOn]: b.moveOn,
        ...(b.masteryScore !== undefined ? { [EXT.masteryScore]: b.masteryScore } : {}),
        ...(b.launchParameters ? { [EXT.launchParameters]: b.launchParameters } : {}),
      },
    }),
    timestamp: new Date().toISOString(),
  };
}

export function abandonedStatement(b: Base & { activityId: string; durationIso: string }): XapiStatement {
  return {
    id: randomUUID(),
    actor: b.actor,
    verb: verb('abandoned'),
    object: { objectType: 'Activity', id: b.activityId },
    result: { duration: b.durationIso },
    context: context(b),
    timestamp: new Date().toISOString(),
  };
}

export function waivedStatement(b: Base & { activityId: string; reason: string }): XapiStatement {
  return {
    id: randomUUID(),
    actor: b.actor,
    verb: verb('waived'),
    object: { objectType: 'Activity', id: b.activityId },
    result: { success: true, completion: true, extensions: { [EXT.reason]: b.reason } },
    context: context(b, { moveOn: true }),
    timestamp: new Date().toISOString(),
  };
}

/** Once per registration and block or course: its id is named by them (see `stableId`). */
export function satisfiedStatement(b: Base & { objectId: string; kind: 'block' | 'course' }): XapiStatement {
  return {
    id: stableId('satisfied', b.registration, b.objectId),
    actor: b.actor,
    verb: verb('satisfied'),
    object: { objectType: 'Activity', id: b.objectId, definition: { type: ACTIVITY_TYPE[b.kind] } },
    context: context(b),
    timestamp: new Date().toISOString(),
  };
}
