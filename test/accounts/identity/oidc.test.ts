import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { expect } from 'chai';
import Provider from 'oidc-provider';
import type { LmsApp } from '../../../server/app';
import { csrfFrom, makeUser, signIn } from '../../helpers';
import { HEADER, importRoster } from '../../reports/fixtures';
import { Browser, alertOf, identityApp, identityOf, listen, local, newAgent, sessionCookie } from './fixtures';

const people: Record<string, Record<string, unknown>> = {
  'sub-ana': { sub: 'sub-ana', email: 'Ana@A.gov', email_verified: true, name: 'Ana S.' },
  'sub-bruno': { sub: 'sub-bruno', email: 'bruno@b.gov', email_verified: true, name: 'Bruno L.' },
  'sub-nobody': { sub: 'sub-nobody', email: 'nobody@a.gov', email_verified: true, name: 'Nadie' },
  'sub-unverified': { sub: 'sub-unverified', email: 'alberto@a.gov', email_verified: false, name: 'Alberto' },
  // A national identity: the CPF it vouches for, and an address it does not.
  'cpf-alberto': { sub: 'cpf-alberto', cpf: '123.456.789-09', email: 'alberto.paz@gmail.example', email_verified: false },
  'cpf-bruno': { sub: 'cpf-bruno', cpf: '987.654.321-00', email: 'bruno@b.gov', email_verified: true },
  'cpf-unknown': { sub: 'cpf-unknown', cpf: '111.222.333-44', email: 'ana@a.gov', email_verified: true },
};

