import { expect } from 'chai';
import supertest from 'supertest';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { certificatesPlugin } from '../../server/plugins/certificates';
import { lrsPlugin } from '../../server/plugins/lrs';
import { privacyPlugin } from '../../server/plugins/privacy';
import { reportsPlugin } from '../../server/plugins/reports';
import { csrfFrom, makeUser, signIn } from '../helpers';
import { basic, buildWorld, findEverywhere, flaky, privacyApp, traces, type World } from './fixtures';

describe('privacy: an interrupted erasure is finished by running it again', function () {
  this.timeout(180_000);
  const step = flaky();
  let w: World;
  before(async () => {
    w = await buildWorld(
      await privacyApp({}, [accountsPlugin, lrsPlugin, step, catalogPlugin, certificatesPlugin, reportsPlugin, privacyPlugin]),
    );
  });
  after(() => w.lms.close());

  it('fails half-way with a 503 saying to run it again, lists it as unfinished, and the re-run completes with one pseudonym', async () => {
    const { lms, ana } = w;
    const admin = await signIn(lms, w.admin.email, w.admin.password);
    const page = await admin.get(`/privacy/admin/people/${ana.id}`).expect(200);
    const first = await admin
      .post(`/privacy/admin/people/${ana.id}/erase`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), confirm: ana.email });
    expect(first.status).to.equal(503);
    expect(first.text).to.contain('Ejecútela de nuevo');
    const db = lms.db.db!;
    const record = (await db.collection('privacy_erasures').findOne({}))!;
    expect(record).to.include({ status: 'running', lastError: 'disk full' });
    expect(record.steps).to.have.members(['privacy', 'reports', 'certificates', 'catalog']);
    // Half-way: her progress is already pseudonymous, her statements not yet; she cannot sign in any more.
    expect(await db.collection('catalog_progress').countDocuments({ userId: ana.id })).to.equal(0);
    expect(await db.collection('lrs_statements').countDocuments({ agents: `account:${lms.config.baseUrl}|${ana.id}` })).to.be.greaterThan(
      0,
    );
    const list = await admin.get('/privacy/admin').expect(200);
    expect(list.text).to.contain(ana.email).and.contain(`/privacy/admin/erasures/${record._id}/resume`);

    const again = await admin
      .post(`/privacy/admin/erasures/${record._id}/resume`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text) });
    expect(again.status).to.equal(303);
    expect(await findEverywhere(lms, traces(ana))).to.deep.equal([]);
    const done = (await db.collection('privacy_erasures').findOne({ _id: record._id }))!;
    expect(done).to.include({ status: 'done', attempts: 2 });
    expect(done).not.to.have.any.keys('userId', 'email', 'name', 'pseudonym');
    // One pseudonym throughout: progress, roster row and statements name the same opaque id.
    const pseudonym = record.pseudonym as string;
    expect(await db.collection('catalog_progress').countDocuments({ userId: pseudonym })).to.equal(1);
    expect(await db.collection('reports_people').countDocuments({ userId: pseudonym })).to.equal(1);
    const res = await supertest(lms.app)
      .get(`/xapi/statements?agent=${encodeURIComponent(JSON.stringify({ account: { homePage: lms.config.baseUrl, name: pseudonym } }))}`)
      .set('Authorization', basic(w.client))
      .set('X-Experience-API-Version', '1.0.3')
      .expect(200);
    expect(res.body.statements.length).to.be.greaterThan(5);
  });
});

describe('privacy: retention erases people deactivated longer than PRIVACY_RETENTION_DAYS, on its timer', function () {
  this.timeout(120_000);

  it('the job erases the long-deactivated person only, and the server keeps working', async () => {
    const lms = await privacyApp({ PRIVACY_RETENTION_DAYS: '30', PRIVACY_RETENTION_INTERVAL: '1s' });
    try {
      const admin = await makeUser(lms, { role: 'admin', name: 'Admin' });
      const old = await makeUser(lms, { name: 'Olga Antigua', email: 'olga.antigua@example.org' });
      const recent = await makeUser(lms, { name: 'Raúl Reciente', email: 'raul.reciente@example.org' });
      const active = await makeUser(lms, { name: 'Ada Activa' });
      const agent = await signIn(lms, admin.email, admin.password);
      for (const u of [old, recent]) {
        const page = await agent.get('/accounts/admin/users').expect(200);
        await agent
          .post(`/accounts/admin/users/${u.id}/deactivate`)
          .type('form')
          .send({ _csrf: csrfFrom(page.text) })
          .expect(303);
      }
      // Olga was deactivated 31 days ago.
      const users = lms.db.db!.collection('accounts_users');
      const { ObjectId } = await import('mongodb');
      await users.updateOne({ _id: new ObjectId(old.id) }, { $set: { deactivatedAt: new Date(Date.now() - 31 * 86400_000) } });

      await lms.start();
      const users_ = lms.services.get('accounts.users');
      const ran = () => lms.db.db!.collection('privacy_audit').findOne({ action: 'retention' });
      for (let i = 0; i < 100 && !(await ran()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await ran()).to.include({ actorId: 'retention', detail: '1 erased' });
      expect(await users_.findById(old.id), 'erased by the job').to.equal(undefined);
      expect(await findEverywhere(lms, traces(old))).to.deep.equal([]);
      expect(await users_.findById(recent.id)).to.have.property('email', recent.email);

      // The server keeps serving: the admin's pages, the audit log naming the run, the active person's sign-in.
      const audit = await agent.get('/privacy/admin').expect(200);
      expect(audit.text).to.contain('regla de conservación aplicada');
      const mine = await (await signIn(lms, active.email, active.password)).get('/privacy').expect(200);
      expect(mine.text).to.contain('30 días');
    } finally {
      await lms.close();
    }
  });
});
