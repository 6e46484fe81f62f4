/**
 * Certificate templates: `certificates/templates/<name>/template.json` (+ an optional logo).
 * `default` is used when a learner's institution (org unit code) has no template of its own.
 * Every template is validated when the plugin loads, so a broken one stops start-up naming
 * itself instead of failing later, at issue time, in front of a learner.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ROOT, SUPPORTED_LANGUAGES, type Language } from '../../core/config';

export const TEMPLATES_DIR = path.join(ROOT, 'certificates', 'templates');

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a #rrggbb colour');
const perLanguage = <T extends z.ZodTypeAny>(t: T) => z.object({ es: t, pt: t, en: t }).strict();
const text = z.string().trim().min(1).max(300);

const TextsSchema = z
  .object({
    heading: text,
    pathHeading: text,
    intro: text,
    courseLine: text,
    pathLine: text,
    hours: text.refine((s) => s.includes('{{hours}}'), 'must contain {{hours}}'),
    score: text.refine((s) => s.includes('{{score}}'), 'must contain {{score}}'),
    date: text.refine((s) => s.includes('{{date}}'), 'must contain {{date}}'),
    code: text,
    verifyAt: text,
  })
  .strict();

export const TemplateSchema = z
  .object({
    institution: perLanguage(text),
    signatory: z.object({ name: text, title: perLanguage(text) }).strict(),
    /** PNG or JPEG next to template.json. */
    logo: z
      .string()
      .regex(/^[A-Za-z0-9_-]+\.(png|jpe?g)$/, 'must be a plain PNG or JPEG file name in the template folder')
      .optional(),
    colours: z.object({ primary: colour, accent: colour, text: colour, muted: colour }).strict(),
    layout: z
      .object({
        margin: z.number().min(10).max(80),
        border: z.number().min(0).max(12),
        logoWidth: z.number().min(20).max(200),
        nameSize: z.number().min(14).max(48),
        headingSize: z.number().min(14).max(48),
        titleSize: z.number().min(10).max(36),
        qrSize: z.number().min(60).max(160),
      })
      .strict(),
    texts: perLanguage(TextsSchema),
  })
  .strict();

export type TemplateSpec = z.infer<typeof TemplateSchema>;
export type TemplateTexts = z.infer<typeof TextsSchema>;

export interface CertificateTemplate extends TemplateSpec {
  name: string;
  logoData?: Buffer;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const MAX_LOGO_BYTES = 200 * 1024;

function loadOne(dir: string, name: string): CertificateTemplate {
  const file = path.join(dir, name, 'template.json');
  const fail = (why: string): never => {
    throw new Error(`Certificate template "${name}" (${path.relative(ROOT, file)}) is invalid: ${why}`);
  };
  if (!existsSync(file)) fail('template.json is missing');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return fail(`not valid JSON (${(err as Error).message})`);
  }
  const parsed = TemplateSchema.safeParse(raw);
  if (!parsed.success) {
    fail(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  const spec = parsed.data!;
  let logoData: Buffer | undefined;
  if (spec.logo) {
    const logoFile = path.join(dir, name, spec.logo);
    if (!existsSync(logoFile)) fail(`logo file ${spec.logo} does not exist`);
    logoData = readFileSync(logoFile);
    if (logoData.length > MAX_LOGO_BYTES) fail(`logo ${spec.logo} is larger than ${MAX_LOGO_BYTES / 1024} KB`);
    const isPng = logoData.subarray(0, 8).equals(PNG);
    const isJpeg = logoData.subarray(0, 3).equals(JPEG);
    if (!(isPng && spec.logo.endsWith('.png')) && !(isJpeg && /\.jpe?g$/.test(spec.logo)))
      fail(`logo ${spec.logo} is not a valid ${path.extname(spec.logo)} image`);
  }
  return { ...spec, name, logoData };
}

/** Loads and validates every template; `default` must exist. Throws naming the first bad one. */
export function loadTemplates(dir = TEMPLATES_DIR): Map<string, CertificateTemplate> {
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
    : [];
  if (!names.includes('default'))
    throw new Error(
      `Certificate template "default" is missing (expected ${path.relative(ROOT, path.join(dir, 'default', 'template.json'))})`,
    );
  const templates = new Map<string, CertificateTemplate>();
  for (const name of names.sort()) templates.set(name, loadOne(dir, name));
  return templates;
}

export function pickLanguage(lang: string | undefined): Language {
  return (SUPPORTED_LANGUAGES as readonly string[]).includes(lang ?? '') ? (lang as Language) : 'es';
}

/** Replaces `{{name}}` placeholders; templates hold only these, no code. */
export function fill(textWithSlots: string, values: Record<string, string>): string {
  return textWithSlots.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => values[k] ?? '');
}
