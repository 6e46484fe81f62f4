import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import type { Plugin } from '../../server/core/plugin';
import { HttpError } from '../../server/core/errors';
import { accountsPlugin } from '../../server/plugins/accounts';
import { englishInPage } from '../english-detector';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';

// A plugin whose route fails unexpectedly, to see what a 500 looks like from outside.
const failing: Plugin = {
  manifest: { name: 'failing', version: '1.0.0', core: 1, personalData: false },
  register: async (ctx) => {
    ctx.router.get('/boom', () => {
      throw new Error('secret internal detail');
    });
    // Statuses with a title of their own that no core page produces (a used link, a rejected package).
    ctx.router.get('/gone', () => {
      throw new HttpError(410, 'This link was already used');
    });
    ctx.router.get('/unprocessable', () => {
      throw new HttpError(422, 'The package breaks a rule');
    });
    ctx.router.post('/echo', (req, res) => {
      res.json(req.body);
    });
  },
};

describe('core: pages, errors and languages', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, failing] });
  });
  after(() => lms.close());

  it('serves pages in Spanish by default and follows Accept-Language', async () => {
    const es = await supertest(lms.app).get('/accounts/login').expect(200);
    expect(es.text).to.contain('<html lang="es">').and.contain('Iniciar sesión');
    const pt = await supertest(lms.app).get('/accounts/login').set('Accept-Language', 'pt-BR,pt;q=0.9').expect(200);
    expect(pt.text).to.contain('<html lang="pt">').and.contain('Entrar');
    const en = await supertest(lms.app).get('/accounts/login').set('Accept-Language', 'en-GB').expect(200);
    expect(en.text).to.contain('Sign in');
  });

  it('remembers an anonymous visitor’s language choice', async () => {
    const agent = supertest.agent(lms.app);
    await agent.get('/lang/en?next=/accounts/login').expect(303).expect('Location', '/accounts/login');
    const page = await agent.get('/accounts/login').expect(200);
    expect(page.text).to.contain('Sign in');
  });

  it("the user's profile language wins, and changing it changes the page text", async () => {
    const u = await makeUser(lms, { language: 'pt' });
    const agent = await signIn(lms, u.email, u.password);
    const before = await agent.get('/accounts/profile').set('Accept-Language', 'en').expect(200);
    expect(before.text).to.contain('Meu perfil');
    await agent
      .post('/accounts/profile')
      .type('form')
      .send({ _csrf: csrfFrom(before.text), language: 'en' })
      .expect(200);
    const after = await agent.get('/accounts/profile').expect(200);
    expect(after.text).to.contain('My profile').and.not.contain('Meu perfil');
  });

  it('the footer language links work for a signed-in user too, until the profile is saved again', async () => {
    const u = await makeUser(lms, { language: 'pt' });
    const agent = await signIn(lms, u.email, u.password);
    expect((await agent.get('/accounts/profile').expect(200)).text).to.contain('Meu perfil');
    const footer = (await agent.get('/accounts/profile')).text;
    expect(footer).to.contain('href="/lang/es?next=%2Faccounts%2Fprofile"');
    await agent.get('/lang/es?next=/accounts/profile').expect(303).expect('Location', '/accounts/profile');
    const es = await agent.get('/accounts/profile').expect(200);
    expect(es.text).to.contain('<html lang="es">').and.contain('Mi perfil');
    // Saving the profile makes its language the one in force again.
    await agent
      .post('/accounts/profile')
      .type('form')
      .send({ _csrf: csrfFrom(es.text), language: 'en' })
      .expect(200);
    expect((await agent.get('/accounts/profile').expect(200)).text).to.contain('My profile');
    // A new session starts in the profile language.
    const again = await signIn(lms, u.email, u.password);
    expect((await again.get('/accounts/profile').expect(200)).text).to.contain('My profile');
  });

  it('shows a translated 404 page, and JSON to API clients', async () => {
    const html = await supertest(lms.app).get('/no/such/page').set('Accept-Language', 'en').expect(404);
    expect(html.text).to.contain('Page not found');
    const json = await supertest(lms.app).get('/no/such/page').set('Accept', 'application/json').expect(404);
    expect(json.body.error.status).to.equal(404);
  });

  for (const [lang, gone, unprocessable] of [
    ['es', 'Ya no está disponible', 'No se puede procesar'],
    ['pt', 'Não está mais disponível', 'Não é possível processar'],
    ['en', 'No longer available', 'Cannot be processed'],
  ] as const)
    it(`titles 410 and 422 pages for what they are, not as a 400 (${lang})`, async () => {
      const bad = { es: 'Solicitud incorrecta', pt: 'Pedido inválido', en: 'Bad request' }[lang];
      for (const [path, status, title] of [
        ['/failing/gone', 410, gone],
        ['/failing/unprocessable', 422, unprocessable],
      ] as const) {
        const res = await supertest(lms.app).get(path).set('Accept-Language', lang).expect(status);
        expect(res.text)
          .to.contain(`<html lang="${lang}"`)
          .and.contain(`<title>${title}`)
          .and.match(new RegExp(`<h1[^>]*>${title}</h1>`));
        expect(res.text).not.to.contain(bad);
        if (lang !== 'en') expect(englishInPage(res.text.replace(/<p class="detail">[^<]*<\/p>/, ''), lang)).to.deep.equal([]);
      }
    });

  it('never shows a stack trace or internal message on a 500', async () => {
    const res = await supertest(lms.app).get('/failing/boom').expect(500);
    expect(res.text)
      .to.contain('Algo salió mal')
      .and.not.contain('secret internal detail')
      .and.not.match(/at .*\.ts:\d+/);
  });

  it('answers 400 naming the problem for a malformed body', async () => {
    const agent = supertest.agent(lms.app);
    const token = csrfFrom((await agent.get('/accounts/login')).text);
    const res = await agent
      .post('/failing/echo')
      .set('x-csrf-token', token)
      .set('Content-Type', 'application/json')
      .send('{"broken": ')
      .expect(400);
    expect(res.text, res.text).to.match(/not valid JSON/);
  });

  it('redirects anonymous visitors to sign in, and refuses admin pages to learners (403)', async () => {
    await supertest(lms.app)
      .get('/accounts/admin/users')
      .expect(303)
      .expect('Location', '/accounts/login?next=%2Faccounts%2Fadmin%2Fusers');
    const u = await makeUser(lms, { role: 'learner' });
    const agent = await signIn(lms, u.email, u.password);
    const res = await agent.get('/accounts/admin/users').expect(403);
    expect(res.text).to.contain('Acceso denegado');
    const hr = await makeUser(lms, { role: 'hr' });
    await (await signIn(lms, hr.email, hr.password)).get('/accounts/admin/users').expect(403);
  });

  it('sends security headers', async () => {
    const res = await supertest(lms.app).get('/accounts/login');
    expect(res.headers['content-security-policy']).to.contain("default-src 'self'");
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['x-powered-by']).to.equal(undefined);
    expect(res.headers['set-cookie']?.[0])
      .to.match(/HttpOnly/)
      .and.match(/SameSite=Lax/);
  });
});
