/**
 * The SCORM runtime over HTTP, as the page in the SCO's window talks to it: launch, the one-time
 * start URL, commits (initialize, commit, terminate) with retries, resume of a suspended attempt,
 * the xAPI statements of ADL's SCORM profile in our LRS, and a SCORM course that satisfies a
 * path, issues the certificates and makes the person "trained" — with every plugin running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, settled, signIn, testApp } from '../helpers';
import { HEADER, importRoster, seedOrg } from '../reports/fixtures';
import { writeZip } from './fixtures/packages';
import { manifestXml, scormZip } from './fixtures/scorm-packages';

interface Stmt {
  verb: { id: string };
  object: { definition: { type?: string; interactionType?: string } };
  result: Record<string, unknown>;
  context: { contextActivities: { grouping: Array<{ id: string; definition: { type: string } }>; category?: Array<{ id: string }> } };
}

const PROFILE = 'http://adlnet.gov/xapi/profile/scorm';
const V = (verb: string) => `http://adlnet.gov/expapi/verbs/${verb}`;

describe('catalog: SCORM runtime (commits, resume, xAPI, path, certificate, trained)', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  let dir: string;
  let lrsAuth: string;
  let course12: string;
  let course2004: string;
  let user: Express.User;

  const learner = () => lms.services.get('accounts.users').findByEmail('ana@a.example') as Promise<Express.User>;
  const registrationOf = async (courseId: string) => (await lms.services.get('catalog.paths').enrollment(user.id, courseId))!.registration;
  const launch = async (courseId: string, auId: string, mode?: 'Normal' | 'Browse' | 'Review') => {
    const r = await lms.services.get('catalog.launch').launch(user, await registrationOf(courseId), auId, mode);
    return new URL(r.url);
  };
  const start = async (url: URL) => {
    const res = await supertest(lms.app)
      .post(`/catalog/scorm/start/${url.searchParams.get('lms-scorm')}`)
      .set('Content-Type', 'text/plain')
      .send('');
    expect(res.status, res.text).to.equal(200);
    return res.body as { key: string; version: string; commitUrl: string; cmi: Record<string, unknown> };
  };
  const commit = (body: unknown) =>
    supertest(lms.app)
      .post('/catalog/scorm/commit')
      .set('Content-Type', 'text/plain')
      .send(typeof body === 'string' ? body : JSON.stringify(body));
  const statements = async (registration: string) => {
    const res = await supertest(lms.app)
      .get(`/xapi/statements?registration=${registration}&ascending=true&limit=200`)
      .set('Authorization', lrsAuth)
      .set('X-Experience-API-Version', '1.0.3')
      .expect(200);
    return (res.body.statements as Stmt[]).filter((s) =>
      s.context?.contextActivities?.category?.some((c: { id: string }) => c.id === PROFILE),
    );
  };
  const progressOf = async (courseId: string) => (await lms.services.get('catalog').progressOf(user.id, [courseId]))[0];

  before(async () => {
    lms = await testApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'scorm-runtime-'));
    const courses = lms.services.get('catalog.courses');
    course12 = (
      await courses.importPackage({
        filePath: await scormZip(dir, 'r12.zip', {
          identifier: 'org.example.r12',
          title: 'Ventanilla única',
          items: [{ id: 'sco1', mastery: '80', launchData: 'nivel=1' }],
        }),
      })
    ).courseId;
    course2004 = (
      await courses.importPackage({
        filePath: await scormZip(dir, 'r2004.zip', {
          edition: '2004 4th Edition',
          identifier: 'org.example.r2004',
          title: 'Datos abiertos',
          items: [{ id: 'sco1', mastery: '0.8' }],
        }),
      })
    ).courseId;
    for (const c of [course12, course2004]) await courses.setPublished(c, true);
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [course12, course2004] });
    await seedOrg(lms);
    await importRoster(lms, 'INST-A', [HEADER, 'E1,Ana Pereira,ana@a.example,A1,,all,,no,yes'].join('\n'));
    user = await learner();
    await lms.services.get('catalog.paths').syncPath(user, new Set());
    const client = await lms.services.get('lrs.credentials').createClient({ name: 'reader', scopes: ['all/read'] });
    lrsAuth = `Basic ${Buffer.from(`${client.key}:${client.secret}`).toString('base64')}`;
  });
  after(async () => {
    await lms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the SCO page with the SCORM API injected only when opened for a session, and the start URL once', async () => {
    const url = await launch(course12, `${course12}/item_sco1`);
    expect(url.searchParams.get('lms-scorm-api')).to.equal('1.2');
    const page = await supertest(lms.app)
      .get(url.pathname + url.search)
      .expect(200);
    expect(page.text).to.match(
      /<head><script src="http:\/\/127\.0\.0\.1\/catalog\/scorm\/scorm12\.js"><\/script><script src="http:\/\/127\.0\.0\.1\/catalog\/scorm\/player\.js"><\/script>/,
    );
    expect(page.headers['cache-control']).to.equal('no-store');
    expect(page.headers['content-security-policy']).to.match(/^sandbox allow-scripts/);
    const plain = await supertest(lms.app).get(url.pathname).expect(200);
    expect(plain.text).not.to.contain('/catalog/scorm/player.js');
    const lib = await supertest(lms.app).get('/catalog/scorm/scorm12.js').expect(200);
    expect(lib.headers['cross-origin-resource-policy']).to.equal('cross-origin');
    expect(lib.text).to.contain('Scorm12API');

    const s = await start(url);
    expect(s.version).to.equal('1.2');
    expect(s.cmi).to.deep.include({ launch_data: 'nivel=1', student_data: { mastery_score: '80' } });
    expect(s.cmi.core).to.deep.include({
      student_id: user.id,
      student_name: 'Ana Pereira',
      lesson_mode: 'normal',
      credit: 'credit',
      entry: 'ab-initio',
    });
    const again = await supertest(lms.app)
      .post(`/catalog/scorm/start/${url.searchParams.get('lms-scorm')}`)
      .send('');
    expect(again.status).to.equal(410);
    expect(again.body.error).to.match(/already been used/);
    // A cmi5 fetch of a SCORM start id is refused without using it up.
    expect((await supertest(lms.app).post(`/catalog/fetch/${url.searchParams.get('lms-scorm')}`)).body['error-code']).to.equal('2');
  });

  it('suspends, resumes on the next launch (another device) with its data, then passes: statements, progress, retries once', async () => {
    const reg = await registrationOf(course12);
    const s1 = await start(await launch(course12, `${course12}/item_sco1`));
    const at = new Date().toISOString();
    expect((await commit({ key: s1.key, seq: 1, event: 'initialize', at })).body).to.deep.equal({ result: 'true', applied: true });
    const suspendCmi = {
      core: { lesson_status: 'incomplete', lesson_location: 'page-2', exit: 'suspend', session_time: '00:01:30' },
      suspend_data: 'respuesta=hola',
    };
    expect((await commit({ key: s1.key, seq: 2, event: 'terminate', at, cmi: { cmi: suspendCmi } })).status).to.equal(200);
    // The answer was lost on the way back: the page sends the same commit again; it is applied once.
    const retry = await commit({ key: s1.key, seq: 2, event: 'terminate', at, cmi: { cmi: suspendCmi } });
    expect(retry.body).to.deep.equal({ result: 'true', applied: false });
    // After the end, a new commit is refused.
    const late = await commit({ key: s1.key, seq: 3, event: 'commit', at, cmi: {} });
    expect(late.status).to.equal(409);
    await settled(lms);
    expect(await progressOf(course12)).to.include({ status: 'in-progress', satisfied: false });

    // The next launch (from any browser: the data is on the server) resumes the suspended attempt.
    const s2 = await start(await launch(course12, `${course12}/item_sco1`));
    expect(s2.cmi).to.deep.include({ suspend_data: 'respuesta=hola' });
    expect(s2.cmi.core).to.deep.include({ entry: 'resume', lesson_location: 'page-2', total_time: '0000:01:30.00' });
    const at2 = new Date().toISOString();
    await commit({ key: s2.key, seq: 1, event: 'initialize', at: at2 }).expect(200);
    const done = {
      core: { lesson_status: 'completed', exit: '', session_time: '00:02:00', score: { raw: '90', min: '0', max: '100' } },
      interactions: [{ id: 'q1', type: 'fill-in', student_response: 'hola', result: 'correct' }],
    };
    await commit({ key: s2.key, seq: 2, event: 'terminate', at: at2, cmi: done }).expect(200);
    await settled(lms);
    const p = await progressOf(course12);
    expect(p).to.include({ status: 'satisfied', satisfied: true, score: 0.9 });
    expect(p.timeSpentSeconds).to.equal(210);
    // Satisfied: Review reads back the attempt, which ended normally (entry ""); Browse starts with nothing.
    const review = await start(await launch(course12, `${course12}/item_sco1`, 'Review'));
    expect(review.cmi.core).to.deep.include({ entry: '', lesson_mode: 'review', lesson_status: 'completed' });
    const browse = await start(await launch(course12, `${course12}/item_sco1`, 'Browse'));
    expect(browse.cmi.core).to.deep.include({ entry: 'ab-initio', lesson_mode: 'browse' });
    expect(browse.cmi.suspend_data).to.equal(undefined);

    const st = await statements(reg);
    const verbs = st.map((s) => s.verb.id);
    expect(verbs).to.deep.equal([
      V('initialized'),
      V('suspended'),
      V('terminated'),
      V('initialized'),
      V('resumed'),
      V('completed'),
      V('passed'),
      V('responded'),
      V('terminated'),
    ]);
    const passed = st.find((s) => s.verb.id === V('passed'))!;
    expect(passed.result).to.deep.equal({ success: true, score: { scaled: 0.9, raw: 90, min: 0, max: 100 } });
    expect(passed.object.definition.type).to.equal('http://adlnet.gov/expapi/activities/lesson');
    const grouping = passed.context.contextActivities.grouping.map((g: { definition: { type: string } }) => g.definition.type);
    expect(grouping).to.deep.equal(['http://adlnet.gov/expapi/activities/attempt', 'http://adlnet.gov/expapi/activities/course']);
    // The resumed session belongs to the same attempt.
    const attempts = new Set(st.map((s) => s.context.contextActivities.grouping[0].id));
    expect(attempts.size).to.equal(1);
    expect(st.find((s) => s.verb.id === V('suspended'))!.result.duration).to.equal('PT90S');
    const responded = st.find((s) => s.verb.id === V('responded'))!;
    expect(responded.object.definition).to.include({ interactionType: 'fill-in' });
    expect(responded.result).to.deep.equal({ response: 'hola', success: true });
  });

  it('SCORM 2004: a score below the passing score fails whatever the SCO says; a new attempt then passes', async () => {
    const reg = await registrationOf(course2004);
    const s1 = await start(await launch(course2004, `${course2004}/item_sco1`));
    expect(s1.cmi).to.deep.include({ entry: 'ab-initio', scaled_passing_score: '0.8', learner_name: 'Ana Pereira', mode: 'normal' });
    const at = new Date().toISOString();
    await commit({ key: s1.key, seq: 1, event: 'initialize', at }).expect(200);
    await commit({
      key: s1.key,
      seq: 2,
      event: 'terminate',
      at,
      cmi: { completion_status: 'completed', success_status: 'passed', score: { scaled: '0.5' }, exit: 'normal', session_time: 'PT1M' },
    }).expect(200);
    await settled(lms);
    expect(await progressOf(course2004)).to.include({ satisfied: false });
    const s2 = await start(await launch(course2004, `${course2004}/item_sco1`));
    // Not suspended: a new attempt, nothing carried over, entered from the beginning.
    expect(s2.cmi).to.include({ entry: 'ab-initio' });
    expect(s2.cmi.suspend_data).to.equal(undefined);
    await commit({ key: s2.key, seq: 1, event: 'initialize', at: new Date().toISOString() }).expect(200);
    await commit({
      key: s2.key,
      seq: 2,
      event: 'terminate',
      at: new Date().toISOString(),
      cmi: { completion_status: 'completed', success_status: 'unknown', score: { scaled: '0.85' }, exit: 'normal', session_time: 'PT2M' },
    }).expect(200);
    await settled(lms);
    expect(await progressOf(course2004)).to.include({ satisfied: true });
    const st = await statements(reg);
    expect(st.filter((s) => s.verb.id === V('failed'))).to.have.length(1);
    expect(st.filter((s) => s.verb.id === V('passed'))).to.have.length(1);
    expect(new Set(st.map((s) => s.context.contextActivities.grouping[0].id)).size).to.equal(2);
  });

  it('both SCORM courses satisfy the path: course and path certificates, and the person is trained', async () => {
    await settled(lms);
    const certs = await lms.services.get('certificates').listForUser(user.id);
    expect(certs.map((c) => `${c.kind}:${c.kind === 'course' ? c.subjectId : ''}`).sort()).to.deep.equal(
      [`course:${course2004}`, `course:${course12}`, 'path:'].sort(),
    );
    const person = await lms.db.collection('reports_people').findOne({ _id: 'INST-A:E1' as never });
    expect(person).to.deep.include({ trained: true, missing: [] });
  });

  it('an admin uploads SCORM packages through the form: detected, listed with their format; a hostile one is refused in Spanish naming the rule, nothing stored', async () => {
    const a = await makeUser(lms, { role: 'admin', language: 'es' });
    const admin = await signIn(lms, a.email, a.password);
    const token = async () => csrfFrom((await admin.get('/catalog/admin/courses').expect(200)).text);
    const zip = await scormZip(dir, 'form.zip', { edition: '2004 3rd Edition', identifier: 'org.example.form', title: 'Firma en la nube' });
    const res = await admin
      .post('/catalog/admin/courses')
      .field('_csrf', await token())
      .attach('package', zip)
      .set('Accept', 'application/json')
      .expect(201);
    expect(res.body).to.deep.equal({
      courseId: 'urn:scorm:org.example.form',
      version: 1,
      auCount: 1,
      format: 'scorm',
      alreadyInstalled: false,
    });
    const page = await admin.get(`/catalog/admin/course?id=${encodeURIComponent(res.body.courseId)}`).expect(200);
    expect(page.text).to.include('Paquete SCORM 2004 3rd Edition (zip)');
    const versions = await lms.db.collection('catalog_course_versions').countDocuments({});
    const evil = await writeZip(
      path.join(dir, 'evil.zip'),
      [
        { name: 'imsmanifest.xml', data: manifestXml({ identifier: 'org.example.evil' }) },
        { name: 'sco1/index.html', data: 'x' },
        { name: 'zz/x.html', data: 'x' },
      ],
      { rename: [['zz/x.html', '../x.html']] },
    );
    const refused = await admin
      .post('/catalog/admin/courses')
      .field('_csrf', await token())
      .attach('package', evil)
      .expect(422);
    expect(refused.text)
      .to.include('El paquete no se importó')
      .and.include('SCORM CAM §3.2 (PIF)')
      .and.include('el nombre sale fuera del paquete');
    expect(refused.text).not.to.include('climbs out of the package');
    expect(await lms.db.collection('catalog_course_versions').countDocuments({})).to.equal(versions);
    expect(await lms.services.get('catalog.courses').getCourse('urn:scorm:org.example.evil')).to.equal(null);
  });

  it('refuses bad commits with a 4xx naming the problem, and changes nothing', async () => {
    const before = await lms.db.collection('catalog_sessions').countDocuments({});
    expect((await commit('not json')).status).to.equal(400);
    expect((await commit({ key: 'nope', seq: 1, event: 'commit' })).status).to.equal(401);
    expect((await commit({ key: 'abc.def', seq: 1, event: 'commit' })).body.error).to.match(/unknown session key/);
    expect((await commit({ key: 'abc.def', seq: 0, event: 'commit' })).body.error).to.match(/seq must be a positive integer/);
    expect((await commit({ key: 'abc.def', seq: 1, event: 'explode' })).body.error).to.match(
      /event must be initialize, commit or terminate/,
    );
    expect((await commit('x'.repeat(1_100_000))).status).to.equal(413);
    expect((await supertest(lms.app).post('/catalog/scorm/start/scorm-unknown').send('')).status).to.equal(404);
    expect(await lms.db.collection('catalog_sessions').countDocuments({})).to.equal(before);
  });

  it('a server killed between writing the attempt and closing the session: the retried terminate counts its time once', async () => {
    const courses = lms.services.get('catalog.courses');
    const { courseId } = await courses.importPackage({
      filePath: await scormZip(dir, 'crash.zip', { identifier: 'org.example.crash', items: [{ id: 'sco1' }] }),
    });
    await courses.setPublished(courseId, true);
    // Last in this suite: the path now has a third course.
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [course12, course2004, courseId] });
    await lms.services.get('catalog.paths').syncPath(user, new Set());
    const auId = `${courseId}/item_sco1`;
    const s1 = await start(await launch(courseId, auId));
    await commit({ key: s1.key, seq: 1, event: 'initialize', at: new Date().toISOString() }).expect(200);
    const sessions = lms.db.collection('catalog_sessions');
    const sessionId = s1.key.split('.')[0];
    const before = await sessions.findOne({ _id: sessionId as never });
    const end = {
      key: s1.key,
      seq: 2,
      event: 'terminate',
      at: new Date().toISOString(),
      cmi: { core: { lesson_status: 'incomplete', exit: 'suspend', session_time: '00:10:00' } },
    };
    await commit(end).expect(200);
    // What a kill -9 after the attempt's state was written (and before the session's last write) leaves behind.
    await sessions.replaceOne({ _id: sessionId as never }, before!);
    expect((await commit(end).expect(200)).body).to.include({ applied: true });
    await settled(lms);
    const s2 = await start(await launch(courseId, auId));
    expect(s2.cmi.core).to.include({ entry: 'resume', total_time: '0000:10:00.00' });
    expect(await progressOf(courseId)).to.include({ timeSpentSeconds: 600 });
  });
});
