/**
 * The authoring format of the built-in course library (content/README.md describes it for
 * training officers). Every rule a writer can break is checked here, so the build fails with
 * the file and the field at fault instead of producing a package the LMS would reject.
 */
import { z } from 'zod';
import { isCalendarDate } from '../../server/core/review-date';
import { DEFAULT_TIERS, LEVELS } from '../../server/core/taxonomy';

export const LANGUAGES = ['es', 'pt', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];

const lang = z.enum(LANGUAGES);
/**
 * A line like `- Identify the guarantees: documents and signatures` is a one-key mapping to
 * YAML, not text. Writers are not expected to know that, so such a mapping is read back as the
 * line they wrote.
 */
const text = z.preprocess((v) => {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v);
    if (entries.length === 1 && typeof entries[0][1] === 'string') return `${entries[0][0]}: ${entries[0][1]}`;
  }
  return v;
}, z.string().trim().min(1));
const langText = z.partialRecord(lang, text);
const key = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and hyphens');

export const courseYamlSchema = z
  .object({
    slug: key,
    id: z.url({ protocol: /^https?$/ }),
    version: z.number().int().min(1),
    /** When the content was last checked against its sources (YAML reads an unquoted date as a Date). */
    reviewed: z.preprocess(
      (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : v),
      z.string().refine(isCalendarDate, 'write the date of the last review as YYYY-MM-DD, for example 2026-12-01'),
    ),
    /** Who must take it; empty = optional (in the catalogue for anyone, on no path). */
    tiers: z.array(z.enum(DEFAULT_TIERS)),
    levels: z.array(z.enum(LEVELS)).min(1),
    topics: z.array(key).default([]),
    languages: z.array(lang).min(1),
    license: text,
    masteryScore: z.number().gt(0).max(1),
    title: langText,
    description: langText,
    credits: z.array(text).default([]),
    blocks: z.array(z.object({ key, title: langText, aus: z.array(key).min(1) }).strict()).min(1),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.languages.includes('es')) ctx.addIssue({ code: 'custom', path: ['languages'], message: 'Spanish (es) is always required' });
    if (new Set(c.languages).size !== c.languages.length)
      ctx.addIssue({ code: 'custom', path: ['languages'], message: 'a language is listed twice' });
    for (const l of c.languages) {
      if (!c.title[l]) ctx.addIssue({ code: 'custom', path: ['title', l], message: `missing title in ${l}` });
      if (!c.description[l]) ctx.addIssue({ code: 'custom', path: ['description', l], message: `missing description in ${l}` });
      c.blocks.forEach((b, i) => {
        if (!b.title[l]) ctx.addIssue({ code: 'custom', path: ['blocks', i, 'title', l], message: `missing block title in ${l}` });
      });
    }
    const aus = c.blocks.flatMap((b) => b.aus);
    if (new Set(aus).size !== aus.length) ctx.addIssue({ code: 'custom', path: ['blocks'], message: 'an AU is listed twice' });
    if (new Set(c.blocks.map((b) => b.key)).size !== c.blocks.length)
      ctx.addIssue({ code: 'custom', path: ['blocks'], message: 'two blocks have the same key' });
    for (const au of aus) {
      if (au !== 'assessment' && !/^lesson-\d+$/.test(au)) {
        ctx.addIssue({ code: 'custom', path: ['blocks'], message: `AU "${au}" must be "lesson-N" or "assessment"` });
      }
    }
    if (aus.filter((a) => a.startsWith('lesson-')).length < 3)
      ctx.addIssue({ code: 'custom', path: ['blocks'], message: 'a course needs at least 3 lessons' });
    if (!aus.includes('assessment')) ctx.addIssue({ code: 'custom', path: ['blocks'], message: 'a course needs an assessment' });
    if (c.id.endsWith('/')) ctx.addIssue({ code: 'custom', path: ['id'], message: 'the course IRI must not end with "/"' });
  });
export type CourseYaml = z.infer<typeof courseYamlSchema>;

export const lessonFrontMatterSchema = z
  .object({
    title: text,
    objectives: z.array(text).min(1),
  })
  .strict();
export type LessonFrontMatter = z.infer<typeof lessonFrontMatterSchema>;

const optionSchema = z.object({ text, correct: z.boolean().optional(), feedback: text }).strict();

const questionSchema = z
  .object({
    id: z.string().regex(/^q\d+$/, 'question ids are q1, q2, ...'),
    text,
    multiple: z.boolean().default(false),
    options: z.array(optionSchema).min(3).max(5),
  })
  .strict()
  .superRefine((q, ctx) => {
    const correct = q.options.filter((o) => o.correct).length;
    if (correct === 0) ctx.addIssue({ code: 'custom', path: ['options'], message: 'no option is marked correct: true' });
    if (!q.multiple && correct > 1)
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'several correct options but multiple is not true' });
    if (q.multiple && correct < 2)
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'multiple: true needs at least 2 correct options' });
  });

/**
 * The assessment is an item bank: each attempt asks `ask` of its questions, drawn at random by
 * the LMS, which scores the answers (the key never reaches the page). At least twice as many
 * questions as are asked, so two attempts differ and the key cannot be learnt in one.
 */
export const MIN_BANK_FACTOR = 2;

export const assessmentSchema = z
  .object({
    title: text,
    intro: text,
    ask: z.number().int().min(4).max(20),
    questions: z.array(questionSchema).min(8).max(60),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.questions.length < MIN_BANK_FACTOR * a.ask)
      ctx.addIssue({
        code: 'custom',
        path: ['questions'],
        message: `the bank has ${a.questions.length} questions for ${a.ask} asked; it needs at least ${MIN_BANK_FACTOR * a.ask} (twice as many as are asked)`,
      });
    a.questions.forEach((q, i) => {
      if (q.id !== `q${i + 1}`)
        ctx.addIssue({ code: 'custom', path: ['questions', i, 'id'], message: `expected q${i + 1} (ids are q1..qN in order)` });
    });
  });
export type Assessment = z.infer<typeof assessmentSchema>;
export type Question = Assessment['questions'][number];

/** Turns zod issues into "file: path: message" lines a writer can act on. */
export function describeIssues(file: string, error: z.ZodError): string {
  return error.issues.map((i) => `${file}: ${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('\n');
}
