/**
 * The built-in library's assessments are scored by the LMS: questions drawn from an item bank,
 * answers posted to the server, and "passed"/"failed" accepted only as the LMS scored an attempt
 * of the session. A learner holding their own launch credential cannot obtain a satisfied course
 * (or a certificate) by posting "passed". The AU here is an outsider's: plain fetch, URLs built by
 * appending to the launch parameters and to the scoring address LMS.LaunchData names.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { certificatesPlugin } from '../../server/plugins/certificates';
import { installLibrary } from '../../server/plugins/catalog/library';
import { loadCourse } from '../../content/tools/load-course';
import { itemBank, type ItemBank } from '../../content/tools/item-bank';
import { SCORING_EXTENSION, type AttemptView, type ScoredView } from '../../content/runtime/scoring';
import { makeUser, settled, signIn, testApp } from '../helpers';
import { FIXTURE_SRC } from '../content/library';
import { cmi5Xml, importXml, launchAu } from './launch-fixtures';
import { ThirdPartyAu } from './third-party-au';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const fixtureDir = path.join(FIXTURE_SRC, readdirSync(FIXTURE_SRC)[0]);

describe('catalog: assessments scored by the LMS (item banks)', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  let server: Server;
  let courseId: string;
  let buildDir: string;
  const bank: ItemBank = itemBank(loadCourse(fixtureDir));

  before(async () => {
    const port = await freePort();
    buildDir = mkdtempSync(path.join(os.tmpdir(), 'scoring-build-'));
    lms = await testApp({
      plugins: [accountsPlugin, lrsPlugin, catalogPlugin, certificatesPlugin],
      env: { BASE_URL: `http://127.0.0.1:${port}`, CONTENT_BUILD_DIR: buildDir },
    });
    server = lms.app.listen(port, '127.0.0.1');
    courseId = (await installLibrary(lms, { src: FIXTURE_SRC })).courses[0].courseId;
  });
  after(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await lms?.close();
  });

  const learner = async (): Promise<{ agent: TestAgent; id: string }> => {
    const u = await makeUser(lms, { language: 'en', tier: 'all', level: 'local' });
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    return { agent, id: u.id };
  };
  const open = async (agent: TestAgent, au: string) => {
    const a = await new ThirdPartyAu((await launchAu(agent, courseId, `${courseId}/au/${au}`)).location.href).start();
    expect((await a.send(a.statement('initialized'))).status).to.equal(204);
    return a;
  };
  /** The scoring service, called as the page does: Basic auth with the AU's launch token. */
  const scoring = async (au: ThirdPartyAu, suffix: string, body: unknown = {}, auth = au.auth) => {
    const res = await fetch(`${au.launchData[SCORING_EXTENSION] as string}${suffix}`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => undefined)) as unknown,
      cors: res.headers.get('access-control-allow-origin'),
    };
  };
  const draw = async (au: ThirdPartyAu) => {
    const r = await scoring(au, '/attempts');
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body as AttemptView;
  };
  /** The right options of each question shown, found from the bank by text (the attempt carries no key). */
  const key = (a: AttemptView) =>
    Object.fromEntries(
      a.questions.map((q) => {
        const item = bank.items.find((i) => i.text.en === q.text.en)!;
        return [q.id, q.options.flatMap((o, k) => (item.options.find((x) => x.text.en === o.text.en)!.correct ? [k] : []))];
      }),
    );
  /** One wrong option of a question (a multi-select question with it alone is wrong too). */
  const wrongOf = (a: AttemptView, right: Record<string, number[]>, q: string) => {
    const n = a.questions.find((x) => x.id === q)!.options.length;
    return [[...Array(n).keys()].find((i) => !right[q].includes(i))!];
  };
  const progressOf = async (userId: string) => (await lms.services.get('catalog').progressOf(userId, [courseId]))[0];
  const certificates = (userId: string) => lms.db.collection('certificates_certificates').countDocuments({ userId, kind: 'course' });
  const passedStatement = (au: ThirdPartyAu, scaled: number, raw: number, max: number) =>
    au.statement('passed', { success: true, score: { scaled, raw, min: 0, max }, duration: 'PT1M' });
  const finishLessons = async (agent: TestAgent) => {
    for (const l of ['lesson-1', 'lesson-2', 'lesson-3']) {
      const a = await open(agent, l);
      expect((await a.send(a.statement('completed', { completion: true, duration: 'PT1M' }))).status).to.equal(204);
      expect((await a.send(a.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    }
  };

  it('a learner posting "passed" with their own launch credential is refused: no satisfied course, no certificate', async () => {
    const { agent, id } = await learner();
    await finishLessons(agent);
    const au = await open(agent, 'assessment');
    const r = await au.send(passedStatement(au, 1, bank.ask, bank.ask));
    expect(r.status, r.text).to.equal(403);
    expect(r.text).to.match(/scored by the LMS/);
    // Nor a "passed" with a made-up score after an attempt the LMS failed.
    const a = await draw(au);
    const right = key(a);
    const answers = Object.fromEntries(a.questions.map((q) => [q.id, wrongOf(a, right, q.id)]));
    const sr = await scoring(au, `/attempts/${a.attempt}`, { answers });
    expect(sr.status, JSON.stringify(sr.body)).to.equal(200);
    const scored = sr.body as ScoredView;
    expect(scored.passed).to.equal(false);
    expect((await au.send(passedStatement(au, 1, bank.ask, bank.ask))).status).to.equal(403);
    expect((await au.send(au.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    await settled(lms);
    const p = await progressOf(id);
    expect(p.satisfied).to.equal(false);
    expect(await certificates(id)).to.equal(0);
  });

  it('answering correctly: the LMS scores the attempt and accepts the "passed" that reports it; the course and certificate follow', async () => {
    const { agent, id } = await learner();
    await finishLessons(agent);
    const au = await open(agent, 'assessment');
    const a = await draw(au);
    // What the page receives holds no key and no feedback.
    expect(JSON.stringify(a)).to.not.match(/correct|feedback/i);
    expect(a.questions).to.have.length(bank.ask);
    const right = key(a);
    const r = await scoring(au, `/attempts/${a.attempt}`, { answers: right });
    expect(r.status).to.equal(200);
    expect(r.cors).to.equal('*');
    const s = r.body as ScoredView;
    expect([s.raw, s.max, s.scaled, s.passed]).to.deep.equal([bank.ask, bank.ask, 1, true]);
    // Only the chosen options are explained.
    for (const q of a.questions) expect(s.questions[q.id].feedback).to.have.length(right[q.id].length);
    // A "passed" reporting another score than the LMS's is refused; the LMS's is accepted.
    expect((await au.send(passedStatement(au, 0.9, bank.ask, bank.ask))).status).to.equal(403);
    expect((await au.send(passedStatement(au, 1, bank.ask, bank.ask))).status).to.equal(204);
    expect((await au.send(au.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    await settled(lms);
    expect((await progressOf(id)).satisfied).to.equal(true);
    expect(await certificates(id)).to.equal(1);
  });

  it('a failed attempt is accepted as "failed" with the LMS score, and a second attempt of the session can pass', async () => {
    const { agent } = await learner();
    const au = await open(agent, 'assessment');
    const first = await draw(au);
    const r1 = key(first);
    // All right but one: 3 of 4 = 0.75, the fixture's mastery score: passes. All right but two fails.
    const answers = Object.fromEntries(first.questions.map((q, i) => [q.id, i < 2 ? wrongOf(first, r1, q.id) : r1[q.id]]));
    const s1 = (await scoring(au, `/attempts/${first.attempt}`, { answers })).body as ScoredView;
    expect([s1.raw, s1.scaled, s1.passed]).to.deep.equal([bank.ask - 2, 0.5, false]);
    const second = await draw(au);
    const s2 = (await scoring(au, `/attempts/${second.attempt}`, { answers: key(second) })).body as ScoredView;
    expect(s2.passed).to.equal(true);
    const failed = au.statement('failed', { success: false, score: { scaled: 0.5, raw: 2, min: 0, max: 4 }, duration: 'PT1M' });
    expect((await au.send(failed)).status).to.equal(204);
  });

  it('two attempts draw different questions or orders, and each stays scorable', async () => {
    const { agent } = await learner();
    const au = await open(agent, 'assessment');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const a = await draw(au);
      seen.add(JSON.stringify(a.questions));
      const s = (await scoring(au, `/attempts/${a.attempt}`, { answers: key(a) })).body as ScoredView;
      expect(s.scaled, `attempt ${i}`).to.equal(1);
    }
    expect(seen.size).to.be.at.least(5);
  });

  it('hostile calls: no or another credential, a lesson, bad answers, a second scoring, an ended session', async () => {
    const { agent } = await learner();
    const au = await open(agent, 'assessment');
    expect((await scoring(au, '/attempts', {}, '')).status).to.equal(401);
    expect((await scoring(au, '/attempts', {}, 'Basic bm9ib2R5Om5vdGhpbmc=')).status).to.equal(401);
    const a = await draw(au);
    // Another learner's session cannot score it.
    const other = await open((await learner()).agent, 'assessment');
    expect((await scoring(other, `/attempts/${a.attempt}`, { answers: key(a) })).status).to.equal(404);
    // A lesson is not scored by the LMS.
    const lesson = await open(agent, 'lesson-1');
    expect(lesson.launchData[SCORING_EXTENSION]).to.equal(undefined);
    expect((await scoring(au, '/attempts', {}, lesson.auth)).status).to.equal(404);
    const again = await open(agent, 'assessment');
    const b = await draw(again);
    const right = key(b);
    for (const [body, why] of [
      [{}, /answers/],
      [{ answers: [] }, /answers/],
      [{ answers: { ...right, q99: [0] } }, /q99/],
      [{ answers: { ...right, q1: [] } }, /answers\.q1/],
      [{ answers: { ...right, q1: [7] } }, /answers\.q1/],
      [{ answers: { ...right, q1: ['0'] } }, /answers\.q1/],
      [{ answers: { ...right, q1: [0, 0] } }, /answers\.q1/],
    ] as const) {
      const r = await scoring(again, `/attempts/${b.attempt}`, body);
      expect(r.status, JSON.stringify(body)).to.equal(400);
      expect(JSON.stringify(r.body)).to.match(why);
    }
    const single = b.questions.find((q) => !q.multiple)!;
    const r2 = await scoring(again, `/attempts/${b.attempt}`, { answers: { ...right, [single.id]: [0, 1] } });
    expect(r2.status).to.equal(400);
    expect((await scoring(again, `/attempts/${b.attempt}`, { answers: right })).status).to.equal(200);
    expect((await scoring(again, `/attempts/${b.attempt}`, { answers: right })).status).to.equal(409);
    expect((await again.send(again.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    await settled(lms);
    expect((await scoring(again, '/attempts')).status).to.equal(403);
  });

  it("the course page says whose word the result is: the platform's for the library, the course's for a third-party AU", async () => {
    const { agent } = await learner();
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(courseId)}`).expect(200);
    expect(page.text).to.match(/id="course-scoring">Scored by the platform/);
    const other = 'https://vendor.example.com/cmi5/quiz-course';
    await importXml(lms, cmi5Xml(other, 'Quiz', [{ au: `${other}/au/quiz`, moveOn: 'Passed', masteryScore: 0.8 }]));
    const third = await agent.get(`/catalog/course?id=${encodeURIComponent(other)}`).expect(200);
    expect(third.text).to.match(/id="course-scoring">Scored by the course itself/);
  });

  it("a learner's browser cannot read the key: every file the assessment can load, its launch data and its attempts", async () => {
    const { agent } = await learner();
    const launched = await launchAu(agent, courseId, `${courseId}/au/assessment`);
    const au = await new ThirdPartyAu(launched.location.href).start();
    // What would give the key away: a correct flag, or any option's feedback (it says right or wrong, and why).
    const secrets = bank.items.flatMap((i) => i.options.flatMap((o) => bank.languages.map((l) => o.feedback[l])));
    const leaks = (body: string) => [/"correct"|au-key/i.exec(body)?.[0], ...secrets.filter((s) => body.includes(s))].filter(Boolean);
    // Every file of the package, fetched through the content route the page itself loads from.
    const slug = (JSON.parse(readFileSync(path.join(buildDir, 'manifest.json'), 'utf8')) as { courses: Array<{ slug: string }> }).courses[0]
      .slug;
    const root = path.join(buildDir, slug);
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => !statSync(path.join(root, f)).isDirectory());
    expect(files).to.include.members(['cmi5.xml', 'runtime.js', path.join('assessment', 'index.html')]);
    const base = new URL('..', launched.location);
    for (const f of files) {
      const res = await fetch(new URL(f.split(path.sep).join('/'), base));
      expect(res.status, f).to.equal(200);
      expect(leaks(await res.text()), f).to.deep.equal([]);
    }
    // The bank beside the zip is reachable by no URL of the library.
    for (const p of [`/catalog/library/${slug}.json`, `/catalog/library/banks/${slug}.json`, `/catalog/library/banks%2F${slug}.json`])
      expect((await fetch(`${(lms.config as { baseUrl: string }).baseUrl}${p}`)).status, p).to.equal(404);
    // What the AU reads with its launch credential: LMS.LaunchData, then the attempts it draws.
    const data = await au.state('GET', 'LMS.LaunchData');
    expect(data.status).to.equal(200);
    expect(leaks(data.text)).to.deep.equal([]);
    for (let i = 0; i < 3; i++) {
      const r = await scoring(au, '/attempts');
      expect(leaks(JSON.stringify(r.body))).to.deep.equal([]);
      const a = r.body as AttemptView;
      expect(Object.keys(a).sort()).to.deep.equal(['attempt', 'masteryScore', 'questions']);
      for (const q of a.questions) {
        expect(Object.keys(q).sort()).to.deep.equal(['id', 'multiple', 'options', 'text']);
        for (const o of q.options) expect(Object.keys(o)).to.deep.equal(['text']);
      }
    }
  });

  it('the package and its public download carry no answer key; the bank stays beside it', async () => {
    const built = JSON.parse(readFileSync(path.join(buildDir, 'manifest.json'), 'utf8')) as {
      courses: Array<{ slug: string; zip: string }>;
    };
    const zip = readFileSync(path.join(buildDir, built.courses[0].zip));
    const res = await fetch(`${(lms.config as { baseUrl: string }).baseUrl}/catalog/library/${built.courses[0].slug}.zip`);
    expect(Buffer.from(await res.arrayBuffer()).equals(zip)).to.equal(true);
    // No question of the bank is in any page: neither its text nor its feedback.
    const dir = path.join(buildDir, built.courses[0].slug, 'assessment');
    for (const f of readdirSync(dir)) {
      const html = readFileSync(path.join(dir, f), 'utf8');
      for (const item of bank.items) {
        expect(html).to.not.contain(item.text.es);
        for (const o of item.options) expect(html).to.not.contain(o.feedback.es);
      }
    }
  });
});
