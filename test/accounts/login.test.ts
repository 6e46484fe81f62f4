import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';

describe('accounts: sign-in', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ env: { LOGIN_MAX_FAILURES: '3' } });
  });
  after(() => lms.close());

  it('signs in with the right password and keeps the session across requests', async () => {
    const u = await makeUser(lms, { name: 'José Ñúñez da Conceição' });
    const agent = await signIn(lms, u.email, u.password);
    const home = await agent.get('/').expect(200);
    expect(home.text).to.contain('José Ñúñez da Conceição');
    const profile = await agent.get('/accounts/profile').expect(200);
    expect(profile.text).to.contain(u.email);
  });

  it('rejects a wrong password and an unknown email with the same message', async () => {
    const u = await makeUser(lms);
    const agent = supertest.agent(lms.app);
    const page = await agent.get('/accounts/login');
    const wrong = await agent
      .post('/accounts/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: u.email, password: 'nope nope nope' })
      .expect(401);
    const unknown = await agent
      .post('/accounts/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: 'nobody@example.org', password: 'nope nope nope' })
      .expect(401);
    const msg = (html: string) => /role="alert"[^>]*>([^<]+)</.exec(html)?.[1];
    expect(msg(wrong.text)).to.be.a('string').and.equal(msg(unknown.text));
  });

  it('locks the account after repeated failures, even for the right password', async () => {
    const u = await makeUser(lms);
    const agent = supertest.agent(lms.app);
    const token = csrfFrom((await agent.get('/accounts/login')).text);
    for (let i = 0; i < 3; i++)
      await agent.post('/accounts/login').type('form').send({ _csrf: token, email: u.email, password: 'wrong wrong wrong' }).expect(401);
    await agent.post('/accounts/login').type('form').send({ _csrf: token, email: u.email, password: u.password }).expect(401);
  });

  it('refuses a form without a valid CSRF token', async () => {
    const u = await makeUser(lms);
    const agent = supertest.agent(lms.app);
    await agent.get('/accounts/login');
    await agent.post('/accounts/login').type('form').send({ email: u.email, password: u.password }).expect(403);
    await agent.post('/accounts/login').type('form').send({ _csrf: 'forged', email: u.email, password: u.password }).expect(403);
  });
});
