/** Turns lessons and assessments into the HTML of AU pages (shell + one fragment per language). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { Marked, type Tokens } from 'marked';
import { ENDONYMS, UI, fmt, type UiLang } from '../runtime/strings';
import type { Assessment, CourseYaml, Lang } from './course-schema';
import type { LessonSource } from './load-course';

const TEMPLATES = path.join(__dirname, '..', 'runtime', 'templates');
const compiled = new Map<string, ejs.TemplateFunction>();
function template(name: string): ejs.TemplateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    const file = path.join(TEMPLATES, `${name}.ejs`);
    fn = ejs.compile(readFileSync(file, 'utf8'), { filename: file });
    compiled.set(name, fn);
  }
  return fn;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Markdown → HTML. Section headings get ids that are the same in every language (`au-s-N`),
 * so a bookmark saved while reading in Spanish resumes at the same section in Portuguese.
 * Raw HTML is shown as text: lessons are data written by people, not markup we trust.
 */
export function renderMarkdown(markdown: string, lang: Lang, mediaPrefix: string): string {
  let section = 0;
  let table = 0;
  const md = new Marked({ gfm: true });
  md.use({
    renderer: {
      heading(this: { parser: { parseInline(t: Tokens.Heading['tokens']): string } }, { tokens, depth }: Tokens.Heading) {
        const inner = this.parser.parseInline(tokens);
        if (depth === 2) return `<h2 id="au-s-${++section}" tabindex="-1">${inner}</h2>\n`;
        return `<h${depth}>${inner}</h${depth}>\n`;
      },
      html({ text }: Tokens.HTML | Tokens.Tag) {
        return escapeHtml(text);
      },
      image({ href, text }: Tokens.Image) {
        if (/^[a-z]+:/i.test(href)) return escapeHtml(text);
        return `<img src="${escapeHtml(mediaPrefix + href)}" alt="${escapeHtml(text)}" loading="lazy">`;
      },
      link({ href, tokens }: Tokens.Link) {
        const inner = md.Parser.parseInline(tokens);
        // Outside links open apart so the AU session (and its timer) stays in this window.
        const ext = /^https?:/i.test(href) ? ' target="_blank" rel="noopener noreferrer"' : '';
        return `<a href="${escapeHtml(href)}"${ext}>${inner}</a>`;
      },
    },
  });
  const html = md.parse(markdown, { async: false }) as string;
  // Header cells get a scope; wide tables scroll inside a focusable, labelled region on phones.
  return html
    .replace(/<th(\s|>)/g, '<th scope="col"$1')
    .replace(
      /<table>/g,
      () => `<div class="au-table" role="region" tabindex="0" aria-label="${escapeHtml(fmt(UI[lang].table, { n: ++table }))}"><table>`,
    )
    .replace(/<\/table>/g, '</table></div>');
}

interface PageCommon {
  course: CourseYaml;
  lang: Lang;
  kind: 'lesson' | 'assessment';
}

function titles(course: CourseYaml, lang: Lang, auTitle: string) {
  const courseTitle = course.title[lang] ?? course.title.es!;
  return { courseTitle, pageTitle: `${auTitle} · ${courseTitle}` };
}

/** Where a lesson stands among the course's lessons ("Lesson 1 of 3"), 1-based. */
export interface LessonPosition {
  n: number;
  total: number;
}

export function lessonFragment(course: CourseYaml, lang: Lang, lesson: LessonSource, position: LessonPosition): string {
  return template('lesson')({
    lang,
    ui: UI[lang as UiLang],
    fmt,
    lesson,
    position,
    body: renderMarkdown(lesson.markdown, lang, `../media/${lang}/`),
    ...titles(course, lang, lesson.meta.title),
  });
}

const jsonInHtml = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function assessmentFragment(course: CourseYaml, lang: Lang, a: Assessment): string {
  return template('assessment')({
    lang,
    ui: UI[lang as UiLang],
    fmt,
    assessment: a,
    ...titles(course, lang, a.title),
  });
}

/** The AU's index.html: the shell with the Spanish fragment inline, so it reads at once. */
export function pageShell(p: PageCommon & { fragment: string; auTitle: string; position?: LessonPosition }): string {
  return template('page')({
    lang: p.lang,
    languages: p.course.languages,
    endonyms: ENDONYMS,
    fragment: p.fragment,
    configJson: jsonInHtml({
      kind: p.kind,
      languages: p.course.languages,
      defaultLanguage: p.lang,
      ...(p.position ? { position: p.position } : {}),
    }),
    ...titles(p.course, p.lang, p.auTitle),
  });
}
