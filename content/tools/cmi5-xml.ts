/**
 * cmi5.xml for one course (cmi5 §13.1, CourseStructure.xsd), with our course metadata in the
 * foreign-namespace `<meta:courseMeta>` element the catalog importer reads.
 */
import type { CourseSource } from './load-course';
import type { Lang } from './course-schema';

export const META_NS = 'https://w3id.org/aprende-tic/xmlns/course-meta';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function langstrings(tag: string, byLang: Partial<Record<Lang, string>>, langs: readonly Lang[], indent: string): string {
  const inner = langs
    .filter((l) => byLang[l])
    .map((l) => `${indent}  <langstring lang="${l}">${esc(byLang[l]!)}</langstring>`)
    .join('\n');
  return `${indent}<${tag}>\n${inner}\n${indent}</${tag}>`;
}

export const blockIri = (courseId: string, key: string) => `${courseId}/block/${key}`;
export const auIri = (courseId: string, key: string) => `${courseId}/au/${key}`;
export const auUrl = (key: string) => `${key}/index.html`;

/** `bankDigest`: the sha256 of the assessment's item bank, which lives with the LMS and not in the package. */
export function cmi5Xml(src: CourseSource, bankDigest: string): string {
  const c = src.meta;
  const langs = c.languages;
  const auTitle = (l: Lang, key: string) =>
    key === 'assessment' ? src.assessments[l].title : src.lessons[l].find((x) => x.key === key)!.meta.title;
  const auDesc = (l: Lang, key: string) =>
    key === 'assessment' ? src.assessments[l].intro : src.lessons[l].find((x) => x.key === key)!.meta.objectives.join(' ');
  const perLang = (f: (l: Lang) => string) => Object.fromEntries(langs.map((l) => [l, f(l)])) as Partial<Record<Lang, string>>;

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push('<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">');
  out.push(`  <course id="${esc(c.id)}">`);
  out.push(langstrings('title', c.title, langs, '    '));
  out.push(langstrings('description', c.description, langs, '    '));
  out.push(`    <meta:courseMeta xmlns:meta="${META_NS}">`);
  out.push(`      <meta:version>${c.version}</meta:version>`);
  out.push(`      <meta:hours>${src.studyTime.hours}</meta:hours>`);
  out.push(`      <meta:reviewed>${c.reviewed}</meta:reviewed>`);
  out.push(`      <meta:tiers>${esc(c.tiers.join(' '))}</meta:tiers>`);
  out.push(`      <meta:levels>${esc(c.levels.join(' '))}</meta:levels>`);
  out.push(`      <meta:topics>${esc(c.topics.join(' '))}</meta:topics>`);
  out.push(`      <meta:languages>${esc(langs.join(' '))}</meta:languages>`);
  out.push(`      <meta:license>${esc(c.license)}</meta:license>`);
  for (const credit of c.credits) out.push(`      <meta:credit>${esc(credit)}</meta:credit>`);
  out.push(`      <meta:itemBank>sha256:${bankDigest}</meta:itemBank>`);
  out.push('    </meta:courseMeta>');
  out.push('  </course>');
  for (const b of c.blocks) {
    out.push(`  <block id="${esc(blockIri(c.id, b.key))}">`);
    out.push(langstrings('title', b.title, langs, '    '));
    out.push(
      langstrings(
        'description',
        perLang((l) => b.aus.map((k) => auTitle(l, k)).join('; ')),
        langs,
        '    ',
      ),
    );
    for (const key of b.aus) {
      const graded = key === 'assessment';
      const attrs = graded ? `moveOn="Passed" masteryScore="${c.masteryScore}"` : 'moveOn="Completed"';
      out.push(`    <au id="${esc(auIri(c.id, key))}" ${attrs} launchMethod="AnyWindow">`);
      out.push(
        langstrings(
          'title',
          perLang((l) => auTitle(l, key)),
          langs,
          '      ',
        ),
      );
      out.push(
        langstrings(
          'description',
          perLang((l) => auDesc(l, key)),
          langs,
          '      ',
        ),
      );
      out.push(`      <url>${auUrl(key)}</url>`);
      out.push('    </au>');
    }
    out.push('  </block>');
  }
  out.push('</courseStructure>');
  return out.join('\n') + '\n';
}