describe('accounts: sign-in with OpenID Connect (oidc-provider)', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let op: InstanceType<typeof Provider>;
  let server: Server;
  let issuer: string;

  before(async () => {
    lms = await identityApp();
    // The OpenID Provider's interaction: the "person" chosen by the test signs in and consents.
    let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {};
    ({ server, url: issuer } = await listen((req, res) => handler(req, res)));
    op = new Provider(issuer, {
      clients: [
        {
          client_id: 'lms',
          client_secret: 'a-long-client-secret-for-the-test',
          redirect_uris: [
            'http://127.0.0.1/accounts/identity/oidc/gov-a/callback',
            'http://127.0.0.1/accounts/identity/oidc/cpf-a/callback',
          ],
          post_logout_redirect_uris: ['http://127.0.0.1/accounts/login'],
        },
      ],
      findAccount: async (_ctx, sub) => (people[sub] ? { accountId: sub, claims: async () => people[sub] as { sub: string } } : undefined),
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], cpf: ['cpf'] },
      features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      cookies: { keys: ['test-cookie-key-0123456789'] },
    });
    const callback = op.callback();
    handler = (req, res) => {
      const m = /^\/interaction\/([^/?]+)\/as\/([^/?]+)/.exec(req.url ?? '');
      if (!m) return void callback(req, res);
      void (async () => {
        const details = await op.interactionDetails(req, res);
        const grant = new op.Grant({ accountId: m[2], clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        await op.interactionFinished(req, res, { login: { accountId: m[2] }, consent: { grantId } }, { mergeWithLastSubmission: false });
      })().catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    };
    await identityOf(lms).providers.save({
      id: 'gov-a',
      protocol: 'oidc',
      label: { es: 'Ingresar con Gov A', pt: 'Entrar com Gov A', en: 'Sign in with Gov A' },
      orgUnits: ['INST-A'],
      issuer,
      clientId: 'lms',
      clientSecret: 'a-long-client-secret-for-the-test',
    });
  });
  after(async () => {
    await lms.close();
    server.close();
  });

  /** The whole front channel, as a browser does it; returns our callback's answer. */
  async function signInAs(sub: string, agent = newAgent(lms), opts: { tamper?: (callback: string) => string; provider?: string } = {}) {
    const provider = opts.provider ?? 'gov-a';
    const start = await agent.get(`/accounts/identity/${provider}/start?next=/accounts/profile`).expect(303);
    const auth = new URL(start.headers.location);
    expect(auth.origin).to.equal(issuer);
    expect(auth.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(auth.searchParams.get('nonce')).to.be.a('string');
    const browser = new Browser();
    let res = await browser.fetch(auth.href);
    const interaction = new URL(res.headers.get('location')!, issuer);
    res = await browser.fetch(`${issuer}${interaction.pathname}/as/${sub}`);
    // Back to the authorization endpoint, which now redirects to our callback with a code.
    while (res.status >= 300 && res.status < 400 && new URL(res.headers.get('location')!, issuer).origin === issuer)
      res = await browser.fetch(new URL(res.headers.get('location')!, issuer).href);
    let callback = res.headers.get('location')!;
    expect(callback).to.contain(`/accounts/identity/oidc/${provider}/callback?`);
    if (opts.tamper) callback = opts.tamper(callback);
    return { agent, callback, answer: await agent.get(local(callback)), startCookie: sessionCookie(start) };
  }

  it('signs in a person of the institution, links the roster account and rotates the session', async () => {
    const { agent, answer, startCookie } = await signInAs('sub-ana');
    expect(answer.status, answer.text).to.equal(303);
    expect(answer.headers.location).to.equal('/accounts/profile');
    expect(sessionCookie(answer)).to.be.a('string').and.not.equal(startCookie);
    const profile = await agent.get('/accounts/profile').expect(200);
    expect(profile.text).to.contain('ana@a.gov');
    // The roster decided where Ana works, not the provider.
    const ana = await lms.services.get('accounts.users').findByEmail('ana@a.gov');
    expect(ana).to.include({ orgUnit: 'A1', tier: 'manager', level: 'national', name: 'Ana Souza' });
    const { links } = await identityOf(lms).linker.list({ provider: 'gov-a' });
    expect(links.map((l) => [l.subject, l.userId])).to.deep.include(['sub-ana', ana!.id]);
    // The second time the link is used.
    const again = await signInAs('sub-ana');
    expect(again.answer.status).to.equal(303);
  });

  it('never lets a person of institution B in through institution A’s provider', async () => {
    const { agent, answer } = await signInAs('sub-bruno');
    expect(answer.status).to.equal(403);
    expect(alertOf(answer.text)).to.match(/no corresponde a su institución/);
    await agent.get('/accounts/profile').expect(303);
    expect((await identityOf(lms).linker.list({ provider: 'gov-a' })).links.map((l) => l.subject)).not.to.include('sub-bruno');
  });

  it('gives a person on no roster a clear message and no account', async () => {
    const { answer } = await signInAs('sub-nobody');
    expect(answer.status).to.equal(403);
    expect(alertOf(answer.text)).to.match(/no figura en la nómina/);
    expect(await lms.services.get('accounts.users').findByEmail('nobody@a.gov')).to.equal(undefined);
  });

  it('does not link by an e-mail address the provider has not verified', async () => {
    const { answer } = await signInAs('sub-unverified');
    expect(answer.status).to.equal(403);
    expect(alertOf(answer.text)).to.match(/datos verificados/);
  });

  it('refuses a callback with a forged state and a replayed code', async () => {
    const forged = await signInAs('sub-ana', newAgent(lms), { tamper: (c) => c.replace(/state=[^&]+/, 'state=forged') });
    expect(forged.answer.status).to.equal(401);
    const ok = await signInAs('sub-ana');
    expect(ok.answer.status).to.equal(303);
    // The same callback again (a stolen URL): no pending sign-in, and the code is spent.
    const replay = await newAgent(lms).get(local(ok.callback));
    expect(replay.status).to.equal(401);
  });

  it('signing out also ends the session at the provider (RP-initiated logout)', async () => {
    const { agent } = await signInAs('sub-ana');
    const page = await agent.get('/accounts/profile').expect(200);
    const out = await agent
      .post('/accounts/logout')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    const end = new URL(out.headers.location);
    expect(end.origin).to.equal(issuer);
    expect(end.searchParams.get('id_token_hint')).to.be.a('string');
    expect(end.searchParams.get('post_logout_redirect_uri')).to.equal('http://127.0.0.1/accounts/login');
    // The provider accepts the hint (it answers 400 to a forged one) and asks to confirm.
    expect((await fetch(end.href)).status).to.equal(200);
    const forged = new URL(end.href);
    forged.searchParams.set('id_token_hint', 'x.y.z');
    expect((await fetch(forged.href)).status).to.equal(400);
    await agent.get('/accounts/profile').expect(303);
  });

  it('shows the providers that apply on the sign-in page, in the person’s language', async () => {
    const es = await newAgent(lms).get('/accounts/login').expect(200);
    expect(es.text).to.contain('Ingresar con Gov A').and.contain('/accounts/identity/gov-a/start');
    const en = await newAgent(lms).get('/accounts/login').set('Cookie', 'lms.lang=en').expect(200);
    expect(en.text).to.contain('Sign in with Gov A');
    const forB = await newAgent(lms).get('/accounts/login?institution=INST-B').expect(200);
    expect(forB.text).not.to.contain('gov-a');
    const forA1 = await newAgent(lms).get('/accounts/login?institution=A1').expect(200);
    expect(forA1.text).to.contain('gov-a');
  });

  it('an administrator sees and removes links; without the link the next sign-in links again', async () => {
    await signInAs('sub-ana');
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/accounts/identity/admin?provider=gov-a').expect(200);
    expect(page.text).to.contain('sub-ana').and.contain('ana@a.gov');
    await agent
      .post('/accounts/identity/admin/links/gov-a%3Asub-ana/delete')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    expect((await identityOf(lms).linker.list({ provider: 'gov-a' })).links.map((l) => l.subject)).not.to.include('sub-ana');
    expect((await signInAs('sub-ana')).answer.status).to.equal(303);
    expect((await identityOf(lms).linker.list({ provider: 'gov-a' })).links.map((l) => l.subject)).to.include('sub-ana');
    const learner = await signIn(lms, (await makeUser(lms)).email, 'correct horse battery');
    await learner.get('/accounts/identity/admin').expect(403);
  });

  it('links by national id to the roster person of the provider’s institution, never to another institution’s', async () => {
    // INST-A's roster now carries national ids (the column is optional).
    await importRoster(
      lms,
      'INST-A',
      [
        `${HEADER},cpf`,
        'A-001,Ana Souza,ana@a.gov,A1,national,manager,,no,yes,',
        'A-002,Alberto Paz,alberto@a.gov,A2,national,technical,,no,yes,123.456.789-09',
      ].join('\n'),
    );
    await importRoster(
      lms,
      'INST-B',
      [`${HEADER},cpf`, 'B-001,Bruno Lima,bruno@b.gov,B1,local,technical,,no,yes,987.654.321-00'].join('\n'),
    );
    await identityOf(lms).providers.save({
      id: 'cpf-a',
      protocol: 'oidc',
      label: { es: 'Identidad nacional', pt: 'Identidade nacional', en: 'National identity' },
      orgUnits: ['INST-A'],
      match: 'nationalId',
      issuer,
      clientId: 'lms',
      clientSecret: 'a-long-client-secret-for-the-test',
      scope: 'openid email cpf',
      attributes: { nationalId: 'cpf' },
    });
    // The address is not verified: the national id alone finds Alberto, and the roster places him.
    const alberto = await signInAs('cpf-alberto', newAgent(lms), { provider: 'cpf-a' });
    expect(alberto.answer.status, alberto.answer.text).to.equal(303);
    expect((await alberto.agent.get('/accounts/profile').expect(200)).text).to.contain('alberto@a.gov');
    const account = await lms.services.get('accounts.users').findByEmail('alberto@a.gov');
    expect(account).to.include({ orgUnit: 'A2', tier: 'technical', level: 'national' });
    expect((await identityOf(lms).linker.list({ provider: 'cpf-a' })).links.map((l) => [l.subject, l.userId])).to.deep.equal([
      ['cpf-alberto', account!.id],
    ]);
    // Bruno's national id is on INST-B's roster: not through INST-A's provider, whatever his verified e-mail.
    const bruno = await signInAs('cpf-bruno', newAgent(lms), { provider: 'cpf-a' });
    expect(bruno.answer.status).to.equal(403);
    expect(alertOf(bruno.answer.text)).to.match(
      /corresponde a una persona de la nómina de otra institución.*No se modificó ninguna cuenta/,
    );
    await bruno.agent.get('/accounts/profile').expect(303);
    // Nobody moved: Bruno stays B's, on B's roster, and unlinked.
    expect(await lms.services.get('accounts.users').findByEmail('bruno@b.gov')).to.include({ orgUnit: 'B1' });
    expect(await lms.db.collection('reports_people').findOne({ email: 'bruno@b.gov' })).to.include({ institution: 'INST-B', unit: 'B1' });
    expect((await identityOf(lms).linker.list({ provider: 'cpf-a' })).links.map((l) => l.subject)).to.not.include('cpf-bruno');
    // In the person's language.
    for (const [lang, text] of [
      ['pt', /pertence a uma pessoa do quadro de pessoal de outra instituição.*Nenhuma conta foi alterada/],
      ['en', /belongs to a person on another institution’s staff roster.*No account was changed/],
    ] as const) {
      const agent = newAgent(lms);
      agent.set('Accept-Language', lang);
      const again = await signInAs('cpf-bruno', agent, { provider: 'cpf-a' });
      expect(alertOf(again.answer.text), lang).to.match(text);
    }
    // A national id on no roster does not fall back to the (verified) address of someone else's account.
    const unknown = await signInAs('cpf-unknown', newAgent(lms), { provider: 'cpf-a' });
    expect(unknown.answer.status).to.equal(403);
    expect((await identityOf(lms).linker.list({ provider: 'cpf-a' })).links).to.have.length(1);
  });
});
