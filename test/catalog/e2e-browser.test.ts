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
import { freePort, makeUser, testApp } from '../helpers';
import { writeZip } from './fixtures/packages';
import { cmi5Xml } from './launch-fixtures';
import { describeViolations, launchBrowser, seriousViolations } from '../content/browser';

// Engineer L's port range is 3340-3349.
// The server's address, taken in `before` (BASE_URL must be known before it starts).
let PORT = 0;
let BASE = '';
const COURSE = 'https://courses.example.org/e2e/proteccion-de-datos';
const AU_ID = `${COURSE}/au/leccion`;

/**
 * A minimal real AU: it follows cmi5 §8 with plain fetch calls (fetch URL, LaunchData, statements)
 * from the sandboxed, opaque origin the catalog serves package files from.
 */
const AU_JS = `
const q = new URLSearchParams(location.search);
const endpoint = q.get('endpoint'), actor = JSON.parse(q.get('actor')), registration = q.get('registration'), activityId = q.get('activityId');
const status = document.getElementById('status');
const uuid = () => { const b = crypto.getRandomValues(new Uint8Array(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join(''); return h.slice(0,8)+'-'+h.slice(8,12)+'-'+h.slice(12,16)+'-'+h.slice(16,20)+'-'+h.slice(20); };
let headers, launchData; const started = Date.now();
async function send(verb, result, moveOn) {
  const ctx = launchData.contextTemplate;
  const body = { id: uuid(), actor, verb: { id: verb }, object: { id: activityId, objectType: 'Activity' }, timestamp: new Date().toISOString(),
    context: { registration, extensions: ctx.extensions, contextActivities: { grouping: ctx.contextActivities.grouping,
      category: [{ id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' }].concat(moveOn ? [{ id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' }] : []) } } };
  if (result) body.result = result;
  const r = await fetch(endpoint + '/statements', { method: 'POST', headers, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(verb + ' ' + r.status + ' ' + await r.text());
}
(async () => {
  const token = (await (await fetch(q.get('fetch'), { method: 'POST' })).json())['auth-token'];
  headers = { Authorization: 'Basic ' + token, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' };
  const sq = new URLSearchParams({ activityId, agent: JSON.stringify(actor), registration, stateId: 'LMS.LaunchData' });
  launchData = await (await fetch(endpoint + '/activities/state?' + sq, { headers })).json();
  const pq = new URLSearchParams({ agent: JSON.stringify(actor), profileId: 'cmi5LearnerPreferences' });
  await fetch(endpoint + '/agents/profile?' + pq, { headers });
  await send('http://adlnet.gov/expapi/verbs/initialized');
  status.textContent = 'ready';
  document.getElementById('done').disabled = false;
})().catch((e) => { status.textContent = 'error: ' + e.message; });
document.getElementById('done').addEventListener('click', async () => {
  const d = 'PT' + ((Date.now() - started) / 1000).toFixed(1) + 'S';
  try {
    await send('http://adlnet.gov/expapi/verbs/completed', { completion: true, duration: d }, true);
    await send('http://adlnet.gov/expapi/verbs/terminated', { duration: d });
    location.href = launchData.returnURL;
  } catch (e) { status.textContent = 'error: ' + e.message; }
});
`;
const AU_HTML = `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Lección</title></head>
<body><main><h1>Protección de datos personales</h1><p id="status" role="status">conectando</p>
<button id="done" disabled>Terminé la lección</button></main><script src="au.js"></script></body></html>`;

