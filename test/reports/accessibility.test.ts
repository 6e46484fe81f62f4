import { expect } from 'chai';
import { browserSuite, describeViolations, seriousViolations, signInPage } from '../browser';
import { makeUser } from '../helpers';
import { HEADER, importRoster, reportsApp, reportsOf, seedOrg, tmpFile } from './fixtures';

describe('reports: accessibility of every reports page @browser', function () {
  this.timeout(180_000);
  const s = browserSuite(() => reportsApp());
  let previewId: string;

  before(async () => {
    const lms = s.lms;
    await seedOrg(lms);
    const cat = lms.services.get('catalog.double');
    await cat.addCourse('BASICS', 3, 'Competencias digitales básicas');
    await cat.addCourse('SECURITY', 2, 'Seguridad de la información');
    await cat.setPath('all', ['BASICS', 'SECURITY']);
    await reportsOf(lms).recompute.idle();
    await importRoster(
      lms,
      'INST-A',
      [HEADER, 'P1,Paula Ríos,paula@a.example,A1,,all,Analista,no,yes', 'P2,Pedro Gómez,pedro@a.example,A2,,all,Director,yes,yes'].join(
        '\n',
      ),
    );
    const p1 = await lms.db.collection<{ _id: string; userId: string }>('reports_people').findOne({ _id: 'INST-A:P1' });
    for (const c of ['BASICS', 'SECURITY']) await cat.satisfy(p1!.userId, c, new Date('2026-03-02T10:00:00Z'));
    // A preview with row errors: the error table is the page HR officers read most carefully.
    const bad = await reportsOf(lms).roster.preview({
      file: tmpFile([HEADER, 'P3,Sin correo,not-an-email,A1,,all,,no,yes', 'P4,Unidad rara,p4@a.example,ZZ,,all,,no,yes'].join('\n')),
      fileName: 'errores.csv',
      institution: 'INST-A',
      userId: 'test',
    });
    previewId = String(bad._id);
  });

  it('dashboard, drill-down, rosters, preview with errors, organisation, settings, audit and API tokens: no serious violations in es, pt, en', async () => {
    const admin = await makeUser(s.lms, { role: 'admin', name: 'Ana Admin' });
    const pages = [
      '/reports',
      '/reports?unit=INST-A',
      '/reports/people?unit=INST-A',
      '/reports/people?unit=INST-A&status=trained',
      '/reports/roster',
      `/reports/roster/${previewId}`,
      '/reports/org',
      '/reports/settings',
      '/reports/audit',
      '/reports/tokens',
    ];
    for (const locale of ['es-ES', 'pt-BR', 'en-GB']) {
      const context = await s.browser.newContext({ locale, bypassCSP: true }); // bypassCSP only to inject axe-core
      const page = await context.newPage();
      await signInPage(page, s.url, admin);
      for (const path of pages) {
        const res = await page.goto(s.url + path);
        expect(res?.status(), `${locale} ${path}`).to.equal(200);
        expect(describeViolations(await seriousViolations(page)), `${locale} ${path}`).to.equal('');
      }
      await context.close();
    }
  });
});
