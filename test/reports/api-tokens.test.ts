import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import { HttpError } from '../../server/core/errors';
import { csrfFrom, makeUser, signIn } from '../helpers';
import { HEADER, importRoster, rejection, reportsApp, reportsOf, seedOrg } from './fixtures';

type Doc = { _id: string } & Record<string, unknown>;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('reports: personal API tokens for BI tools', () => {
  let lms: LmsApp;
  let hr: TestAgent;
  let hrUser: Awaited<ReturnType<typeof makeUser>>;
  let token: string;

  const tokens = () => lms.db.collection<Doc>('reports_api_tokens');
  const audit = () => lms.db.collection<Doc>('reports_audit');
  /** A client with no cookies at all: what Power BI or curl is. */
  const bi = (url: string, t = token) => supertest(lms.app).get(url).set('Authorization', `Bearer ${t}`);
  const csrfOf = async (agent: TestAgent) => csrfFrom((await agent.get('/reports/tokens').expect(200)).text);

  before(async () => {
    lms = await reportsApp();
    await seedOrg(lms);
    const cat = lms.services.get('catalog.double');
    await cat.addCourse('C1', 2);
    await cat.setPath('all', ['C1']);
    await importRoster(
      lms,
      'INST-A',
      [HEADER, 'E1,Ana Pérez,ana@a.example,A1,,all,,no,yes', 'E2,Bruno Díaz,bruno@a.example,A2,,all,,no,yes'].join('\n'),
    );
    await importRoster(lms, 'INST-B', [HEADER, 'E9,Berta Ruiz,berta@b.example,B1,,all,,no,yes'].join('\n'));
    hrUser = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    hr = await signIn(lms, hrUser.email, hrUser.password);
  });
  after(() => lms.close());

  it('an HR officer creates a token on the page (CSRF required); it is shown once and stored hashed', async () => {
    const empty = await hr.get('/reports/tokens').expect(200);
    expect(empty.text).to.contain('Aún no tiene tokens.');
    expect(empty.text).to.contain('href="/reports/tokens"'); // nav entry

    await hr.post('/reports/tokens').type('form').send({ name: 'Power BI' }).expect(403);
    expect(await tokens().countDocuments()).to.equal(0);

    const res = await hr
      .post('/reports/tokens')
      .type('form')
      .send({ _csrf: csrfFrom(empty.text), name: '  Power BI – tablero  ' })
      .expect(201);
    expect(res.headers['cache-control']).to.equal('no-store');
    const m = /<input id="new-token" type="text" readonly value="(lmsr_[A-Za-z0-9_-]{43})"/.exec(res.text);
    expect(m, 'token shown in a read-only input').to.not.equal(null);
    token = m![1];
    expect(res.text).to.contain(`curl -H "Authorization: Bearer ${token}"`);
    expect(res.text).to.match(/<label for="new-token">/);

    const docs = await tokens().find().toArray();
    expect(docs).to.have.length(1);
    expect(docs[0]).to.include({ _id: sha256(token), userId: hrUser.id, name: 'Power BI – tablero', prefix: token.slice(0, 12) });
    expect(JSON.stringify(docs[0])).not.to.contain(token);

    // Listed afterwards by name and prefix only: the token itself is never shown again.
    const list = await hr.get('/reports/tokens').expect(200);
    expect(list.text).not.to.contain(token);
    expect(list.text).to.contain(`<code>${token.slice(0, 12)}…</code>`);
    expect(list.text).to.contain('<caption>');
    expect(list.text).to.match(/<th scope="row">Power BI – tablero<\/th>/);
    expect(list.text).to.contain('Nunca');
  });

  it('rejects a bad name on the page (400) and a 21st token (409)', async () => {
    const csrf = await csrfOf(hr);
    const blank = await hr.post('/reports/tokens').type('form').send({ _csrf: csrf, name: '   ' }).expect(400);
    expect(blank.text).to.contain('Nombre: escriba entre 1 y 80 caracteres.');
    await hr
      .post('/reports/tokens')
      .type('form')
      .send({ _csrf: csrf, name: 'x'.repeat(81) })
      .expect(400);
    const err = await rejection(reportsOf(lms).tokens.create('someone', ''));
    expect(err).to.be.instanceOf(HttpError);
    expect((err as HttpError).status).to.equal(400);
    expect(err.message).to.match(/^name: /);

    const r = reportsOf(lms);
    for (let i = 0; i < 20; i++) await r.tokens.create('limit-user', `t${i}`);
    const tooMany = await rejection(r.tokens.create('limit-user', 'one more'));
    expect((tooMany as HttpError).status).to.equal(409);
    expect(await tokens().countDocuments({ userId: 'limit-user' })).to.equal(20);
  });

  it('with the token, the dashboard JSON of their institution is 200 and another institution is 403', async () => {
    const ok = await bi('/reports/api/dashboard').expect(200);
    expect(ok.headers['set-cookie'], 'no session is opened for a token').to.equal(undefined);
    const d = ok.body;
    expect(d.scope.code).to.equal('INST-A');
    expect(d).to.include({ total: 2 });
    for (const url of ['/reports/api/dashboard?unit=INST-B', '/reports/api/dashboard?unit=B1', '/reports/api/dashboard?unit=*']) {
      await bi(url).expect(403);
    }
    const people = (await bi('/reports/api/people?status=all').expect(200)).body;
    expect(people.people.map((p: { email: string }) => p.email).sort()).to.deep.equal(['ana@a.example', 'bruno@a.example']);
    // lastUsedAt is recorded, at most once a minute
    const first = (await tokens().findOne({ _id: sha256(token) }))!.lastUsedAt as Date;
    expect(first).to.be.instanceOf(Date);
    await bi('/reports/api/dashboard').expect(200);
    expect(((await tokens().findOne({ _id: sha256(token) }))!.lastUsedAt as Date).getTime()).to.equal(first.getTime());
  });

  it('exports CSV with the token, within scope only', async () => {
    const csv = await bi('/reports/export/people.csv?status=all').expect(200);
    expect(csv.headers['content-type']).to.match(/text\/csv/);
    expect(csv.text).to.contain('ana@a.example');
    expect(csv.text).not.to.contain('berta@b.example');
    await bi('/reports/export/summary.csv').expect(200);
    const refused = await bi('/reports/export/summary.csv?unit=INST-B').expect(403);
    expect(refused.headers['set-cookie'], 'no session is opened for a token').to.equal(undefined);
  });

  it('records token calls in the audit log, marked as such', async () => {
    await hr.get('/reports/api/dashboard').expect(200); // the same call with the session cookie
    const mine = await audit().find({ userId: hrUser.id }).sort({ at: 1 }).toArray();
    const viaToken = mine.filter((a) => a.via === 'token').map((a) => `${a.action} ${a.format} ${a.scope}`);
    expect(viaToken).to.include.members([
      'api:dashboard json INST-A',
      'api:people json INST-A',
      'export:people csv INST-A',
      'export:summary csv INST-A',
    ]);
    const bySession = mine.filter((a) => !('via' in a));
    expect(bySession.map((a) => a.action)).to.deep.equal(['api:dashboard']);
    expect(mine.every((a) => a.email === hrUser.email)).to.equal(true);
    const a = await makeUser(lms, { role: 'admin' });
    const page = await (await signIn(lms, a.email, a.password)).get('/reports/audit').expect(200);
    expect(page.text).to.contain('<th scope="col">Acceso</th>');
    expect(page.text).to.contain('<td>Token de API</td>');
    // refused calls (403 outside the scope) leave no entry
    expect(mine.filter((a) => a.scope === 'INST-B')).to.deep.equal([]);
  });

  it('a wrong token is a 401 with WWW-Authenticate, and tokens work on the API and exports only', async () => {
    for (const bad of [`lmsr_${randomBytes(32).toString('base64url')}`, 'not-a-token', token.slice(0, -1), '']) {
      for (const url of ['/reports/api/dashboard', '/reports/export/summary.csv']) {
        const res = await bi(url, bad).expect(401);
        expect(res.headers['www-authenticate']).to.equal('Bearer error="invalid_token"');
        expect(res.body.error).to.be.a('string');
      }
    }
    // On a page, a bearer token is no sign-in: the browser is sent to the login form.
    const page = await bi('/reports').expect(303);
    expect(page.headers.location).to.match(/^\/accounts\/login/);
    await bi('/reports/tokens').expect(303);
    // Without the header, nothing changes: a plain 401 for an anonymous API call.
    const anon = await supertest(lms.app).get('/reports/api/dashboard').expect(401);
    expect(anon.headers['www-authenticate']).to.equal(undefined);
  });

  it('a POST with only a bearer token is not authenticated', async () => {
    const before = await tokens().countDocuments();
    await supertest(lms.app)
      .post('/reports/tokens')
      .set('Authorization', `Bearer ${token}`)
      .type('form')
      .send({ name: 'sneaky' })
      .expect(403); // CSRF first
    // the roster upload checks sign-in before its own CSRF check: 401, the token is ignored
    await supertest(lms.app).post('/reports/roster').set('Authorization', `Bearer ${token}`).field('institution', 'INST-A').expect(401);
    await supertest(lms.app).head('/reports/api/dashboard').set('Authorization', `Bearer ${token}`).expect(401);
    expect(await tokens().countDocuments()).to.equal(before);
  });

  it('another user cannot revoke it (404); the owner revokes it and it stops working (401)', async () => {
    const id = sha256(token);
    const other = await makeUser(lms, { role: 'hr', orgUnit: 'INST-B' });
    const otherAgent = await signIn(lms, other.email, other.password);
    const otherPage = await otherAgent.get('/reports/tokens').expect(200);
    expect(otherPage.text).not.to.contain(token.slice(0, 12));
    await otherAgent
      .post(`/reports/tokens/${id}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(otherPage.text) })
      .expect(404);
    await bi('/reports/api/dashboard').expect(200);

    await hr.post(`/reports/tokens/${id}/revoke`).type('form').send({}).expect(403); // CSRF
    const res = await hr
      .post(`/reports/tokens/${id}/revoke`)
      .type('form')
      .send({ _csrf: await csrfOf(hr) })
      .expect(303);
    expect(res.headers.location).to.equal('/reports/tokens?revoked=1');
    expect((await hr.get(res.headers.location).expect(200)).text).to.contain('Token revocado');
    expect(await tokens().findOne({ _id: id })).to.equal(null);
    const gone = await bi('/reports/api/dashboard').expect(401);
    expect(gone.headers['www-authenticate']).to.equal('Bearer error="invalid_token"');
    await bi('/reports/export/people.csv').expect(401);
  });

  it("a deactivated user's token is a 401; a learner's token meets the permission guard (403)", async () => {
    const r = reportsOf(lms);
    const u = await makeUser(lms, { role: 'hr', orgUnit: 'INST-B' });
    const { token: t } = await r.tokens.create(u.id, 'Tableau');
    expect((await bi('/reports/api/dashboard', t).expect(200)).body.scope.code).to.equal('INST-B');
    await lms.services.get('accounts.users').setActive(u.id, false);
    const res = await bi('/reports/api/dashboard', t).expect(401);
    expect(res.headers['www-authenticate']).to.equal('Bearer error="invalid_token"');

    const l = await makeUser(lms, { role: 'learner', orgUnit: 'INST-A' });
    const { token: lt } = await r.tokens.create(l.id, 'curious');
    await bi('/reports/api/dashboard', lt).expect(403);
  });
});
