import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import type { CourseProgress } from '../../server/core/contracts/catalog';
import { VERB } from '../../server/plugins/catalog/launch/cmi5';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { csrfFrom, makeUser, settled, signIn, testApp } from '../helpers';
import { AuClient, cmi5Xml, importXml, launchAu } from './launch-fixtures';

// Statements as JSON read back from the LRS: deep property access is the point of these tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const C = 'https://courses.example.org/gobierno-digital';
const AU = (n: string) => `${C}/au/${n}`;
const BLOCK = `${C}/block/fundamentos`;

describe('catalog: cmi5 launch flow over HTTP', () => {
  let lms: LmsApp;
  let reader: { key: string; secret: string };
  const satisfiedEvents: Array<{ userId: string; courseId: string }> = [];

  /** Statements of a registration as the LRS returns them (read with an admin client). */
  const statementsOf = async (registration: string, verb?: string) => {
    await settled(lms); // the LMS's own statements (satisfied, voided) follow the AU's
    const q = new URLSearchParams({ registration, limit: '500', ...(verb ? { verb } : {}) });
    const r = await supertest(lms.app)
      .get(`/xapi/statements?${q}`)
      .auth(reader.key, reader.secret)
      .set('X-Experience-API-Version', '1.0.3')
      .expect(200);
    return r.body.statements as Array<Record<string, Json>>;
  };
  const progressOf = async (userId: string, courseId: string): Promise<CourseProgress> => {
    await settled(lms); // progress follows the statements, off the request
    return (await lms.services.get('catalog').progressOf(userId, [courseId]))[0];
  };

  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { LOG_LEVEL: process.env.TEST_LOG ?? 'silent' } });
    reader = await lms.services.get('lrs.credentials').createClient({ name: 'test reader', scopes: ['all/read'] });
    lms.hooks.on('catalog.course.satisfied', ({ userId, course }) => void satisfiedEvents.push({ userId, courseId: course.id }));
    await importXml(
      lms,
      cmi5Xml(C, 'Gobierno digital', [
        {
          block: BLOCK,
          children: [
            { au: AU('leer'), moveOn: 'Completed' },
            { au: AU('evaluar'), moveOn: 'Passed', masteryScore: 0.8 },
          ],
        },
        { au: AU('practicar'), moveOn: 'CompletedAndPassed' },
        { au: AU('explorar'), moveOn: 'CompletedOrPassed', launchParameters: 'modo=corto' },
        { au: AU('glosario'), moveOn: 'NotApplicable' },
      ]),
    );
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [C] });
  });
  after(() => lms.close());

  it('runs a whole course: launch, fetch, LaunchData, statements, satisfied for AUs, block and course', async () => {
    const u = await makeUser(lms, { tier: 'technical', level: 'local', language: 'pt' });
    const agent = await signIn(lms, u.email, u.password);
    const path = await agent.get('/catalog/my-path').expect(200);
    expect(path.text).to.contain('Gobierno digital');

    // Launch URL (§8.1): the AU's own query string is kept, the five cmi5 parameters added.
    const l1 = await launchAu(agent, C, AU('leer'));
    expect(l1.location.origin + l1.location.pathname).to.equal('https://au.example.org/player/index.html');
    expect(l1.location.searchParams.get('lesson')).to.equal('leer');
    expect(l1.params.endpoint).to.equal('http://127.0.0.1/xapi');
    expect(l1.params.actor).to.deep.equal({ objectType: 'Agent', account: { homePage: 'http://127.0.0.1', name: u.id } });
    expect(l1.params.activityId)
      .to.match(/^http:\/\/127\.0\.0\.1\/catalog\/activities\/au\//)
      .and.not.equal(AU('leer'));

    // Fetch URL (§8.2): once, then error 1; an unknown one is error 2; always 200 JSON.
    const au1 = await new AuClient(lms, l1, AU('leer')).start();
    const again = await supertest(lms.app).post(new URL(l1.params.fetch).pathname).expect(200).expect('Content-Type', /json/);
    expect(again.body).to.deep.include({ 'error-code': '1' });
    const unknown = await supertest(lms.app).post('/catalog/fetch/nope').expect(200);
    expect(unknown.body['error-code']).to.equal('2');

    // LMS.LaunchData (§10) and learner preferences (§11).
    expect(au1.launchData).to.include({ launchMode: 'Normal', moveOn: 'Completed' });
    expect(au1.launchData.returnURL).to.equal(
      `http://127.0.0.1/catalog/course?id=${encodeURIComponent(C)}&from=${encodeURIComponent(AU('leer'))}#returned`,
    );
    expect((au1.launchData.contextTemplate as Json).contextActivities.grouping).to.deep.equal([{ id: AU('leer') }]);
    const prefs = await au1
      .xapi(
        'get',
        `/xapi/agents/profile?${new URLSearchParams({ agent: JSON.stringify(l1.params.actor), profileId: 'cmi5LearnerPreferences' })}`,
      )
      .expect(200);
    expect(prefs.body).to.deep.equal({ languagePreference: 'pt,es,en', audioPreference: 'on' });
    // LaunchData is read-only to the AU.
    const q = new URLSearchParams({
      activityId: l1.params.activityId,
      agent: JSON.stringify(l1.params.actor),
      registration: l1.params.registration,
      stateId: 'LMS.LaunchData',
    });
    await au1.xapi('put', `/xapi/activities/state?${q}`).send({ launchMode: 'Normal' }).expect(403);

    // launched (§9.3.1) with the LMS's context extensions.
    const launched = await statementsOf(l1.params.registration, VERB.launched);
    expect(launched).to.have.length(1);
    expect(launched[0].context.extensions['https://w3id.org/xapi/cmi5/context/extensions/launchmode']).to.equal('Normal');
    expect(launched[0].context.extensions['https://w3id.org/xapi/cmi5/context/extensions/launchurl']).to.equal(
      'https://au.example.org/player/index.html?lesson=leer',
    );

    const batch1 = [
      au1.statement('initialized'),
      au1.statement('completed', { completion: true, duration: 'PT5M' }),
      au1.statement('terminated', { duration: 'PT6M' }),
    ];
    expect((await au1.send(...batch1)).status).to.equal(200);
    // A network retry of the same batch is the LRS's idempotent re-post, not a second "completed".
    expect((await au1.send(...batch1)).status).to.equal(200);
    let p = await progressOf(u.id, C);
    expect(p.status).to.equal('in-progress');
    expect(p.timeSpentSeconds).to.equal(360);

    // Passed below masteryScore is refused and nothing of the batch is stored; at mastery it satisfies the block.
    const au2 = await new AuClient(lms, await launchAu(agent, C, AU('evaluar')), AU('evaluar')).start();
    expect(au2.launchData.masteryScore).to.equal(0.8);
    const before = (await statementsOf(l1.params.registration)).length;
    const low = await au2.send(
      au2.statement('initialized'),
      au2.statement('passed', { success: true, duration: 'PT1M', score: { scaled: 0.5 } }),
    );
    expect(low.status).to.equal(403);
    expect(JSON.stringify(low.body)).to.contain('masteryScore');
    expect((await statementsOf(l1.params.registration)).length).to.equal(before);
    expect(
      (await au2.send(au2.statement('initialized'), au2.statement('passed', { success: true, duration: 'PT1M', score: { scaled: 0.9 } })))
        .status,
    ).to.equal(200);
    const blockSat = await statementsOf(l1.params.registration, VERB.satisfied);
    expect(blockSat).to.have.length(1);
    expect(blockSat[0].object.definition.type).to.equal('https://w3id.org/xapi/cmi5/activitytype/block');
    expect(blockSat[0].context.extensions['https://w3id.org/xapi/cmi5/context/extensions/sessionid']).to.equal(au2.sessionId);
    expect(blockSat[0].context.contextActivities.grouping).to.deep.equal([{ id: BLOCK }]);
    expect((await au2.send(au2.statement('terminated', { duration: 'PT2M' }))).status).to.equal(200);

    // CompletedAndPassed needs both; a session left open is abandoned by the next launch (§9.3.6).
    const au3 = await new AuClient(lms, await launchAu(agent, C, AU('practicar')), AU('practicar')).start();
    expect(
      (await au3.send(au3.statement('initialized'), au3.statement('completed', { completion: true, duration: 'PT1M' }))).status,
    ).to.equal(200);
    const au3b = await new AuClient(lms, await launchAu(agent, C, AU('practicar')), AU('practicar')).start();
    const abandoned = await statementsOf(l1.params.registration, VERB.abandoned);
    expect(abandoned).to.have.length(1);
    expect(abandoned[0].context.extensions['https://w3id.org/xapi/cmi5/context/extensions/sessionid']).to.equal(au3.sessionId);
    expect(abandoned[0].result.duration).to.match(/^PT[\d.]+S$/);
    expect((await au3.send(au3.statement('passed', { success: true, duration: 'PT1M' }))).status).to.be.oneOf([401, 403]);
    // "completed" was recorded in the registration already: a second one is refused.
    expect(
      (await au3b.send(au3b.statement('initialized'), au3b.statement('completed', { completion: true, duration: 'PT1M' }))).status,
    ).to.equal(403);
    expect((await au3b.send(au3b.statement('initialized'), au3b.statement('passed', { success: true, duration: 'PT1M' }))).status).to.equal(
      200,
    );
    expect((await au3b.send(au3b.statement('terminated', { duration: 'PT1M' }))).status).to.equal(200);
    p = await progressOf(u.id, C);
    expect(p.satisfied).to.equal(false);
    expect(satisfiedEvents).to.have.length(0);

    // CompletedOrPassed: completion alone satisfies the last AU, and with it the course.
    const l4 = await launchAu(agent, C, AU('explorar'));
    const au4 = await new AuClient(lms, l4, AU('explorar')).start();
    expect(au4.launchData.launchParameters).to.equal('modo=corto');
    expect(
      (
        await au4.send(
          au4.statement('initialized'),
          au4.statement('completed', { completion: true, duration: 'PT1M' }),
          au4.statement('terminated', { duration: 'PT1M' }),
        )
      ).status,
    ).to.equal(200);
    p = await progressOf(u.id, C);
    expect(p).to.include({ satisfied: true, status: 'satisfied' });
    const sats = await statementsOf(l1.params.registration, VERB.satisfied);
    expect(sats.map((s) => s.object.definition.type).sort()).to.deep.equal([
      'https://w3id.org/xapi/cmi5/activitytype/block',
      'https://w3id.org/xapi/cmi5/activitytype/course',
    ]);
    expect(satisfiedEvents).to.deep.equal([{ userId: u.id, courseId: C }]);
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(C)}`).expect(200);
    expect(/id="course-status">([^<]+)</.exec(page.text)?.[1]).to.equal('Cumprido');
    const mine = await agent.get('/catalog/my-path').expect(200);
    expect(mine.text).to.contain('1 de 1 cursos obrigatórios cumpridos');

    // A satisfied AU reopens in Review mode, where only initialized/terminated are allowed (§10.2.2).
    const rev = await new AuClient(lms, await launchAu(agent, C, AU('leer')), AU('leer')).start();
    expect(rev.launchData.launchMode).to.equal('Review');
    expect((await rev.send(rev.statement('initialized'), rev.statement('failed', { success: false, duration: 'PT1M' }))).status).to.equal(
      403,
    );
  });

  it('rejects cmi5 rule violations with 403 and stores nothing', async () => {
    const u = await makeUser(lms);
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    const au = await new AuClient(lms, await launchAu(agent, C, AU('leer')), AU('leer')).start();
    const reg = au.launch.params.registration;
    const count = async () => (await statementsOf(reg)).length;
    const n0 = await count();
    // Something before initialized.
    expect((await au.send(au.statement('completed', { completion: true, duration: 'PT1M' }))).status).to.equal(403);
    // Wrong actor, registration, session id.
    const other = { objectType: 'Agent', account: { homePage: 'http://127.0.0.1', name: 'someone-else' } };
    expect((await au.send(au.statement('initialized', undefined, { actor: other }))).status).to.equal(403);
    const wrongReg = au.statement('initialized');
    (wrongReg.context as Json).registration = crypto.randomUUID();
    expect((await au.send(wrongReg)).status).to.equal(403);
    const wrongSession = au.statement('initialized');
    (wrongSession.context.extensions as Json)['https://w3id.org/xapi/cmi5/context/extensions/sessionid'] = 'forged';
    expect((await au.send(wrongSession)).status).to.equal(403);
    // Verbs only the LMS may use.
    expect((await au.send(au.statement('initialized'), au.statement('satisfied'))).status).to.equal(403);
    expect(await count()).to.equal(n0);

    const init = au.statement('initialized');
    expect((await au.send(init)).status).to.equal(200);
    // Score on completed, missing duration, failed with success true.
    expect((await au.send(au.statement('completed', { completion: true, duration: 'PT1M', score: { scaled: 1 } }))).status).to.equal(403);
    expect((await au.send(au.statement('completed', { completion: true }))).status).to.equal(403);
    expect((await au.send(au.statement('failed', { success: true, duration: 'PT1M' }))).status).to.equal(403);
    // Voiding by an AU (§6.3).
    const voiding = { actor: au.launch.params.actor, verb: { id: VERB.voided }, object: { objectType: 'StatementRef', id: init.id } };
    expect((await au.send(voiding)).status).to.equal(403);
    expect((await au.send(au.statement('terminated', { duration: 'PT1M' }))).status).to.equal(200);
    const n1 = await count();
    // Anything after terminated (§9.3.8).
    expect((await au.send(au.statement('completed', { completion: true, duration: 'PT1M' }))).status).to.equal(403);
    const allowed = { ...au.statement('initialized'), verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' } };
    expect((await au.send(allowed)).status).to.equal(403);
    expect(await count()).to.equal(n1);
  });

  it('never lets two concurrent batches record "completed" twice: one is refused or voided (§6.3)', async () => {
    const u = await makeUser(lms);
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    const au = await new AuClient(lms, await launchAu(agent, C, AU('leer')), AU('leer')).start();
    expect((await au.send(au.statement('initialized'))).status).to.equal(200);
    const results = await Promise.all([1, 2, 3].map(() => au.send(au.statement('completed', { completion: true, duration: 'PT1M' }))));
    expect(results.filter((r) => r.status === 200).length).to.be.at.least(1);
    // Voided statements are left out of queries (the voiding ones match through their StatementRef).
    const found = await statementsOf(au.launch.params.registration, VERB.completed);
    const accepted = results.filter((r) => r.status === 200).length;
    expect(found.filter((st) => st.verb.id === VERB.completed)).to.have.length(1);
    expect(found.filter((st) => st.verb.id === VERB.voided)).to.have.length(accepted - 1);
    expect((await au.send(au.statement('terminated', { duration: 'PT2M' }))).status).to.equal(200);
    expect((await progressOf(u.id, C)).status).to.equal('in-progress');
  });

  it("refuses to launch someone else's registration or an unpublished course (403)", async () => {
    const a = await makeUser(lms);
    const b = await makeUser(lms);
    const agentA = await signIn(lms, a.email, a.password);
    const agentB = await signIn(lms, b.email, b.password);
    await agentA.get('/catalog/my-path').expect(200);
    const pageA = await agentA.get(`/catalog/course?id=${encodeURIComponent(C)}`).expect(200);
    const regA = /name="registration" value="([^"]+)"/.exec(pageA.text)![1];
    const pageB = await agentB.get('/catalog/my-path').expect(200);
    await agentB
      .post('/catalog/launch')
      .type('form')
      .send({ _csrf: csrfFrom(pageB.text), registration: regA, auId: AU('leer') })
      .expect(403);

    const hidden = 'https://courses.example.org/borrador';
    await importXml(lms, cmi5Xml(hidden, 'Borrador', [{ au: `${hidden}/au/1`, moveOn: 'Completed' }]), false);
    await agentA
      .post('/catalog/enrol')
      .type('form')
      .send({ _csrf: csrfFrom(pageA.text), courseId: hidden })
      .expect(403);
    // Published, enrolled, then withdrawn: launching is refused.
    await lms.services.get('catalog.courses').setPublished(hidden, true);
    await agentA
      .post('/catalog/enrol')
      .type('form')
      .send({ _csrf: csrfFrom(pageA.text), courseId: hidden })
      .expect(303);
    await lms.services.get('catalog.courses').setPublished(hidden, false);
    const page = await agentA.get(`/catalog/course?id=${encodeURIComponent(hidden)}`).expect(200);
    const reg = /name="registration" value="([^"]+)"/.exec(page.text)![1];
    await agentA
      .post('/catalog/launch')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), registration: reg, auId: `${hidden}/au/1` })
      .expect(403);
  });

  it('says why a lesson cannot start when the site is opened at another address than BASE_URL (409, translated)', async () => {
    const u = await makeUser(lms);
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(C)}`).expect(200);
    const registration = /name="registration" value="([^"]+)"/.exec(page.text)![1];
    // The office network reaches the server by its IP while BASE_URL names another host.
    const res = await agent
      .post('/catalog/launch')
      .set('Host', '192.168.10.20:3000')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), registration, auId: AU('leer') })
      .expect(409);
    expect(res.text).to.contain('Las lecciones solo pueden iniciarse desde la dirección pública de este sitio, http://127.0.0.1');
    expect(res.text).to.contain('192.168.10.20');
    // Nothing was launched: no session, no statement.
    expect(await lms.db.collection('catalog_sessions').countDocuments({ registration })).to.equal(0);
  });

  it('satisfies a NotApplicable-only course at registration (§9.6.1)', async () => {
    const na = 'https://courses.example.org/lecturas';
    await importXml(lms, cmi5Xml(na, 'Lecturas', [{ au: `${na}/au/1`, moveOn: 'NotApplicable' }]));
    const u = await makeUser(lms);
    const agent = await signIn(lms, u.email, u.password);
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(na)}`).expect(200);
    await agent
      .post('/catalog/enrol')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), courseId: na })
      .expect(303);
    const p = await progressOf(u.id, na);
    expect(p).to.include({ satisfied: true });
    const sats = await statementsOf(p.registration, VERB.satisfied);
    expect(sats).to.have.length(1);
    expect(satisfiedEvents.filter((e) => e.courseId === na)).to.have.length(1);
  });

  it('lets an admin or an HR officer of the same institution waive an AU with a reason (§9.3.7)', async () => {
    const DECIDED = { comment: 'Certificado externo ENAP 2026-114', confirm: '1' };
    const w = 'https://courses.example.org/convalidable';
    await importXml(
      lms,
      cmi5Xml(w, 'Convalidable', [
        { au: `${w}/au/1`, moveOn: 'Passed', masteryScore: 0.7 },
        { au: `${w}/au/2`, moveOn: 'Completed' },
      ]),
    );
    const learner = await makeUser(lms, { orgUnit: 'MUNI-A' });
    const la = await signIn(lms, learner.email, learner.password);
    const lp = await la.get(`/catalog/course?id=${encodeURIComponent(w)}`).expect(200);
    await la
      .post('/catalog/enrol')
      .type('form')
      .send({ _csrf: csrfFrom(lp.text), courseId: w })
      .expect(303);
    const reg = (await progressOf(learner.id, w)).registration;

    const hrOther = await makeUser(lms, { role: 'hr', orgUnit: 'MUNI-B' });
    const hrSame = await makeUser(lms, { role: 'hr', orgUnit: 'MUNI-A' });
    const other = await signIn(lms, hrOther.email, hrOther.password);
    const same = await signIn(lms, hrSame.email, hrSame.password);
    const tokenOf = async (ag: typeof other) => csrfFrom((await ag.get('/catalog/my-path').expect(200)).text);

    // Each officer lists only the people of their own institution.
    expect((await same.get('/catalog/people').expect(200)).text).to.contain(learner.email);
    expect((await other.get('/catalog/people').expect(200)).text).not.to.contain(learner.email);
    await la.get('/catalog/people').expect(403);
    await other
      .post('/catalog/waive')
      .type('form')
      .send({ _csrf: await tokenOf(other), registration: reg, auId: `${w}/au/1`, reason: 'Tested Out', ...DECIDED })
      .expect(403);
    await other.get(`/catalog/people/${learner.id}`).expect(403);
    await la
      .post('/catalog/waive')
      .type('form')
      .send({ _csrf: csrfFrom(lp.text), registration: reg, auId: `${w}/au/1`, reason: 'Tested Out', ...DECIDED })
      .expect(403);
    await same
      .post('/catalog/waive')
      .type('form')
      .send({ _csrf: await tokenOf(same), registration: reg, auId: `${w}/au/1`, reason: 'because', ...DECIDED })
      .expect(400);
    const person = await same.get(`/catalog/people/${learner.id}`).expect(200);
    expect(person.text).to.contain('Convalidable');
    // No pre-selected reason, a comment saying why and an explicit confirmation, or nothing is waived.
    expect(person.text).to.match(/<select id="[^"]+" name="reason" required>\s*<option value="">/);
    for (const missing of ['comment', 'confirm', 'reason'] as const) {
      const form: Record<string, string> = {
        _csrf: csrfFrom(person.text),
        registration: reg,
        auId: `${w}/au/1`,
        reason: 'Tested Out',
        ...DECIDED,
      };
      if (missing === 'comment') form.comment = '   ';
      else delete form[missing];
      const refused = await same.post('/catalog/waive').type('form').send(form).expect(400);
      expect(refused.text, missing)
        .to.contain('role="alert"')
        .and.contain({ comment: 'Escriba un comentario', confirm: 'Marque la casilla', reason: 'Elija el motivo' }[missing]);
    }
    expect(await statementsOf(reg, VERB.waived)).to.have.length(0);
    await same
      .post('/catalog/waive')
      .type('form')
      .send({ _csrf: csrfFrom(person.text), registration: reg, auId: `${w}/au/1`, reason: 'Tested Out', ...DECIDED })
      .expect(303);
    await same
      .post('/catalog/waive')
      .type('form')
      .send({ _csrf: csrfFrom(person.text), registration: reg, auId: `${w}/au/1`, reason: 'Tested Out', ...DECIDED })
      .expect(409);

    const waived = await statementsOf(reg, VERB.waived);
    expect(waived).to.have.length(1);
    const au1 = (await lms.db.collection('catalog_progress').findOne({ _id: `${learner.id}:${w}` } as never))!.aus.find(
      (a: { auId: string }) => a.auId === `${w}/au/1`,
    );
    expect(au1).to.include({ waived: true, waiveReason: 'Tested Out', waiveComment: DECIDED.comment, waivedBy: hrSame.id });
    expect((await same.get(`/catalog/people/${learner.id}`).expect(200)).text).to.contain(`<q>${DECIDED.comment}</q>`);
    expect(waived[0].result).to.deep.include({ success: true, completion: true });
    expect(waived[0].result.extensions['https://w3id.org/xapi/cmi5/result/extensions/reason']).to.equal('Tested Out');
    expect((await progressOf(learner.id, w)).satisfied).to.equal(false);

    const admin = await makeUser(lms, { role: 'admin' });
    const ad = await signIn(lms, admin.email, admin.password);
    await ad
      .post('/catalog/waive')
      .type('form')
      .send({ _csrf: await tokenOf(ad), registration: reg, auId: `${w}/au/2`, reason: 'Administrative', ...DECIDED })
      .expect(303);
    const p = await progressOf(learner.id, w);
    expect(p).to.include({ satisfied: true, status: 'waived' });
    const sat = await statementsOf(reg, VERB.satisfied);
    expect(sat).to.have.length(1);
    // Satisfied outside an AU session uses the waiver's own new session id (§9.3.9).
    const waived2 = (await statementsOf(reg, VERB.waived)).find(
      (s) => s.result.extensions['https://w3id.org/xapi/cmi5/result/extensions/reason'] === 'Administrative',
    )!;
    const sid = 'https://w3id.org/xapi/cmi5/context/extensions/sessionid';
    expect(sat[0].context.extensions[sid]).to.equal(waived2.context.extensions[sid]);
  });
});
