import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { lrsPlugin } from '../../server/plugins/lrs';
import { launchBrowser } from '../browser';
import { freePort, makeUser, settled, testApp } from '../helpers';
import { writeZip } from './fixtures/packages';
import { manifestXml } from './fixtures/scorm-packages';

/**
 * SCORM content written for LMSs that hold the API in a parent frame, run with a content origin
 * (CONTENT_ORIGIN, here `localhost` for a server on 127.0.0.1): a launch page that redirects, a
 * SCO that declares `var API = null` and looks for the API in its parents only (never its own
 * window), `window.top.API`, a nested frame calling a function of its parent, and a pop-up
 * finding the API through `opener`. None of these can work in opaque origins.
 */
const ADL_FIND = `function findAPI(win) { var n = 0; while (win.API == null && win.parent != null && win.parent != win && n++ < 7) win = win.parent; return win.API; }`;

const FILES = {
  // The launch page only moves on (as many authoring tools' index.html do).
  'index.html': `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Inicio</title>
<script>location.replace('lesson/main.html');</script></head><body><p>Cargando…</p></body></html>`,
  // The SCO: its own window has API = null; it searches from its parent, checks window.top, records what a frame reports.
  'lesson/main.html': `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Lección</title>
<script>var API = null; ${ADL_FIND}
API = (window.parent && window.parent != window) ? findAPI(window.parent) : null;
var viaTop = !!(window.top && window.top.API);
function record(score) { API.LMSSetValue('cmi.core.score.raw', String(score)); API.LMSSetValue('cmi.core.lesson_status', 'completed'); API.LMSCommit(''); API.LMSFinish(''); document.getElementById('status').textContent = 'finished'; }
</script></head>
<body><main><h1>Lección</h1><p id="status" role="status">cargando</p>
<iframe id="content" title="Contenido" src="page.html"></iframe></main>
<script>if (API) { API.LMSInitialize(''); document.getElementById('status').textContent = 'ready top=' + viaTop + ' name=' + API.LMSGetValue('cmi.core.student_name'); } else document.getElementById('status').textContent = 'no API';</script>
</body></html>`,
  // A nested frame: calls its parent's function, and opens a pop-up.
  'lesson/page.html': `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Página</title></head>
<body><button id="done" type="button" onclick="parent.record(90)">Terminar</button>
<button id="popup" type="button" onclick="window.open('popup.html', 'glosario')">Glosario</button></body></html>`,
  'lesson/popup.html': `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Glosario</title>
<script>${ADL_FIND}</script></head>
<body><p id="found"></p><script>var a = window.opener && findAPI(window.opener); document.getElementById('found').textContent = a ? 'opener API ' + a.LMSGetValue('cmi.core.lesson_mode') : 'no API';</script></body></html>`,
};

describe('catalog: SCORM frames, parents, openers and redirects on a content origin @browser', function () {
  this.timeout(240_000);
  let lms: LmsApp;
  let http: Server;
  let browser: Browser;
  let dir: string;
  let base: string;
  let contentOrigin: string;
  let courseId: string;

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    contentOrigin = `http://localhost:${port}`;
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { BASE_URL: base, CONTENT_ORIGIN: contentOrigin } });
    http = lms.app.listen(port, '127.0.0.1');
    dir = mkdtempSync(path.join(os.tmpdir(), 'scorm-frames-'));
    const manifest = manifestXml({
      identifier: 'org.example.frames',
      title: 'Marcos',
      items: [{ id: 'sco1', title: 'Lección en marcos', href: 'index.html', mastery: '80' }],
    }).replace(
      '<file href="index.html"/>',
      Object.keys(FILES)
        .map((f) => `<file href="${f}"/>`)
        .join(''),
    );
    const zip = await writeZip(path.join(dir, 'frames.zip'), [
      { name: 'imsmanifest.xml', data: manifest },
      ...Object.entries(FILES).map(([name, data]) => ({ name, data })),
    ]);
    const svc = lms.services.get('catalog.courses');
    ({ courseId } = await svc.importPackage({ filePath: zip }));
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

  const sco = (page: Page) => page.frameLocator('#sco');

  it('finds the API from its parent, top and opener, through a redirect, and a nested frame records the score', async () => {
    const u = await makeUser(lms, { tier: 'all', level: 'local', language: 'es', name: 'Rosa Mamani' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/accounts/login`);
    await page.fill('#email', u.email);
    await page.fill('#password', u.password);
    await Promise.all([page.waitForURL(`${base}/`), page.press('#password', 'Enter')]);
    await page.goto(`${base}/catalog/my-path`);
    await page.goto(`${base}/catalog/course?id=${encodeURIComponent(courseId)}`);
    await Promise.all([page.waitForURL(/\/catalog\/scorm\/frame/), page.click('form[action="/catalog/launch"] button >> nth=0')]);
    // The frame page (holding the API) is on the content origin, not the LMS's.
    expect(new URL(page.url()).origin).to.equal(contentOrigin);
    await sco(page)
      .locator('#status')
      .filter({ hasText: /ready|no API/ })
      .waitFor();
    expect(await sco(page).locator('#status').textContent()).to.equal('ready top=true name=Rosa Mamani');
    const frame = page.frames().find((f) => f.url().includes('/lesson/main.html'))!;
    // Same origin as the frame page and every file of the package; no LMS cookie reaches it.
    expect(await frame.evaluate(() => [window.origin, document.cookie])).to.deep.equal([contentOrigin, '']);
    // The LMS's pages cannot be read from there.
    expect(
      await frame.evaluate(
        (b) =>
          fetch(`${b}/catalog/my-path`, { credentials: 'include' }).then(
            () => 'read',
            () => 'blocked',
          ),
        base,
      ),
    ).to.equal('blocked');

    const inner = sco(page).frameLocator('#content');
    const [popup] = await Promise.all([context.waitForEvent('page'), inner.locator('#popup').click()]);
    await popup.locator('#found').filter({ hasText: /API/ }).waitFor();
    expect(await popup.textContent('#found')).to.equal('opener API normal');
    await popup.close();

    await inner.locator('#done').click();
    await sco(page).locator('#status').filter({ hasText: 'finished' }).waitFor();
    const sessions = lms.db.collection('catalog_sessions');
    for (let i = 0; i < 100 && (await sessions.countDocuments({ userId: u.id, state: { $ne: 'terminated' } })); i++)
      await new Promise((r) => setTimeout(r, 100));
    await settled(lms);
    const [p] = await lms.services.get('catalog').progressOf(u.id, [courseId]);
    expect(p).to.include({ satisfied: true, score: 0.9 });
    await context.close();
  });

  it('the frame page is served on the content origin only, and frames only pages of SCORM packages there', async () => {
    const lmsHost = await supertest(lms.app).get('/catalog/scorm/frame?sco=x&lms-scorm=y');
    expect(lmsHost.status).to.equal(404);
    const elsewhere = await supertest(lms.app)
      .get(`/catalog/scorm/frame?sco=${encodeURIComponent('https://evil.example/x.html')}&lms-scorm=y`)
      .set('Host', new URL(contentOrigin).host);
    expect(elsewhere.status).to.equal(400);
    expect(elsewhere.text).to.contain('must be a page of a SCORM package on this content origin');
  });
});
