/**
 * The script of every AU page of the built-in library (bundled by esbuild into runtime.js).
 * cmi5 handshake and defined statements through @xapi/cmi5; language from the learner's
 * cmi5LearnerPreferences; bookmark in the xAPI state API (the page runs in a sandboxed, opaque
 * origin: no cookies or localStorage). Without an LMS the page stays readable and says so.
 */
import Cmi5 from '@xapi/cmi5';
import { SCORING_EXTENSION, type AttemptView, type ScoredView } from './scoring';
import { UI, fmt, type UiLang } from './strings';

interface Score {
  scaled: number;
  raw: number;
  min: number;
  max: number;
}

interface Bookmark {
  section?: string;
  completed?: boolean;
  passed?: boolean;
}

// axios (inside @xapi/cmi5) reads document.cookie for an XSRF token whenever the LRS URL has the
// page's host. In a sandboxed page (opaque origin) that read throws and every request would fail;
// such a page has no cookies anyway, so it reads as empty.
try {
  void document.cookie;
} catch {
  Object.defineProperty(document, 'cookie', { configurable: true, get: () => '', set: () => undefined });
}

const config = JSON.parse(document.getElementById('au-config')!.textContent!) as {
  kind: 'lesson' | 'assessment';
  languages: UiLang[];
  defaultLanguage: UiLang;
};
const BOOKMARK = 'bookmark';
const CMI5_CATEGORY = { id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' };
const MOVEON_CATEGORY = { id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' };
const MASTERY_SCORE = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';

let lang: UiLang = config.defaultLanguage;
let cmi5: Cmi5 | null = null;
let initializedAt = 0;
let terminated = false;
let judgedThisSession = false;
/**
 * A failed attempt waits for the end of the session: cmi5 allows one of passed/failed per
 * session (§9.3), so sending "failed" at once would leave a learner who retries and passes in
 * the same session unrecorded until another session. It goes out on exit (or as the page leaves).
 */
let pendingFail: Score | null = null;
let bookmark: Bookmark = {};
let savedSection: string | undefined;

const ui = () => UI[lang];
const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel);
const say = (msg: string) => {
  $('#au-status')!.textContent = msg;
};
const reason = (err: unknown) => {
  const e = err as { response?: { status?: number }; message?: string };
  return e?.response?.status ? `HTTP ${e.response.status}` : (e?.message ?? String(err));
};
const normal = () => cmi5 !== null && cmi5.getLaunchData().launchMode === 'Normal';

function stateParams() {
  const lp = cmi5!.getLaunchParameters();
  return { agent: lp.actor, activityId: lp.activityId, registration: lp.registration, stateId: BOOKMARK };
}

async function saveBookmark(): Promise<void> {
  if (!cmi5 || terminated) return;
  try {
    await cmi5.xapi!.setState({ ...stateParams(), state: { ...bookmark } });
    savedSection = bookmark.section;
  } catch (err) {
    say(fmt(ui().saveFailed, { reason: reason(err) }));
  }
}

// ---- language -------------------------------------------------------------------------------

function pickLanguage(preference: string | undefined): UiLang | undefined {
  for (const tag of (preference ?? '').split(',')) {
    const primary = tag.trim().toLowerCase().split('-')[0] as UiLang;
    if (config.languages.includes(primary)) return primary;
  }
  return undefined;
}

async function showLanguage(next: UiLang): Promise<void> {
  if (next === lang) return;
  const res = await fetch(`${next}.html`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const tpl = document.createElement('template');
  tpl.innerHTML = await res.text();
  const fresh = tpl.content.querySelector<HTMLElement>('#au-root');
  if (!fresh) throw new Error('bad fragment');
  // Answers chosen so far survive a language switch: option ids are the same in every language.
  const checked = [...document.querySelectorAll<HTMLInputElement>('#au-quiz input:checked')].map((i) => i.id);
  const submitted = !$('#au-result')?.hidden;
  const resultText = $('#au-result-text')?.textContent;
  $('#au-root')!.replaceWith(fresh);
  lang = next;
  document.documentElement.lang = next;
  document.title = fresh.dataset.title ?? document.title;
  $('#au-course')!.textContent = fresh.dataset.courseTitle ?? '';
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-au-lang]')) {
    b.setAttribute('aria-pressed', String(b.dataset.auLang === next));
  }
  renderQuestions();
  if (!scored) {
    for (const id of checked) {
      const input = document.getElementById(id) as HTMLInputElement | null;
      if (input) input.checked = true;
    }
  }
  if (submitted && resultText) {
    $('#au-result-text')!.textContent = resultText;
    $('#au-result')!.hidden = false;
  }
  watchSections();
}

