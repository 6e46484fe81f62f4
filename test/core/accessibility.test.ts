import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { describeViolations, launchBrowser, listen, seriousViolations } from '../browser';
import { makeUser, testApp } from '../helpers';

describe('core: accessibility of the shared pages @browser', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  let browser: Browser;
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin] });
    server = await listen(lms.app);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await lms?.close();
  });

  it('sign-in, home, profile, users admin and error pages have no serious axe violations, in every language', async () => {
    const admin = await makeUser(lms, { role: 'admin', name: 'Ana Admin' });
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      // bypassCSP only lets the test inject axe-core; the pages keep their strict CSP.
      const context = await browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${server.url}/accounts/login`);
      expect(describeViolations(await seriousViolations(page))).to.equal('');
      await page.fill('#email', admin.email);
      await page.fill('#password', admin.password);
      await page.click('button[type=submit]');
      await page.waitForURL(`${server.url}/`);
      for (const path of ['/', '/accounts/profile', '/accounts/admin/users', '/no-such-page']) {
        await page.goto(server.url + path);
        expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
      }
      await context.close();
    }
  });

  it('the skip link is the first thing the keyboard reaches and moves focus to the main content', async () => {
    const page = await browser.newPage({ locale: 'es-ES' });
    await page.goto(`${server.url}/accounts/login`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal('Saltar al contenido principal');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('main');
    await page.close();
  });
});
