import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { freePort, makeUser, testApp } from '../helpers';
import { describeViolations, launchBrowser, seriousViolations } from '../content/browser';
import { COURSE, META, validZip } from './fixtures/packages';

/** An AU that tries what hostile package code would: read cookies, call our API as the user, forge a form post. */
const PROBE = `<!doctype html><html lang="en"><title>probe</title><script>
(async () => {
  const out = { origin: self.origin };
  try { out.cookie = document.cookie; } catch (e) { out.cookie = 'blocked: ' + e.name; }
  try { const r = await fetch('/catalog/admin/courses', { credentials: 'include' }); out.api = 'read ' + r.status; } catch (e) { out.api = 'blocked: ' + e.name; }
  try { await fetch('/catalog/admin/course/publish', { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ id: '${COURSE}/isolation', published: '1' }) }); out.post = 'sent'; } catch (e) { out.post = 'blocked: ' + e.name; }
  try { out.sibling = (await (await fetch('data.json')).json()).ok; } catch (e) { out.sibling = 'failed: ' + e.name; }
  document.title = 'done ' + JSON.stringify(out);
})();
</script></html>`;

describe('catalog: package isolation and admin pages in a browser @browser', function () {
  this.timeout(180_000);
  let PORT = 0;
  let BASE = '';
  let lms: LmsApp;
  let server: Server;
  let browser: Browser;
  let dir: string;
  let auUrl: string;

  before(async () => {
    PORT = await freePort();
    BASE = `http://127.0.0.1:${PORT}`;
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { BASE_URL: BASE } });
    server = await new Promise<Server>((resolve) => {
      const s = lms.app.listen(PORT, '127.0.0.1', () => resolve(s));
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'catalog-browser-'));
    const svc = lms.services.get('catalog.courses');
    // The AU entry point is a placeholder; the probe sits next to the sibling file it fetches.
    const zip = await validZip(dir, 'probe.zip', { id: `${COURSE}/isolation`, meta: META, aus: [{ url: 'index.html' }] }, [
      { name: 'au/data.json', data: '{"ok":true}' },
      { name: 'au/probe.html', data: PROBE },
    ]);
    const r = await svc.importPackage({ filePath: zip });
    auUrl = svc.contentUrl((await svc.getVersion(r.courseId, r.version))!, 'au/probe.html');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await lms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an AU page signed-in admins open gets an opaque origin: no cookies, no API as the user, no forged posts; its own files load', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/accounts/login`);
    await page.fill('#email', admin.email);
    await page.fill('#password', admin.password);
    await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]:not(.link)')]);
    expect((await context.cookies()).map((c) => c.name)).to.include('lms.sid');

    await page.goto(auUrl);
    await page.waitForFunction(() => document.title.startsWith('done '), undefined, { timeout: 20_000 });
    const out = JSON.parse((await page.title()).slice(5)) as Record<string, unknown>;
    expect(out.origin).to.equal('null');
    expect(out.cookie).to.match(/^blocked/);
    expect(out.api).to.match(/^blocked/);
    expect(out.sibling).to.equal(true);
    // Whatever the forged post did, it did not act as the admin.
    expect((await lms.services.get('catalog.courses').getCourse(`${COURSE}/isolation`))!.published).to.equal(false);
    await context.close();
  });

  it('the package admin pages have no serious accessibility violations (axe-core)', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/accounts/login`);
    await page.fill('#email', admin.email);
    await page.fill('#password', admin.password);
    await Promise.all([page.waitForURL(`${BASE}/`), page.click('button[type=submit]:not(.link)')]);
    for (const url of ['/catalog/admin/courses', `/catalog/admin/course?id=${encodeURIComponent(`${COURSE}/isolation`)}`]) {
      await page.goto(`${BASE}${url}`);
      const v = await seriousViolations(page);
      expect(v, describeViolations(v)).to.deep.equal([]);
    }
    // Upload through the real form: the CSRF field travels before the file.
    await page.goto(`${BASE}/catalog/admin/courses`);
    await page.setInputFiles('#package', await validZip(dir, 'form.zip', { id: `${COURSE}/form` }));
    await Promise.all([page.waitForURL(/\/catalog\/admin\/course\?/), page.click('form[enctype] button[type=submit]')]);
    expect(await page.textContent('main')).to.include('Paquete importado como versión 1.');
    await context.close();
  });
});
