import { expect } from 'chai';
import { accountsPlugin } from '../../server/plugins/accounts';
import { browserSuite, describeViolations, seriousViolations, signInPage } from '../browser';
import { makeUser, testApp } from '../helpers';

/** Pages of the everyday product added since (notifications, …), on the full plugin set. */
describe('core: accessibility of the everyday pages @browser', function () {
  this.timeout(180_000);
  const s = browserSuite(() => testApp({ env: { CONTENT_LIBRARY: 'off' } }));

  it('notification preferences and the in-app list, the unsubscribe page (asking, then done), the admin home, failing e-mails and the searches have no serious axe violations, in every language', async () => {
    const hr = await makeUser(s.lms, { role: 'hr', name: 'Helena RH', orgUnit: 'INST-A' });
    const admin = await makeUser(s.lms, { role: 'admin', name: 'Ana Admin' });
    const token = new URL(s.lms.services.get('notifications').unsubscribeUrl(hr.id, 'digest')).pathname;
    // A notice in Helena's in-app list, unread (with its button) and in every language.
    const mailer = s.lms.services.get('notifications');
    const digest = (language: string) => ({
      kind: 'digest' as const,
      key: `digest:${hr.id}:1`,
      to: { ...hr, language },
      subject: mailer.t(language)('notifications:digest.subject', { unit: 'Ministerio A' }),
      paragraphs: [mailer.t(language)('notifications:digest.empty', { unit: 'Ministerio A' })],
      action: { label: mailer.t(language)('notifications:digest.action'), href: '/reports' },
    });
    await mailer.inbox.record(digest('es'), () => [digest('pt'), digest('en')]);
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      const context = await s.browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(s.url + token);
      expect(describeViolations(await seriousViolations(page)), `${locale} unsubscribe`).to.equal('');
      await page.click('main button[type=submit]');
      await page.waitForSelector('[role=status]');
      expect(describeViolations(await seriousViolations(page)), `${locale} unsubscribed`).to.equal('');
      await signInPage(page, s.url, hr);
      await page.goto(`${s.url}/notifications/preferences`);
      expect(await page.isChecked('#k-digest'), 'the unsubscribed kind shows as off').to.equal(false);
      await page.click('main button[type=submit]');
      await page.waitForSelector('[role=status]');
      expect(describeViolations(await seriousViolations(page)), `${locale} preferences`).to.equal('');
      await page.goto(`${s.url}/notifications/inbox`);
      expect(await page.locator('main ol.notices > li').count(), 'the notice is listed').to.equal(1);
      expect(describeViolations(await seriousViolations(page)), `${locale} notifications`).to.equal('');
      await context.clearCookies();
      // The administrator's home (what needs attention, counts), the failing e-mails, and the searches.
      await signInPage(page, s.url, admin);
      for (const path of ['/', '/notifications/admin/failed', '/catalog/courses?q=informacion', '/reports/people?status=all&q=nunez']) {
        await page.goto(s.url + path);
        expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
      }
      await context.close();
    }
  });
});

describe('core: accessibility of the shared pages @browser', function () {
  this.timeout(120_000);
  // SMTP_URL shows the recovery form (nothing is sent unless it is submitted).
  const s = browserSuite(() => testApp({ plugins: [accountsPlugin], env: { SMTP_URL: 'smtp://127.0.0.1:9' } }));

  it('sign-in, recovery, home, profile, users and identity admin and error pages have no serious axe violations, in every language', async () => {
    const admin = await makeUser(s.lms, { role: 'admin', name: 'Ana Admin' });
    await s.lms.services.get('accounts.identity').providers.save({
      id: 'red-a',
      protocol: 'ldap',
      label: { es: 'Red del Ministerio A', pt: 'Rede do Ministério A', en: 'Ministry A network' },
      orgUnits: ['INST-A'],
      url: 'ldaps://127.0.0.1:9',
      bindDn: 'cn=lms,dc=gob,dc=test',
      bindPassword: 'not-used-by-this-test',
      searchBase: 'dc=gob,dc=test',
    });
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      // bypassCSP only lets the test inject axe-core; the pages keep their strict CSP.
      const context = await s.browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      for (const path of [
        '/accounts/login',
        '/accounts/password/forgot',
        '/accounts/password/reset/not-a-link',
        '/accounts/identity/red-a/start',
      ]) {
        await page.goto(s.url + path);
        expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
      }
      await signInPage(page, s.url, admin);
      for (const path of ['/', '/accounts/profile', '/accounts/admin/users', '/accounts/identity/admin', '/no-such-page']) {
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
