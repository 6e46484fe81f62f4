/**
 * The builder's authoring rules (content/tools/authoring-rules.ts), the derived study time
 * (content/tools/study-time.ts) and the review date, from the sources to the admin's course list.
 */
import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { buildLibrary, DEFAULT_SRC } from '../../content/tools/build-library';
import { courseDirs, loadCourse, CourseSourceError } from '../../content/tools/load-course';
import { MAX_LONGEST_CORRECT_SHARE } from '../../content/tools/authoring-rules';
import { READING_WPM } from '../../content/tools/study-time';
import { makeUser, signIn, testApp } from '../helpers';
import { FIXTURE_SRC } from './library';

const tmp = (p: string) => mkdtempSync(path.join(os.tmpdir(), p));
const rewrite = (file: string, f: (s: string) => string) => {
  const before = readFileSync(file, 'utf8');
  const after = f(before);
  if (after === before) throw new Error(`the edit did not change ${file}`);
  writeFileSync(file, after);
};

/** A copy of the fixture course with `edit` applied; returns the course folder. */
function mutated(edit: (dir: string) => void): string {
  const src = tmp('content-rules-');
  cpSync(FIXTURE_SRC, src, { recursive: true });
  const dir = path.join(src, '01-sample-open-data');
  edit(dir);
  return dir;
}

function failure(dir: string): string {
  try {
    loadCourse(dir);
  } catch (err) {
    if (err instanceof CourseSourceError) return err.message;
    throw err;
  }
  throw new Error('the course loaded without error');
}

