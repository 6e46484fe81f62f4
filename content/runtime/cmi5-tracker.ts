/**
 * The page launched by a cmi5 LMS: handshake and defined statements through @xapi/cmi5, the
 * bookmark in the xAPI state API (the page runs in a sandboxed, opaque origin: no cookies or
 * localStorage), assessment attempts drawn and scored by the LMS's scoring service.
 */
import Cmi5 from '@xapi/cmi5';
import { SCORING_EXTENSION, type AttemptView, type ScoredView } from './scoring';
import type { Bookmark, Score, Tracker } from './tracker';

const BOOKMARK = 'bookmark';
const CMI5_CATEGORY = { id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' };
const MOVEON_CATEGORY = { id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' };
const MASTERY_SCORE = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';

export const cmi5Launched = () => Cmi5.isCmiAvailable;

/** The cmi5 launch (fetch URL, LMS.LaunchData, `initialized`); throws if the LMS cannot be reached. */
export async function cmi5Tracker(): Promise<Tracker> {
  // axios (inside @xapi/cmi5) reads document.cookie for an XSRF token whenever the LRS URL has the
  // page's host. In a sandboxed page (opaque origin) that read throws and every request would fail;
  // such a page has no cookies anyway, so it reads as empty.
  try {
    void document.cookie;
  } catch {
    Object.defineProperty(document, 'cookie', { configurable: true, get: () => '', set: () => undefined });
  }
  const cmi5 = Cmi5.instance;
  await cmi5.initialize();
  const initializedAt = Date.now();
  const lp = cmi5.getLaunchParameters();
  const stateParams = { agent: lp.actor, activityId: lp.activityId, registration: lp.registration, stateId: BOOKMARK };

  async function scoring<T>(path: string, body: unknown): Promise<T> {
    const base = (cmi5.getLaunchData() as unknown as Record<string, unknown>)[SCORING_EXTENSION];
    if (typeof base !== 'string') throw new Error('no scoring service');
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { Authorization: `Basic ${cmi5.getAuthToken()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  return {
    normal: cmi5.getLaunchData().launchMode === 'Normal',
    oneJudgementPerSession: true,
    languagePreference: () => cmi5.getLearnerPreferences()?.languagePreference,
    async loadBookmark() {
      try {
        const res = await cmi5.xapi!.getState(stateParams);
        return res.data && typeof res.data === 'object' ? (res.data as Bookmark) : {};
      } catch {
        return {}; // 404: first session of this registration
      }
    },
    async saveBookmark(b) {
      await cmi5.xapi!.setState({ ...stateParams, state: { ...b } });
    },
    // cmi5 §9.3.3: one "completed" per registration (the page sends it once).
    complete: async () => void (await cmi5.complete()),
    pass: async (s) => void (await cmi5.pass(s)),
    fail: async (s) => void (await cmi5.fail(s)),
    draw: () => scoring<AttemptView>('/attempts', {}),
    score: (attempt, answers) => scoring<ScoredView>(`/attempts/${encodeURIComponent(attempt)}`, { answers }),
    terminate: async () => void (await cmi5.terminate()),
    leave: (pendingFail) => terminateOnLeave(cmi5, initializedAt, pendingFail),
    returnUrl: () => cmi5.getLaunchData().returnURL,
  };
}

function uuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Leaving without "Exit": the same statements (a pending failed, then terminated), sent as the
 * page goes away. It uses the xAPI 1.0.3 alternate request syntax (form-encoded, credentials in the body): a CORS "simple"
 * request, so sendBeacon can carry it and no preflight has to outlive the page.
 */
function terminateOnLeave(cmi5: Cmi5, initializedAt: number, pendingFail: Score | null): void {
  const lp = cmi5.getLaunchParameters();
  const launchData = cmi5.getLaunchData();
  const duration = `PT${((Date.now() - initializedAt) / 1000).toFixed(2)}S`;
  const defined = (verb: string, result: Record<string, unknown>, moveOn: boolean, extensions: Record<string, unknown> = {}) => {
    const context = JSON.parse(JSON.stringify(launchData.contextTemplate ?? {}));
    context.registration = lp.registration;
    context.contextActivities = { ...(context.contextActivities ?? {}) };
    context.contextActivities.category = [
      ...(context.contextActivities.category ?? []),
      CMI5_CATEGORY,
      ...(moveOn ? [MOVEON_CATEGORY] : []),
    ];
    context.extensions = { ...(context.extensions ?? {}), ...extensions };
    return {
      id: uuid(),
      actor: lp.actor,
      verb: { id: `http://adlnet.gov/expapi/verbs/${verb}`, display: { 'en-US': verb } },
      object: { objectType: 'Activity', id: lp.activityId },
      result,
      context,
      timestamp: new Date().toISOString(),
    };
  };
  const statements: Array<ReturnType<typeof defined>> = [];
  if (pendingFail) {
    const mastery = launchData.masteryScore;
    statements.push(
      defined('failed', { score: pendingFail, success: false, duration }, true, mastery !== undefined ? { [MASTERY_SCORE]: mastery } : {}),
    );
  }
  statements.push(defined('terminated', { duration }, false));
  const url = `${lp.endpoint.replace(/\/?$/, '/')}statements?method=POST`;
  const form = new URLSearchParams({
    Authorization: `Basic ${cmi5.getAuthToken()}`,
    'X-Experience-API-Version': '1.0.3',
    'Content-Type': 'application/json',
    content: JSON.stringify(statements),
  });
  if (!navigator.sendBeacon?.(url, form)) void fetch(url, { method: 'POST', keepalive: true, body: form }).catch(() => undefined);
}
