/**
 * Finds English inside a page, e-mail or file meant to be in Spanish or Portuguese: a string of the
 * English locale files that the language translates differently, or text made of words that only
 * the English locale files use (a server message that never went through the locale files).
 * Text marked `lang="en"` (a technical message from a library, a proper name) is a declared part
 * in another language (WCAG 3.1.2) and is not counted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Parser } from 'htmlparser2';
import { LOCALES_DIR } from '../server/core/i18n';

type Lang = 'es' | 'pt';

function flatten(obj: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeof obj === 'string') out.set(prefix, obj);
  else if (typeof obj === 'object' && obj !== null)
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

function locale(lng: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of readdirSync(path.join(LOCALES_DIR, lng))) {
    const ns = file.replace(/\.json$/, '');
    for (const [k, v] of flatten(JSON.parse(readFileSync(path.join(LOCALES_DIR, lng, file), 'utf8')))) out.set(`${ns}:${k}`, v);
  }
  return out;
}

const words = (s: string) => (s.toLowerCase().match(/\p{L}[\p{L}'’]*/gu) ?? []).filter((w) => w.length > 1);
const stripVars = (s: string) => s.replace(/\{\{[^}]*\}\}|\$t\([^)]*\)|<[^>]*>/g, ' ');
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Words and phrases that give English away, per target language. */
interface Tells {
  phrases: Array<{ key: string; re: RegExp }>;
  englishOnly: Set<string>;
}

const cache = new Map<Lang, Tells>();

/**
 * Common English words that are never Spanish or Portuguese words, for text the locale files do
 * not contain (e.g. "at least one scope is required"). The locale files' own English-only
 * vocabulary is added to these.
 */
const ENGLISH_WORDS =
  'the and of is are was were be been has have had must should will would can cannot could not no with without this that these those which who what when where there here from into onto than then your you our we they it its at least required invalid already missing unknown found only more less also used such too each every any all none other another before after because while yet'.split(
    ' ',
  );

function tells(lang: Lang): Tells {
  const hit = cache.get(lang);
  if (hit) return hit;
  const en = locale('en');
  const target = locale(lang);
  const others = [locale('es'), locale('pt')];
  const foreign = new Set<string>();
  for (const l of others) for (const v of l.values()) for (const w of words(stripVars(v))) foreign.add(w);
  const englishOnly = new Set<string>();
  for (const v of en.values()) for (const w of words(stripVars(v))) if (!foreign.has(w)) englishOnly.add(w);
  for (const w of ENGLISH_WORDS) if (!foreign.has(w)) englishOnly.add(w);
  const phrases: Tells['phrases'] = [];
  for (const [key, value] of en) {
    const own = target.get(key);
    if (own === undefined || own === value) continue;
    const literal = stripVars(value).trim();
    // Short values ("Name") are matched as a whole text; longer ones anywhere in a text.
    const n = words(literal).length;
    if (n === 0) continue;
    const pattern = value
      .trim()
      .split(/\{\{[^}]*\}\}/)
      .map((part) => escapeRe(part.replace(/<[^>]*>/g, '')).replace(/\s+/g, '\\s+'))
      .join('.+?');
    if (words(value.replace(/\{\{[^}]*\}\}/g, '')).every((w) => !englishOnly.has(w))) continue;
    phrases.push({ key, re: n >= 3 ? new RegExp(`(^|[^\\p{L}])${pattern}($|[^\\p{L}])`, 'u') : new RegExp(`^${pattern}$`, 'u') });
  }
  const t = { phrases, englishOnly };
  cache.set(lang, t);
  return t;
}

/**
 * Not interface text: code and protocol values (`<code>`: scope names, IRIs), titles of works
 * (`<cite>`), and what people typed into a field (`<textarea>`).
 */
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'code', 'kbd', 'samp', 'cite', 'textarea']);
const SHOWN_ATTRIBUTES = ['title', 'alt', 'aria-label', 'placeholder', 'aria-description'];
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

/** The texts a person sees or hears on an HTML page, without parts declared in English. */
export function visibleTexts(html: string): string[] {
  const out: string[] = [];
  const stack: Array<{ name: string; skip: boolean }> = [];
  let buffer = '';
  const flush = () => {
    const s = buffer.replace(/\s+/g, ' ').trim();
    if (s) out.push(s);
    buffer = '';
  };
  const skipping = () => stack.length > 0 && stack[stack.length - 1].skip;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        flush();
        const skip = skipping() || SKIP.has(name) || (attrs.lang !== undefined && attrs.lang.split('-')[0] === 'en');
        if (!skip) {
          for (const a of SHOWN_ATTRIBUTES) if (attrs[a]) out.push(attrs[a].replace(/\s+/g, ' ').trim());
          if (name === 'input' && ['submit', 'button'].includes(attrs.type ?? '') && attrs.value) out.push(attrs.value.trim());
        }
        if (!VOID.has(name)) stack.push({ name, skip });
      },
      ontext(text) {
        if (!skipping()) buffer += text;
      },
      onclosetag(name) {
        if (VOID.has(name)) return;
        flush();
        // Pop to the matching element (tolerates unclosed <p>, <li>).
        for (let i = stack.length - 1; i >= 0; i--)
          if (stack[i].name === name) {
            stack.length = i;
            break;
          }
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();
  flush();
  return out;
}

/** Texts made only of letters from a file or e-mail (not HTML): one per line or CSV cell. */
export function plainTexts(text: string): string[] {
  return text
    .split(/[\r\n;,\t]+/)
    .map((s) => s.replace(/^"|"$/g, '').trim())
    .filter(Boolean);
}

/** The English found in these texts of a page in `lang`, each as "text (why)". */
export function englishIn(texts: string[], lang: Lang): string[] {
  const { phrases, englishOnly } = tells(lang);
  const found: string[] = [];
  for (const text of texts) {
    const phrase = phrases.find((p) => p.re.test(text));
    if (phrase) {
      found.push(`"${text.slice(0, 160)}" (the English of ${phrase.key})`);
      continue;
    }
    // Addresses and links are names, not language.
    const ws = words(text.replace(/\S+@\S+|\w+:\/\/\S+/g, ' '));
    const english = ws.filter((w) => englishOnly.has(w));
    if (english.length >= 3 || (english.length >= 2 && english.length * 2 >= ws.length))
      found.push(`"${text.slice(0, 160)}" (English words: ${english.join(', ')})`);
  }
  return found;
}

export const englishInPage = (html: string, lang: Lang) => englishIn(visibleTexts(html), lang);
