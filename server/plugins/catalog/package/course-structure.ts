/**
 * Reads and validates a cmi5 course structure (cmi5.xml): first against the spec's normative
 * XSD (cmi5 §14), then against the rules of §8.1, §13 and §14 that an XSD cannot express.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateXML, memoryPages } from 'xmllint-wasm';
import iconv from 'iconv-lite';
import { LEVELS } from '../../../core/taxonomy';
import type { AuNode, BlockNode, LangMap, MoveOn, StructureNode } from '../course.model';
import { PackageError, at, ruleProblem, type Problem } from './package-error';
import { parseXmlTree, type XmlElement } from './xml-tree';
import { isCalendarDate } from '../../../core/review-date';

export const CMI5_NS = 'https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd';
/** Our own extension (cmi5 §13.1.5): course metadata written by the content builder. */
export const META_NS = 'https://w3id.org/aprende-tic/xmlns/course-meta';

/** Query-string names the LMS adds at launch; an AU URL must not use them (cmi5 §8.1). */
export const LAUNCH_PARAMETER_NAMES = ['endpoint', 'fetch', 'actor', 'registration', 'activityId'] as const;

/** Schemes that would run code in the LMS's page instead of launching content. */
const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);

const XSD = readFileSync(path.join(__dirname, 'course-structure.xsd'), 'utf8');

export interface CourseMeta {
  version?: string;
  hours?: number;
  /** YYYY-MM-DD: when the content was last checked against its sources */
  reviewed?: string;
  tiers?: string[];
  levels?: string[];
  topics?: string[];
  languages?: string[];
  license?: string;
  credits?: string[];
}

export interface ParsedCourse {
  id: string;
  title: LangMap;
  description: LangMap;
  /** Present only when the package carries our course-meta extension. */
  meta?: CourseMeta;
  structure: StructureNode[];
  auCount: number;
}

export interface ParseOptions {
  source: 'zip' | 'xml';
  /** Names of the files in the zip (relative AU URLs must point at one of them). */
  files?: ReadonlySet<string>;
  maxAus?: number;
}

const MAX_PROBLEMS = 20;
const MAX_DEPTH = 32;

/**
 * The encoding XML 1.0 Appendix F detects from a file's first bytes: a byte-order mark, or, without
 * one, the zero bytes that ASCII characters ("<", spaces) have when written in UTF-16 or UTF-32.
 * `bom` is the mark's length.
 */
