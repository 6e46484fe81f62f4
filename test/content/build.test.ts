import { expect } from 'chai';
import { cpSync, existsSync, rmSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { validateXML } from 'xmllint-wasm';
import yauzl from 'yauzl';
import { buildLibrary, readManifest } from '../../content/tools/build-library';
import { courseDirs, loadCourse, CourseSourceError } from '../../content/tools/load-course';
import { DEFAULT_SRC } from '../../content/tools/build-library';
import { FIXTURE_SRC, allBuilt, builtFixture, builtLibrary, pageWeight, gz } from './library';

const XSD = readFileSync(path.join(__dirname, '..', '..', 'server', 'plugins', 'catalog', 'package', 'course-structure.xsd'), 'utf8');
const tmp = (p: string) => mkdtempSync(path.join(os.tmpdir(), p));

function zipEntries(file: string): Promise<Array<{ name: string; mtime: string; size: number }>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out: Array<{ name: string; mtime: string; size: number }> = [];
      zip.on('entry', (e: yauzl.Entry) => {
        out.push({ name: e.fileName, mtime: e.getLastModDate().toISOString(), size: e.uncompressedSize });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('content build: packages', function () {
  this.timeout(120_000);

  it('is deterministic: two clean builds give byte-identical zips and files', async () => {
    const a = await buildLibrary({ src: FIXTURE_SRC, out: tmp('content-a-'), force: true });
    const b = await buildLibrary({ src: FIXTURE_SRC, out: tmp('content-b-'), force: true });
    expect(a.courses).to.have.length(1);
    expect(a.courses[0].sha256).to.equal(b.courses[0].sha256);
    expect(readFileSync(a.courses[0].zip).equals(readFileSync(b.courses[0].zip))).to.equal(true);
    const entries = await zipEntries(a.courses[0].zip);
    const names = entries.map((e) => e.name);
    expect(names).to.deep.equal([...names].sort());
    expect(new Set(entries.map((e) => e.mtime)).size).to.equal(1); // one fixed timestamp
    for (const e of entries) expect(readFileSync(path.join(a.courses[0].dir, e.name)).length).to.equal(e.size);
  });

  it('does not rebuild unchanged sources, and rebuilds when a lesson changes', async () => {
    const src = tmp('content-src-');
    cpSync(FIXTURE_SRC, src, { recursive: true });
    const out = tmp('content-out-');
    const lines: string[] = [];
    const first = await buildLibrary({ src, out });
    await buildLibrary({ src, out, log: (l) => lines.push(l) });
    expect(lines).to.deep.equal(['unchanged sample-open-data']);
    const lesson = path.join(src, '01-sample-open-data', 'es', 'lesson-2.md');
    writeFileSync(lesson, readFileSync(lesson, 'utf8') + '\nUn párrafo nuevo.\n');
    const third = await buildLibrary({ src, out });
    expect(third.courses[0].sha256).to.not.equal(first.courses[0].sha256);
    expect(readFileSync(path.join(out, 'sample-open-data', 'lesson-2', 'index.html'), 'utf8')).to.contain('Un párrafo nuevo.');
    expect(readManifest(out)!.courses[0].sha256).to.equal(third.courses[0].sha256);
  });

  it('writes a cmi5.xml that the CourseStructure XSD accepts, with the structure course.yaml describes', async () => {
    for (const c of await allBuilt()) {
      const xml = readFileSync(path.join(c.dir, 'cmi5.xml'), 'utf8');
      const result = await validateXML({ xml: [{ fileName: 'cmi5.xml', contents: xml }], schema: [XSD] });
      expect(result.valid, `${c.slug}: ${result.rawOutput}`).to.equal(true);

      const doc = new XMLParser({
        ignoreAttributes: false,
        attributeNamePrefix: '',
        isArray: (n) => ['block', 'au', 'langstring', 'meta:credit'].includes(n),
      }).parse(xml);
      const course = doc.courseStructure.course;
      expect(course.id).to.equal(c.id);
      expect(course['meta:courseMeta']['meta:tiers']).to.equal(c.tiers.join(' '));
      const aus = doc.courseStructure.block.flatMap((b: { id: string; au: Array<Record<string, unknown>> }) => {
        expect(b.id.startsWith(`${c.id}/block/`)).to.equal(true);
        return b.au;
      });
      const lessons = aus.filter((a: Record<string, string>) => /\/au\/lesson-\d+$/.test(a.id));
      const graded = aus.filter((a: Record<string, string>) => a.id === `${c.id}/au/assessment`);
      expect(lessons.length, c.slug).to.be.at.least(3);
      expect(graded).to.have.length(1);
      for (const l of lessons) expect([l.moveOn, l.masteryScore]).to.deep.equal(['Completed', undefined]);
      expect(graded[0].moveOn).to.equal('Passed');
      expect(Number(graded[0].masteryScore)).to.be.within(0.01, 1);
      for (const au of aus) {
        expect(au.launchMethod).to.equal('AnyWindow');
        expect(existsSync(path.join(c.dir, String(au.url))), `${c.slug}: ${au.url}`).to.equal(true);
      }
    }
  });

  it('keeps every AU page within 200 KB transferred (gzip of page + script + CSS + language fragment)', async () => {
    const figures: string[] = [];
    for (const c of await allBuilt()) {
      const langs = loadCourseLanguages(c.dir);
      for (const au of readdirSync(c.dir).filter((d) => existsSync(path.join(c.dir, d, 'index.html')))) {
        const weight = pageWeight(c.dir, au, langs);
        figures.push(`${c.slug}/${au}: ${(weight / 1024).toFixed(1)} KB`);
        expect(weight, `${c.slug}/${au}`).to.be.at.most(200 * 1024);
      }
      expect(gz(path.join(c.dir, 'runtime.js'))).to.be.below(60 * 1024);
    }
    if (process.env.CONTENT_WEIGHTS) console.log(figures.join('\n'));
  });
});

function loadCourseLanguages(dir: string): string[] {
  const xml = readFileSync(path.join(dir, 'cmi5.xml'), 'utf8');
  return /<meta:languages>([^<]*)<\/meta:languages>/.exec(xml)![1].split(' ');
}

describe('content build: authoring format', function () {
  this.timeout(60_000);

  it('every library course has ≥ 3 lessons and an assessment in each of its languages, with matching question ids', async () => {
    const dirs = courseDirs(DEFAULT_SRC);
    expect(dirs.length).to.be.at.least(1);
    const problems: string[] = [];
    for (const dir of dirs) {
      try {
        const c = loadCourse(dir);
        for (const l of c.meta.languages) {
          expect(c.lessons[l].length).to.be.at.least(3);
          expect(c.assessments[l].questions.map((q) => q.id)).to.deep.equal(c.assessments.es.questions.map((q) => q.id));
        }
      } catch (err) {
        if (!(err instanceof CourseSourceError)) throw err;
        problems.push(err.message);
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
    const built = await builtLibrary();
    expect(built.courses.map((c) => c.slug).sort()).to.deep.equal(dirs.map((d) => path.basename(d).replace(/^\d+-/, '')).sort());
  });

  describe('rejects sources that break the format, naming the file and the rule', () => {
    function mutated(edit: (dir: string) => void): string {
      const src = tmp('content-bad-');
      cpSync(FIXTURE_SRC, src, { recursive: true });
      const dir = path.join(src, '01-sample-open-data');
      edit(dir);
      return dir;
    }
    const rewrite = (file: string, f: (s: string) => string) => writeFileSync(file, f(readFileSync(file, 'utf8')));
    const cases: Array<[string, (dir: string) => void, RegExp]> = [
      [
        'a question without a correct option',
        (d) => rewrite(path.join(d, 'en', 'assessment.yaml'), (s) => s.replace('    correct: true\n', '')),
        /en[/\\]assessment\.yaml: (questions\.0\.options: no option is marked correct|q1: options or correct answers differ)/,
      ],
      [
        'a single-choice question with two correct options',
        (d) =>
          rewrite(path.join(d, 'es', 'assessment.yaml'), (s) =>
            s.replace(
              "feedback: 'No: un PDF escaneado no es reutilizable.'",
              "correct: true\n    feedback: 'No: un PDF escaneado no es reutilizable.'",
            ),
          ),
        /es[/\\]assessment\.yaml: questions\.0\.options: several correct options/,
      ],
      ['a lesson missing in one language', (d) => rmSync(path.join(d, 'en', 'lesson-3.md')), /en[/\\]lesson-3\.md: missing/],
      [
        'a lesson without front matter',
        (d) => rewrite(path.join(d, 'en', 'lesson-2.md'), (s) => s.replace(/^---[\s\S]*?---\n/, '')),
        /en[/\\]lesson-2\.md: must start with a "---" front matter/,
      ],
      [
        'a level-1 heading in a lesson',
        (d) => rewrite(path.join(d, 'es', 'lesson-1.md'), (s) => s.replace('## Qué es', '# Qué es')),
        /lesson-1\.md: use "##" and "###" headings/,
      ],
      [
        'an unknown tier',
        (d) => rewrite(path.join(d, 'course.yaml'), (s) => s.replace('tiers: [all, technical]', 'tiers: [everyone]')),
        /course\.yaml: tiers\.0: /,
      ],
      [
        'a slug that does not match its folder',
        (d) => rewrite(path.join(d, 'course.yaml'), (s) => s.replace('slug: sample-open-data', 'slug: other')),
        /does not match the folder name/,
      ],
      [
        'an item bank with fewer than twice the questions it asks',
        (d) => rewrite(path.join(d, 'es', 'assessment.yaml'), (s) => s.replace('ask: 4', 'ask: 5')),
        /es[/\\]assessment\.yaml: questions: the bank has 8 questions for 5 asked; it needs at least 10/,
      ],
      [
        'an assessment that does not say how many questions to ask',
        (d) => rewrite(path.join(d, 'es', 'assessment.yaml'), (s) => s.replace(/^ask: 4\n/m, '')),
        /es[/\\]assessment\.yaml: ask: /,
      ],
      [
        'question ids out of order',
        (d) => rewrite(path.join(d, 'es', 'assessment.yaml'), (s) => s.replace('- id: q2', '- id: q9')),
        /questions\.1\.id: expected q2/,
      ],
    ];
    for (const [what, edit, message] of cases) {
      it(what, () => {
        const dir = mutated(edit);
        expect(() => loadCourse(dir)).to.throw(CourseSourceError, message);
      });
    }

    it('still builds the valid courses when one is broken, and reports the broken one', async () => {
      const src = tmp('content-mixed-');
      cpSync(path.join(FIXTURE_SRC, '01-sample-open-data'), path.join(src, '01-sample-open-data'), { recursive: true });
      cpSync(path.join(FIXTURE_SRC, '01-sample-open-data'), path.join(src, '02-broken-course'), { recursive: true });
      const m = await buildLibrary({ src, out: tmp('content-mixed-out-') });
      expect(m.courses.map((c) => c.slug)).to.deep.equal(['sample-open-data']);
      expect(m.errors).to.have.length(1);
      expect(m.errors![0].message).to.match(/02-broken-course[/\\]course\.yaml: slug "sample-open-data" does not match/);
    });
  });

  it('renders lesson Markdown safely: raw HTML shown as text, tables with header scope, section ids shared across languages', async () => {
    const c = (await builtFixture()).courses[0];
    const es = readFileSync(path.join(c.dir, 'lesson-1', 'index.html'), 'utf8');
    const en = readFileSync(path.join(c.dir, 'lesson-1', 'en.html'), 'utf8');
    expect(es).to.not.contain("<script>alert('raw html");
    expect(es).to.contain('&#60;script&#62;alert(');
    expect(es).to.contain('<th scope="col">Formato</th>');
    expect(es.match(/id="au-s-\d+"/g)).to.deep.equal(en.match(/id="au-s-\d+"/g));
    expect(es.match(/<h1[ >]/g)).to.have.length(1);
  });
});
