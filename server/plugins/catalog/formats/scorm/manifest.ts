/**
 * Reads a SCORM package's imsmanifest.xml (IMS Content Packaging 1.1 as SCORM 1.2 and SCORM 2004
 * 3rd/4th Edition profile it, SCORM CAM): the default organization's items become the course's
 * blocks and units, each leaf item launching its resource's file; mastery scores, launch data
 * and completion thresholds are kept for the runtime. Every rule broken is named with its place.
 */
import { XMLValidator } from 'fast-xml-parser';
import type { AuNode, BlockNode, LangMap, MoveOn, Prerequisite, StructureNode } from '../../course.model';
import { requiredIds } from '../../prerequisites';
import { decodeXml } from '../../package/course-structure';
import { PackageError, at, ruleProblem, type Problem } from '../../package/package-error';
import { parseXmlTree, type XmlElement } from '../../package/xml-tree';
import type { DescribeOptions, DescribedCourse } from '../format';
import { PREREQ_RULE_12, PREREQ_RULE_2004, parseAiccScript, sequencingPrerequisites, type ScriptProblem } from './prerequisites';
import { manifestSchemaErrors, schemaRule } from './schema';

export const MANIFEST = 'imsmanifest.xml';

const NS = {
  cp12: 'http://www.imsproject.org/xsd/imscp_rootv1p1p2',
  cp2004: 'http://www.imsglobal.org/xsd/imscp_v1p1',
  adlcp12: 'http://www.adlnet.org/xsd/adlcp_rootv1p2',
  adlcp2004: 'http://www.adlnet.org/xsd/adlcp_v1p3',
  imsss: 'http://www.imsglobal.org/xsd/imsss',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

export type ScormVersion = '1.2' | '2004 3rd Edition' | '2004 4th Edition';

/** A SCORM course id: the manifest's identifier (SCORM CAM: unique for the package across its versions). */
export const scormCourseId = (manifestIdentifier: string) => `urn:scorm:${encodeURIComponent(manifestIdentifier)}`;

const MAX_PROBLEMS = 20;
const MAX_DEPTH = 32;
const UNSAFE_SCHEMES = /^(javascript|data|vbscript|file|blob|about):/i;

export async function parseManifest(buf: Buffer, opts: DescribeOptions): Promise<DescribedCourse> {
  const xml = decodeXml(buf, MANIFEST);
  // No DTDs: a manifest never needs one, and refusing them rules out entity-expansion attacks.
  const doctype = xml.search(/<!DOCTYPE/i);
  if (doctype >= 0)
    throw new PackageError([
      ruleProblem('SCORM CAM (imsmanifest.xml)', at('line', { file: MANIFEST, line: lineOf(xml, doctype) }), 'scorm.doctype'),
    ]);
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true)
    throw new PackageError([
      // The parser's own words have no translation; the place does.
      {
        rule: 'XML 1.0 (well-formedness)',
        ...placeOf(at('line', { file: MANIFEST, line: wellFormed.err.line })),
        message: wellFormed.err.msg,
      },
    ]);
  const course = new ManifestReader(opts).read(parseXmlTree(xml));
  // The schemas last: the reader names the common mistakes in the reader's language; the XSDs
  // then catch what it does not look at (order, unknown elements, value types), in libxml2's words.
  const errors = await manifestSchemaErrors(xml, course.formatVersion as ScormVersion);
  if (errors.length)
    throw new PackageError(
      errors.slice(0, MAX_PROBLEMS).map((e) => ({
        rule: schemaRule(course.formatVersion as ScormVersion),
        ...placeOf(at('line', { file: MANIFEST, line: e.line })),
        message: e.message.replace(/^Schemas validity error : /, ''),
      })),
    );
  return course;
}

const placeOf = (place: ReturnType<typeof at>) => ({ where: place.message, place });

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

interface Resource {
  identifier: string;
  scormType?: string;
  href?: string;
  base: string;
  where: string;
}

class ManifestReader {
  private readonly problems: Problem[] = [];
  private cp = '';
  private adlcp = '';
  private version: ScormVersion = '1.2';
  private readonly ids = new Map<string, string>();
  private resources = new Map<string, Resource>();
  private courseId = '';
  private auCount = 0;
  /** The organization's items by identifier, with the course node each names (prerequisites name items). */
  private readonly itemIndex = new Map<string, { el: XmlElement; nodeId: string; where: string }>();
  /** Each unit with the items whose prerequisites gate it: its own and its modules'. */
  private readonly gated: Array<{ au: AuNode; gates: XmlElement[] }> = [];
  private readonly blocks: BlockNode[] = [];

