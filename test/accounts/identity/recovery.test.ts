import { expect } from 'chai';
import type { LmsApp } from '../../../server/app';
import { csrfFrom, makeUser, signIn } from '../../helpers';
import { startSmtp, type Mail } from '../../smtp';
import { alertOf, identityApp, identityOf, newAgent } from './fixtures';

describe('accounts: forgot password by e-mail (a real SMTP server)', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let inbox: Mail[] = [];

  before(async () => {
    smtp = await startSmtp();
    inbox = smtp.inbox;
    lms = await identityApp({
      SMTP_URL: `${smtp.url}?ignoreTLS=true`,
      MAIL_FROM: 'aprende@gob.test',
      PASSWORD_RESET_MINUTES: '1',
      PASSWORD_RESET_RATE_LIMIT: '8',
    });
  });
  after(async () => {
    await lms.close();
    await smtp.close();
  });

  const mailFor = async (to: string, count: number) => {
    for (let i = 0; i < 100 && inbox.filter((m) => m.to === to).length < count; i++) await new Promise((r) => setTimeout(r, 50));
    return inbox.filter((m) => m.to === to);
  };
  async function ask(email: string, agent = newAgent(lms)) {
    const page = await agent.get('/accounts/password/forgot').expect(200);
    return agent
      .post('/accounts/password/forgot')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email });
  }

  it('e-mails a single-use link that sets a new password, and answers the same for an unknown address', async () => {
    const u = await makeUser(lms, { email: 'carmen@a.gov', language: 'pt' });
    const known = await ask('Carmen@A.gov');
    const unknown = await ask('nobody-here@a.gov');
    expect(known.status).to.equal(200);
    expect(unknown.status).to.equal(200);
    const msg = (html: string) => /role="status"[^>]*>([^<]+)</.exec(html)?.[1];
    expect(msg(known.text)).to.be.a('string').and.equal(msg(unknown.text));

    const [mail] = await mailFor('carmen@a.gov', 1);
    expect(mail.subject).to.equal('Escolha uma nova senha'); // the person's language
    const link = /http:\/\/127\.0\.0\.1(\/accounts\/password\/reset\/[A-Za-z0-9_-]+)/.exec(mail.text)![1];
    const agent = newAgent(lms);
    const form = await agent.get(link).expect(200);
    const done = await agent
      .post(link)
      .type('form')
      .send({ _csrf: csrfFrom(form.text), password: 'a brand new passphrase', confirm: 'a brand new passphrase' })
      .expect(200);
    expect(done.text).to.contain('role="status"');
    await signIn(lms, u.email, 'a brand new passphrase');
    // Used once: the same link again is refused and changes nothing.
    await agent.get(link).expect(410);
    const again = await agent
      .post(link)
      .type('form')
      .send({ _csrf: csrfFrom(form.text), password: 'yet another passphrase', confirm: 'yet another passphrase' });
    expect(again.status).to.equal(410);
    await signIn(lms, u.email, 'a brand new passphrase');
    expect(await mailFor('nobody-here@a.gov', 0)).to.have.length(0);
  });

  it('a link stops working once PASSWORD_RESET_MINUTES have passed', async () => {
    // A second server whose links last 1.2 seconds.
    const short = await identityApp({ SMTP_URL: `${smtp.url}?ignoreTLS=true`, PASSWORD_RESET_MINUTES: '0.02' });
    try {
      const u = await makeUser(short, { email: 'dario@a.gov' });
      expect(await identityOf(short).recovery.send(u.email)).to.equal(true);
      const [mail] = await mailFor(u.email, 1);
      const link = /(\/accounts\/password\/reset\/[A-Za-z0-9_-]+)/.exec(mail.text)![1];
      await newAgent(short).get(link).expect(200);
      await new Promise((r) => setTimeout(r, 1500));
      const res = await newAgent(short).get(link).expect(410);
      expect(alertOf(res.text)).to.match(/venció/);
    } finally {
      await short.close();
    }
  });

  it('limits links per account and requests per address', async () => {
    await makeUser(lms, { email: 'elena@a.gov' });
    const agent = newAgent(lms);
    for (let i = 0; i < 5; i++) expect((await ask('elena@a.gov', agent)).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(await mailFor('elena@a.gov', 3)).to.have.length(3); // three links per hour per account
    // Requests per client address: PASSWORD_RESET_RATE_LIMIT = 8 per 15 minutes (earlier tests used some).
    let last = 200;
    for (let i = 0; i < 5 && last !== 429; i++) last = (await ask('elena@a.gov', agent)).status;
    expect(last).to.equal(429);
  });

  it('no password sign-in and no recovery link where the institution requires its identity provider', async () => {
    await identityOf(lms).providers.save({
      id: 'gov-b',
      protocol: 'oidc',
      label: { es: 'Gov B', pt: 'Gov B', en: 'Gov B' },
      orgUnits: ['INST-B'],
      issuer: 'https://id.b.gov.test',
      clientId: 'lms',
      required: true,
    });
    const b = await makeUser(lms, { email: 'fabio@b.gov', orgUnit: 'B2' });
    const a = await makeUser(lms, { email: 'gina@a.gov', orgUnit: 'A1' });
    const agent = newAgent(lms);
    const page = await agent.get('/accounts/login').expect(200);
    const refused = await agent
      .post('/accounts/login')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: b.email, password: b.password });
    expect(refused.status).to.equal(403);
    expect(alertOf(refused.text)).to.match(/exige ingresar con su proveedor de identidad/);
    await signIn(lms, a.email, a.password);
    expect(await identityOf(lms).recovery.send(b.email)).to.equal(false);
    expect(await identityOf(lms).recovery.send(a.email)).to.equal(true);
    expect(inbox.filter((m) => m.to === b.email)).to.have.length(0);
  });
});
