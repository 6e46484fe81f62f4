import { expect } from 'chai';
import ExcelJS from 'exceljs';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../server/app';
import type { CourseProgress } from '../../server/core/contracts/catalog';
import { makeUser, signIn, binaryParser } from '../helpers';
import { HEADER, importRoster, reportsApp, reportsOf, seedOrg } from './fixtures';
import { withPdfFile, run } from '../certificates/helpers';

const pdfText = (pdf: Buffer) => withPdfFile(pdf, async (file) => (await run('pdftotext', ['-layout', file, '-'])).stdout);

/**
 * 1,000 servants whose right answers are known by hand:
 *  INST-A (national): i 0–599 — A1: 0–499, A2: 500–599; decision-makers 0–49 (trained 0–39);
 *                     others trained 50–549 → 540 / 600 trained (A1 490/500, A2 50/100)
 *  INST-B (local):    i 600–999 — B1: 600–899, B2: 900–999; decision-makers 600–619 (trained 600–609);
 *                     others trained 620–919 → 310 / 400 trained (B1 290/300, B2 20/100)
 *  Total 850 / 1,000 = 85 %; decision-makers 50 / 70. Trained before the baseline date (2024-12-31): 0–39 and 50–199 → 190.
 */
const isTrained = (i: number) => i < 40 || (i >= 50 && i < 550) || (i >= 600 && i < 610) || (i >= 620 && i < 920);
const isDm = (i: number) => i < 50 || (i >= 600 && i < 620);
const unitOf = (i: number) => (i < 500 ? 'A1' : i < 600 ? 'A2' : i < 900 ? 'B1' : 'B2');

