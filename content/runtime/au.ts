/**
 * The script of every AU page of the built-in library (bundled by esbuild into runtime.js):
 * lessons with their bookmark, the assessment, language switching. It talks to whatever launched
 * it through a Tracker: a cmi5 LMS (the cmi5 package) or a SCORM 1.2 LMS (the SCORM export),
 * detected at start. Without an LMS the page stays readable and says so.
 */
import { cmi5Launched, cmi5Tracker } from './cmi5-tracker';
import { findScorm12Api, scorm12Tracker } from './scorm12-tracker';
import type { AttemptView, ScoredView } from './scoring';
import { UI, fmt, type UiLang } from './strings';
import type { Bookmark, Score, Tracker } from './tracker';

const config = JSON.parse(document.getElementById('au-config')!.textContent!) as {
  kind: 'lesson' | 'assessment';
  languages: UiLang[];
  defaultLanguage: UiLang;
  /** A lesson's place among the course's lessons (absent on the assessment). */
  position?: { n: number; total: number };
};
let lang: UiLang = config.defaultLanguage;
let lms: Tracker | null = null;
let terminated = false;
let judgedThisSession = false;
/**
 * With one judgement per session (cmi5 §9.3), a failed attempt waits for the end of the session:
 * sending "failed" at once would leave a learner who retries and passes in the same session
 * unrecorded until another session. It goes out on exit (or as the page leaves).
 */
let pendingFail: Score | null = null;
let bookmark: Bookmark = {};
let savedSection: string | undefined;

const ui = () => UI[lang];
const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel);
const say = (msg: string) => {
  $('#au-status')!.textContent = msg;
};
/**
 * What the last button did, said next to the buttons (a lesson can be 5,000 px long: the status
 * at the top is out of sight there). Kept as a function so a language switch says it again.
 */
let actionMsg: (() => string) | null = null;
const sayNear = (msg: (() => string) | null) => {
  actionMsg = msg;
  const box = $('#au-action-status');
  if (box) box.textContent = msg ? msg() : '';
};
/** After a lesson is completed, leaving leads on to the next one (the course page offers it). */
const hasNext = () => !!config.position && config.position.n < config.position.total;
function refreshActions(): void {
  const exitButton = $<HTMLButtonElement>('[data-au-action="exit"]');
  if (exitButton && config.kind === 'lesson' && bookmark.completed && hasNext()) exitButton.textContent = ui().exitNext;
}
const reason = (err: unknown) => {
  const e = err as { response?: { status?: number }; message?: string };
  return e?.response?.status ? `HTTP ${e.response.status}` : (e?.message ?? String(err));
};
const normal = () => lms !== null && lms.normal;

async function saveBookmark(): Promise<void> {
  if (!lms || terminated) return;
  try {
    await lms.saveBookmark(bookmark);
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
  sayNear(actionMsg);
  refreshActions();
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
  if (!lms) return sayNear(() => ui().completedOffline);
  if (!normal()) return sayNear(() => ui().browseMode);
  try {
    // Once per registration (cmi5 §9.3.3).
    if (!bookmark.completed) await lms.complete();
    bookmark.completed = true;
    await saveBookmark();
  } catch (err) {
    return sayNear(() => fmt(ui().saveFailed, { reason: reason(err) }));
  }
  const pos = config.position;
  sayNear(() => (pos && hasNext() ? fmt(ui().completedNext, { ...pos, next: pos.n + 1 }) : ui().completedMsg));
  refreshActions();
  // The next step is leaving for the next lesson: focus goes to that button, right below.
  if (hasNext()) $<HTMLButtonElement>('[data-au-action="exit"]')?.focus();
}

// ---- assessment: questions drawn and scored by the LMS (or, in SCORM, by the page) ------------------------------------------

let attempt: AttemptView | null = null;
let scored: ScoredView | null = null;

const inLang = (m: Record<string, string>) => m[lang] ?? m[config.defaultLanguage] ?? Object.values(m)[0] ?? '';

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
  if (!lms) return say(ui().platformOnly);
  say(ui().drawing);
  try {
    attempt = await lms.draw();
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
    const list = missing.map((i) => i + 1).join(', ');
    sayNear(() => fmt(ui().unanswered, { list }));
    form.querySelector<HTMLInputElement>(`input[name="${attempt.questions[missing[0]].id}"]`)?.focus();
    return;
  }
  let result: ScoredView;
  try {
    result = await lms!.score(attempt.attempt, answers);
  } catch (err) {
    return sayNear(() => fmt(ui().saveFailed, { reason: reason(err) }));
  }
  // Graded: a "missing answers" note from an earlier try no longer applies.
  sayNear(null);
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
    if (!result.passed && lms!.oneJudgementPerSession) {
      pendingFail = s;
      lines.push(ui().failPending);
    } else {
      try {
        // cmi5 §9.3: one of passed/failed per session, one passed per registration, no failed after passed.
        if (result.passed) await lms!.pass(s);
        else await lms!.fail(s);
        if (lms!.oneJudgementPerSession) judgedThisSession = true;
        pendingFail = null;
        if (result.passed) bookmark.passed = true;
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
  sayNear(null);
  await drawAttempt();
  $<HTMLInputElement>('#au-questions input')?.focus();
}

// ---- session end ----------------------------------------------------------------------------------

async function exit(): Promise<void> {
  sayNear(() => ui().exiting);
  if (lms && !terminated) {
    clearTimeout(saveTimer);
    if (bookmark.section !== savedSection) await saveBookmark();
    try {
      if (pendingFail && !judgedThisSession) {
        // Taken first, so that a window closed meanwhile does not send it a second time.
        const fail = pendingFail;
        pendingFail = null;
        try {
          await lms.fail(fail);
        } catch (err) {
          pendingFail = fail;
          throw err;
        }
        judgedThisSession = true;
      }
      await lms.terminate();
      terminated = true;
    } catch (err) {
      return sayNear(() => fmt(ui().saveFailed, { reason: reason(err) }));
    }
  }
  const back = lms?.returnUrl();
  if (back) window.location.href = back;
  else sayNear(() => ui().closed);
}

/** Leaving without "Exit": the tracker ends the session as the page goes away. */
function terminateOnLeave(): void {
  if (!lms || terminated) return;
  terminated = true;
  lms.leave(pendingFail && !judgedThisSession ? pendingFail : null);
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

/** Who launched the page: a cmi5 LMS (launch parameters in the URL), a SCORM 1.2 LMS (its API in a window), or nobody. */
async function connect(): Promise<Tracker | null> {
  if (cmi5Launched()) return cmi5Tracker();
  const api = findScorm12Api();
  return api ? scorm12Tracker(api) : null;
}

async function start(): Promise<void> {
  watchSections();
  if (!cmi5Launched() && !findScorm12Api()) return say(config.kind === 'assessment' ? ui().platformOnly : ui().standalone);
  say(ui().connecting);
  try {
    lms = await connect();
  } catch (err) {
    return say(fmt(ui().failedConnect, { reason: reason(err) }));
  }
  if (!lms) return;
  const preferred = pickLanguage(lms.languagePreference());
  if (preferred) await showLanguage(preferred).catch(() => undefined);
  bookmark = await lms.loadBookmark();
  savedSection = bookmark.section;
  if (config.kind === 'assessment') return drawAttempt();
  refreshActions();
  const resumed = resume();
  if (!normal()) say(ui().browseMode);
  else if (!resumed) say(ui().connected);
}

void start();
