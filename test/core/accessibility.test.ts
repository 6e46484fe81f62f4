import { expect } from 'chai';
import { accountsPlugin } from '../../server/plugins/accounts';
import { browserSuite, describeViolations, seriousViolations, signInPage } from '../browser';
import { makeUser, testApp } from '../helpers';

describe('core: accessibility of the shared pages @browser', function () {
  this.timeout(120_000);
  const s = browserSuite(() => testApp({ plugins: [accountsPlugin] }));

  it('sign-in, home, profile, users admin and error pages have no serious axe violations, in every language', async () => {
    const admin = await makeUser(s.lms, { role: 'admin', name: 'Ana Admin' });
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      // bypassCSP only lets the test inject axe-core; the pages keep their strict CSP.
      const context = await s.browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${s.url}/accounts/login`);
      expect(describeViolations(await seriousViolations(page))).to.equal('');
      await signInPage(page, s.url, admin);
      for (const path of ['/', '/accounts/profile', '/accounts/admin/users', '/no-such-page']) {
        await page.goto(s.url + path);
        expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
      }
      await context.close();
    }
  });

  it('the skip link is the first thing the keyboard reaches and moves focus to the main content', async () => {
    const page = await s.browser.newPage({ locale: 'es-ES' });
    await page.goto(`${s.url}/accounts/login`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal('Saltar al contenido principal');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('main');
    await page.close();
  });
});