// ---- lessons: bookmark by section ------------------------------------------------------------

let observer: IntersectionObserver | undefined;
let saveTimer: ReturnType<typeof setTimeout> | undefined;

function watchSections(): void {
  observer?.disconnect();
  if (config.kind !== 'lesson' || typeof IntersectionObserver === 'undefined') return;
  observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        bookmark.section = e.target.id;
        clearTimeout(saveTimer);
        // Batched: one state write per pause in reading, not one per heading scrolled past.
        saveTimer = setTimeout(() => {
          if (bookmark.section !== savedSection) void saveBookmark();
        }, 1500);
      }
    },
    { rootMargin: '0px 0px -70% 0px' },
  );
  for (const h of document.querySelectorAll('h2[id^="au-s-"]')) observer.observe(h);
}

function resume(): boolean {
  const h = bookmark.section ? document.getElementById(bookmark.section) : null;
  if (!h) return false;
  h.scrollIntoView();
  h.focus();
  say(fmt(ui().resumed, { section: h.textContent ?? '' }));
  return true;
}

async function completeLesson(): Promise<void> {
  if (!cmi5) return say(ui().completedOffline);
  if (!normal()) return say(ui().browseMode);
  try {
    // cmi5 §9.3.3: one "completed" per registration.
    if (!bookmark.completed) await cmi5.complete();
    bookmark.completed = true;
    await saveBookmark();
    say(ui().completedMsg);
  } catch (err) {
    say(fmt(ui().saveFailed, { reason: reason(err) }));
  }
}

// ---- assessment: questions drawn and scored by the LMS ------------------------------------------

let attempt: AttemptView | null = null;
let scored: ScoredView | null = null;

const inLang = (m: Record<string, string>) => m[lang] ?? m[config.defaultLanguage] ?? Object.values(m)[0] ?? '';

