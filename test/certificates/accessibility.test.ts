import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { LmsApp } from '../../server/app';
import { describeViolations, launchBrowser, listen, seriousViolations } from '../browser';
import { makeUser } from '../helpers';
import { certificatesApp, course, satisfied } from './helpers';

describe('certificates: accessibility of the pages @browser', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  let browser: Browser;
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    lms = await certificatesApp();
    server = await listen(lms.app);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await lms?.close();
  });

  it('verification (valid, revoked, unknown), my certificates, the HR list and a certificate page pass axe in every language', async () => {
    const learner = await makeUser(lms, { name: 'José Ñúñez da Conceição', orgUnit: 'DEMO-MUNI' });
    await lms.hooks.emit('catalog.course.satisfied', satisfied(learner.id, course(), 0.9));
    await lms.hooks.emit('catalog.course.satisfied', satisfied(learner.id, course()));
    const svc = lms.services.get('certificates');
    const [a, b] = await svc.listForUser(learner.id);
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'DEMO-MUNI' });
    await svc.revoke(hr, b._id, 'Registro duplicado');
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      const context = await browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      for (const path of ['/verify', `/verify/${a._id}`, `/verify/${b._id}`, `/verify/${'C'.repeat(32)}`]) {
        await page.goto(server.url + path);
        expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
      }
      for (const [who, paths] of [
        [learner, ['/certificates/mine']],
        [hr, ['/certificates/manage', `/certificates/manage/${a._id}`, `/certificates/manage/${b._id}`]],
      ] as const) {
        await page.goto(`${server.url}/accounts/login`);
        await page.fill('#email', who.email);
        await page.fill('#password', who.password);
        await page.click('button[type=submit]');
        await page.waitForURL(`${server.url}/`);
        for (const path of paths) {
          await page.goto(server.url + path);
          expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
        }
        await context.clearCookies();
      }
      await context.close();
    }
  });
});
