import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { loadConfig } from '../../server/core/config';
import { operatorWarning } from '../../server/core/server-address';
import { accountsPlugin } from '../../server/plugins/accounts';
import { privacyPlugin } from '../../server/plugins/privacy';
import { browserSuite, describeViolations, seriousViolations, signInPage } from '../browser';
import { makeUser, signIn, testApp } from '../helpers';

const OPERATOR = {
  OPERATOR_NAME: 'Escuela Nacional de Administración Pública',
  OPERATOR_EMAIL: 'ayuda@enap.example.gob',
  OPERATOR_URL: 'https://enap.example.gob',
  OPERATOR_ADDRESS: 'Av. Central 100, Ciudad',
  PRIVACY_CONTACT_EMAIL: 'datos@enap.example.gob',
  PRIVACY_RETENTION_DAYS: '400',
};

describe('core: who runs the site, accessibility statement, privacy notice and help', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, privacyPlugin], env: OPERATOR });
  });
  after(() => lms.close());

  it('the footer of every page names the operator with its site and contact, and links the three pages', async () => {
    const page = await supertest(lms.app).get('/accounts/login').expect(200);
    expect(page.text)
      .to.contain('<a href="https://enap.example.gob">Escuela Nacional de Administración Pública</a>')
      .and.contain('href="mailto:ayuda@enap.example.gob"')
      .and.contain('href="/accessibility"')
      .and.contain('href="/help"')
      .and.contain('href="/privacy/notice"');
  });

  it('the privacy notice names the controller, its address and data-protection contact, what is kept and for how long', async () => {
    for (const [lang, heading, days] of [
      ['es', 'Aviso de privacidad', 'a los 400 días'],
      ['pt', 'Aviso de privacidade', 'após 400 dias'],
      ['en', 'Privacy notice', 'after 400 days'],
    ]) {
      const res = await supertest(lms.app).get('/privacy/notice').set('Accept-Language', lang).expect(200);
      expect(res.text).to.contain(`<h1>${heading}</h1>`).and.contain('Escuela Nacional de Administración Pública').and.contain(days);
      expect(res.text).to.contain('Av. Central 100, Ciudad').and.contain('mailto:datos@enap.example.gob');
      // The table of what is kept comes from the plugins' declarations (accounts and privacy here).
      expect((res.text.match(/<tr>\s*<td>/g) ?? []).length).to.be.greaterThan(2);
      expect(res.text).to.contain('lms.sid').and.contain('lms.lang');
    }
  });

  it('the accessibility statement names the operator, the standard, the checks, the limits and where to write', async () => {
    const res = await supertest(lms.app).get('/accessibility').set('Accept-Language', 'pt').expect(200);
    expect(res.text)
      .to.contain('<h1>Declaração de acessibilidade</h1>')
      .and.contain('Escuela Nacional de Administración Pública')
      .and.contain('WCAG')
      .and.contain('axe-core')
      .and.contain('mailto:ayuda@enap.example.gob');
  });

  it('help answers for each role: visitors see sign-in help, HR their section, learners not HR’s', async () => {
    const visitor = await supertest(lms.app).get('/help').set('Accept-Language', 'es').expect(200);
    expect(visitor.text).to.contain('id="help-visitor"').and.contain('id="help-learner"').and.not.contain('id="help-hr"');
    const learner = await makeUser(lms, { role: 'learner', language: 'en' });
    const l = await (await signIn(lms, learner.email, learner.password)).get('/help').expect(200);
    expect(l.text).to.contain('How do I take a lesson?').and.not.contain('id="help-hr"').and.not.contain('id="help-visitor"');
    const admin = await makeUser(lms, { role: 'admin', language: 'pt' });
    const a = await (await signIn(lms, admin.email, admin.password)).get('/help').expect(200);
    expect(a.text).to.contain('id="help-admin"').and.contain('Como adiciono um curso?');
  });

  it('without an operator the footer names nobody, the pages say whom to ask, and start-up warns outside development', async () => {
    const plain = await testApp({ plugins: [accountsPlugin] });
    try {
      const page = await supertest(plain.app).get('/accessibility').set('Accept-Language', 'en').expect(200);
      expect(page.text).not.to.contain('Site run by').and.contain("ask your institution's human resources unit");
      expect(page.text, 'no privacy plugin, no link to its notice').not.to.contain('/privacy/notice');
    } finally {
      await plain.close();
    }
    expect(operatorWarning(loadConfig({ NODE_ENV: 'production', DATA_DIR: '/tmp/everyday-cfg', SESSION_SECRET: 'x'.repeat(20) }))).to.match(
      /OPERATOR_NAME is not set/,
    );
    expect(operatorWarning(loadConfig({ NODE_ENV: 'production', OPERATOR_NAME: 'X', SESSION_SECRET: 'x'.repeat(20) }))).to.equal(undefined);
    expect(() => loadConfig({ OPERATOR_EMAIL: 'not-an-address', SESSION_SECRET: 'x'.repeat(20) })).to.throw(/OPERATOR_EMAIL/);
  });
});

describe('core: the accessibility statement, privacy notice and help have no serious axe violations @browser', function () {
  this.timeout(180_000);
  const s = browserSuite(() => testApp({ plugins: [accountsPlugin, privacyPlugin], env: OPERATOR }));

  it('in es, pt and en, signed out and as an admin', async () => {
    const admin = await makeUser(s.lms, { role: 'admin' });
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      const context = await s.browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      const visit = async () => {
        for (const path of ['/accessibility', '/privacy/notice', '/help']) {
          await page.goto(s.url + path);
          expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
        }
      };
      await visit();
      await signInPage(page, s.url, admin);
      await visit();
      await context.close();
    }
  });
});