describe('catalog: a learner takes a course in Chromium @browser', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  let http: Server;
  let browser: Browser;
  let page: Page;

  before(async () => {
    PORT = await freePort();
    BASE = `http://127.0.0.1:${PORT}`;
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env: { BASE_URL: BASE } });
    http = lms.app.listen(PORT, '127.0.0.1');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'catalog-e2e-'));
    const zip = await writeZip(path.join(dir, 'course.zip'), [
      {
        name: 'cmi5.xml',
        data: cmi5Xml(COURSE, 'Protección de datos', [
          { block: `${COURSE}/block/1`, children: [{ au: AU_ID, moveOn: 'Completed', url: 'index.html' }] },
        ]),
      },
      { name: 'index.html', data: AU_HTML },
      { name: 'au.js', data: AU_JS },
    ]);
    const courses = lms.services.get('catalog.courses');
    await courses.importPackage({ filePath: zip, originalName: 'course.zip' });
    await courses.setPublished(COURSE, true);
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [COURSE] });
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (http ? http.close(r) : r(undefined)));
    await lms?.close();
  });

  it('signs in, opens the path, launches the AU, completes it, and sees the course satisfied', async () => {
    const u = await makeUser(lms, { tier: 'technical', level: 'local', language: 'es' });
    await page.goto(`${BASE}/accounts/login`);
    await page.fill('#email', u.email);
    await page.fill('#password', u.password);
    await Promise.all([page.waitForURL(`${BASE}/`), page.press('#password', 'Enter')]);

    await page.goto(`${BASE}/catalog/my-path`);
    expect(await page.textContent('main')).to.contain('0 de 1 cursos requeridos cumplidos');
    expect(describeViolations(await seriousViolations(page))).to.equal('');
    await page.click('text=Protección de datos');
    await page.waitForURL(/\/catalog\/course\?id=/);
    expect(describeViolations(await seriousViolations(page))).to.equal('');

    // Keyboard only: focus the launch button and press Enter.
    await page.focus('form[action="/catalog/launch"] button');
    await Promise.all([page.waitForURL(/\/catalog\/content\//), page.keyboard.press('Enter')]);
    await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'conectando');
    expect(await page.textContent('#status')).to.equal('ready');
    // The AU runs in an opaque origin: it cannot read the LMS's cookies.
    expect(await page.evaluate(() => window.origin)).to.equal('null');

    await Promise.all([page.waitForURL(/\/catalog\/course\?id=/), page.click('#done')]);
    expect((await page.textContent('#course-status'))?.trim()).to.equal('Cumplido');
    expect(await page.textContent('.au-status')).to.equal('Cumplida');

    await page.goto(`${BASE}/catalog/my-path`);
    expect(await page.textContent('main')).to.contain('1 de 1 cursos requeridos cumplidos');
    const [p] = await lms.services.get('catalog').progressOf(u.id, [COURSE]);
    expect(p).to.include({ satisfied: true, status: 'satisfied' });
    expect(p.timeSpentSeconds).to.be.greaterThan(0);

    await page.goto(`${BASE}/catalog/history`);
    expect(await page.textContent('main')).to.contain('Terminada');
    expect(describeViolations(await seriousViolations(page))).to.equal('');
    await page.goto(`${BASE}/catalog/courses`);
    expect(describeViolations(await seriousViolations(page))).to.equal('');
  });

  it('admin and HR pages (paths, people, waivers) pass axe-core and do their job', async () => {
    const learner = await makeUser(lms, { tier: 'all', orgUnit: 'MUNI-E2E', name: 'Rosa Quispe Mamani' });
    await lms.services.get('catalog.paths').enrol(learner, COURSE, 'path');
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'MUNI-E2E' });
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${BASE}/accounts/login`);
    await p.fill('#email', hr.email);
    await p.fill('#password', hr.password);
    await Promise.all([p.waitForURL(`${BASE}/`), p.press('#password', 'Enter')]);
    await p.goto(`${BASE}/catalog/people`);
    expect(describeViolations(await seriousViolations(p))).to.equal('');
    await Promise.all([p.waitForURL(/\/catalog\/people\/.+/), p.click('main a:has-text("Rosa Quispe Mamani")')]);
    expect(describeViolations(await seriousViolations(p))).to.equal('');
    await p.click('main details summary');
    await p.selectOption('select[name="reason"]', 'Equivalent Outside Activity');
    await p.fill('textarea[name="comment"]', 'Curso equivalente aprobado en la escuela nacional');
    await p.check('input[name="confirm"]');
    await Promise.all([p.waitForURL(/waived=1/), p.click('form[action="/catalog/waive"] button')]);
    expect(await p.textContent('[role="status"]')).to.contain('eximida');
    const [progress] = await lms.services.get('catalog').progressOf(learner.id, [COURSE]);
    expect(progress).to.include({ satisfied: true, status: 'waived' });
    await ctx.close();

    const admin = await makeUser(lms, { role: 'admin' });
    const actx = await browser.newContext();
    const a = await actx.newPage();
    await a.goto(`${BASE}/accounts/login`);
    await a.fill('#email', admin.email);
    await a.fill('#password', admin.password);
    await Promise.all([a.waitForURL(`${BASE}/`), a.press('#password', 'Enter')]);
    await a.goto(`${BASE}/catalog/admin/paths?tier=technical&level=local`);
    expect(describeViolations(await seriousViolations(a))).to.equal('');
    await a.check('input[name="courses"]');
    await Promise.all([
      a.waitForNavigation(),
      a.click('form[method="post"][action="/catalog/admin/paths"] button[type="submit"]:not([name])'),
    ]);
    expect(await a.textContent('[role="status"]')).to.contain('Ruta guardada');
    expect(await lms.services.get('catalog.paths').requiredCourses('technical', 'local')).to.deep.equal([COURSE]);
    await actx.close();
  });
});