  constructor(private readonly opts: DescribeOptions) {}

  private add(rule: string, where: string, key: string, params?: Record<string, unknown>) {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(ruleProblem(rule, where, key, params));
  }

  private kids(el: XmlElement, name: string, ns = this.cp): XmlElement[] {
    return el.children.filter((c) => c.ns === ns && c.name === name);
  }

  private kid(el: XmlElement, name: string, ns = this.cp): XmlElement | undefined {
    return el.children.find((c) => c.ns === ns && c.name === name);
  }

  read(root: XmlElement): DescribedCourse {
    if (root.name !== 'manifest' || (root.ns !== NS.cp12 && root.ns !== NS.cp2004))
      throw new PackageError([
        ruleProblem('SCORM CAM §3.4 (manifest)', MANIFEST, root.ns ? 'scorm.rootIn' : 'scorm.root', {
          cp12: NS.cp12,
          cp2004: NS.cp2004,
          name: root.name,
          ns: root.ns,
        }),
      ]);
    this.cp = root.ns;
    this.version = this.detectVersion(root);
    this.adlcp = this.version === '1.2' ? NS.adlcp12 : NS.adlcp2004;
    const identifier = this.identifier(root, 'manifest');
    this.courseId = scormCourseId(identifier);
    if (this.kids(root, 'manifest').length) this.add('SCORM CAM §3.4 (manifest)', 'manifest', 'scorm.subManifest');

    const base = this.base('', root);
    const resourcesEl = this.kid(root, 'resources');
    if (!resourcesEl) this.add('SCORM CAM §3.4.1.15 (resources)', 'manifest', 'scorm.noResources');
    else this.readResources(resourcesEl, this.base(base, resourcesEl));

    const orgsEl = this.kid(root, 'organizations');
    const orgs = orgsEl ? this.kids(orgsEl, 'organization') : [];
    let org: XmlElement | undefined;
    if (!orgs.length) {
      this.add('SCORM CAM §3.4.1.5 (organizations)', 'manifest', 'scorm.noOrganization');
    } else {
      const def = (orgsEl!.attrs.default ?? '').trim();
      // A default naming no organization is a slip authoring tools make (the SCORM debugger's
      // package does): like Moodle and SCORM Cloud, the first organization is taken.
      org = (def && orgs.find((o) => (o.attrs.identifier ?? '').trim() === def)) || orgs[0];
      for (const o of orgs) this.identifier(o, 'organization');
    }
    const structure = org ? this.items(org, `organization "${org.attrs.identifier ?? ''}"`, 0, []) : [];
    if (!this.problems.length) this.prerequisites();
    if (org && !structure.length) this.add('SCORM CAM §3.4.1.9 (item)', `organization "${org.attrs.identifier ?? ''}"`, 'scorm.noItems');
    if (this.opts.maxAus && this.auCount > this.opts.maxAus)
      this.add('limit', MANIFEST, 'limit.scos', { n: this.auCount, max: this.opts.maxAus });
    if (this.problems.length) throw new PackageError(this.problems);
    const title = this.title(org!) || identifier;
    return {
      id: this.courseId,
      title: [{ lang: 'und', text: title }],
      description: [],
      structure,
      auCount: this.auCount,
      format: 'scorm',
      formatVersion: this.version,
    };
  }

  /** SCORM CAM: `metadata/schemaversion`, else the namespaces in use. */
  private detectVersion(root: XmlElement): ScormVersion {
    const meta = this.kid(root, 'metadata');
    const sv = meta ? this.kid(meta, 'schemaversion')?.text.trim() : undefined;
    if (sv) {
      if (sv === '1.2') return '1.2';
      if (/^2004 3rd Edition$/i.test(sv) || sv === 'CAM 1.3') return '2004 3rd Edition';
      if (/^2004 4th Edition$/i.test(sv)) return '2004 4th Edition';
      throw new PackageError([
        ruleProblem('SCORM CAM §3.4.1.3 (schemaversion)', 'manifest/metadata/schemaversion', 'scorm.schemaVersion', { value: sv }),
      ]);
    }
    return root.ns === NS.cp12 ? '1.2' : '2004 4th Edition';
  }

