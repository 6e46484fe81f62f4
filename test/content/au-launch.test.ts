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
import { FIXTURE_SRC } from './library';
import { loadCourse } from '../../content/tools/load-course';
import { itemBank } from '../../content/tools/item-bank';
import { contentServer, describeViolations, launchBrowser, seriousViolations, type StaticServer } from './browser';

// The LMS and a separate content origin, on ports taken in `before` (both addresses go into the
// configuration before either server starts).
let LMS_PORT = 0;
let CONTENT_PORT = 0;
let BASE = '';

/**
 * A learner takes the sample course end to end through a real cmi5 launch: LMS, LRS and
 * catalog of this server; the page in Chromium doing the handshake with @xapi/cmi5. AU files
 * come from the stored package, either through the catalog's own sandboxed content route or
 * from a separate CONTENT_ORIGIN (here a small server reading the same storage).
 */
for (const separateOrigin of [false, true])
  describe(`content AU pages under a real cmi5 launch (${separateOrigin ? 'CONTENT_ORIGIN' : 'catalog content route'}) @browser`, function () {
    this.timeout(300_000);
    let lms: LmsApp;
    let http: Server;
    let content: StaticServer;
    let browser: Browser;
    let courseId: string;
    let registration: string;
    let learner: Awaited<ReturnType<typeof makeUser>>;
    let auIds: Record<string, string>;
    const bank = itemBank(loadCourse(path.join(FIXTURE_SRC, '01-sample-open-data')));

    before(async () => {
      LMS_PORT = await freePort();
      CONTENT_PORT = await freePort();
      BASE = `http://127.0.0.1:${LMS_PORT}`;
      lms = await testApp({
        plugins: [accountsPlugin, lrsPlugin, catalogPlugin],
        env: {
          BASE_URL: BASE,
          ...(separateOrigin ? { CONTENT_ORIGIN: `http://127.0.0.1:${CONTENT_PORT}` } : {}),
          CONTENT_BUILD_DIR: mkdtempSync(path.join(os.tmpdir(), 'content-launch-')),
        },
      });
      http = lms.app.listen(LMS_PORT, '127.0.0.1');
      const courses = lms.services.get('catalog.courses');
      if (separateOrigin) {
        content = await contentServer(async (urlPath) => {
          const m = /^\/catalog\/content\/([^/]+)\/(.+)$/.exec(urlPath);
          const f = m && (await courses.openContent(m[1], m[2]));
          return f ? { size: f.file.size, body: () => f.body() } : null;
        }, CONTENT_PORT);
      }
      const report = await installLibrary(lms, { src: FIXTURE_SRC });
      courseId = report.courses[0].courseId;
      learner = await makeUser(lms, { language: 'en', tier: 'all', level: 'local' });
      registration = (await lms.services.get('catalog.paths').enrol(learner, courseId, 'path')).registration;
      auIds = Object.fromEntries(['lesson-1', 'lesson-2', 'lesson-3', 'assessment'].map((k) => [k, `${courseId}/au/${k}`]));
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await content?.close();
      await new Promise((r) => (http ? http.close(r) : r(undefined)));
      await lms?.close();
    });

    /** Bytes of AU files (not xAPI calls) the page transferred, as Chromium counts them. */
    const transferred = new WeakMap<Page, Promise<number>[]>();

    async function launch(au: string): Promise<Page> {
      const { url } = await lms.services.get('catalog.launch').launch(learner, registration, auIds[au]);
      const page = await browser.newPage();
      const sizes: Promise<number>[] = [];
      transferred.set(page, sizes);
      page.on('requestfinished', (req) => {
        if (req.url().includes('/catalog/content/')) sizes.push(req.sizes().then((s) => s.responseBodySize + s.responseHeadersSize));
      });
      await page.goto(url);
      await page.waitForFunction(
        (connecting) => {
          const s = document.getElementById('au-status')?.textContent ?? '';
          return s.length > 0 && !connecting.includes(s);
        },
        [UI.es.connecting, UI.pt.connecting, UI.en.connecting] as string[],
      );
      return page;
    }

    const progress = async () => (await lms.services.get('catalog').progressOf(learner.id, [courseId]))[0];

    it('handshake, learner language (en), completed on request, terminated and back to the LMS on exit', async () => {
      const page = await launch('lesson-1');
      expect(await page.textContent('#au-status')).to.equal(UI.en.connected);
      expect(await page.evaluate(() => document.documentElement.lang)).to.equal('en');
      expect(await page.textContent('h1')).to.equal('Lesson 1: publishing open data');
      // Page + runtime.js + runtime.css + the English fragment, over HTTP as served.
      const files = await Promise.all(transferred.get(page)!);
      expect(files.length).to.equal(4);
      const total = files.reduce((a, b) => a + b, 0);
      if (process.env.CONTENT_WEIGHTS)
        console.log(`      lesson-1 (en) transferred ${(total / 1024).toFixed(1)} KB in ${files.length} files`);
      expect(total).to.be.at.most(200 * 1024);
      expect(describeViolations(await seriousViolations(page))).to.equal('');

      await page.click('[data-au-action="complete"]');
      // Said next to the button (not in the status at the top), leading on to lesson 2.
      const done = fmt(UI.en.completedNext, { n: 1, total: 3, next: 2 });
      await page.waitForFunction((msg) => document.getElementById('au-action-status')?.textContent === msg, done);
      expect(await page.textContent('#au-status')).to.equal(UI.en.connected);
      expect(await page.textContent('[data-au-action="exit"]')).to.equal(UI.en.exitNext);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(BASE)), page.click('[data-au-action="exit"]')]);
      const p = await progress();
      expect(p.status).to.not.equal('not-started');
      await page.close();
    });

    it('bookmarks the section being read in the state API and resumes there on the next launch', async () => {
      let page = await launch('lesson-2');
      await page.evaluate(() => {
        document.body.style.paddingBottom = '3000px'; // room to scroll the last section to the top
        document.getElementById('au-s-2')!.scrollIntoView();
      });
      await page.waitForTimeout(2500); // the page saves after a 1.5 s pause in reading
      await Promise.all([page.waitForURL((u) => u.href.startsWith(BASE)), page.click('[data-au-action="exit"]')]);
      await page.close();

      page = await launch('lesson-2');
      const heading = await page.textContent('#au-s-2');
      expect(await page.textContent('#au-status')).to.equal(UI.en.resumed.replace('{section}', heading!));
      expect(await page.evaluate(() => document.activeElement?.id)).to.equal('au-s-2');
      await page.click('[data-au-action="complete"]');
      await page.waitForFunction(
        (msg) => document.getElementById('au-action-status')?.textContent === msg,
        fmt(UI.en.completedNext, { n: 2, total: 3, next: 3 }),
      );
      // Leaving without "Exit" (tab closed): terminated goes out with keepalive on pagehide.
      await page.close({ runBeforeUnload: true });
      const state = async () =>
        (await lms.services.get('catalog.launch').sessionsOf(learner.id))
          .filter((x) => x.auId === auIds['lesson-2'])
          .sort((a, b) => +b.launchedAt - +a.launchedAt)[0].state;
      for (let i = 0; i < 150 && (await state()) !== 'terminated'; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await state()).to.equal('terminated');
    });

    it('assessment: a fail is recorded on exit; failing then passing in one session records the pass at once', async () => {
      // Back at the LMS (its sign-in page here), not just any URL of its origin: the catalog's content route is one too.
      const backAtLms = (u: URL) => u.href.startsWith(BASE) && !u.pathname.startsWith('/catalog/content/');
      let page = await launch('lesson-3');
      await page.click('[data-au-action="complete"]');
      // The last lesson: no next one to lead on to.
      await page.waitForFunction((msg) => document.getElementById('au-action-status')?.textContent === msg, UI.en.completedMsg);
      expect(await page.textContent('[data-au-action="exit"]')).to.equal(UI.en.exit);
      await Promise.all([page.waitForURL(backAtLms), page.click('[data-au-action="exit"]')]);
      await page.close();

      const failedOf = async () => {
        const reader = await lms.services.get('lrs.credentials').createClient({ name: 'reader', scopes: ['all/read'] });
        const q = new URLSearchParams({ registration, verb: 'http://adlnet.gov/expapi/verbs/failed' });
        const r = await fetch(`${BASE}/xapi/statements?${q}`, {
          headers: {
            Authorization: `Basic ${Buffer.from(`${reader.key}:${reader.secret}`).toString('base64')}`,
            'X-Experience-API-Version': '1.0.3',
          },
        });
        return ((await r.json()) as { statements: Array<{ result: { score: { scaled: number } } }> }).statements;
      };
      /** Answers what the page shows: the right options found from the bank by their text (the page has no key). */
      const answer = async (p: Page, wrongCount: number) => {
        await p.waitForSelector('#au-questions fieldset');
        const shown = await p.$$eval('#au-questions fieldset', (fss) =>
          fss.map((fs) => ({
            id: fs.id,
            legend: fs.querySelector('legend')!.textContent!,
            options: [...fs.querySelectorAll('label')].map((l) => l.textContent!),
          })),
        );
        expect(shown).to.have.length(bank.ask);
        for (const [i, q] of shown.entries()) {
          const item = bank.items.find((it) => q.legend.endsWith(it.text.en))!;
          const right = q.options.flatMap((t, k) => (item.options.find((o) => o.text.en === t)!.correct ? [k] : []));
          const choose = i < wrongCount ? [q.options.findIndex((_, k) => !right.includes(k))] : right;
          for (const o of choose) await p.check(`#${q.id}-o${o + 1}`);
        }
        await p.click('button[type="submit"]');
        await p.waitForSelector('#au-result:not([hidden])');
      };

      // 2 of 4 right = 0.5 < 0.75: failed, recorded when the learner exits.
      page = await launch('assessment');
      // Keyboard alone: Tab reaches the first option, Space picks it, arrows move within a question.
      await page.waitForSelector('#au-questions fieldset');
      let focused = '';
      for (let i = 0; i < 8 && focused !== 'q1-o1'; i++) {
        await page.keyboard.press('Tab');
        focused = await page.evaluate(() => document.activeElement?.id ?? '');
      }
      expect(focused).to.equal('q1-o1');
      await page.keyboard.press('Space');
      expect(await page.isChecked('#q1-o1')).to.equal(true);
      // Submitting with answers missing names the questions and records nothing.
      await page.click('button[type="submit"]');
      expect(await page.textContent('#au-action-status')).to.match(/^Missing answers in: 2, 3, 4/);
      await page.uncheck('#q1-o1').catch(() => undefined);
      await answer(page, 2);
      expect(await page.textContent('#au-result-text'))
        .to.contain(UI.en.failed)
        .and.contain(UI.en.failPending);
      // Graded: the earlier "missing answers" note is gone from the page.
      expect(await page.textContent('main')).to.not.contain('Missing answers');
      expect(await page.evaluate(() => document.activeElement?.id)).to.equal('au-result');
      // Verdicts per question and the feedback of the chosen options only; nothing says which option was right.
      expect(await page.textContent('#q1-verdict')).to.equal(UI.en.wrong);
      expect(await page.textContent('#q4-verdict')).to.equal(UI.en.right);
      expect(await page.locator('.au-feedback:not([hidden])').count()).to.be.at.least(4);
      expect(await page.isDisabled('#q1-o1')).to.equal(true);
      expect(describeViolations(await seriousViolations(page))).to.equal('');
      await Promise.all([page.waitForURL(backAtLms), page.click('[data-au-action="exit"]')]);
      await page.close();
      expect((await failedOf()).map((s) => s.result.score.scaled)).to.deep.equal([0.5]);
      expect((await progress()).satisfied).to.equal(false);

      // Failed again, then a retry in the same session passes: recorded before the learner leaves.
      page = await launch('assessment');
      await answer(page, 2);
      expect(await page.textContent('#au-result-text')).to.contain(UI.en.failPending);
      const drawn = () => page.$$eval('#au-questions label', (ls) => ls.map((l) => l.firstChild!.textContent).join('|'));
      const before = await drawn();
      await page.click('[data-au-action="retry"]');
      await answer(page, 0);
      // The retry drew another attempt: other questions or another order.
      expect(await drawn()).to.not.equal(before);
      expect(await page.textContent('#au-result-text'))
        .to.contain(UI.en.passed)
        .and.contain(UI.en.recorded);
      const p = await progress();
      expect(p.satisfied).to.equal(true);
      expect(p.score).to.equal(1);
      expect(describeViolations(await seriousViolations(page))).to.equal('');
      await Promise.all([page.waitForURL(backAtLms), page.click('[data-au-action="exit"]')]);
      await page.close();
      // The pass closed the session's judgement: the earlier failed attempt of it is not sent.
      expect(await failedOf()).to.have.length(1);
    });
  });
