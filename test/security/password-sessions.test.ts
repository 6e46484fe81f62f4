import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';
import { startSmtp, type Mail } from '../smtp';

/** A password change or reset signs out every other browser of the person (sessions are in the database). */
describe('security: a new password ends the other sessions', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let other: LmsApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let inbox: Mail[] = [];

  before(async () => {
    smtp = await startSmtp();
    inbox = smtp.inbox;
    lms = await testApp({
      plugins: [accountsPlugin],
      env: { SMTP_URL: `${smtp.url}?ignoreTLS=true`, MAIL_FROM: 'a@gob.test' },
    });
    // A second server process on the same database: a session it holds must end too.
    other = await testApp({ plugins: [accountsPlugin], config: lms.config });
  });
  after(async () => {
    await other.close();
    await lms.close();
    await smtp.close();
  });

  const signedIn = async (agent: ReturnType<typeof supertest.agent>) => (await agent.get('/accounts/profile')).status === 200;

  it('changing the password signs out the other browsers, on every server process, and keeps this one', async () => {
    const u = await makeUser(lms, { email: 'rosa@a.gov' });
    const laptop = await signIn(lms, u.email, u.password);
    const phone = await signIn(lms, u.email, u.password);
    const elsewhere = await signIn(other, u.email, u.password);
    const bystander = await makeUser(lms, { email: 'luis@a.gov' });
    const bystanderAgent = await signIn(lms, bystander.email, bystander.password);

    const page = await laptop.get('/accounts/profile').expect(200);
    await laptop
      .post('/accounts/profile/password')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), current: u.password, password: 'another long passphrase', confirm: 'another long passphrase' })
      .expect(200);

    expect(await signedIn(laptop)).to.equal(true);
    expect(await signedIn(phone)).to.equal(false);
    // The other process caches the session user for a few seconds; the session itself is gone.
    const res = await elsewhere.get('/accounts/profile');
    expect(res.status, 'the other process still serves the old session').to.equal(303);
    expect(await signedIn(bystanderAgent)).to.equal(true);
  });

  it('a password reset by e-mail signs out every browser of the person', async () => {
    const u = await makeUser(lms, { email: 'ana@a.gov' });
    const stolen = await signIn(lms, u.email, u.password);
    const agent = supertest.agent(lms.app);
    const forgot = await agent.get('/accounts/password/forgot').expect(200);
    await agent
      .post('/accounts/password/forgot')
      .type('form')
      .send({ _csrf: csrfFrom(forgot.text), email: u.email })
      .expect(200);
    for (let i = 0; i < 100 && !inbox.some((m) => m.to === u.email); i++) await new Promise((r) => setTimeout(r, 50));
    const link = /http:\/\/127\.0\.0\.1(\/accounts\/password\/reset\/[A-Za-z0-9_-]+)/.exec(inbox.find((m) => m.to === u.email)!.text)![1];
    const form = await agent.get(link).expect(200);
    await agent
      .post(link)
      .type('form')
      .send({ _csrf: csrfFrom(form.text), password: 'a reset passphrase', confirm: 'a reset passphrase' })
      .expect(200);
    expect(await signedIn(stolen)).to.equal(false);
    await signIn(lms, u.email, 'a reset passphrase');
  });
});
