import { expect } from 'chai';
import supertest from 'supertest';
import { csrfFrom, signIn } from '../helpers';
import { basic, buildWorld, download, findEverywhere, privacyApp, traces, unzip, type World } from './fixtures';

const json = (b: Buffer | undefined) => JSON.parse(b!.toString('utf8')) as unknown;

describe('privacy: a person’s data exported and erased through every plugin', function () {
  this.timeout(180_000);
  let w: World;
  before(async () => {
    w = await buildWorld(await privacyApp());
  });
  after(() => w.lms.close());

  const adminAgent = () => signIn(w.lms, w.admin.email, w.admin.password);
  const dashboard = async () => {
    const { generatedAt: _at, ...figures } = (await (await adminAgent()).get('/reports/api/dashboard').expect(200)).body as Record<
      string,
      unknown
    >;
    return figures;
  };
  const statementsOf = async (agent: Record<string, unknown>) =>
    (
      await supertest(w.lms.app)
        .get(`/xapi/statements?agent=${encodeURIComponent(JSON.stringify(agent))}&limit=500`)
        .set('Authorization', basic(w.client))
        .set('X-Experience-API-Version', '1.0.3')
        .expect(200)
    ).body.statements as Array<Record<string, unknown>>;

  it('the person downloads one archive with each plugin’s data about them, and nothing about anyone else', async () => {
    const { ana, bruno, carla, hrB } = w;
    await download(w.anaSession, '/privacy/export.zip'); // a first export, so the audit log has an entry about her
    const res = await download(w.anaSession, '/privacy/export.zip');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/zip');
    expect(res.headers['cache-control']).to.equal('no-store');
    const files = await unzip(res.body as Buffer);

    const manifest = json(files.get('manifest.json')) as { person: { email: string }; plugins: Record<string, unknown> };
    expect(manifest.person.email).to.equal(ana.email);
    expect(Object.keys(manifest.plugins)).to.have.members([
      'core',
      'accounts',
      'lrs',
      'catalog',
      'certificates',
      'reports',
      'privacy',
      'notifications',
    ]);

    const account = json(files.get('accounts/account.json')) as Record<string, unknown>;
    expect(account).to.include({ email: ana.email, name: ana.name });
    expect(account).not.to.have.property('passwordHash');

    const roster = json(files.get('reports/roster.json')) as Array<Record<string, unknown>>;
    expect(roster.map((r) => r._id)).to.deep.equal(['INST-A:A-0071']);

    const progress = json(files.get('catalog/progress.json')) as Array<Record<string, unknown>>;
    expect(progress.map((p) => [p.userId, p.satisfied])).to.deep.equal([[ana.id, true]]);

    // Statements where she is the actor: the cmi5 session, the LMS's own, her certificates' and the tool's (by e-mail).
    const text = files.get('lrs/statements.json')!.toString('utf8');
    const statements = JSON.parse(text) as Array<{ actor: Record<string, unknown>; verb: { id: string } }>;
    for (const s of statements) {
      const a = s.actor as { mbox?: string; account?: { name: string } };
      expect(a.mbox === `mailto:${ana.email}` || a.account?.name === ana.id, JSON.stringify(s.actor)).to.equal(true);
    }
    const verbs = statements.map((s) => s.verb.id.split('/').pop());
    expect(verbs).to.include.members(['launched', 'initialized', 'completed', 'terminated', 'satisfied', 'earned', 'attended']);
    const documents = json(files.get('lrs/documents.json')) as Array<{ id: string }>;
    expect(documents.map((d) => d.id)).to.include.members(['LMS.LaunchData', 'cmi5LearnerPreferences']);

    const certs = json(files.get('certificates/certificates.json')) as Array<{ _id: string; kind: string; userId: string }>;
    expect(certs.map((c) => c.kind).sort()).to.deep.equal(['course', 'path']);
    for (const c of certs) {
      expect(c.userId).to.equal(ana.id);
      expect(files.get(`certificates/${c._id}.pdf`)!.subarray(0, 5).toString()).to.equal('%PDF-');
      expect(files.get(`certificates/${c._id}.jwt`)!.toString().split('.')).to.have.length(3);
    }
    const audit = json(files.get('privacy/audit.json')) as Array<{ action: string; subject: string }>;
    expect(audit).to.deep.include.members([{ ...audit[0], action: 'export', subject: ana.id }]);

    // Nothing of the second person of her institution, of the other institution or of its officer.
    for (const [name, content] of files) {
      const s = content.toString('latin1');
      for (const other of [bruno, carla, hrB])
        for (const t of [other.id, other.email, other.name]) expect(s, `${name} names ${t}`).not.to.contain(t);
      expect(s, name).not.to.contain('INST-B');
    }
  });

  it('an admin downloads it for the person; HR of another institution, its API token, other learners and anonymous visitors cannot', async () => {
    const admin = await adminAgent();
    const res = await download(admin, `/privacy/admin/people/${w.ana.id}/export.zip`);
    expect(res.status).to.equal(200);
    expect((await unzip(res.body as Buffer)).has('accounts/account.json')).to.equal(true);

    const hr = await signIn(w.lms, w.hrB.email, w.hrB.password);
    const hrPage = await hr.get('/privacy').expect(200); // their own data page works, with a CSRF token for the tries below
    await hr.get(`/privacy/admin/people/${w.ana.id}`).expect(403);
    await hr.get(`/privacy/admin/people/${w.ana.id}/export.zip`).expect(403);
    await hr
      .post(`/privacy/admin/people/${w.ana.id}/erase`)
      .type('form')
      .send({ _csrf: csrfFrom(hrPage.text), confirm: w.ana.email })
      .expect(403);
    const token = (await w.lms.services.get('reports.internal').tokens.create(w.hrB.id, 'bi')).token;
    const viaToken = await supertest(w.lms.app).get(`/privacy/admin/people/${w.ana.id}/export.zip`).set('Authorization', `Bearer ${token}`);
    expect(viaToken.status).to.be.oneOf([302, 303, 401]);
    const bruno = await signIn(w.lms, w.bruno.email, w.bruno.password);
    await bruno.get(`/privacy/admin/people/${w.ana.id}/export.zip`).expect(403);
    const anon = await supertest(w.lms.app).get('/privacy/export.zip');
    expect(anon.status).to.be.oneOf([302, 303, 401]);
    expect(await w.lms.services.get('accounts.users').findById(w.ana.id)).to.have.property('email', w.ana.email);
  });

  it('erasing removes or pseudonymises everything in every collection, keeps the totals, withdraws her certificates and ends her sessions', async () => {
    const { ana, bruno, lms } = w;
    const before = await dashboard();
    expect(before).to.include({ total: 3, trained: 3 });
    const anaAgent = { objectType: 'Agent', account: { homePage: lms.config.baseUrl, name: ana.id } };
    const byMail = { objectType: 'Agent', mbox: `mailto:${ana.email}` };
    const hers = [...(await statementsOf(anaAgent)), ...(await statementsOf(byMail))];
    const certs = await lms.services.get('certificates').listForUser(ana.id);
    expect(certs).to.have.length(2);
    await w.anaSession.get('/catalog/my-path').expect(200);

    const admin = await adminAgent();
    const page = await admin.get(`/privacy/admin/people/${ana.id}`).expect(200);
    // A wrong confirmation changes nothing.
    const wrong = await admin
      .post(`/privacy/admin/people/${ana.id}/erase`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), confirm: bruno.email });
    expect(wrong.status).to.equal(400);
    expect(await lms.services.get('accounts.users').findById(ana.id)).to.not.equal(undefined);
    const done = await admin
      .post(`/privacy/admin/people/${ana.id}/erase`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), confirm: ana.email });
    expect(done.status, JSON.stringify(await lms.db.db!.collection('privacy_erasures').find({}).toArray())).to.equal(303);

    expect(await findEverywhere(lms, traces(ana))).to.deep.equal([]);

    // The same statements, now under one opaque account agent; Bruno's keep him as actor, with an anonymous instructor.
    const pseudonymous = (await lms.db.db!.collection('reports_people').findOne({ _id: /^INST-A:erased-/ as never }))!;
    const pseudonymAgent = { objectType: 'Agent', account: { homePage: lms.config.baseUrl, name: pseudonymous.userId as string } };
    const now = await statementsOf(pseudonymAgent);
    expect(now.map((s) => s.id).sort()).to.deep.equal(hers.map((s) => s.id).sort());
    expect(await statementsOf(anaAgent)).to.deep.equal([]);
    expect(await statementsOf(byMail)).to.deep.equal([]);
    const brunos = await statementsOf({ objectType: 'Agent', mbox: `mailto:${bruno.email}` });
    const taught = brunos.find((s) => (s.context as { instructor?: unknown } | undefined)?.instructor)!;
    expect((taught.actor as { name: string }).name).to.equal(bruno.name);
    expect((taught.context as { instructor: unknown }).instructor).to.deep.equal(pseudonymAgent);

    expect(await dashboard()).to.deep.equal(before);
    await lms.services.get('reports.internal').recompute.request('after an erasure');
    await lms.services.get('reports.internal').recompute.idle();
    expect(await dashboard(), 'a recompute finds the same figures').to.deep.equal(before);

    for (const c of certs) {
      const v = await supertest(lms.app).get(`/verify/${c._id}`).expect(200);
      expect(v.text).to.contain('Certificado retirado');
      expect(v.text).not.to.contain(ana.name);
      expect((await supertest(lms.app).get(`/verify/${c._id}?format=json`).expect(200)).body).to.include({ status: 'withdrawn' });
    }
    const stale = await w.anaSession.get('/catalog/my-path');
    expect(stale.status, 'her old session is over').to.be.oneOf([302, 303, 401]);
    const login = await supertest.agent(lms.app).get('/accounts/login');
    const again = await supertest(lms.app)
      .post('/accounts/login')
      .set('Cookie', login.headers['set-cookie'] as unknown as string[])
      .type('form')
      .send({ _csrf: csrfFrom(login.text), email: ana.email, password: ana.password });
    expect(again.status).to.equal(401);

    // Bruno's own data is untouched.
    const his = await unzip((await download(await signIn(lms, bruno.email, bruno.password), '/privacy/export.zip')).body as Buffer);
    expect((json(his.get('certificates/certificates.json')) as unknown[]).length).to.equal(2);
    const actions = (await lms.db.db!.collection('privacy_audit').find({}).toArray()).map((a) => a.action);
    expect(actions).to.include.members(['export', 'erase.start', 'erase.done']);
    // Erasing again is a no-op that says it is done.
    const res = await admin
      .post(`/privacy/admin/people/${ana.id}/erase`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), confirm: ana.email });
    expect(res.status).to.equal(404); // the person no longer exists
  });
});
