/**
 * cmi5 with an AU nobody here wrote: the server listens on a real port and the AU (plain fetch,
 * URLs appended to `endpoint`, as CATAPULT's AUs do) runs the whole session against it. One test
 * per cmi5 rule that ADL's CATAPULT LMS test suite checks; each rejection is a 403 naming the rule
 * and its section, and leaves nothing stored.
 */
import type { Server } from 'node:http';
import { expect } from 'chai';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { csrfFrom, freePort, makeUser, settled, signIn, testApp } from '../helpers';
import { cmi5Xml, importXml, launchAu } from './launch-fixtures';
import { MOVEON_CATEGORY, ThirdPartyAu } from './third-party-au';

// Statements read back from the LRS: deep property access is the point.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const C = 'https://vendor.example.com/cmi5/seguridad';
const BLOCK = `${C}/block/1`;
const QUIZ = `${C}/au/quiz`;
const READ = `${C}/au/read`;

describe('catalog: a third-party cmi5 AU (plain fetch) against the listening server', () => {
  let lms: LmsApp;
  let server: Server;
  let base: string;
  let reader: { key: string; secret: string };

  const statementsOf = async (registration: string) => {
    const r = await supertest(lms.app)
      .get(`/xapi/statements?${new URLSearchParams({ registration, ascending: 'true', limit: '500' })}`)
      .auth(reader.key, reader.secret)
      .set('X-Experience-API-Version', '1.0.3')
      .expect(200);
    return r.body.statements as Json[];
  };
  const learner = async (): Promise<{ agent: TestAgent; id: string }> => {
    const u = await makeUser(lms, { language: 'es' });
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    return { agent, id: u.id };
  };
  const open = async (agent: TestAgent, au: string, launchMode?: string) =>
    new ThirdPartyAu((await launchAu(agent, C, au, launchMode)).location.href).start();
  /** The READ AU's progress. */
  const readProgress = async (userId: string) => {
    const doc = await lms.db.db!.collection('catalog_progress').findOne({ userId, courseId: C });
    return (doc?.aus as Array<{ auId: string }>).find((a) => a.auId === READ);
  };
  /** An AU in a Normal session, initialized. */
  const running = async () => {
    const { agent } = await learner();
    const au = await open(agent, QUIZ);
    expect((await au.send(au.statement('initialized'))).status).to.equal(204);
    return au;
  };
  /** Sends what should be refused: 403, the rule and section named, nothing stored. */
  const refused = async (au: ThirdPartyAu, st: Json, rule: RegExp) => {
    const before = (await statementsOf(au.registration)).length;
    const r = await au.send(st);
    expect(r.status, r.text).to.equal(403);
    expect(r.text).to.match(rule);
    expect((await statementsOf(au.registration)).length).to.equal(before);
  };

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { BASE_URL: base } });
    server = await new Promise((r) => {
      const s = lms.app.listen(port, '127.0.0.1', () => r(s));
    });
    reader = await lms.services.get('lrs.credentials').createClient({ name: 'reader', scopes: ['all/read'] });
    await importXml(
      lms,
      cmi5Xml(C, 'Seguridad digital', [
        { block: BLOCK, children: [{ au: QUIZ, moveOn: 'CompletedAndPassed', masteryScore: 0.8 }] },
        { au: READ, moveOn: 'Completed' },
      ]),
    );
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [C] });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await lms.close();
  });

  it('hands out the endpoint without a trailing slash, and the LRS reads "//" as "/"', async () => {
    const { agent } = await learner();
    const au = new ThirdPartyAu((await launchAu(agent, C, READ)).location.href);
    expect(au.endpoint).to.equal(`${base}/xapi`);
    // Endpoints with a slash are out there too: `${endpoint}/statements` is then `/xapi//statements`.
    const r = await fetch(`${base}/xapi//statements?limit=1`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${reader.key}:${reader.secret}`).toString('base64')}`,
        'X-Experience-API-Version': '1.0.3',
      },
    });
    expect(r.status).to.equal(200);
    expect(((await r.json()) as Json).statements).to.be.an('array');
  });

  it('runs launch → token → state → learner preferences → initialized → completed → passed → terminated', async () => {
    const { agent, id } = await learner();
    // The AU outside the block first, so that the quiz satisfies the block and the course.
    const read = await open(agent, READ);
    for (const st of [read.statement('initialized'), read.statement('completed', { completion: true, duration: 'PT1M' })])
      expect((await read.send(st)).status).to.equal(204);
    expect((await read.send(read.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    const au = await open(agent, QUIZ);
    expect(au.launchData).to.include({ launchMode: 'Normal', moveOn: 'CompletedAndPassed', masteryScore: 0.8 });
    // The AU's own state document (a bookmark), written and read back through the appended URL.
    expect((await au.state('PUT', 'bookmark', { page: 3 })).status).to.equal(204);
    expect(JSON.parse((await au.state('GET', 'bookmark')).text)).to.deep.equal({ page: 3 });

    for (const st of [
      au.statement('initialized'),
      au.statement('experienced'),
      au.statement('completed', { completion: true, duration: 'PT4M' }),
      au.statement('passed', { success: true, duration: 'PT5M', score: { scaled: 0.9, raw: 9, min: 0, max: 10 } }),
      au.statement('terminated', { duration: 'PT6M' }),
    ]) {
      const r = await au.send(st);
      expect(r.status, r.text).to.equal(204);
    }
    // The LMS follows the AU's statements up after answering (the outbox): wait for it.
    await settled(lms);
    const everything = await statementsOf(au.registration);
    const fromLaunch = everything.slice(everything.findIndex((s) => s.verb.id.endsWith('/launched') && s.object.id === au.activityId));
    // The AU's "terminated" may be stored before the LMS's follow-up of its "passed".
    const all = fromLaunch.filter((s) => !s.verb.id.endsWith('/terminated'));
    const verbs = all.map((s) => s.verb.id.split('/').pop());
    // The block and the course are satisfied after the AU's passed, in that order (§9.3.9).
    expect(verbs).to.deep.equal(['launched', 'initialized', 'experienced', 'completed', 'passed', 'satisfied', 'satisfied']);
    expect(fromLaunch.filter((s) => s.verb.id.endsWith('/terminated'))).to.have.length(1);
    expect(all[5].object.definition.type).to.equal('https://w3id.org/xapi/cmi5/activitytype/block');
    expect(all[6].object.definition.type).to.equal('https://w3id.org/xapi/cmi5/activitytype/course');
    // Strictly increasing `stored`: the order does not depend on random statement ids.
    const stored = all.map((s) => Date.parse(s.stored));
    for (let i = 1; i < stored.length; i++) expect(stored[i], `stored of statement ${i}`).to.be.greaterThan(stored[i - 1]);
    const [p] = await lms.services.get('catalog').progressOf(id, [C]);
    expect(p).to.include({ satisfied: true, status: 'satisfied' });
  });

  it('lets the learner browse an AU not yet attempted: recorded as Browse, nothing counts (§10.2.2)', async () => {
    const { agent, id } = await learner();
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(C)}`).expect(200);
    // Offered on the page in the learner's language, Normal first.
    expect(page.text).to.match(/name="launchMode" value="Normal"[^>]*>Empezar</);
    expect(page.text).to.match(/name="launchMode" value="Browse"[^>]*>Explorar</);
    expect(page.text).to.match(/name="launchMode" value="Review"[^>]*>Repasar</);

    const au = await open(agent, READ, 'Browse');
    expect(au.launchData.launchMode).to.equal('Browse');
    expect((await au.send(au.statement('initialized'))).status).to.equal(204);
    await refused(au, au.statement('completed', { completion: true, duration: 'PT1M' }), /Browse mode .*§10\.2\.2/);
    expect((await au.send(au.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    const launched = (await statementsOf(au.registration)).find((s) => s.verb.id.endsWith('/launched'));
    expect(launched.context.extensions['https://w3id.org/xapi/cmi5/context/extensions/launchmode']).to.equal('Browse');
    expect(await readProgress(id)).to.include({ completed: false, satisfied: false });
    // Browsing is not an attempt: every mode is still offered.
    const after = await agent.get(`/catalog/course?id=${encodeURIComponent(C)}`).expect(200);
    expect(after.text.match(/name="launchMode" value="Browse"/g)).to.have.length(2);
  });

  it('lets the learner review: Review in LaunchData and no completion recorded, Browse refused once begun in Normal', async () => {
    const { agent, id } = await learner();
    const rev = await open(agent, READ, 'Review');
    expect(rev.launchData.launchMode).to.equal('Review');
    expect((await rev.send(rev.statement('initialized'))).status).to.equal(204);
    await refused(rev, rev.statement('completed', { completion: true, duration: 'PT1M' }), /Review mode .*§10\.2\.2/);
    expect((await rev.send(rev.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    expect(await readProgress(id)).to.include({ completed: false, satisfied: false });

    // Begun in Normal and not satisfied: it is continued in Normal, not browsed.
    const au = await open(agent, READ);
    expect((await au.send(au.statement('initialized'))).status).to.equal(204);
    const page = await agent.get(`/catalog/course?id=${encodeURIComponent(C)}`).expect(200);
    const registration = /name="registration" value="([^"]+)"/.exec(page.text)![1];
    const r = await agent
      .post('/catalog/launch')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), registration, auId: READ, launchMode: 'Browse' });
    expect(r.status).to.equal(409);
    // Completed in Normal: satisfied, and from then on opened in Review by default.
    expect((await au.send(au.statement('completed', { completion: true, duration: 'PT1M' }))).status).to.equal(204);
    expect((await au.send(au.statement('terminated', { duration: 'PT1M' }))).status).to.equal(204);
    const again = await open(agent, READ);
    expect(again.launchData.launchMode).to.equal('Review');
    const bad = await agent
      .post('/catalog/launch')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), registration, auId: READ, launchMode: 'Sideways' });
    expect(bad.status).to.equal(400);
  });

  it('refuses a statement without id (§9.1)', async () => {
    const au = await running();
    const { id: _id, ...st } = au.statement('experienced');
    await refused(au, st, /§9\.1/);
  });

  it('refuses a statement without timestamp or with a non-UTC one (§9.7)', async () => {
    const au = await running();
    const { timestamp: _t, ...noTime } = au.statement('experienced');
    await refused(au, noTime, /timestamp \(§9\.7\)/);
    const st = au.statement('experienced');
    await refused(au, { ...st, timestamp: String(st.timestamp).replace('Z', '-06:00') }, /UTC \(§9\.7\)/);
  });

  it('refuses passed with a raw score but no min (§9.5.1)', async () => {
    const au = await running();
    await refused(au, au.statement('passed', { success: true, duration: 'PT1M', score: { scaled: 0.9, raw: 9, max: 10 } }), /§9\.5\.1/);
  });

  it('refuses passed judged by the masteryScore without the masteryscore extension (§9.6.3.2)', async () => {
    const au = await running();
    const st = au.statement('passed', { success: true, duration: 'PT1M', score: { scaled: 0.9 } });
    delete (st.context.extensions as Json)['https://w3id.org/xapi/cmi5/context/extensions/masteryscore'];
    await refused(au, st, /§9\.6\.3\.2/);
  });

  it('refuses the moveOn category on a statement without the cmi5 category (§9.6.2.2)', async () => {
    const au = await running();
    const st = au.statement('experienced');
    (st.context.contextActivities as Json).category = [MOVEON_CATEGORY];
    await refused(au, st, /moveOn category \(§9\.6\.2\.2\)/);
  });

  it('refuses a re-sent accepted statement after terminated, but not a retry of the terminating one (§9.3.8)', async () => {
    const au = await running();
    const allowed = au.statement('experienced');
    expect((await au.send(allowed)).status).to.equal(204);
    expect((await au.send(allowed)).status).to.equal(204); // a retry while the session is open
    const end = au.statement('terminated', { duration: 'PT1M' });
    expect((await au.send(end)).status).to.equal(204);
    await refused(au, allowed, /terminated.*§9\.3\.8/);
    expect((await au.send(end)).status).to.equal(204);
    // The ended session reads nothing more either.
    expect((await au.state('GET', 'bookmark')).status).to.equal(403);
  });

  it('refuses "initialized" before the AU has read its learner preferences (§11.0)', async () => {
    const { agent } = await learner();
    const au = new ThirdPartyAu((await launchAu(agent, C, QUIZ)).location.href);
    await au.fetchToken();
    await au.loadLaunchData();
    await refused(au, au.statement('initialized'), /cmi5LearnerPreferences.*§11\.0/);
    expect((await au.preferences('GET')).status).to.equal(200);
    expect((await au.send(au.statement('initialized'))).status).to.equal(204);
  });

  it('refuses learner-preference writes with 403, for another agent too; no agent is 400 (§11.0)', async () => {
    const au = await running();
    const prefs = { languagePreference: 'en-US,fr-FR', audioPreference: 'off' };
    const other = JSON.stringify({ mbox: 'mailto:someone@example.com' });
    expect((await au.preferences('PUT', other, prefs)).status).to.equal(403);
    const own = await au.preferences('PUT', au.actor, prefs);
    expect(own.status).to.equal(403);
    expect(own.text).to.match(/§11\.0/);
    expect((await au.preferences('POST', au.actor, prefs)).status).to.equal(403);
    expect((await au.preferences('PUT', au.actor, 'just some text', 'text/plain')).status).to.equal(403);
    expect((await au.preferences('PUT', '', prefs)).status).to.equal(400);
    expect(JSON.parse((await au.preferences('GET')).text)).to.deep.equal({ languagePreference: 'es,pt,en', audioPreference: 'on' });
  });

  it('keeps the learner preferences readable and LMS.LaunchData read-only', async () => {
    const au = await running();
    expect((await au.state('PUT', 'LMS.LaunchData', { launchMode: 'Normal' })).status).to.equal(403);
    expect((await au.state('GET', 'LMS.LaunchData')).status).to.equal(200);
  });
});
