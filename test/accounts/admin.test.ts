import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';

describe('accounts: administration and first start', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp();
  });
  after(() => lms.close());

  it('an admin creates an account from the form, with field errors shown', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/accounts/admin/users').expect(200);
    const token = csrfFrom(page.text);
    const bad = await agent
      .post('/accounts/admin/users')
      .type('form')
      .send({ _csrf: token, name: 'X', email: 'not-an-email', role: 'learner' })
      .expect(400);
    expect(bad.text).to.contain('email');
    await agent
      .post('/accounts/admin/users')
      .type('form')
      .send({
        _csrf: token,
        name: 'Marta Gómez',
        email: 'Marta@Example.org',
        role: 'hr',
        orgUnit: 'MUNI-1',
        level: 'local',
        password: 'una frase larga',
      })
      .expect(303);
    const list = await agent.get('/accounts/admin/users').expect(200);
    expect(list.text).to.contain('marta@example.org').and.contain('Marta Gómez');
    const dup = await agent
      .post('/accounts/admin/users')
      .type('form')
      .send({ _csrf: token, name: 'Otra', email: 'marta@example.org', role: 'learner' })
      .expect(409);
    expect(dup.text).to.contain('Ya existe una cuenta con ese correo');
  });

  it('deactivating an account ends its sessions and blocks sign-in', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const learner = await makeUser(lms);
    const learnerAgent = await signIn(lms, learner.email, learner.password);
    await learnerAgent.get('/accounts/profile').expect(200);
    const adminAgent = await signIn(lms, admin.email, admin.password);
    const token = csrfFrom((await adminAgent.get('/accounts/admin/users')).text);
    await adminAgent.post(`/accounts/admin/users/${learner.id}/deactivate`).type('form').send({ _csrf: token }).expect(303);
    await learnerAgent.get('/accounts/profile').expect(303);
    let failed = false;
    await signIn(lms, learner.email, learner.password).catch(() => (failed = true));
    expect(failed).to.equal(true);
  });

  it('stores passwords only as scrypt hashes', async () => {
    const u = await makeUser(lms);
    const doc = await lms.db.collection('accounts_users').findOne({ email: u.email });
    expect(doc?.passwordHash)
      .to.match(/^scrypt\$32768\$8\$1\$/)
      .and.not.contain(u.password);
  });

  it('with no admin, start() prints a one-time setup link that creates the first admin once', async () => {
    const fresh = await testApp();
    try {
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => lines.push(a.join(' '));
      try {
        await fresh.start();
      } finally {
        console.log = log;
      }
      const link = /\/accounts\/setup\/([\w-]+)/.exec(lines.join('\n'));
      expect(link, 'setup link printed').to.not.equal(null);
      const agent = supertest.agent(fresh.app);
      const page = await agent.get(link![0]).expect(200);
      await agent
        .post(link![0])
        .type('form')
        .send({ _csrf: csrfFrom(page.text), name: 'Primera Admin', email: 'first@example.org', password: 'una frase larga' })
        .expect(303);
      expect(await fresh.services.get('accounts.users').hasAdmin()).to.equal(true);
      await supertest(fresh.app).get(link![0]).expect(404);
    } finally {
      await fresh.close();
    }
  });

  it('with ADMIN_EMAIL/ADMIN_PASSWORD, start() creates that admin', async () => {
    const fresh = await testApp({ env: { ADMIN_EMAIL: 'boss@example.org', ADMIN_PASSWORD: 'a long admin phrase' } });
    try {
      await fresh.start();
      await signIn(fresh, 'boss@example.org', 'a long admin phrase');
    } finally {
      await fresh.close();
    }
  });
});
