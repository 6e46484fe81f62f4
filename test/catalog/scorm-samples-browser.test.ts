import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import type { AuNode, StructureNode } from '../../server/plugins/catalog/course.model';
import type { AuProgress } from '../../server/plugins/catalog/progress/progress.model';
import { lrsPlugin } from '../../server/plugins/lrs';
import { launchBrowser } from '../browser';
import { freePort, makeUser, settled, testApp } from '../helpers';

/**
 * Third-party SCORM packages run by hand (their licences, or our rule of never committing code
 * from elsewhere, keep them out of the repository): `SCORM_SAMPLES_DIR=/dir/of/zips npx mocha
 * test/catalog/scorm-samples-browser.test.ts`. Each zip is imported; each SCO is launched in
 * Chromium and run through the way a learner would (Next buttons, the first answer of each
 * question, submit), then left; the counts are printed at the end. Skipped without the variable.
 */
const DIR = process.env.SCORM_SAMPLES_DIR;

const aus = (nodes: StructureNode[]): AuNode[] => nodes.flatMap((n) => (n.type === 'au' ? [n] : aus(n.children)));

describe('catalog: third-party SCORM packages in Chromium @browser', function () {
  this.timeout(30 * 60_000);
  let lms: LmsApp;
  let http: Server;
  let browser: Browser;
  let base = '';
  const report: Array<{ zip: string; result: string }> = [];
  const counts = { zips: 0, imported: 0, rejected: 0, scos: 0, launched: 0, completed: 0, passed: 0, notCompleted: 0 };

  before(async function () {
    if (!DIR) return this.skip();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Package files from a second host name of this server: SCORM content keeps one origin across its frames.
    lms = await testApp({
      plugins: [accountsPlugin, lrsPlugin, catalogPlugin],
      env: { BASE_URL: base, CONTENT_ORIGIN: `http://localhost:${port}` },
    });
    http = lms.app.listen(port, '127.0.0.1');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    await lms?.close();
    if (DIR) {
      console.log(JSON.stringify(counts));
      for (const r of report) console.log(`${r.zip}: ${r.result}`);
    }
  });

  /** Clicks through whatever the SCO shows: Next buttons, one answer per question, submit buttons. */
  async function runThrough(page: Page): Promise<void> {
    for (let step = 0; step < 40; step++) {
      let acted = false;
      for (const f of page.frames() as Frame[]) {
        try {
          const radios = await f.$$('input[type=radio]');
          const names = new Set<string>();
          for (const r of radios) {
            const name = (await r.getAttribute('name')) ?? '';
            if (names.has(name)) continue;
            names.add(name);
            if (!(await r.isChecked())) await r.check({ timeout: 1000 }).catch(() => {});
          }
          const submit = await f.$('input[type=button][value*="Submit" i], button:has-text("Submit")');
          if (submit && radios.length) {
            await submit.click({ timeout: 2000 });
            acted = true;
            break;
          }
          const next = await f.$('input[type=button][value*="Next" i]:not([disabled]), button:has-text("Next"):not([disabled])');
          if (next && (await next.isVisible())) {
            await next.click({ timeout: 2000 });
            acted = true;
            break;
          }
        } catch {
          /* a frame navigating away */
        }
      }
      if (!acted) return;
      await page.waitForTimeout(300);
    }
  }

  it('imports, launches and runs every zip of SCORM_SAMPLES_DIR', async () => {
    const u = await makeUser(lms, { tier: 'all', level: 'local', language: 'es', name: 'Ana Prueba' });
    const courses = lms.services.get('catalog.courses');
    const zips = readdirSync(DIR!).filter((f) => f.endsWith('.zip'));
    const imported: Array<{ zip: string; courseId: string; scos: AuNode[] }> = [];
    for (const zip of zips) {
      counts.zips++;
      try {
        const { courseId } = await courses.importPackage({ filePath: path.join(DIR!, zip) });
        await courses.setPublished(courseId, true);
        const course = await courses.getCourse(courseId);
        const v = await courses.getVersion(courseId, course!.currentVersion);
        imported.push({ zip, courseId, scos: aus(v!.structure).filter((a) => a.scorm?.scormType === 'sco') });
        counts.imported++;
      } catch (e) {
        counts.rejected++;
        report.push({ zip, result: `rejected: ${(e as Error).message}` });
      }
    }
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: imported.map((c) => c.courseId) });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/accounts/login`);
    await page.fill('#email', u.email);
    await page.fill('#password', u.password);
    await Promise.all([page.waitForURL(`${base}/`), page.press('#password', 'Enter')]);
    await page.goto(`${base}/catalog/my-path`);
    for (const c of imported) {
      const errors: string[] = [];
      const onError = (e: Error) => errors.push(e.message);
      let done = 0;
      let passed = 0;
      for (const sco of c.scos) {
        counts.scos++;
        const sco_page = await context.newPage();
        sco_page.on('pageerror', onError);
        if (process.env.SCORM_SAMPLES_DEBUG) {
          sco_page.on('response', (r) => console.log(r.status(), r.url().slice(0, 160)));
          sco_page.on('console', (m) => console.log('console:', m.text().slice(0, 200)));
          sco_page.on('request', (r) => r.url().includes('/scorm/commit') && console.log('commit:', r.postData()?.slice(0, 400)));
          sco_page.on('requestfailed', (r) => console.log('failed', r.url().slice(0, 160), r.failure()?.errorText));
        }
        sco_page.on('dialog', (d) => {
          if (process.env.SCORM_SAMPLES_DEBUG) console.log('dialog:', d.message().slice(0, 300));
          void d.accept().catch(() => {});
        });
        await sco_page.goto(`${base}/catalog/course?id=${encodeURIComponent(c.courseId)}`);
        await Promise.all([
          sco_page.waitForURL(/\/catalog\/(scorm\/frame|content\/)/, { waitUntil: 'commit' }),
          sco_page.click(`form[action="/catalog/launch"]:has(input[name=auId][value="${sco.id}"]) button >> nth=0`),
        ]);
        await sco_page.waitForLoadState('load');
        await sco_page.waitForTimeout(500);
        const sessions = lms.db.collection('catalog_sessions');
        const s = await sessions.findOne({ userId: u.id, auId: sco.id }, { sort: { launchedAt: -1 } });
        if (s?.state === 'initialized') counts.launched++;
        await runThrough(sco_page);
        // The learner goes back to the course page: the SCO's unload handlers finish the session.
        await sco_page.goto(`${base}/catalog/course?id=${encodeURIComponent(c.courseId)}`);
        await sco_page.close();
        for (let i = 0; i < 100; i++) {
          const open = await sessions.countDocuments({ userId: u.id, auId: sco.id, state: { $in: ['launched', 'initialized'] } });
          if (!open) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await settled(lms);
        if (process.env.SCORM_SAMPLES_DEBUG)
          console.log(
            'session:',
            JSON.stringify(await sessions.findOne({ userId: u.id, auId: sco.id }, { sort: { launchedAt: -1 } })).slice(0, 600),
          );
        const doc = await lms.db.collection('catalog_progress').findOne({ _id: `${u.id}:${c.courseId}` as never });
        const au = (doc?.aus as AuProgress[] | undefined)?.find((a) => a.auId === sco.id);
        if (au?.passed) passed++;
        if (au?.completed || au?.passed || au?.satisfied) done++;
      }
      counts.completed += done;
      counts.notCompleted += c.scos.length - done;
      counts.passed += passed;
      const [p] = await lms.services.get('catalog').progressOf(u.id, [c.courseId]);
      report.push({
        zip: c.zip,
        result: `${c.scos.length} SCOs, ${done} completed, ${passed} passed; course satisfied: ${!!p?.satisfied}${errors.length ? `; page errors: ${[...new Set(errors)].slice(0, 3).join(' | ')}` : ''}`,
      });
    }
    await context.close();
    expect(counts.zips).to.be.greaterThan(0);
  });
});