describe('reports: target dashboard on a hand-checked fixture', () => {
  let lms: LmsApp;
  let admin: TestAgent;
  let hrA: TestAgent;
  const now = new Date();
  const monthsAgo = (m: number, day = 10) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - m, day, 12));

  before(async function () {
    this.timeout(600_000);
    lms = await reportsApp();
    await seedOrg(lms);
    const cat = lms.services.get('catalog.double');
    await cat.addCourse('C1', 2, 'Ciudadanía digital');
    await cat.addCourse('C2', 3, 'Seguridad');
    await cat.addCourse('C3', 4, 'Liderar la transformación digital');
    await cat.setPath('all', ['C1', 'C2']);
    await cat.setPath('decision-maker', ['C1', 'C3']);
    const rows = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => {
        const i = from + k;
        return `P${i},Persona ${i},p${i}@fixture.example,${unitOf(i)},,${isDm(i) ? 'decision-maker' : 'all'},,${isDm(i) ? 'yes' : 'no'},yes`;
      });
    await importRoster(lms, 'INST-A', [HEADER, ...rows(0, 600)].join('\n'));
    await importRoster(lms, 'INST-B', [HEADER, ...rows(600, 1000)].join('\n'));
    // Progress documents written in bulk (as after a migration), then one background recompute.
    const people = await lms.db
      .collection<{ _id: string; userId: string }>('reports_people')
      .find({}, { projection: { userId: 1 } })
      .toArray();
    const userOf = new Map(people.map((p) => [Number(p._id.split(':P')[1]), p.userId]));
    const docs: CourseProgress[] = [];
    for (let i = 0; i < 1000; i++) {
      if (!isTrained(i)) {
        if (i % 2) docs.push(cat.progressDoc(userOf.get(i)!, 'C1', monthsAgo(1))); // half-way people
        continue;
      }
      const at = i < 200 ? new Date('2024-06-15T12:00:00Z') : i < 600 ? monthsAgo(6) : monthsAgo(2);
      for (const c of isDm(i) ? ['C1', 'C3'] : ['C1', 'C2']) docs.push(cat.progressDoc(userOf.get(i)!, c, at));
    }
    await cat.insertProgress(docs);
    await reportsOf(lms).settings.setBaseline({ date: '2024-12-31' }, 'test');
    await reportsOf(lms).recompute.request('fixture');
    await reportsOf(lms).recompute.idle();

    const a = await makeUser(lms, { role: 'admin' });
    admin = await signIn(lms, a.email, a.password);
    const h = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    hrA = await signIn(lms, h.email, h.password);
  });
  after(() => lms.close());

  it('gives the national figures: 85 % trained, targets 80 % and 3× baseline, decision-makers on their own', async () => {
    const d = (await admin.get('/reports/api/dashboard').expect(200)).body;
    expect(d).to.deep.include({ total: 1000, trained: 850, share: 0.85 });
    expect(d.target).to.deep.equal({ share: 0.8, needed: 800, gap: 0, met: true });
    expect(d.baseline).to.deep.equal({ date: '2024-12-31', trained: 190, target: 570, gap: 0, met: true, progress: 1.4912 });
    expect(d.decisionMakers).to.include({ total: 70, trained: 50 });
    const by = (rows: Array<{ key: string; total: number; trained: number }>) =>
      Object.fromEntries(rows.map((r) => [r.key, [r.trained, r.total]]));
    expect(by(d.byLevel)).to.deep.equal({ national: [540, 600], regional: [0, 0], local: [310, 400] });
    expect(by(d.byTier)).to.deep.include({ all: [800, 930], 'decision-maker': [50, 70], manager: [0, 0] });
    expect(by(d.byInstitution)).to.deep.equal({ 'INST-A': [540, 600], 'INST-B': [310, 400] });
    expect(d.byInstitution[0].label).to.equal('Ministerio A');
  });

  it('breaks an institution down by unit and shows the monthly trend', async () => {
    const d = (await admin.get('/reports/api/dashboard?unit=INST-B').expect(200)).body;
    expect(d).to.deep.include({ total: 400, trained: 310, share: 0.775 });
    expect(d.target).to.include({ needed: 320, gap: 10, met: false });
    expect(
      Object.fromEntries(d.byUnit.map((r: { key: string; trained: number; total: number }) => [r.key, [r.trained, r.total]])),
    ).to.deep.equal({ B1: [290, 300], B2: [20, 100] });
    const national = (await admin.get('/reports/api/dashboard').expect(200)).body;
    const month = (m: number) => monthsAgo(m).toISOString().slice(0, 7);
    const trend = Object.fromEntries(national.trend.map((t: { month: string; trained: number }) => [t.month, t.trained]));
    expect(national.trend).to.have.length(12);
    expect(trend[month(7)]).to.equal(190);
    expect(trend[month(6)]).to.equal(190 + 350); // i 200–549 trained six months ago
    expect(trend[month(2)]).to.equal(850);
    expect(trend[month(0)]).to.equal(850);
  });

  it('shows recorded month-end figures where they exist, estimates before that, and the current month live', async () => {
    const month = (m: number) => monthsAgo(m).toISOString().slice(0, 7);
    // Pretend the daily record ran near the end of three months ago with today's figures (1,000 / 850):
    // the estimate for that month, from training dates, would be 540.
    expect(await reportsOf(lms).history.snapshot(monthsAgo(3, 27))).to.be.greaterThan(5);
    try {
      const d = (await admin.get('/reports/api/dashboard').expect(200)).body;
      const byMonth = Object.fromEntries(d.trend.map((t: { month: string }) => [t.month, t]));
      expect(byMonth[month(3)]).to.deep.equal({ month: month(3), total: 1000, trained: 850, share: 0.85, source: 'recorded' });
      expect(byMonth[month(4)]).to.deep.include({ trained: 540, total: 1000, source: 'estimated' });
      expect(byMonth[month(0)]).to.deep.include({ trained: 850, total: 1000, source: 'live' });
      const b = (await admin.get('/reports/api/dashboard?unit=INST-B').expect(200)).body;
      expect(b.trend.find((t: { month: string }) => t.month === month(3))).to.include({ total: 400, trained: 310, source: 'recorded' });
      const page = await admin.get('/reports').expect(200);
      expect(page.text).to.include('registradas al cierre del mes').and.include('estimadas');
    } finally {
      await lms.db.collection('reports_history').deleteMany({});
    }
  });

  it('drills down to the people not trained and what each still needs', async () => {
    const res = (await admin.get('/reports/api/people?unit=B2&status=untrained').expect(200)).body;
    expect(res.total).to.equal(80);
    const p = res.people.find((x: { employeeId: string }) => x.employeeId === 'P921')!;
    expect(p.missing.map((m: { id: string }) => m.id)).to.deep.equal(['C2']); // P921 has C1 already
    const p922 = res.people.find((x: { employeeId: string }) => x.employeeId === 'P922')!;
    expect(p922.missing.map((m: { title: string }) => m.title)).to.deep.equal(['Ciudadanía digital', 'Seguridad']);
    const page = await admin.get('/reports/people?unit=INST-A&dm=1').expect(200);
    expect(page.text).to.contain('Liderar la transformación digital');
    expect(page.text).to.contain('10 personas');
  });

  it('an HR officer of INST-A sees INST-A only: 403 for INST-B data and exports, and nothing of B in lists', async () => {
    const d = (await hrA.get('/reports/api/dashboard').expect(200)).body;
    expect(d).to.deep.include({ total: 600, trained: 540 });
    expect(d.scope.code).to.equal('INST-A');
    for (const url of [
      '/reports/api/dashboard?unit=INST-B',
      '/reports/api/dashboard?unit=*',
      '/reports/api/dashboard?unit=XC',
      '/reports/api/people?unit=B1',
      '/reports/export/summary.csv?unit=INST-B',
      '/reports/export/people.xlsx?unit=INST-B',
      '/reports/export/summary.pdf?unit=XC',
      '/reports?unit=INST-B',
      '/reports/people?unit=INST-B',
    ]) {
      await hrA.get(url).expect(403);
    }
    const people = (await hrA.get('/reports/api/people?status=all').expect(200)).body;
    expect(people.total).to.equal(600);
    const csv = await hrA.get('/reports/export/people.csv?status=all').expect(200);
    expect(csv.text.trim().split('\n')).to.have.length(601);
    expect(csv.text).not.to.match(/INST-B/);
    const imports = await lms.db.collection('reports_imports').find({ institution: 'INST-B' }).toArray();
    await hrA.get(`/reports/roster/${imports[0]._id}`).expect(404);
    const invites = await hrA.get('/reports/roster/invitations.csv').expect(200);
    expect(invites.text).to.contain('p0@fixture.example');
    expect(invites.text).not.to.contain('p600@fixture.example');
    // learners have no access at all
    const l = await makeUser(lms, { role: 'learner', orgUnit: 'INST-A' });
    const learner = await signIn(lms, l.email, l.password);
    await learner.get('/reports/api/dashboard').expect(403);
  });

  it('exports CSV, XLSX and PDF, and records every export in the audit log', async () => {
    const before = await lms.db.collection('reports_audit').countDocuments();
    const csv = await admin.get('/reports/export/summary.csv?unit=XC').expect(200);
    expect(csv.headers['content-type']).to.match(/text\/csv/);
    expect(csv.text).to.contain('Ministerio A');
    expect(csv.text).to.match(/INST-A,Ministerio A,600,540,0\.9/);
    const xlsx = await admin.get('/reports/export/summary.xlsx?unit=INST-A').buffer(true).parse(binaryParser).expect(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.body as never);
    const values = wb.worksheets[0].getSheetValues().flat().map(String);
    expect(values).to.include('A1');
    // Shares a spreadsheet computes with: the CSV's plain fraction says so in its header; the XLSX
    // cell is the number 0.9 shown as a percentage.
    expect(csv.text.split('\n')[0]).to.contain('Proporción capacitada (0 a 1)');
    const sheet = wb.worksheets[0];
    expect(sheet.getRow(1).getCell(6).value).to.equal('Porcentaje');
    const instA = sheet.getRow(2);
    expect(instA.getCell(6).value).to.equal(0.9);
    expect(instA.getCell(6).numFmt).to.equal('0.0%');
    const pdf = await admin.get('/reports/export/summary.pdf').buffer(true).parse(binaryParser).expect(200);
    expect((pdf.body as Buffer).subarray(0, 5).toString()).to.equal('%PDF-');
    // Column headers over the figures, and numbers as HR writes them in Spanish.
    const text = await pdfText(pdf.body as Buffer);
    expect(text).to.match(/Grupo\s+Servidores\s+Capacitados\s+Porcentaje/);
    expect(text).to.match(/850 de 1000 servidores capacitados \(85,0\s%\)/);
    expect(text).to.match(/Ministerio A \(INST-A\)\s+600\s+540\s+90,0\s%/);
    expect(text).not.to.match(/\d\.\d %/);
    const audit = await lms.db.collection('reports_audit').find().sort({ at: 1 }).toArray();
    expect(audit.length - before).to.equal(3);
    expect(audit.slice(-3).map((a) => `${a.action} ${a.format} ${a.scope}`)).to.deep.equal([
      'export:summary csv XC',
      'export:summary xlsx INST-A',
      'export:summary pdf *',
    ]);
    const page = await admin.get('/reports/audit').expect(200);
    expect(page.text).to.contain('export:summary');
  });

  it('renders an accessible dashboard page: chart with a data table, captions and header cells', async () => {
    const page = await admin.get('/reports?unit=XC').expect(200);
    expect(page.text).to.match(/<svg[^>]+role="img"[^>]+aria-labelledby="trend-title trend-desc"/);
    expect(page.text).to.contain('<caption>');
    expect(page.text).to.contain('scope="row"');
    expect(page.text).to.contain('85,0\u00a0%');
  });
});