export function sniffXmlEncoding(b: Buffer): { encoding: 'utf8' | 'utf16le' | 'utf16be' | 'utf32le' | 'utf32be'; bom: number } | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf8', bom: 3 };
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return { encoding: 'utf32le', bom: 4 };
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return { encoding: 'utf32be', bom: 4 };
  if (b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf16le', bom: 2 };
  if (b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf16be', bom: 2 };
  if (b.length < 4) return undefined;
  const zero = [0, 1, 2, 3].map((i) => b[i] === 0);
  if (!zero[0] && zero[1] && zero[2] && zero[3]) return { encoding: 'utf32le', bom: 0 };
  if (zero[0] && zero[1] && zero[2] && !zero[3]) return { encoding: 'utf32be', bom: 0 };
  if (!zero[0] && zero[1] && !zero[2] && zero[3]) return { encoding: 'utf16le', bom: 0 };
  if (zero[0] && !zero[1] && zero[2] && !zero[3]) return { encoding: 'utf16be', bom: 0 };
  return undefined;
}

/**
 * XML bytes → text. xmllint reads UTF-8 only, so other encodings are converted first and the
 * declaration then says UTF-8. Every check (the DOCTYPE ban above all) runs on this text, never on
 * the bytes: a UTF-16 file's "<!DOCTYPE" has a zero byte between each letter.
 */
export function decodeXml(buf: Buffer, fileName = 'cmi5.xml'): string {
  const text = decodeBytes(buf, fileName);
  if (text.includes('\u0000'))
    throw new PackageError([
      ruleProblem('XML 1.0 §2.2', at('line', { file: fileName, line: lineOf(text, text.indexOf('\u0000')) }), 'xml.nul'),
    ]);
  return text.replace(/^\uFEFF/, '').replace(/^(\s*<\?xml[^>]*encoding\s*=\s*["'])[^"']+/, '$1UTF-8');
}

function decodeBytes(buf: Buffer, fileName: string): string {
  const sniffed = sniffXmlEncoding(buf);
  if (sniffed && sniffed.encoding !== 'utf8') return iconv.decode(buf.subarray(sniffed.bom), sniffed.encoding);
  const head = buf
    .subarray(0, 200)
    .toString('latin1')
    .replace(/^\u00EF\u00BB\u00BF/, '');
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  if (declared && !/^utf-?8$/i.test(declared)) {
    // A 16- or 32-bit encoding was detected above when its bytes are there; declared alone, the bytes contradict it.
    if (!iconv.encodingExists(declared) || /^(utf-?(16|32)|ucs-?[24])/i.test(declared))
      throw new PackageError([
        ruleProblem('XML 1.0 §4.3.3', at('line', { file: fileName, line: 1 }), 'xml.encoding', { encoding: declared }),
      ]);
    return iconv.decode(buf, declared);
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
  if (text.includes('\uFFFD')) throw new PackageError([ruleProblem('XML 1.0 §4.3.3', fileName, 'xml.utf8')]);
  return text;
}

export async function parseCourseStructure(input: Buffer | string, opts: ParseOptions): Promise<ParsedCourse> {
  const xml = typeof input === 'string' ? input : decodeXml(input);
  // No DTDs: cmi5.xml never needs one, and refusing them rules out entity expansion ("billion
  // laughs") and external entities (XXE) whatever the parser would do with them.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    throw new PackageError([
      ruleProblem(
        'cmi5 §14 (CourseStructure.xsd)',
        at('line', { file: 'cmi5.xml', line: lineOf(xml, xml.search(/<!DOCTYPE|<!ENTITY/i)) }),
        'xml.doctype',
      ),
    ]);
  }
  const result = await validateXML({
    xml: [{ fileName: 'cmi5.xml', contents: xml }],
    schema: [XSD],
    initialMemoryPages: 16 * memoryPages.MiB,
    maxMemoryPages: 512 * memoryPages.MiB,
  });
  if (!result.valid) {
    // The validator's own words have no translation; the place does.
    const problems: Problem[] = result.errors.slice(0, MAX_PROBLEMS).map((e) => ({
      ...(e.loc
        ? { where: `cmi5.xml line ${e.loc.lineNumber}`, place: at('line', { file: 'cmi5.xml', line: e.loc.lineNumber }) }
        : { where: 'cmi5.xml' }),
      rule: 'cmi5 §14 (CourseStructure.xsd)',
      message: e.message.replace(/\{https:\/\/w3id\.org\/xapi\/profiles\/cmi5\/v1\/CourseStructure\.xsd\}/g, '').trim(),
    }));
    if (problems.length === 0)
      problems.push({
        rule: 'cmi5 §14 (CourseStructure.xsd)',
        where: 'cmi5.xml',
        message: result.rawOutput.trim().slice(0, 300) || 'not a valid course structure',
      });
    throw new PackageError(problems);
  }
  return new StructureReader(opts).read(parseXmlTree(xml));
}

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** An absolute IRI: a scheme, then no spaces or characters RFC 3987 excludes. */
export function isAbsoluteIri(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`\u0000-\u001f\u007f]+$/u.test(s);
}

class StructureReader {
  private readonly problems: Problem[] = [];
  private readonly ids = new Map<string, string>();
  private readonly objectiveIds = new Set<string>();
  private readonly objectiveRefs: Array<{ idref: string; where: string }> = [];
  private auCount = 0;

  constructor(private readonly opts: ParseOptions) {}

  read(root: XmlElement): ParsedCourse {
    const courseEl = this.cmi5Children(root).find((c) => c.name === 'course')!;
    const id = this.iri(courseEl, 'course', 'cmi5 §13.1.1');
    let meta: CourseMeta | undefined;
    for (const c of courseEl.children) if (c.ns === META_NS && c.name === 'courseMeta') meta = this.meta(c);
    for (const c of this.cmi5Children(root)) {
      if (c.name === 'objectives') for (const o of this.cmi5Children(c)) this.objective(o);
    }
    const structure = this.members(root, 'courseStructure', 0);
    for (const ref of this.objectiveRefs) {
      if (!this.objectiveIds.has(ref.idref))
        this.add('cmi5 §13.1.2/§13.1.4 (objectives)', ref.where, 'cs.idrefUnknown', { idref: ref.idref });
    }
    if (this.opts.maxAus && this.auCount > this.opts.maxAus)
      this.add('limit', 'cmi5.xml', 'limit.aus', { n: this.auCount, max: this.opts.maxAus });
    if (this.problems.length) throw new PackageError(this.problems);
    return {
      id,
      title: this.lang(courseEl, 'title'),
      description: this.lang(courseEl, 'description'),
      meta,
      structure,
      auCount: this.auCount,
    };
  }

  private add(rule: string, where: string, key: string, params?: Record<string, unknown>) {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(ruleProblem(rule, where, key, params));
  }

  private cmi5Children(el: XmlElement): XmlElement[] {
    return el.children.filter((c) => c.ns === CMI5_NS);
  }

  /** The element's id: trimmed (§13.1), a full IRI, unique across course, blocks, AUs and objectives. */
  private iri(el: XmlElement, kind: string, rule: string): string {
    const id = (el.attrs.id ?? '').trim();
    const where = `${kind} "${id}"`;
    if (!isAbsoluteIri(id)) this.add(rule, where, 'cs.iri', { kind });
    const first = this.ids.get(id);
    if (first) this.add(rule, where, 'cs.idTwice', { first });
    else this.ids.set(id, kind);
    return id;
  }

  private lang(el: XmlElement, name: 'title' | 'description'): LangMap {
    const holder = this.cmi5Children(el).find((c) => c.name === name);
    return (holder ? this.cmi5Children(holder) : [])
      .filter((c) => c.name === 'langstring')
      .map((l) => ({ lang: (l.attrs.lang ?? '').trim() || 'und', text: l.text.trim() }));
  }

  private objective(el: XmlElement) {
    if (el.name !== 'objective') return;
    const id = this.iri(el, 'objective', 'cmi5 §13.1.3');
    this.objectiveIds.add(id);
  }

  private refs(el: XmlElement, where: string): string[] | undefined {
    const holder = this.cmi5Children(el).find((c) => c.name === 'objectives');
    if (!holder) return undefined;
    return this.cmi5Children(holder)
      .filter((o) => o.name === 'objective')
      .map((o) => {
        const idref = (o.attrs.idref ?? '').trim();
        if (!idref) this.add('cmi5 §13.1.2/§13.1.4 (objectives)', where, 'cs.noIdref');
        else this.objectiveRefs.push({ idref, where });
        return idref;
      });
  }

  private members(parent: XmlElement, where: string, depth: number): StructureNode[] {
    if (depth > MAX_DEPTH) {
      this.add('limit', where, 'limit.blockDepth', { max: MAX_DEPTH });
      return [];
    }
    const out: StructureNode[] = [];
    for (const c of this.cmi5Children(parent)) {
      if (c.name === 'au') out.push(this.au(c));
      else if (c.name === 'block') out.push(this.block(c, depth));
    }
    return out;
  }

  private block(el: XmlElement, depth: number): BlockNode {
    const id = this.iri(el, 'block', 'cmi5 §13.1.2');
    const where = `block "${id}"`;
    const objectives = this.refs(el, where);
    return {
      type: 'block',
      id,
      title: this.lang(el, 'title'),
      description: this.lang(el, 'description'),
      ...(objectives ? { objectives } : {}),
      children: this.members(el, where, depth + 1),
    };
  }

  private au(el: XmlElement): AuNode {
    this.auCount++;
    const id = this.iri(el, 'au', 'cmi5 §13.1.4');
    const where = `au "${id}"`;
    const text = (name: string) => {
      const c = this.cmi5Children(el).find((x) => x.name === name);
      return c ? c.text.trim() : undefined;
    };
    const url = text('url') ?? '';
    this.checkUrl(url, where);
    const au: AuNode = {
      type: 'au',
      id,
      title: this.lang(el, 'title'),
      description: this.lang(el, 'description'),
      url,
      launchMethod: el.attrs.launchMethod?.trim() === 'OwnWindow' ? 'OwnWindow' : 'AnyWindow',
      moveOn: (el.attrs.moveOn?.trim() || 'NotApplicable') as MoveOn,
    };
    const mastery = el.attrs.masteryScore?.trim();
    if (mastery !== undefined) {
      // The XSD checks the range 0..1; the precision rule is in the prose of §13.1.4.
      const decimals = /\.(\d*?)0*$/.exec(mastery)?.[1] ?? '';
      const n = Number(mastery);
      if (!Number.isFinite(n) || n < 0 || n > 1 || decimals.length > 4) {
        this.add('cmi5 §13.1.4 (masteryScore)', where, 'cs.masteryScore', { value: mastery });
      } else au.masteryScore = Number(mastery);
    }
    const activityType = el.attrs.activityType?.trim();
    if (activityType) {
      if (!isAbsoluteIri(activityType)) this.add('cmi5 §13.1.4 (activityType)', where, 'cs.activityType', { value: activityType });
      au.activityType = activityType;
    }
    const launchParameters = text('launchParameters');
    if (launchParameters) au.launchParameters = launchParameters;
    const entitlementKey = text('entitlementKey');
    if (entitlementKey) au.entitlementKey = entitlementKey;
    const objectives = this.refs(el, where);
    if (objectives) au.objectives = objectives;
    return au;
  }

  private checkUrl(url: string, where: string) {
    const rule = 'cmi5 §13.1.4 (url)';
    if (!url) return this.add(rule, where, 'url.empty');
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
    if (/[\s\u0000-\u001f\u007f]/.test(url)) return this.add(rule, where, 'url.spaces', { url });
    const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(url);
    let parsed: URL;
    if (absolute) {
      try {
        parsed = new URL(url);
      } catch {
        return this.add(rule, where, 'url.invalid', { url });
      }
      if (UNSAFE_SCHEMES.has(parsed.protocol)) return this.add(rule, where, 'url.scheme', { url, scheme: parsed.protocol });
      if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && !parsed.hostname)
        return this.add(rule, where, 'url.noHost', { url });
    } else {
      if (this.opts.source === 'xml') {
        return this.add('cmi5 §14.2', where, 'url.relativeAlone', { url });
      }
      if (url.startsWith('/') || url.startsWith('\\')) return this.add('cmi5 §14.1', where, 'url.leadingSlash', { url });
      const base = 'http://package.invalid/root/';
      try {
        parsed = new URL(url, base);
      } catch {
        return this.add(rule, where, 'url.invalidRelative', { url });
      }
      if (!parsed.href.startsWith(base)) return this.add('cmi5 §14.1', where, 'url.outside', { url });
      let file: string;
      try {
        file = decodeURIComponent(parsed.pathname.slice('/root/'.length));
      } catch {
        return this.add(rule, where, 'url.percent', { url });
      }
      if (!this.opts.files?.has(file)) return this.add('cmi5 §14.1', where, 'url.missing', { url, file });
    }
    const names = [...new URLSearchParams(parsed.search).keys()];
    const clash = names.filter((n) => (LAUNCH_PARAMETER_NAMES as readonly string[]).includes(n));
    if (clash.length)
      this.add('cmi5 §8.1', where, 'url.launchParameter', { url, names: clash.map((c) => `"${c}"`).join(', '), count: clash.length });
  }

  private meta(el: XmlElement): CourseMeta {
    const rule = 'course-meta extension (cmi5 §13.1.5)';
    const meta: CourseMeta = {};
    const list = (s: string) => s.split(/\s+/).filter(Boolean);
    for (const c of el.children) {
      if (c.ns !== META_NS) continue;
      const v = c.text.trim();
      const where = `meta:${c.name}`;
      switch (c.name) {
        case 'version':
          meta.version = v;
          break;
        case 'hours': {
          const h = Number(v);
          if (!/^\d+(\.\d+)?$/.test(v) || h > 10000) this.add(rule, where, 'meta.hours', { value: v });
          else meta.hours = h;
          break;
        }
        case 'reviewed':
          if (!isCalendarDate(v)) this.add(rule, where, 'meta.reviewed', { value: v });
          else meta.reviewed = v;
          break;
        case 'tiers':
        case 'topics':
        case 'languages': {
          const items = list(v);
          const bad = items.find((i) => !/^[a-z0-9][a-z0-9-]{0,63}$/i.test(i));
          if (bad) this.add(rule, where, 'meta.code', { value: bad, kind: c.name.slice(0, -1) });
          meta[c.name] = items;
          break;
        }
        case 'levels': {
          const items = list(v);
          const bad = items.find((i) => !(LEVELS as readonly string[]).includes(i));
          if (bad) this.add(rule, where, 'meta.level', { value: bad, allowed: LEVELS.join(', ') });
          meta.levels = items;
          break;
        }
        case 'license':
          meta.license = v;
          break;
        case 'credit':
          (meta.credits ??= []).push(v);
          break;
      }
    }
    return meta;
  }
}