async function scoring<T>(path: string, body: unknown): Promise<T> {
  const base = (cmi5!.getLaunchData() as unknown as Record<string, unknown>)[SCORING_EXTENSION];
  if (typeof base !== 'string') throw new Error('no scoring service');
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { Authorization: `Basic ${cmi5!.getAuthToken()}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as T;
}

function el(tag: string, props: Record<string, unknown> = {}, ...kids: Array<Node | string>): HTMLElement {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...kids);
  return e;
}

/** Builds the questions of the attempt in the current language (text only: nothing is parsed as HTML). */
function renderQuestions(): void {
  const box = $('#au-questions');
  if (!box) return;
  box.replaceChildren();
  if (!attempt) return;
  const total = attempt.questions.length;
  attempt.questions.forEach((q, qi) => {
    const fs = el('fieldset', { className: 'au-question', id: q.id });
    const legend = el('legend', {}, el('span', { className: 'au-qnum', textContent: fmt(ui().question, { n: qi + 1, total }) }));
    legend.append(` ${inLang(q.text)}`);
    fs.append(legend, el('p', { className: 'au-hint', id: `${q.id}-hint`, textContent: q.multiple ? ui().pickMany : ui().pickOne }));
    q.options.forEach((o, oi) => {
      const oid = `${q.id}-o${oi + 1}`;
      const input = el('input', { type: q.multiple ? 'checkbox' : 'radio', name: q.id, id: oid, value: String(oi) });
      input.setAttribute('aria-describedby', `${q.id}-hint`);
      fs.append(
        el(
          'div',
          { className: 'au-option' },
          input,
          el('label', { htmlFor: oid, textContent: inLang(o.text) }),
          el('p', { className: 'au-feedback', id: `${oid}-fb`, hidden: true }),
        ),
      );
    });
    fs.append(el('p', { className: 'au-verdict', id: `${q.id}-verdict`, hidden: true }));
    box.append(fs);
  });
  if (scored) showVerdicts(scored);
  const form = $<HTMLFormElement>('#au-quiz')!;
  form.querySelector<HTMLButtonElement>('button[type="submit"]')!.hidden = !!scored;
  form.querySelector<HTMLButtonElement>('[data-au-action="retry"]')!.hidden = !scored;
}

function showVerdicts(r: ScoredView): void {
  const form = $<HTMLFormElement>('#au-quiz')!;
  for (const q of attempt!.questions) {
    const v = r.questions[q.id];
    const verdict = document.getElementById(`${q.id}-verdict`)!;
    verdict.textContent = v.right ? ui().right : ui().wrong;
    verdict.dataset.right = String(v.right);
    verdict.hidden = false;
    form.querySelectorAll<HTMLInputElement>(`input[name="${q.id}"]`).forEach((input, i) => {
      input.disabled = true;
      input.checked = v.chosen.includes(i);
      const k = v.chosen.indexOf(i);
      if (k < 0) return;
      // Only the chosen options are explained: the key of the questions stays with the LMS.
      form
        .querySelector(`label[for="${input.id}"]`)!
        .append(' ', el('strong', { className: 'au-mark', textContent: `(${ui().yourChoice})` }));
      const fb = document.getElementById(`${input.id}-fb`)!;
      fb.textContent = inLang(v.feedback[k]);
      fb.hidden = false;
    });
  }
}

async function drawAttempt(): Promise<void> {
  attempt = null;
  scored = null;
  renderQuestions();
  $('#au-result')!.hidden = true;
  if (!cmi5) return say(ui().platformOnly);
  say(ui().drawing);
  try {
    attempt = await scoring<AttemptView>('/attempts', {});
  } catch (err) {
    return say(fmt(ui().drawFailed, { reason: reason(err) }));
  }
  renderQuestions();
  say(!normal() ? ui().browseMode : bookmark.passed ? ui().alreadyPassed : judgedThisSession ? ui().notRecorded : ui().connected);
}

async function submitAssessment(form: HTMLFormElement): Promise<void> {
  if (!attempt || scored) return;
  const answers: Record<string, number[]> = {};
  const missing: number[] = [];
  attempt.questions.forEach((q, i) => {
    answers[q.id] = [...form.querySelectorAll<HTMLInputElement>(`input[name="${q.id}"]:checked`)].map((x) => Number(x.value));
    if (!answers[q.id].length) missing.push(i);
  });
  if (missing.length) {
    say(fmt(ui().unanswered, { list: missing.map((i) => i + 1).join(', ') }));
    form.querySelector<HTMLInputElement>(`input[name="${attempt.questions[missing[0]].id}"]`)?.focus();
    return;
  }
  let result: ScoredView;
  try {
    result = await scoring<ScoredView>(`/attempts/${encodeURIComponent(attempt.attempt)}`, { answers });
  } catch (err) {
    return say(fmt(ui().saveFailed, { reason: reason(err) }));
  }
  scored = result;
  renderQuestions();
  const mastery = attempt.masteryScore;
  const lines = [
    fmt(ui().result, { raw: result.raw, max: result.max, pct: Math.round(result.scaled * 100), mastery: Math.round(mastery * 100) }),
    result.passed ? ui().passed : ui().failed,
  ];
  if (normal() && !judgedThisSession && !bookmark.passed) {
    // The score is the LMS's: it accepts "passed"/"failed" only as it scored this attempt.
    const s = { scaled: result.scaled, raw: result.raw, min: result.min, max: result.max };
    if (!result.passed) {
      pendingFail = s;
      lines.push(ui().failPending);
    } else {
      try {
        // cmi5 §9.3: one of passed/failed per session, one passed per registration, no failed after passed.
        await cmi5!.pass(s);
        judgedThisSession = true;
        pendingFail = null;
        bookmark.passed = true;
        await saveBookmark();
        lines.push(ui().recorded);
      } catch (err) {
        lines.push(fmt(ui().saveFailed, { reason: reason(err) }));
      }
    }
  } else {
    lines.push(!normal() ? ui().browseMode : bookmark.passed ? ui().alreadyPassed : ui().notRecorded);
  }
  const box = $('#au-result')!;
  $('#au-result-text')!.textContent = lines.join(' ');
  box.hidden = false;
  box.focus();
}

async function retryAssessment(): Promise<void> {
  await drawAttempt();
  $<HTMLInputElement>('#au-questions input')?.focus();
}

// ---- session end ----------------------------------------------------------------------------------

async function exit(): Promise<void> {
  say(ui().exiting);
  if (cmi5 && !terminated) {
    clearTimeout(saveTimer);
    if (bookmark.section !== savedSection) await saveBookmark();
    try {
      if (pendingFail && !judgedThisSession) {
        // Taken first, so that a window closed meanwhile does not send it a second time.
        const fail = pendingFail;
        pendingFail = null;
        try {
          await cmi5.fail(fail);
        } catch (err) {
          pendingFail = fail;
          throw err;
        }
        judgedThisSession = true;
      }
      await cmi5.terminate();
      terminated = true;
    } catch (err) {
      return say(fmt(ui().saveFailed, { reason: reason(err) }));
    }
  }
  const back = cmi5?.getLaunchData().returnURL;
  if (back) window.location.href = back;
  else say(ui().closed);
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
function terminateOnLeave(): void {
  if (!cmi5 || terminated) return;
  terminated = true;
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
  if (pendingFail && !judgedThisSession) {
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

// ---- start ----------------------------------------------------------------------------------------

document.addEventListener('click', (ev) => {
  const el = (ev.target as HTMLElement).closest<HTMLElement>('[data-au-action], [data-au-lang]');
  if (!el) return;
  if (el.dataset.auLang) {
    showLanguage(el.dataset.auLang as UiLang).catch((err) => say(fmt(ui().saveFailed, { reason: reason(err) })));
    return;
  }
  const action = el.dataset.auAction;
  if (action === 'complete') void completeLesson();
  else if (action === 'retry') void retryAssessment();
  else if (action === 'exit') void exit();
});
document.addEventListener('submit', (ev) => {
  const form = ev.target as HTMLFormElement;
  if (form.id !== 'au-quiz') return;
  ev.preventDefault();
  void submitAssessment(form);
});
window.addEventListener('pagehide', terminateOnLeave);

async function start(): Promise<void> {
  watchSections();
  if (!Cmi5.isCmiAvailable) return say(config.kind === 'assessment' ? ui().platformOnly : ui().standalone);
  say(ui().connecting);
  try {
    const c = Cmi5.instance;
    await c.initialize();
    cmi5 = c;
    initializedAt = Date.now();
  } catch (err) {
    return say(fmt(ui().failedConnect, { reason: reason(err) }));
  }
  const preferred = pickLanguage(cmi5.getLearnerPreferences()?.languagePreference);
  if (preferred) await showLanguage(preferred).catch(() => undefined);
  try {
    const res = await cmi5.xapi!.getState(stateParams());
    if (res.data && typeof res.data === 'object') bookmark = res.data as Bookmark;
    savedSection = bookmark.section;
  } catch {
    bookmark = {}; // 404: first session of this registration
  }
  if (config.kind === 'assessment') return drawAttempt();
  const resumed = resume();
  if (!normal()) say(ui().browseMode);
  else if (!resumed) say(ui().connected);
}

void start();
