/**
 * The page launched by a SCORM 1.2 LMS (the library's SCORM export, content/tools/scorm12.ts):
 * the SCORM 1.2 RTE API (`window.API`, found as RTE 1.2 §3.3.6.1 describes), the bookmark in
 * cmi.suspend_data and cmi.core.lesson_location, results in cmi.core.lesson_status and
 * cmi.core.score (raw as a percentage, min 0, max 100, which is how LMSs compare it to
 * adlcp:masteryscore). SCORM 1.2 has no LMS-side scoring, so the assessment draws and scores
 * its attempts in the page, from the bank shipped beside it (`bank.json`), with the same code
 * the LMS uses (scoring.ts).
 */
import { drawQuestions, questionsView, scoreAnswers, type AttemptView, type Drawn, type ScoredItem, type ScoredView } from './scoring';
import type { Bookmark, Tracker } from './tracker';

/** The SCORM 1.2 API object (RTE 1.2 §3.2): every call takes and returns strings. */
export interface Scorm12Api {
  LMSInitialize(p: ''): string;
  LMSFinish(p: ''): string;
  LMSGetValue(element: string): string;
  LMSSetValue(element: string, value: string): string;
  LMSCommit(p: ''): string;
  LMSGetLastError(): string;
  LMSGetErrorString(code: string): string;
}

type ApiWindow = Window & { API?: Scorm12Api | null };

/** RTE 1.2 §3.3.6.1: this window, then up to 7 parents, then the opener's chain. */
export function findScorm12Api(win: Window = window): Scorm12Api | undefined {
  const search = (w: Window | null): Scorm12Api | undefined => {
    for (let n = 0; w && n <= 7; n++) {
      try {
        const api = (w as ApiWindow).API;
        if (api && typeof api.LMSInitialize === 'function') return api;
      } catch {
        return undefined; // a window of another origin: the API cannot be there for us
      }
      if (!w.parent || w.parent === w) break;
      w = w.parent;
    }
    return undefined;
  };
  return search(win) ?? (win.opener ? search(win.opener as Window) : undefined);
}

/** CMITimespan (RTE 1.2 §3.4.2): HHHH:MM:SS.SS. */
export function timespan12(seconds: number): string {
  const cs = Math.round(seconds * 100);
  const h = Math.floor(cs / 360000);
  const m = Math.floor((cs % 360000) / 6000);
  const s = (cs % 6000) / 100;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(h)}:${two(m)}:${s.toFixed(2).padStart(5, '0')}`;
}

interface ShippedBank {
  ask: number;
  masteryScore: number;
  items: ScoredItem[];
}

/** crypto.getRandomValues, without modulo bias. */
function randomInt(n: number): number {
  const limit = Math.floor(0x100000000 / n) * n;
  const buf = new Uint32Array(1);
  do crypto.getRandomValues(buf);
  while (buf[0] >= limit);
  return buf[0] % n;
}

/** LMSInitialize; throws with the LMS's error when it refuses. */
export function scorm12Tracker(api: Scorm12Api): Tracker {
  const check = (ok: string, call: string) => {
    if (ok === 'true') return;
    const code = api.LMSGetLastError();
    throw new Error(`${call}: SCORM error ${code} (${api.LMSGetErrorString(code)})`);
  };
  check(api.LMSInitialize(''), 'LMSInitialize');
  const startedAt = Date.now();
  let finished = false;
  const get = (el: string) => api.LMSGetValue(el) ?? '';
  const set = (el: string, v: string) => check(api.LMSSetValue(el, v), `LMSSetValue ${el}`);
  const commit = () => check(api.LMSCommit(''), 'LMSCommit');
  const mode = get('cmi.core.lesson_mode');
  const normal = mode === '' || mode === 'normal';
  const status = () => get('cmi.core.lesson_status');
  // RTE 1.2 §3.4.4: an LMS takes a session that set no status as completed; a lesson is
  // completed only when the learner says so, so it is marked incomplete from the start.
  if (normal && (status() === 'not attempted' || status() === '')) set('cmi.core.lesson_status', 'incomplete');

  const setScore = (s: { scaled: number }) => {
    set('cmi.core.score.min', '0');
    set('cmi.core.score.max', '100');
    set('cmi.core.score.raw', String(Math.round(s.scaled * 10000) / 100));
  };
  /** cmi.core.exit "suspend": the next launch resumes this attempt, bookmark and results with it. */
  const finish = () => {
    if (finished) return;
    finished = true;
    set('cmi.core.session_time', timespan12((Date.now() - startedAt) / 1000));
    set('cmi.core.exit', 'suspend');
    commit();
    check(api.LMSFinish(''), 'LMSFinish');
  };

  let bank: ShippedBank | undefined;
  const attempts = new Map<string, Drawn[]>();
  let n = 0;
  const masteryScore = () => {
    const v = get('cmi.student_data.mastery_score');
    return v !== '' && Number.isFinite(Number(v)) ? Number(v) / 100 : bank!.masteryScore;
  };

  return {
    normal,
    oneJudgementPerSession: false,
    languagePreference: () => get('cmi.student_preference.language') || undefined,
    async loadBookmark() {
      let b: Bookmark = {};
      try {
        const saved = JSON.parse(get('cmi.suspend_data') || '{}') as unknown;
        if (saved && typeof saved === 'object') b = saved as Bookmark;
      } catch {
        b = {};
      }
      const st = status();
      if (st === 'completed' || st === 'passed') b.completed = true;
      if (st === 'passed') b.passed = true;
      return b;
    },
    async saveBookmark(b) {
      if (b.section) set('cmi.core.lesson_location', b.section);
      set('cmi.suspend_data', JSON.stringify(b));
      commit();
    },
    async complete() {
      set('cmi.core.lesson_status', 'completed');
      commit();
    },
    async pass(s) {
      setScore(s);
      set('cmi.core.lesson_status', 'passed');
      commit();
    },
    async fail(s) {
      setScore(s);
      set('cmi.core.lesson_status', 'failed');
      commit();
    },
    async draw() {
      if (!bank) {
        const res = await fetch('bank.json');
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        bank = (await res.json()) as ShippedBank;
      }
      const drawn = drawQuestions(bank.items, bank.ask, randomInt);
      const attempt = `a${++n}`;
      attempts.set(attempt, drawn);
      return { attempt, masteryScore: masteryScore(), questions: questionsView(drawn, bank.items) } satisfies AttemptView;
    },
    async score(attempt, answers): Promise<ScoredView> {
      const drawn = attempts.get(attempt);
      if (!drawn || !bank) throw new Error('no such attempt');
      attempts.delete(attempt);
      return scoreAnswers(drawn, bank.items, answers, masteryScore());
    },
    terminate: async () => finish(),
    leave: () => {
      try {
        finish();
      } catch {
        // The page is going away: nothing left to tell the learner.
      }
    },
    returnUrl: () => undefined,
  };
}
