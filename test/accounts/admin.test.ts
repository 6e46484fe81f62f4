import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { englishInPage } from '../english-detector';
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

  // The account list shows the names of accounts other tests made ("Test Person"): data, not interface.
  const english = (html: string, lang: 'es' | 'pt') => englishInPage(html, lang).filter((p) => !p.startsWith('"Test Person"'));

  for (const [lang, expected] of [
    [
      'es',
      {
        email: 'La dirección de correo «maria.gomez-sin-arroba» no es válida.',
        name: 'Escriba el nombre de la persona (máximo 200 caracteres).',
        role: 'El rol «jefa» no existe.',
        language: 'El idioma «klingon» no existe.',
        noUser: 'Esta cuenta no existe.',
      },
    ],
    [
      'pt',
      {
        email: 'O endereço de e-mail «maria.gomez-sin-arroba» não é válido.',
        name: 'Escreva o nome da pessoa (máximo de 200 caracteres).',
        role: 'O papel «jefa» não existe.',
        language: 'O idioma «klingon» não existe.',
        noUser: 'Esta conta não existe.',
      },
    ],
  ] as const) {
    it(`account forms refuse bad input in the page's language (${lang}), naming the field, writing nothing`, async () => {
      const admin = await makeUser(lms, { role: 'admin', language: lang, name: 'Ana Prueba' });
      const agent = await signIn(lms, admin.email, admin.password);
      const token = csrfFrom((await agent.get('/accounts/admin/users').expect(200)).text);
      const users = lms.services.get('accounts.users');
      const before = (await users.list({ limit: 1 })).total;
      const forms = [
        [{ name: 'María Gómez', email: 'maria.gomez-sin-arroba', role: 'learner' }, expected.email],
        [{ name: '  ', email: 'maria.gomez@example.org', role: 'learner' }, expected.name],
        [{ name: 'María Gómez', email: 'maria.gomez@example.org', role: 'jefa' }, expected.role],
        [{ name: 'María Gómez', email: 'maria.gomez@example.org', role: 'learner', language: 'klingon' }, expected.language],
      ] as const;
      for (const [form, message] of forms) {
        const res = await agent
          .post('/accounts/admin/users')
          .type('form')
          .send({ _csrf: token, ...form })
          .expect(400);
        expect(res.text).to.contain(`<html lang="${lang}"`).and.contain(message);
        expect(english(res.text, lang), JSON.stringify(form)).to.deep.equal([]);
      }
      expect((await users.list({ limit: 1 })).total).to.equal(before);
      expect(await users.findByEmail('maria.gomez@example.org')).to.equal(undefined);
      // Activating an account that does not exist: 404, also in the page's language.
      const none = await agent.post('/accounts/admin/users/0123456789abcdef01234567/activate').type('form').send({ _csrf: token });
      expect(none.status).to.equal(404);
      expect(none.text).to.contain(expected.noUser);
      expect(english(none.text, lang)).to.deep.equal([]);
      // The profile's language must be one the site speaks; the account keeps its own.
      const profile = csrfFrom((await agent.get('/accounts/profile').expect(200)).text);
      const bad = await agent.post('/accounts/profile').type('form').send({ _csrf: profile, language: 'klingon' }).expect(400);
      expect(bad.text).to.contain(expected.language);
      expect(english(bad.text, lang)).to.deep.equal([]);
      expect((await users.findById(admin.id))?.language).to.equal(lang);
    });
  }

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
