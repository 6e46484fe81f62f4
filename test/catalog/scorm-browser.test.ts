import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { lrsPlugin } from '../../server/plugins/lrs';
import { makeUser, settled, testApp } from '../helpers';
import { launchBrowser } from '../browser';
import { scormZip, type ScormEdition } from './fixtures/scorm-packages';

// This suite's ports (4400-4499 belong to it).
const PORT = 4401;
const BASE = `http://127.0.0.1:${PORT}`;

/**
 * A learner takes SCORM 1.2 and 2004 courses in Chromium: the SCO finds the SCORM API in its own
 * sandboxed page, saves and suspends, resumes in another browser (nothing kept on the device),
 * then finishes with a score that meets the mastery score — with the connection dropping on the way.
 */
describe('catalog: SCORM courses in Chromium @browser', function () {
  this.timeout(240_000);
  let lms: LmsApp;
  let http: Server;
  let browser: Browser;
  let dir: string;
  const courses: Record<string, string> = {};

  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { BASE_URL: BASE } });
    http = lms.app.listen(PORT, '127.0.0.1');
    dir = mkdtempSync(path.join(os.tmpdir(), 'scorm-browser-'));
    const svc = lms.services.get('catalog.courses');
    for (const [edition, mastery] of [
      ['1.2', '80'],
      ['2004 4th Edition', '0.8'],
    ] as Array<[ScormEdition, string]>) {
      const zip = await scormZip(dir, `${edition.slice(0, 4)}.zip`, {
        edition,
        identifier: `org.example.browser-${edition.slice(0, 4)}`,
        title: `Atención al público ${edition}`,
        items: [{ id: 'sco1', title: 'Lección', mastery, launchData: 'nivel=1' }],
      });
      const { courseId } = await svc.importPackage({ filePath: zip });
      await svc.setPublished(courseId, true);
      courses[edition] = courseId;
    }
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: Object.values(courses) });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    await lms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signedIn(email: string, password: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/accounts/login`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${BASE}/`), page.press('#password', 'Enter')]);
    return { context, page };
  }

  async function openSco(page: Page, courseId: string): Promise<void> {
    await page.goto(`${BASE}/catalog/course?id=${encodeURIComponent(courseId)}`);
    await Promise.all([page.waitForURL(/\/catalog\/content\//), page.click('form[action="/catalog/launch"] button')]);
    await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'cargando');
  }

  /** Waits until the server has applied the session's last commit (the page sends it in the background). */
  async function sessionEnded(userId: string, courseId: string): Promise<void> {
    const sessions = lms.db.collection('catalog_sessions');
    for (let i = 0; i < 300; i++) {
      const open = await sessions.countDocuments({ userId, courseId, state: { $in: ['launched', 'initialized'] } });
      if (open === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the SCO session did not end on the server');
  }

  for (const edition of ['1.2', '2004 4th Edition'] as const) {
    it(`SCORM ${edition}: launch, interact, suspend, resume on another device, complete with a passing score`, async () => {
      const courseId = courses[edition];
      const u = await makeUser(lms, { tier: 'all', level: 'local', language: 'es', name: 'Lucía Quispe' });
      const first = await signedIn(u.email, u.password);
      await first.page.goto(`${BASE}/catalog/my-path`);
      await openSco(first.page, courseId);
      expect(await first.page.textContent('#status')).to.equal('ready');
      const resume1 = (await first.page.textContent('#resume'))!;
      expect(resume1)
        .to.contain('entry=ab-initio')
        .and.contain('mode=normal')
        .and.contain('launch=nivel=1')
        .and.contain('name=Lucía Quispe');
      expect(resume1).to.contain(edition === '1.2' ? 'mastery=80' : 'mastery=0.8');
      // The SCO runs in an opaque origin: no cookies, no access to the LMS's pages.
      expect(await first.page.evaluate(() => window.origin)).to.equal('null');

      // The connection drops: the first commit attempts fail and are retried.
      let dropped = 0;
      await first.page.route('**/catalog/scorm/commit', (route) =>
        dropped++ < 2 ? route.abort('internetdisconnected') : route.continue(),
      );
      await first.page.fill('#answer', 'ventanilla única');
      await first.page.click('#save');
      expect(await first.page.textContent('#status')).to.equal('suspended');
      await sessionEnded(u.id, courseId);
      expect(dropped).to.be.greaterThan(2);
      await first.context.close();

      // Another device: a fresh browser with nothing stored resumes where the learner left.
      const second = await signedIn(u.email, u.password);
      await openSco(second.page, courseId);
      const resume2 = (await second.page.textContent('#resume'))!;
      expect(resume2).to.contain('entry=resume').and.contain('saved=ventanilla única').and.contain('location=page-2');
      expect(await second.page.inputValue('#answer')).to.equal('ventanilla única');
      await second.page.click('#finish');
      expect(await second.page.textContent('#status')).to.equal('finished');
      await sessionEnded(u.id, courseId);
      await settled(lms);
      const [p] = await lms.services.get('catalog').progressOf(u.id, [courseId]);
      expect(p).to.include({ satisfied: true, score: 0.9 });
      await second.page.goto(`${BASE}/catalog/my-path`);
      expect(await second.page.textContent('main')).to.contain('1 de 2 cursos requeridos cumplidos');
      await second.context.close();
    });
  }
});
