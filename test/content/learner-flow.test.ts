import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { installLibrary } from '../../server/plugins/catalog/library';
import { UI, fmt } from '../../content/runtime/strings';
import { freePort, makeUser, testApp } from '../helpers';
import { signInPage } from '../browser';
import { FIXTURE_SRC } from './library';
import { describeViolations, launchBrowser, seriousViolations } from './browser';

/**
 * A learner goes from lesson to lesson of the sample course in Chromium, signed in, through the
 * course page: where the messages appear, where focus goes, what the modules say.
 */
describe('learner flow: course page and lessons, lesson after lesson @browser', function () {
  this.timeout(300_000);
  let lms: LmsApp;
  let http: Server;
  let browser: Browser;
  let page: Page;
  let base = '';
  let courseId = '';

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    lms = await testApp({
      plugins: [accountsPlugin, lrsPlugin, catalogPlugin],
      env: { BASE_URL: base, CONTENT_BUILD_DIR: mkdtempSync(path.join(os.tmpdir(), 'learner-flow-')) },
    });
    http = lms.app.listen(port, '127.0.0.1');
    courseId = (await installLibrary(lms, { src: FIXTURE_SRC })).courses[0].courseId;
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    await lms?.close();
  });

  const hints = async () =>
    (await page.$$eval('ul.structure .hint', (ps) => ps.map((p) => p.textContent!.trim()))).filter((h) => h.startsWith('Módulo'));
  const connected = () =>
    page.waitForFunction(
      (connecting) => {
        const s = document.getElementById('au-status')?.textContent ?? '';
        return s.length > 0 && !connecting.includes(s);
      },
      [UI.es.connecting] as string[],
    );

  it('lesson 1 of 3, completion said next to the button, back to the course with focus on the next lesson', async () => {
    const learner = await makeUser(lms, { language: 'es', tier: 'all', level: 'local' });
    await lms.services.get('catalog.paths').enrol(learner, courseId, 'path');
    await signInPage(page, base, learner);

    await page.goto(`${base}/catalog/course?id=${encodeURIComponent(courseId)}`);
    // Nothing opened yet: no module is "in progress".
    expect(await hints()).to.deep.equal(['Módulo sin empezar', 'Módulo sin empezar']);
    expect(await page.textContent('main'))
      .to.contain('actividad 1 de 3')
      .and.contain('actividad 3 de 3');
    expect(await page.$('#returned')).to.equal(null);
    expect(describeViolations(await seriousViolations(page))).to.equal('');

    await page.focus('button[aria-label="Empezar: Lección 1: publicar datos abiertos"]');
    await Promise.all([page.waitForURL(/\/catalog\/content\//), page.keyboard.press('Enter')]);
    await connected();
    expect(await page.textContent('.au-meta')).to.contain(fmt(UI.es.lessonOf, { n: 1, total: 3 }));

    // A long lesson: the button is far below the status line at the top of the page.
    await page.evaluate(() => {
      document.querySelector<HTMLElement>('.au-lesson')!.style.minHeight = '5000px';
    });
    await page.click('[data-au-action="complete"]');
    const done = fmt(UI.es.completedNext, { n: 1, total: 3, next: 2 });
    await page.waitForFunction((msg) => document.getElementById('au-action-status')?.textContent === msg, done);
    const inView = (sel: string) =>
      page.$eval(sel, (el) => {
        const r = el.getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight;
      });
    // Right under the button pressed, not 5,000 px away at the top.
    const gap = await page.evaluate(
      () =>
        document.getElementById('au-action-status')!.getBoundingClientRect().top -
        document.querySelector('[data-au-action="complete"]')!.getBoundingClientRect().bottom,
    );
    expect(gap).to.be.within(0, 120);
    expect(await inView('#au-status')).to.equal(false);
    expect(await page.textContent('#au-status')).to.not.contain(UI.es.completedMsg.split('.')[0]);
    // Focus on the way on: the exit button, now saying it leads to the next lesson.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-au-action'))).to.equal('exit');
    expect(await page.textContent('[data-au-action="exit"]')).to.equal(UI.es.exitNext);
    expect(describeViolations(await seriousViolations(page))).to.equal('');

    await Promise.all([page.waitForURL(/\/catalog\/course\?id=.*&from=.*#returned$/), page.keyboard.press('Enter')]);
    // Back on the course page: focus on what it says about lesson 1, right where lesson 1 is, not at the top.
    await page.waitForFunction(() => document.activeElement?.id === 'returned');
    const returned = (await page.textContent('#returned'))!;
    expect(returned)
      .to.contain('Completó «Lección 1: publicar datos abiertos»')
      .and.contain('Siguiente: Lección 2: publicar datos abiertos');
    expect(await page.evaluate(() => window.scrollY)).to.be.greaterThan(0);
    const section = await page.$eval('#returned', (el) => el.closest('li')!.querySelector('strong')!.textContent);
    expect(section).to.equal('Lección 1: publicar datos abiertos');
    expect(await hints()).to.deep.equal(['Módulo en curso', 'Módulo sin empezar']);
    expect(describeViolations(await seriousViolations(page))).to.equal('');

    // The next lesson is one Tab and Enter away.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).to.equal(
      'Empezar: Lección 2: publicar datos abiertos',
    );
    await Promise.all([page.waitForURL(/\/catalog\/content\//), page.keyboard.press('Enter')]);
    await connected();
    expect(await page.textContent('h1')).to.equal('Lección 2: publicar datos abiertos');
    expect(await page.textContent('.au-meta')).to.contain(fmt(UI.es.lessonOf, { n: 2, total: 3 }));

    // Leaving without completing: the course page says so next to it and offers nothing else.
    await Promise.all([page.waitForURL(/#returned$/), page.click('[data-au-action="exit"]')]);
    await page.waitForFunction(() => document.activeElement?.id === 'returned');
    expect(await page.textContent('#returned'))
      .to.contain('todavía no está completada')
      .and.not.contain('Siguiente');
  });
});