  /** An element's identifier: required, an XML name, unique in the manifest (xs:ID). */
  private identifier(el: XmlElement, kind: string): string {
    const id = (el.attrs.identifier ?? '').trim();
    const rule = 'SCORM CAM §3.4 (identifier)';
    if (!id) {
      this.add(rule, kind, 'scorm.noIdentifier', { kind });
      return '';
    }
    if (!/^[A-Za-z_][\w.-]*$/u.test(id)) this.add(rule, `${kind} "${id}"`, 'scorm.identifierName', { id });
    const first = this.ids.get(id);
    if (first) this.add(rule, `${kind} "${id}"`, 'scorm.identifierTwice', { id, first });
    else this.ids.set(id, kind);
    return id;
  }

  private base(parent: string, el: XmlElement): string {
    const b = el.attrs['xml:base']?.trim();
    if (!b) return parent;
    return parent + (b.endsWith('/') ? b : `${b}/`);
  }

  private title(el: XmlElement): string {
    return (this.kid(el, 'title')?.text ?? '').trim().replace(/\s+/g, ' ');
  }

  private readResources(el: XmlElement, base: string) {
    for (const r of this.kids(el, 'resource')) {
      const identifier = this.identifier(r, 'resource');
      const where = `resource "${identifier}"`;
      // SCORM 1.2 spells it adlcp:scormtype, SCORM 2004 adlcp:scormType.
      const scormType = (r.attrs[this.version === '1.2' ? 'adlcp:scormtype' : 'adlcp:scormType'] ?? attrByLocal(r, 'scormtype'))
        ?.trim()
        .toLowerCase();
      if (scormType !== 'sco' && scormType !== 'asset')
        this.add('SCORM CAM §3.4.1.18 (adlcp:scormType)', where, scormType ? 'scorm.typeNot' : 'scorm.type', { value: scormType });
      this.resources.set(identifier, { identifier, scormType, href: r.attrs.href?.trim(), base: this.base(base, r), where });
    }
  }

  private items(parent: XmlElement, where: string, depth: number, gates: XmlElement[]): StructureNode[] {
    if (depth > MAX_DEPTH) {
      this.add('limit', where, 'limit.itemDepth', { max: MAX_DEPTH });
      return [];
    }
    const out: StructureNode[] = [];
    for (const item of this.kids(parent, 'item')) {
      const identifier = this.identifier(item, 'item');
      const here = `item "${identifier}"`;
      const children = this.kids(item, 'item');
      const ref = item.attrs.identifierref?.trim();
      const title: LangMap = [{ lang: 'und', text: this.title(item) || identifier }];
      const gatedBy = [...gates, item];
      if (children.length) {
        // SCORM 1.2 lets an item with children launch a resource too (SCORM 2004 does not): it
        // becomes the block's first unit, keeping the item's id (prerequisites name items).
        if (ref && this.version !== '1.2') this.add('SCORM CAM §3.4.1.11 (item@identifierref)', here, 'scorm.parentLaunches');
        const own = ref && this.version === '1.2' ? this.au(item, identifier, ref, title, here, gatedBy) : undefined;
        const block: BlockNode = {
          type: 'block',
          id: `${this.courseId}/${encodeURIComponent(identifier)}${own ? '/items' : ''}`,
          title,
          description: [],
          children: [...(own ? [own] : []), ...this.items(item, here, depth + 1, gatedBy)],
        };
        // Its prerequisites and others' naming it speak of the item: its own unit when it launches, else the module.
        this.itemIndex.set(identifier, { el: item, nodeId: own ? own.id : block.id, where: here });
        this.blocks.push(block);
        out.push(block);
      } else if (!ref) {
        this.add('SCORM CAM §3.4.1.11 (item@identifierref)', here, 'scorm.leafNoRef');
      } else {
        const au = this.au(item, identifier, ref, title, here, gatedBy);
        if (au) {
          this.itemIndex.set(identifier, { el: item, nodeId: au.id, where: here });
          out.push(au);
        }
      }
    }
    return out;
  }

