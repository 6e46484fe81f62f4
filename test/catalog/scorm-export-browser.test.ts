import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import yauzl from 'yauzl';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { lrsPlugin } from '../../server/plugins/lrs';
import { parseXmlTree, type XmlElement } from '../../server/plugins/catalog/package/xml-tree';
import { scorm12SchemaErrors } from '../../server/plugins/catalog/formats/scorm/schema';
import type { AuNode, BlockNode } from '../../server/plugins/catalog/course.model';
import { UI } from '../../content/runtime/strings';
import type { BuiltCourse } from '../../content/tools/build-library';
import type { ItemBank } from '../../content/tools/item-bank';
import { SCORM12_XSDS } from '../../content/tools/scorm12';
import { builtFixture } from '../content/library';
import { launchBrowser } from '../browser';
import { freePort, makeUser, settled, testApp } from '../helpers';

/** Every entry of a zip, name → bytes. */
function unzip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const out = new Map<string, Buffer>();
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      zip.on('entry', (e: yauzl.Entry) =>
        zip.openReadStream(e, (er, s) => {
          if (er || !s) return reject(er);
          const parts: Buffer[] = [];
          s.on('data', (d: Buffer) => parts.push(d)).on('end', () => {
            out.set(e.fileName, Buffer.concat(parts));
            zip.readEntry();
          });
        }),
      );
      zip.on('end', () => resolve(out)).on('error', reject);
      zip.readEntry();
    });
  });
}

const all = (el: XmlElement, name: string): XmlElement[] => [
  ...(el.name === name ? [el] : []),
  ...el.children.flatMap((c) => all(c, name)),
];

/**
 * The SCORM 1.2 export of a library course: its manifest holds to the ADL schemas and lists
 * exactly the package's files; imported into our own SCORM importer it is the course's blocks and
 * SCOs, and a learner completes it in Chromium — the pages talking to `window.API` (found in the
 * frame page's window, a parent of the SCO, with a content origin; in the SCO's own window without).
 */
