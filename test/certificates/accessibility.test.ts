import { expect } from 'chai';
import { browserSuite, describeViolations, seriousViolations, signInPage } from '../browser';
import { makeUser, settled } from '../helpers';
import { certificatesApp, course, satisfied } from './helpers';

describe('certificates: accessibility of the pages @browser', function () {
  this.timeout(120_000);
  const s = browserSuite(() => certificatesApp());

  it('verification (valid, revoked, unknown), my certificates, the HR list and a certificate page pass axe in every language', async () => {
    const learner = await makeUser(s.lms, { name: 'José Ñúñez da Conceição', orgUnit: 'DEMO-MUNI' });
    await s.lms.hooks.emit('catalog.course.satisfied', satisfied(learner.id, course(), 0.9));
    await settled(s.lms);
    await s.lms.hooks.emit('catalog.course.satisfied', satisfied(learner.id, course()));
    await settled(s.lms);
    const svc = s.lms.services.get('certificates');
    const [a, b] = await svc.listForUser(learner.id);
    const hr = await makeUser(s.lms, { role: 'hr', orgUnit: 'DEMO-MUNI' });
    await svc.revoke(hr, b._id, 'Registro duplicado');
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      const context = await s.browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      for (const path of ['/verify', `/verify/${a._id}`, `/verify/${b._id}`, `/verify/${'C'.repeat(32)}`]) {
        await page.goto(s.url + path);
        expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
      }
      for (const [who, paths] of [
        [learner, ['/certificates/mine']],
        [hr, ['/certificates/manage', `/certificates/manage/${a._id}`, `/certificates/manage/${b._id}`]],
      ] as const) {
        await signInPage(page, s.url, who);
        for (const path of paths) {
          await page.goto(s.url + path);
          expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
        }
        await context.clearCookies();
      }
      await context.close();
    }
  });
});