  private au(item: XmlElement, identifier: string, ref: string, title: LangMap, where: string, gates: XmlElement[]): AuNode | undefined {
    this.auCount++;
    const res = this.resources.get(ref);
    if (!res) {
      this.add('SCORM CAM §3.4.1.11 (item@identifierref)', where, 'scorm.refUnknown', { ref });
      return undefined;
    }
    if (!res.href) {
      this.add('SCORM CAM §3.4.1.16 (resource@href)', res.where, 'scorm.noHref');
      return undefined;
    }
    const isSco = res.scormType === 'sco';
    const url = this.launchUrl(res, item.attrs.parameters?.trim(), isSco);
    if (url === undefined) return undefined;
    const text = (name: string) => this.kid(item, name, this.adlcp)?.text.trim() || undefined;
    const au: AuNode = {
      type: 'au',
      id: `${this.courseId}/${encodeURIComponent(identifier)}`,
      title,
      description: [],
      url,
      launchMethod: 'AnyWindow',
      moveOn: 'NotApplicable',
      scorm: { scormType: isSco ? 'sco' : 'asset' },
    };
    this.gated.push({ au, gates });
    if (!isSco) return au;
    const launchData = text(this.version === '1.2' ? 'datafromlms' : 'dataFromLMS');
    if (launchData) au.scorm!.launchData = launchData;
    const mastery = this.version === '1.2' ? this.mastery12(text('masteryscore'), where) : this.mastery2004(item, where);
    if (mastery !== undefined) au.masteryScore = mastery;
    if (this.version !== '1.2') {
      const ct = this.kid(item, 'completionThreshold', this.adlcp);
      // 4th Edition: an attribute (with completedByMeasure); 3rd Edition: the element's text.
      const v = ct ? (ct.attrs.minProgressMeasure ?? ct.text).trim() : '';
      if (v) {
        const n = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v) || n > 1)
          this.add('SCORM CAM (adlcp:completionThreshold)', where, 'scorm.completionThreshold', { value: v });
        else au.scorm!.completionThreshold = n;
      }
      // SN §3.13 (delivery controls): whether the SCO, not the LMS, decides completion and the primary objective.
      const delivery = this.kid(this.kid(item, 'sequencing', NS.imsss) ?? item, 'deliveryControls', NS.imsss);
      if (delivery?.attrs.completionSetByContent?.trim() === 'true') au.scorm!.completionSetByContent = true;
      if (delivery?.attrs.objectiveSetByContent?.trim() === 'true') au.scorm!.objectiveSetByContent = true;
    }
    // Passing is what counts where the package sets a mastery score; otherwise completing or passing.
    au.moveOn = (mastery !== undefined ? 'Passed' : 'CompletedOrPassed') satisfies MoveOn;
    return au;
  }

  /**
   * Prerequisites, once every item is known (a script may name an item further down): read per
   * item, then each unit gets its own and its modules' together. Units that require each other
   * (see requiredIds) would stay closed for ever: refused.
   */
  private prerequisites() {
    const own = new Map<XmlElement, Prerequisite>();
    if (this.version === '1.2') {
      const nodeOf = (identifier: string) => this.itemIndex.get(identifier)?.nodeId;
      for (const { el, where } of this.itemIndex.values()) {
        const script = this.kid(el, 'prerequisites', this.adlcp);
        if (!script) continue;
        try {
          own.set(el, parseAiccScript(script.text, nodeOf));
        } catch (e) {
          if (!(e as ScriptProblem).key) throw e;
          this.add(PREREQ_RULE_12, where, (e as ScriptProblem).key, (e as ScriptProblem).params);
        }
      }
    } else for (const [el, p] of sequencingPrerequisites([...this.itemIndex.values()])) own.set(el, p);
    for (const { au, gates } of this.gated) {
      const ps = gates.flatMap((g) => own.get(g) ?? []);
      if (ps.length) au.prerequisites = ps.length === 1 ? ps[0] : { all: ps };
    }
    // X needs Y: a unit what its prerequisites require, a module what its item's do and its children (done when they are).
    const needs = new Map<string, Set<string>>();
    const need = (from: string, to: Iterable<string>) => {
      const set = needs.get(from) ?? new Set<string>();
      for (const t of to) set.add(t);
      needs.set(from, set);
    };
    for (const { au } of this.gated) if (au.prerequisites) need(au.id, requiredIds(au.prerequisites));
    for (const b of this.blocks)
      need(
        b.id,
        b.children.map((c) => c.id),
      );
    for (const { el, nodeId } of this.itemIndex.values()) {
      const p = own.get(el);
      if (p) need(nodeId, requiredIds(p));
    }
    const cycle = findCycle(needs);
    if (cycle) {
      const names = new Map([...this.itemIndex].map(([identifier, { nodeId }]) => [nodeId, identifier]));
      for (const b of this.blocks) if (!names.has(b.id)) names.set(b.id, names.get(b.children[0]?.id ?? '') ?? b.id);
      const path = cycle.map((id) => names.get(id) ?? id);
      const where = this.itemIndex.get(path[0])?.where ?? MANIFEST;
      this.add(this.version === '1.2' ? PREREQ_RULE_12 : PREREQ_RULE_2004, where, 'scorm.prereqCycle', { cycle: path.join(' → ') });
    }
  }

  /** SCORM 1.2 adlcp:masteryscore: 0–100 (cmi.student_data.mastery_score), kept scaled to 0–1. */
  private mastery12(v: string | undefined, where: string): number | undefined {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || n > 100) {
      this.add('SCORM 1.2 CAM (adlcp:masteryscore)', where, 'scorm.masteryScore', { value: v });
      return undefined;
    }
    return Math.round(n * 100) / 10000;
  }

  /** SCORM 2004: the primary objective satisfied by measure, with its imsss:minNormalizedMeasure. */
  private mastery2004(item: XmlElement, where: string): number | undefined {
    const seq = this.kid(item, 'sequencing', NS.imsss);
    const primary = seq && this.kid(this.kid(seq, 'objectives', NS.imsss) ?? seq, 'primaryObjective', NS.imsss);
    if (!primary || primary.attrs.satisfiedByMeasure?.trim() !== 'true') return undefined;
    const v = (this.kid(primary, 'minNormalizedMeasure', NS.imsss)?.text ?? '1.0').trim();
    const n = Number(v);
    if (!/^-?\d+(\.\d+)?$/.test(v) || n < -1 || n > 1) {
      this.add('SCORM 2004 SN (imsss:minNormalizedMeasure)', where, 'scorm.minNormalizedMeasure', { value: v });
      return undefined;
    }
    return Math.max(0, n);
  }

  /** The file an item launches, relative to the package root, with the item's parameters (SCORM CAM §3.4.1.10). */
  private launchUrl(res: Resource, parameters: string | undefined, isSco: boolean): string | undefined {
    const rule = 'SCORM CAM §3.4.1.16 (resource@href)';
    const href = res.base + res.href!;
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
    if (/[\s\u0000-\u001f\u007f\\]/.test(href)) {
      this.add(rule, res.where, 'href.spaces', { href });
      return undefined;
    }
    if (UNSAFE_SCHEMES.test(href)) {
      this.add(rule, res.where, 'href.scheme', { href });
      return undefined;
    }
    let url: string;
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(href)) {
      if (isSco || !/^https?:\/\/[^/]/i.test(href)) {
        this.add(rule, res.where, 'href.external', { href });
        return undefined;
      }
      url = href;
    } else {
      const baseUrl = 'http://package.invalid/root/';
      let parsed: URL;
      try {
        parsed = new URL(href, baseUrl);
      } catch {
        this.add(rule, res.where, 'href.invalid', { href });
        return undefined;
      }
      if (href.startsWith('/') || !parsed.href.startsWith(baseUrl)) {
        this.add(rule, res.where, 'href.outside', { href });
        return undefined;
      }
      let file: string;
      try {
        file = decodeURIComponent(parsed.pathname.slice('/root/'.length));
      } catch {
        this.add(rule, res.where, 'href.percent', { href });
        return undefined;
      }
      if (!this.opts.files?.has(file)) {
        this.add(rule, res.where, 'href.missing', { href, file });
        return undefined;
      }
      url = href;
    }
    if (!parameters) return url;
    // Query parameters join the href's query; a fragment goes last.
    const [query, fragment] = parameters.replace(/^\?/, '').split('#', 2) as [string, string | undefined];
    const [path, hash] = url.split('#', 2) as [string, string | undefined];
    const joined = query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path;
    const frag = fragment ?? hash;
    return frag ? `${joined}#${frag}` : joined;
  }
}

/** A path X → … → X in a "needs" graph, if there is one (iterative: a manifest may be deep). */
function findCycle(needs: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  for (const start of needs.keys()) {
    if (state.has(start)) continue;
    const stack: Array<{ id: string; next: Iterator<string> }> = [{ id: start, next: (needs.get(start) ?? new Set()).values() }];
    state.set(start, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1];
      const step = top.next.next();
      if (step.done) {
        state.set(top.id, 'done');
        stack.pop();
        continue;
      }
      const to = step.value;
      if (state.get(to) === 'open') {
        const from = stack.findIndex((f) => f.id === to);
        return [...stack.slice(from).map((f) => f.id), to];
      }
      if (!state.has(to)) {
        state.set(to, 'open');
        stack.push({ id: to, next: (needs.get(to) ?? new Set()).values() });
      }
    }
  }
  return undefined;
}

/** An attribute by its local name whatever its prefix (packages use adlcp: and other prefixes alike). */
function attrByLocal(el: XmlElement, local: string): string | undefined {
  const key = Object.keys(el.attrs).find((k) => k.slice(k.indexOf(':') + 1).toLowerCase() === local);
  return key ? el.attrs[key] : undefined;
}