describe('reports: dashboard before there is anything to count', () => {
  let lms: LmsApp;
  let admin: TestAgent;
  const now = new Date();
  before(async function () {
    this.timeout(120_000);
    lms = await reportsApp();
    await seedOrg(lms);
    await reportsOf(lms).settings.setBaseline({ date: '2024-12-31' }, 'test');
    const a = await makeUser(lms, { role: 'admin', language: 'es' });
    admin = await signIn(lms, a.email, a.password);
  });
  after(() => lms.close());

  it('shows no trend of empty months and no target met or missed while nobody is counted', async () => {
    const d = (await admin.get('/reports/api/dashboard').expect(200)).body;
    expect(d.trend.map((m: { source: string }) => m.source)).to.deep.equal(['live']);
    const page = (await admin.get('/reports').expect(200)).text;
    expect(page).not.to.contain('Meta no alcanzada');
    expect(page).to.contain('Meta 80 %: aún no hay servidores en este ámbito');
    expect(page).to.contain('nadie estaba capacitado al 2024-12-31, así que no fija ninguna meta');
    expect(page).not.to.contain('estimadas');
  });

  it('starts the trend at the first month someone was trained', async function () {
    this.timeout(60_000);
    const cat = lms.services.get('catalog.double');
    await cat.addCourse('C1', 2, 'Ciudadanía digital');
    await cat.setPath('all', ['C1']);
    await importRoster(
      lms,
      'INST-A',
      [HEADER, 'T1,Ana Uno,t1@fixture.example,A1,,all,,no,yes', 'T2,Beto Dos,t2@fixture.example,A1,,all,,no,yes'].join('\n'),
    );
    const [p] = await lms.db.collection<{ _id: string; userId: string }>('reports_people').find({ _id: /:T1$/ }).toArray();
    const threeAgo = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 3, 10, 12));
    await cat.insertProgress([cat.progressDoc(p.userId, 'C1', threeAgo)]);
    await reportsOf(lms).recompute.request('test');
    await reportsOf(lms).recompute.idle();
    const d = (await admin.get('/reports/api/dashboard').expect(200)).body;
    expect(d.trend.map((m: { month: string; trained: number }) => [m.month, m.trained])).to.deep.equal(
      [3, 2, 1, 0].map((m) => [new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - m, 10)).toISOString().slice(0, 7), 1]),
    );
    const page = (await admin.get('/reports').expect(200)).text;
    expect(page).to.contain('Meta no alcanzada'); // 1 of 2 trained: the 80 % target is missed
  });
});
