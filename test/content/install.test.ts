import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { contentInstallCommand, installLibrary } from '../../server/plugins/catalog/library';
import { testApp, binaryParser } from '../helpers';
import { loadCourse } from '../../content/tools/load-course';
import { FIXTURE_SRC, builtLibrary } from './library';

const plugins = [accountsPlugin, lrsPlugin, catalogPlugin];

describe('content library: install into the catalog', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  const buildDir = mkdtempSync(path.join(os.tmpdir(), 'content-install-'));

  before(async () => {
    lms = await testApp({ plugins, env: { CONTENT_BUILD_DIR: buildDir } });
  });
  after(async () => lms?.close());

  it('the importer accepts every built library package', async () => {
    const courses = lms.services.get('catalog.courses');
    const built = await builtLibrary();
    expect(built.courses.length).to.be.at.least(1);
    for (const c of built.courses) {
      const r = await courses.importPackage({ filePath: c.zip, originalName: `${c.slug}.zip` });
      expect(r.courseId).to.equal(c.id);
      const version = await courses.getVersion(r.courseId, r.version);
      expect(version!.auCount).to.be.at.least(4);
    }
  });

  it('installs the fixture course published, on the paths of its tiers, and a second run changes nothing', async () => {
    const first = await installLibrary(lms, { src: FIXTURE_SRC });
    expect(first.errors).to.deep.equal([]);
    expect(first.courses).to.have.length(1);
    const { courseId, version, alreadyInstalled } = first.courses[0];
    expect([version, alreadyInstalled]).to.deep.equal([1, false]);

    const course = await lms.services.get('catalog.courses').getCourse(courseId);
    expect(course!.published).to.equal(true);
    expect(course!.tiers).to.deep.equal(['all', 'technical']);
    // Hours derived by the build from the text (content/tools/study-time.ts), not typed by the author.
    expect(course!.hours)
      .to.equal(loadCourse(path.join(FIXTURE_SRC, '01-sample-open-data')).studyTime.hours)
      .and.to.be.greaterThan(0);
    expect(course!.title.find((t) => t.lang === 'en')?.text).to.equal('Open data at the office (test course)');
    // Levels national + local (not all three): the course joins those levels' paths of each tier.
    const paths = lms.services.get('catalog.paths');
    expect(await paths.requiredCourses('all', 'local')).to.include(courseId);
    expect(await paths.requiredCourses('technical', 'national')).to.include(courseId);
    expect(await paths.requiredCourses('all', 'regional')).to.not.include(courseId);

    const second = await installLibrary(lms, { src: FIXTURE_SRC });
    expect(second.courses[0]).to.include({ version: 1, alreadyInstalled: true });
    expect(second.pathsAdded).to.equal(0);
    expect(await lms.services.get('catalog.courses').listVersions(courseId)).to.have.length(1);
  });

  it('an unpublished library course stays unpublished when the library is installed again', async () => {
    const courses = lms.services.get('catalog.courses');
    const [{ courseId }] = (await installLibrary(lms, { src: FIXTURE_SRC })).courses;
    await courses.setPublished(courseId, false);
    await installLibrary(lms, { src: FIXTURE_SRC, forceBuild: true });
    expect((await courses.getCourse(courseId))!.published).to.equal(false);
    await courses.setPublished(courseId, true);
  });

  it('content:install reports and exits 0', async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      const code = await contentInstallCommand.run(lms, {}, []);
      expect(code).to.equal(0);
    } finally {
      console.log = log;
    }
    expect(lines.at(-1)).to.match(/^\d+ library course\(s\): \d+ new version\(s\)/);
  });

  it('serves each built package as a zip download, and 404 for unknown names', async () => {
    const agent = supertest(lms.app);
    const manifest = JSON.parse(readFileSync(path.join(buildDir, 'manifest.json'), 'utf8')) as {
      courses: Array<{ slug: string; sha256: string; zip: string }>;
    };
    const c = manifest.courses[0];
    const res = await agent.get(`/catalog/library/${c.slug}.zip`).buffer(true).parse(binaryParser);
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/zip');
    expect(res.headers['content-disposition']).to.equal(`attachment; filename="${c.slug}.zip"`);
    expect((res.body as Buffer).equals(readFileSync(path.join(buildDir, c.zip)))).to.equal(true);
    await agent.get(`/catalog/library/${c.slug}.zip`).set('If-None-Match', `"${c.sha256}"`).expect(304);
    await agent.get('/catalog/library/no-such-course.zip').expect(404);
    await agent.get('/catalog/library/..%2Fmanifest.json').expect(404);
  });
});

describe('content library: the default paths of a fresh install', function () {
  this.timeout(180_000);
  let lms: LmsApp;

  before(async () => {
    lms = await testApp({ plugins, env: { CONTENT_BUILD_DIR: mkdtempSync(path.join(os.tmpdir(), 'content-paths-')) } });
    const report = await installLibrary(lms);
    expect(report.errors).to.deep.equal([]);
  });
  after(async () => lms?.close());

  it('gives every tier, at every level, the shared courses and at least two of its own, all published and scored by the platform', async () => {
    const paths = lms.services.get('catalog.paths');
    const courses = lms.services.get('catalog.courses');
    const slug = (id: string) => id.split('/').pop()!;
    const shared = ['e-government-fundamentals', 'digital-security-data-protection', 'citizen-service-accessibility'];
    const own: Record<string, string[]> = {
      technical: ['electronic-documents-signatures', 'interoperability-one-stop-shops', 'digital-public-procurement'],
      manager: [
        'electronic-documents-signatures',
        'open-data-decisions',
        'ai-public-administration',
        'digital-public-procurement',
        'data-governance',
      ],
      'decision-maker': ['open-data-decisions', 'leading-digital-transformation', 'ai-public-administration', 'national-digital-strategy'],
      'ict-specialist': ['electronic-documents-signatures', 'interoperability-one-stop-shops', 'cybersecurity-incident-response'],
    };
    for (const level of ['national', 'regional', 'local'] as const) {
      expect((await paths.requiredCourses('all', level)).map(slug), level).to.have.members(shared);
      for (const [tier, courseSlugs] of Object.entries(own)) {
        const required = (await paths.requiredCourses(tier, level)).map(slug);
        expect(required, `${tier} at ${level}`).to.include.members([...shared, ...courseSlugs]);
        expect(required.length - shared.length, `${tier} at ${level}`).to.be.at.least(2);
      }
    }
    // The 20-minute briefings are optional: published, on no tier's path, and 20 minutes long by the stated method.
    for (const briefingSlug of ['leading-digital-transformation-briefing', 'national-digital-strategy-briefing']) {
      const briefing = (await builtLibrary()).courses.find((c) => c.slug === briefingSlug)!;
      expect(briefing.lessonMinutes.reduce((a, b) => a + b, 0) + briefing.assessmentMinutes, briefingSlug).to.be.at.most(20);
      for (const tier of ['all', ...Object.keys(own)])
        for (const level of ['national', 'regional', 'local'] as const)
          expect((await paths.requiredCourses(tier, level)).map(slug)).to.not.include(briefing.slug);
    }
    for (const c of await courses.listCourses()) {
      expect(c.published, c._id).to.equal(true);
      const graded = `${c._id}/au/assessment`;
      expect(await lms.services.get('catalog.assessments').scores(c._id, c.currentVersion, graded), c._id).to.equal(true);
    }
  });
});