describe('content build: authoring rules', function () {
  this.timeout(60_000);

  it('the fixture course passes every rule (the failing cases below differ from it by one edit)', () => {
    const c = loadCourse(path.join(FIXTURE_SRC, '01-sample-open-data'));
    expect(c.reports.en).to.deep.include({ single: 6, longestCorrect: 3, multipleCorrect: [2, 3] });
  });

  it('fails when the correct option is the longest in more than the allowed share, naming the questions', () => {
    // en q1, q2 and q4 have a distractor longer than the correct option; shortening q1's tips the share over.
    const dir = mutated((d) =>
      rewrite(path.join(d, 'en', 'assessment.yaml'), (s) =>
        s.replace('Email the spreadsheet to everyone who asked for it', 'Email the spreadsheet'),
      ),
    );
    const msg = failure(dir);
    expect(msg).to.match(/en[/\\]assessment\.yaml: questions: the correct option is the longest in 4 of 6 single-answer questions \(67 %/);
    expect(msg).to.contain(`at most ${MAX_LONGEST_CORRECT_SHARE * 100} %`);
    expect(msg).to.contain('allowed: q1, q5, q7, q8)');
  });

  it('fails when every "select all that apply" question has the same number of correct options', () => {
    const dir = mutated((d) => {
      for (const [l, text] of [
        ['es', 'Revisa la licencia antes de publicar'],
        ['en', 'Check the licence before publishing'],
      ])
        rewrite(path.join(d, l, 'assessment.yaml'), (s) => s.replace(`  - text: ${text}\n    correct: true\n`, `  - text: ${text}\n`));
    });
    expect(failure(dir)).to.match(
      /es[/\\]assessment\.yaml: questions: every "select all that apply" question has exactly 2 correct options/,
    );
  });

  it('fails when every option of a "select all that apply" question is correct', () => {
    const dir = mutated((d) => {
      for (const [l, text] of [
        ['es', 'Publica el PDF escaneado'],
        ['en', 'Publish the scanned PDF'],
      ])
        rewrite(path.join(d, l, 'assessment.yaml'), (s) => {
          const at = s.indexOf('- id: q6');
          return s.slice(0, at) + s.slice(at).replace(`  - text: ${text}\n`, `  - text: ${text}\n    correct: true\n`);
        });
    });
    expect(failure(dir)).to.match(/assessment\.yaml: questions\.5\.options: every option is correct/);
  });

  it('requires a review date that exists, and refuses hours or minutes written by hand', () => {
    const yaml = (d: string) => path.join(d, 'course.yaml');
    expect(failure(mutated((d) => rewrite(yaml(d), (s) => s.replace(/^reviewed: .*\n/m, ''))))).to.match(/course\.yaml: reviewed: /);
    expect(failure(mutated((d) => rewrite(yaml(d), (s) => s.replace(/^reviewed: .*$/m, 'reviewed: 2026-02-30'))))).to.match(
      /course\.yaml: reviewed: write the date of the last review as YYYY-MM-DD/,
    );
    expect(failure(mutated((d) => rewrite(yaml(d), (s) => s.replace(/^reviewed: .*$/m, 'reviewed: "last spring"'))))).to.match(
      /course\.yaml: reviewed: write the date/,
    );
    expect(failure(mutated((d) => rewrite(yaml(d), (s) => s.replace(/^version: 1$/m, 'version: 1\nhours: 3'))))).to.match(
      /course\.yaml: hours: computed by the build from the text/,
    );
    expect(
      failure(mutated((d) => rewrite(path.join(d, 'es', 'lesson-1.md'), (s) => s.replace(/^objectives:/m, 'minutes: 20\nobjectives:')))),
    ).to.match(/es[/\\]lesson-1\.md: minutes: computed by the build/);
  });

  it('every library course passes the rules in every language, and its figures are in the manifest', async () => {
    const problems: string[] = [];
    for (const dir of courseDirs(DEFAULT_SRC)) {
      try {
        const c = loadCourse(dir);
        for (const l of c.meta.languages) expect(c.reports[l].share, `${dir} ${l}`).to.be.at.most(MAX_LONGEST_CORRECT_SHARE);
      } catch (err) {
        if (!(err instanceof CourseSourceError)) throw err;
        problems.push(err.message);
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});

describe('content build: study time derived from the text', function () {
  this.timeout(120_000);

  it(`adds one minute per ${READING_WPM} words read, rounds the course up to a quarter hour, and the package and lesson page say so`, async () => {
    const base = loadCourse(path.join(FIXTURE_SRC, '01-sample-open-data'));
    // 20 minutes of reading added to one Spanish lesson.
    const words = 20 * READING_WPM;
    const dir = mutated((d) =>
      rewrite(path.join(d, 'es', 'lesson-2.md'), (s) => `${s}\n\n${Array.from({ length: words }, () => 'palabra').join(' ')}\n`),
    );
    const longer = loadCourse(dir);
    expect(longer.studyTime.lessonMinutes[1] - base.studyTime.lessonMinutes[1]).to.be.within(20, 21);
    const total = longer.studyTime.lessonMinutes.reduce((a, b) => a + b, 0) + longer.studyTime.assessmentMinutes;
    expect(longer.studyTime.hours).to.equal(Math.ceil(total / 15) / 4);
    expect(longer.studyTime.hours).to.be.greaterThan(base.studyTime.hours);
    // The assessment counts one minute per question asked on top of reading it.
    expect(longer.studyTime.assessmentMinutes).to.be.at.least(longer.assessments.es.ask + 1);

    const out = tmp('content-hours-');
    const built = await buildLibrary({ src: path.dirname(dir), out });
    const c = built.courses[0];
    expect(c.hours).to.equal(longer.studyTime.hours);
    expect(readFileSync(path.join(c.dir, 'cmi5.xml'), 'utf8')).to.contain(`<meta:hours>${c.hours}</meta:hours>`);
    expect(readFileSync(path.join(c.dir, 'lesson-2', 'index.html'), 'utf8')).to.contain(
      `Tiempo estimado: ${longer.studyTime.lessonMinutes[1]} minutos`,
    );
  });
});

describe('catalog: review date of an installed course', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin] });
  });
  after(async () => lms?.close());

  it('is stored from the package and flagged in the admin course list once it is two years old', async () => {
    const courses = lms.services.get('catalog.courses');
    const install = async (reviewed: string) => {
      const dir = mutated((d) => rewrite(path.join(d, 'course.yaml'), (s) => s.replace(/^reviewed: .*$/m, `reviewed: ${reviewed}`)));
      const [c] = (await buildLibrary({ src: path.dirname(dir), out: tmp('content-reviewed-') })).courses;
      return courses.importPackage({ filePath: c.zip, originalName: `${c.slug}.zip` });
    };
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const now = new Date();
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    const recent = new Date(now);
    recent.setUTCMonth(recent.getUTCMonth() - 23);
    const old = new Date(now);
    old.setUTCMonth(old.getUTCMonth() - 25);

    const { courseId } = await install(iso(recent));
    expect((await courses.getCourse(courseId))!.reviewed).to.equal(iso(recent));
    let page = (await agent.get('/catalog/admin/courses').expect(200)).text;
    expect(page).to.contain(iso(recent));
    expect(page).to.not.contain('Revisión vencida');

    await install(iso(old));
    expect((await courses.getCourse(courseId))!.reviewed).to.equal(iso(old));
    page = (await agent.get('/catalog/admin/courses').expect(200)).text;
    expect(page).to.contain(`${iso(old)} <strong>Revisión vencida`);
    const detail = (await agent.get(`/catalog/admin/course?id=${encodeURIComponent(courseId)}`).expect(200)).text;
    expect(detail).to.contain('Revisión vencida');
  });
});
