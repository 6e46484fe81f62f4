import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { lrsPlugin } from '../../server/plugins/lrs';
import { makeUser, settled, testApp } from '../helpers';
import { describeViolations, launchBrowser, seriousViolations } from '../browser';
import { scormZip } from './fixtures/scorm-packages';

// This suite's port (5300-5399 belong to it).
const PORT = 5310;
const BASE = `http://127.0.0.1:${PORT}`;

/**
 * A learner in Chromium meets a SCORM 1.2 unit whose prerequisites are not met: it is listed with
 * the reason and no Start button (the page passes axe's WCAG 2.1 AA rules), and once the learner
 * completes the unit it needs, back on the course page, it can be started.
 */
describe('catalog: SCORM prerequisites on the course page in Chromium @browser', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  let http: Server;
  let browser: Browser;
  let dir: string;
  let courseId = '';

  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { BASE_URL: BASE } });
    http = lms.app.listen(PORT, '127.0.0.1');
    dir = mkdtempSync(path.join(os.tmpdir(), 'scorm-prereq-browser-'));
    const svc = lms.services.get('catalog.courses');
    const zip = await scormZip(dir, 'p.zip', {
      identifier: 'org.example.prereq-browser',
      title: 'Gobierno abierto',
      items: [
        { id: 'intro', title: 'Introducción' },
        { id: 'quiz', title: 'Cuestionario', prerequisites: 'item_intro' },
      ],
    });
    courseId = (await svc.importPackage({ filePath: zip })).courseId;
    await svc.setPublished(courseId, true);
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [courseId] });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    await lms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the closed unit with its reason, then opens it once the unit it needs is completed', async () => {
    const u = await makeUser(lms, { tier: 'all', level: 'local', language: 'es', name: 'Rosa Mamani' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/accounts/login`);
    await page.fill('#email', u.email);
    await page.fill('#password', u.password);
    await Promise.all([page.waitForURL(`${BASE}/`), page.press('#password', 'Enter')]);
    await page.goto(`${BASE}/catalog/my-path`);
    const coursePage = `${BASE}/catalog/course?id=${encodeURIComponent(courseId)}`;
    const quizForm = `form[action="/catalog/launch"]:has(input[name=auId][value="${courseId}/item_quiz"])`;

    await page.goto(coursePage);
    expect(await page.locator(quizForm).count()).to.equal(0);
    expect(await page.locator('p.prerequisites').allTextContents()).to.deep.equal([
      'Todavía no disponible: se abre cuando hayas completado «Introducción».',
    ]);
    const violations = await seriousViolations(page);
    expect(violations, describeViolations(violations)).to.deep.equal([]);

    // The unit it needs, completed in its SCO (the fixture's "Terminar con nota").
    await Promise.all([
      page.waitForURL(/\/catalog\/content\//),
      page.click(`form[action="/catalog/launch"]:has(input[name=auId][value="${courseId}/item_intro"]) button`),
    ]);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    await page.click('#finish');
    const sessions = lms.db.collection('catalog_sessions');
    for (let i = 0; i < 300 && (await sessions.countDocuments({ userId: u.id, state: { $in: ['launched', 'initialized'] } })); i++)
      await new Promise((r) => setTimeout(r, 100));
    await settled(lms);

    await page.goto(coursePage);
    expect(await page.locator('p.prerequisites').count()).to.equal(0);
    await Promise.all([page.waitForURL(/\/catalog\/content\//), page.click(`${quizForm} button`)]);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    await context.close();
  });
});