describe('content: the SCORM 1.2 export, validated, imported and completed in Chromium @browser', function () {
  this.timeout(300_000);
  let course: BuiltCourse;
  let bank: ItemBank;
  let files: Map<string, Buffer>;
  let browser: Browser;

  before(async () => {
    course = (await builtFixture()).courses[0];
    bank = JSON.parse(readFileSync(course.bank, 'utf8')) as ItemBank;
    files = await unzip(course.scorm12Zip);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('has a SCORM 1.2 manifest valid against the ADL/IMS schemas that lists every file of the package', async () => {
    const xml = files.get('imsmanifest.xml')!.toString('utf8');
    expect(await scorm12SchemaErrors(xml)).to.deep.equal([]);
    // The validator does check: the same manifest with the mastery score before the title is refused.
    const misordered = xml.replace(
      /(<title>[^<]*<\/title>)(\s*)(<adlcp:masteryscore>\d+<\/adlcp:masteryscore>)/,
      (_m, title: string, ws: string, mastery: string) => `${mastery}${ws}${title}`,
    );
    expect(misordered).to.not.equal(xml);
    expect(await scorm12SchemaErrors(misordered))
      .to.have.length(1)
      .and.to.match(/^line \d+: .*title.*not expected/);

    const root = parseXmlTree(xml);
    expect(all(root, 'schemaversion')[0].text).to.equal('1.2');
    const resources = new Map(all(root, 'resource').map((r) => [r.attrs.identifier, r]));
    const listed = all(root, 'file').map((f) => f.attrs.href);
    expect(new Set(listed).size).to.equal(listed.length);
    // Every file in the zip is listed once (but the manifest and its schemas), and every listed file is in the zip.
    expect([...files.keys()].filter((f) => f !== 'imsmanifest.xml' && !SCORM12_XSDS.includes(f)).sort()).to.deep.equal([...listed].sort());
    for (const xsd of SCORM12_XSDS) expect(files.has(xsd), xsd).to.equal(true);
    const leaves = all(root, 'item').filter((i) => i.attrs.identifierref);
    expect(leaves.map((i) => i.attrs.identifierref)).to.deep.equal(['RES-lesson-1', 'RES-lesson-2', 'RES-lesson-3', 'RES-assessment']);
    for (const item of leaves) {
      const r = resources.get(item.attrs.identifierref)!;
      expect(r.attrs['adlcp:scormtype']).to.equal('sco');
      expect(files.has(r.attrs.href), r.attrs.href).to.equal(true);
      expect(all(r, 'dependency').map((d) => d.attrs.identifierref)).to.deep.equal(['RES-shared']);
    }
    expect(all(root, 'masteryscore').map((m) => m.text)).to.deep.equal(['75']);
    // The bank travels with the SCORM package (its pages score themselves), never with the cmi5 one.
    expect(files.has('assessment/bank.json')).to.equal(true);
    expect((await unzip(course.zip)).has('assessment/bank.json')).to.equal(false);
  });

  for (const withContentOrigin of [true, false]) {
    describe(withContentOrigin ? 'with a content origin (API in the frame page)' : 'without a content origin (API in the SCO page)', () => {
      let lms: LmsApp;
      let http: Server;
      let base: string;
      let courseId: string;
      const auIds: Record<string, string> = {};

      before(async () => {
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        const env: Record<string, string> = { BASE_URL: base, CONTENT_LIBRARY: 'off' };
        if (withContentOrigin) env.CONTENT_ORIGIN = `http://localhost:${port}`;
        lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin], env });
        http = lms.app.listen(port, '127.0.0.1');
        const svc = lms.services.get('catalog.courses');
        const r = await svc.importPackage({ filePath: course.scorm12Zip });
        courseId = r.courseId;
        await svc.setPublished(courseId, true);
        await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [courseId] });
        const version = (await svc.getVersion(courseId, r.version))!;
        expect(version).to.include({ format: 'scorm', formatVersion: '1.2' });
        const blocks = version.structure as BlockNode[];
        expect(blocks.map((b) => b.title[0].text)).to.deep.equal(['Lecciones', 'Evaluación']);
        for (const au of blocks.flatMap((b) => b.children) as AuNode[]) auIds[au.id.split('ITEM-')[1]] = au.id;
        expect(Object.keys(auIds)).to.deep.equal(['lesson-1', 'lesson-2', 'lesson-3', 'assessment']);
        expect((blocks[1].children[0] as AuNode).masteryScore).to.equal(0.75);
      });
      after(async () => {
        await new Promise((r) => (http ? http.close(r) : r(undefined)));
        await lms?.close();
      });

      async function signedIn(email: string, password: string): Promise<{ context: BrowserContext; page: Page }> {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${base}/accounts/login`);
        await page.fill('#email', email);
        await page.fill('#password', password);
        await Promise.all([page.waitForURL(`${base}/`), page.press('#password', 'Enter')]);
        await page.goto(`${base}/catalog/my-path`); // enrols the learner in the path's courses
        return { context, page };
      }

      /** Launches one SCO from the course page; answers the frame the page runs in, once it has connected. */
      async function open(page: Page, key: string): Promise<Frame> {
        await page.goto(`${base}/catalog/course?id=${encodeURIComponent(courseId)}`);
        await Promise.all([
          page.waitForURL(withContentOrigin ? /\/catalog\/scorm\/frame/ : /\/catalog\/(scorm-)?content\//),
          page.click(`form[action="/catalog/launch"]:has(input[value="${auIds[key]}"]) button[name="launchMode"]`),
        ]);
        const frame = withContentOrigin ? ((await (await page.waitForSelector('#sco')).contentFrame()) as Frame) : page.mainFrame();
        await frame.waitForSelector('#au-status');
        await frame.waitForFunction((connecting) => {
          const s = document.getElementById('au-status')?.textContent;
          return !!s && s !== connecting;
        }, UI.es.connecting);
        return frame;
      }

      async function sessionEnded(userId: string): Promise<void> {
        const sessions = lms.db.collection('catalog_sessions');
        for (let i = 0; i < 300; i++) {
          if (!(await sessions.countDocuments({ userId, courseId, state: { $in: ['launched', 'initialized'] } }))) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('the SCO session did not end on the server');
      }

      const exit = async (frame: Frame) => {
        await frame.click('[data-au-action="exit"]');
        await frame.waitForFunction((msg) => document.getElementById('au-action-status')?.textContent === msg, UI.es.closed);
      };

      it('a learner completes the lessons and passes the assessment; the course is satisfied with the score', async () => {
        const u = await makeUser(lms, { tier: 'all', level: 'local', language: 'es', name: 'Rosa Mamani' });
        const { context, page } = await signedIn(u.email, u.password);
        for (const key of ['lesson-1', 'lesson-2', 'lesson-3']) {
          const frame = await open(page, key);
          expect(await frame.textContent('#au-status')).to.equal(UI.es.connected);
          await frame.click('[data-au-action="complete"]');
          // Said next to the button; with a next lesson it also names it ('Lección 1 de 3 completada. …').
          await frame.waitForFunction(
            (msg) => document.getElementById('au-action-status')?.textContent?.includes(msg) ?? false,
            UI.es.completedMsg.split('. ')[1],
          );
          await exit(frame);
          await sessionEnded(u.id);
        }
        let [p] = await lms.services.get('catalog').progressOf(u.id, [courseId]);
        expect(p.satisfied).to.equal(false);

        // The lesson resumes its suspended attempt: status and bookmark came back from the LMS.
        const again = await open(page, 'lesson-1');
        const api = await again.evaluate(() => {
          const w = window as unknown as { API?: { LMSGetValue(e: string): string } };
          const a = w.API ?? (window.parent as unknown as typeof w).API!;
          return {
            status: a.LMSGetValue('cmi.core.lesson_status'),
            data: a.LMSGetValue('cmi.suspend_data'),
            entry: a.LMSGetValue('cmi.core.entry'),
          };
        });
        expect(api.status).to.equal('completed');
        expect(api.entry).to.equal('resume');
        expect(JSON.parse(api.data)).to.include({ completed: true });
        await exit(again);
        await sessionEnded(u.id);

        // The assessment draws from the bank in the package: answered as the bank says is right (found by the text shown).
        const frame = await open(page, 'assessment');
        await frame.waitForSelector('#au-questions fieldset');
        const shown = await frame.$$eval('#au-questions fieldset', (fss) =>
          fss.map((fs) => ({
            id: fs.id,
            legend: fs.querySelector('legend')!.textContent!,
            options: [...fs.querySelectorAll('label')].map((l) => l.textContent!),
          })),
        );
        expect(shown).to.have.length(bank.ask);
        for (const q of shown) {
          const item = bank.items.find((it) => q.legend.endsWith(it.text.es))!;
          for (const [k, t] of q.options.entries())
            if (item.options.find((o) => o.text.es === t)!.correct) await frame.check(`#${q.id}-o${k + 1}`);
        }
        await frame.click('button[type="submit"]');
        await frame.waitForSelector('#au-result:not([hidden])');
        expect(await frame.textContent('#au-result-text'))
          .to.contain(UI.es.passed)
          .and.contain(UI.es.recorded);
        await exit(frame);
        await sessionEnded(u.id);
        await settled(lms);
        [p] = await lms.services.get('catalog').progressOf(u.id, [courseId]);
        expect(p).to.include({ satisfied: true, score: 1 });
        await context.close();
      });
    });
  }
});
