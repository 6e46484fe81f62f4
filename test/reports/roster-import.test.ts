import { expect } from 'chai';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn } from '../helpers';
import { HEADER, importRoster, rejection, reportsApp, reportsOf, seedOrg, tmpFile } from './fixtures';

type Doc = { _id: string } & Record<string, unknown>;

describe('reports: roster import', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await reportsApp();
    await seedOrg(lms);
    await catalogPaths();
  });
  after(() => lms.close());

  async function catalogPaths() {
    const cat = lms.services.get('catalog.double');
    await cat.addCourse('C1', 2);
    await cat.setPath('all', ['C1']);
  }
  const people = () => lms.db.collection<Doc>('reports_people');
  const summary = async (id: string) =>
    (await lms.db.collection<Doc>('reports_summary').findOne({ _id: id })) as Record<string, { t: number; k: number }> | null;

  const good = [
    HEADER,
    'E1,Ana Pérez,ana@a.example,A1,national,all,Analista,no,yes',
    'E2,Bruno Díaz,bruno@a.example,A2,,manager,Jefe,no,yes',
    'E3,Carla Núñez,carla@a.example,INST-A,,decision-maker,Ministra,sí,yes',
  ].join('\n');

  it('previews without writing, then confirms, and re-importing the same file changes nothing', async () => {
    const r = reportsOf(lms);
    const imp = await r.roster.preview({ file: tmpFile(good), fileName: 'a.csv', institution: 'INST-A', userId: 'test' });
    expect(imp.errorCount).to.equal(0);
    expect(imp.rows).to.equal(3);
    expect(imp.counts).to.include({ created: 3, changed: 0, unchanged: 0, newAccounts: 3, linkedAccounts: 0 });
    expect(await people().countDocuments()).to.equal(0);
    expect(await lms.db.collection('accounts_users').countDocuments()).to.equal(0);

    const done = await r.roster.confirm(imp._id, 'test');
    expect(done.counts).to.include({ created: 3, newAccounts: 3 });
    const ana = await people().findOne({ _id: 'INST-A:E1' });
    expect(ana).to.include({
      name: 'Ana Pérez',
      unit: 'A1',
      level: 'national',
      tier: 'all',
      decisionMaker: false,
      active: true,
      trained: false,
    });
    expect(ana!.missing).to.deep.equal(['C1']);
    // level left empty inherits the institution's level of government; "sí" is a yes
    expect(await people().findOne({ _id: 'INST-A:E3' })).to.include({ level: 'national', decisionMaker: true });
    expect((await summary('INST-A'))!.all).to.deep.equal({ t: 3 });
    expect((await summary('XC'))!.institution).to.deep.equal({ 'INST-A': { t: 3 } });
    expect((await summary('INST-A'))!.dm).to.deep.equal({ t: 1 });
    expect((await rejection(r.roster.confirm(imp._id, 'test'))).message).to.match(/confirmed/);

    const before = await people().find().sort({ _id: 1 }).toArray();
    const again = await importRoster(lms, 'INST-A', good);
    expect(again.counts).to.include({ created: 0, changed: 0, unchanged: 3, newAccounts: 0 });
    expect(await people().find().sort({ _id: 1 }).toArray()).to.deep.equal(before);
    expect((await summary('INST-A'))!.all).to.deep.equal({ t: 3 });
    expect(await lms.db.collection('accounts_users').countDocuments()).to.equal(3);
    expect(await lms.db.collection('reports_invites').countDocuments()).to.equal(3);
  });

  it('reports row errors with row, column and reason, and writes nothing', async () => {
    const bad = [
      HEADER,
      'X1,Uno,uno@a.example,A1,,all,,no,yes',
      'X2,Dos,dos@a.example,NOPE,,all,,no,yes', // unknown unit
      'X1,Tres,tres@a.example,A1,,all,,no,yes', // duplicate id
      'X4,Cuatro,not-an-email,A1,,all,,no,yes',
      'X5,Cinco,cinco@a.example,A1,,wizard,,no,yes', // unknown tier
      'X6,Seis,seis@a.example,B1,,all,,no,yes', // unit of another institution
      'X7,Siete,siete@a.example,A1,,all,,maybe,yes',
    ].join('\n');
    const r = reportsOf(lms);
    const count = await people().countDocuments();
    const imp = await r.roster.preview({ file: tmpFile(bad), fileName: 'bad.csv', institution: 'INST-A', userId: 'test' });
    expect(imp.status).to.equal('rejected');
    const by = (row: number) => imp.problems.filter((p) => p.row === row).map((p) => `${p.column}: ${p.message}`);
    expect(by(2)).to.deep.equal([]);
    expect(by(3)).to.deep.equal(['unit: unknown unit code NOPE in institution INST-A']);
    expect(by(4)).to.deep.equal(['employee_id: duplicate employee id X1 (first on row 2)']);
    expect(by(5)).to.deep.equal(['email: not a valid email address']);
    expect(by(6)[0]).to.match(/^tier: unknown tier wizard/);
    expect(by(7)).to.deep.equal(['unit: unknown unit code B1 in institution INST-A']);
    expect(by(8)[0]).to.match(/^decision_maker: decision_maker must be yes or no/);
    expect(imp.errorCount).to.equal(6);
    expect((await rejection(r.roster.confirm(imp._id, 'test'))).message).to.match(/rejected/);
    expect(await people().countDocuments()).to.equal(count);
  });

  it('refuses a file without the required columns', async () => {
    expect(
      (
        await rejection(
          reportsOf(lms).roster.preview({ file: tmpFile('id,name\n1,x\n'), fileName: 'x.csv', institution: 'INST-A', userId: 't' }),
        )
      ).message,
    ).to.match(/missing columns email, unit, tier/);
  });

  it('reads a Latin-1 (Windows-1252) CSV with semicolons and Spanish headers', async () => {
    const text = [
      'id_empleado;nombre;correo;unidad;nivel;tier;cargo;decisor;activo',
      'L1;José Ñúñez Ibáñez;jose@b.example;B1;;all;Técnico de atención;no;sí',
    ].join('\r\n');
    const imp = await reportsOf(lms).roster.preview({
      file: tmpFile(iconv.encode(text, 'win1252')),
      fileName: 'latin1.csv',
      institution: 'INST-B',
      userId: 't',
    });
    expect(imp.encoding).to.equal('windows-1252');
    expect(imp.errorCount, JSON.stringify(imp.problems)).to.equal(0);
    await reportsOf(lms).roster.confirm(imp._id, 't');
    expect(await people().findOne({ _id: 'INST-B:L1' })).to.include({
      name: 'José Ñúñez Ibáñez',
      position: 'Técnico de atención',
      level: 'local',
    });
  });

  it('reads an XLSX roster (first sheet) and reports its row numbers', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Nómina');
    ws.addRow(HEADER.split(','));
    ws.addRow(['XL1', 'Xime Lara', 'xime@b.example', 'B2', '', 'technical', 'Soporte', 'no', 'yes']);
    ws.addRow(['XL2', 'Otro', 'bad@', 'B2', '', 'technical', '', 'no', 'yes']);
    const file = tmpFile(Buffer.from(await wb.xlsx.writeBuffer()), 'xlsx');
    const imp = await reportsOf(lms).roster.preview({ file, fileName: 'n.xlsx', institution: 'INST-B', userId: 't' });
    expect(imp.format).to.equal('xlsx');
    expect(imp.problems.map(({ row, column, message }) => ({ row, column, message }))).to.deep.equal([
      { row: 3, column: 'email', message: 'not a valid email address' },
    ]);
  });

  it('deactivates people missing from a new file only when asked, and links existing accounts', async () => {
    const existing = await makeUser(lms, { email: 'dora@a.example', orgUnit: 'OLD-UNIT', tier: 'manager', level: 'local' });
    const file = [HEADER, 'E1,Ana Pérez,ana@a.example,A1,national,all,Analista,no,yes', 'E9,Dora,dora@a.example,A1,,all,,no,yes'].join(
      '\n',
    );
    const preview = await reportsOf(lms).roster.preview({
      file: tmpFile(file),
      fileName: 'b.csv',
      institution: 'INST-A',
      userId: 't',
      deactivateMissing: true,
    });
    expect(preview.counts).to.include({ created: 1, unchanged: 1, deactivated: 2, linkedAccounts: 2, newAccounts: 0 });
    const done = await reportsOf(lms).roster.confirm(preview._id, 't');
    expect(done.counts).to.include({ created: 1, deactivated: 2, newAccounts: 0, linkedAccounts: 1 });
    expect(await people().findOne({ _id: 'INST-A:E9' })).to.include({ userId: existing.id });
    // The account follows the roster: unit, level and tier (the learning path depends on the last two).
    const dora = await lms.services.get('accounts.users').findById(existing.id);
    expect(dora).to.include({ orgUnit: 'A1', tier: 'all' });
    expect(dora?.level).to.equal((await people().findOne({ _id: 'INST-A:E9' }))?.level);
    expect(await people().findOne({ _id: 'INST-A:E2' })).to.include({ active: false });
    expect((await summary('INST-A'))!.all).to.deep.equal({ t: 2 });
    expect((await summary('INST-A'))!.dm).to.deep.equal({ t: 0 });
  });

  it('uploads through the page (CSRF checked on multipart), previews, confirms; the invitation sets a password once', async () => {
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'INST-B' });
    const agent = await signIn(lms, hr.email, hr.password);
    const page = await agent.get('/reports/roster').expect(200);
    const csrf = csrfFrom(page.text);
    const csv = [HEADER, 'W1,Wanda Web,wanda@b.example,B1,,all,,no,yes'].join('\n');
    await agent.post('/reports/roster').field('institution', 'INST-B').attach('file', Buffer.from(csv), 'r.csv').expect(403);
    await agent
      .post('/reports/roster')
      .field('_csrf', csrf)
      .field('institution', 'INST-A')
      .attach('file', Buffer.from(csv), 'r.csv')
      .expect(403);
    await agent
      .post('/reports/roster')
      .field('_csrf', csrf)
      .field('institution', 'INST-B')
      .attach('file', Buffer.from('MZ\x90\x00'), 'evil.exe')
      .expect(400);
    const up = await agent
      .post('/reports/roster')
      .field('_csrf', csrf)
      .field('institution', 'INST-B')
      .attach('file', Buffer.from(csv), 'r.csv')
      .expect(303);
    const previewPage = await agent.get(up.headers.location).expect(200);
    expect(previewPage.text).to.contain('INST-B');
    expect(await people().countDocuments({ _id: 'INST-B:W1' })).to.equal(0);
    await agent
      .post(`${up.headers.location}/confirm`)
      .type('form')
      .send({ _csrf: csrfFrom(previewPage.text) })
      .expect(303);
    expect(await people().countDocuments({ _id: 'INST-B:W1' })).to.equal(1);

    const links = await agent.get('/reports/roster/invitations.csv').expect(200);
    expect(links.text).to.contain('wanda@b.example');
    expect(links.text).not.to.contain('ana@a.example'); // INST-A's invitations are outside this officer's scope
    const link = new RegExp('http://127\\.0\\.0\\.1(/reports/invite/[^,\\s"]+)').exec(
      links.text.split('\n').find((l) => l.includes('wanda'))!,
    )![1];
    const visitor = supertest.agent(lms.app);
    const form = await visitor.get(link).expect(200);
    await visitor
      .post(link)
      .type('form')
      .send({ _csrf: csrfFrom(form.text), password: 'a good long password', confirm: 'a good long password' })
      .expect(303);
    await signIn(lms, 'wanda@b.example', 'a good long password');
    await visitor.get(link).expect(404);
    await visitor.get('/reports/invite/forged.token').expect(404);
  });

  it('the CLI previews without writing unless --confirm, and exits non-zero on row errors', async () => {
    const cmd = lms.plugins.find((p) => p.manifest.name === 'reports')!.commands!.find((c) => c.name === 'roster:import')!;
    const csv = tmpFile([HEADER, 'K1,Kim,kim@b.example,B1,,all,,no,yes'].join('\n'));
    const log = console.log;
    const err = console.error;
    const out: string[] = [];
    console.log = console.error = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      expect(await cmd.run(lms, { institution: 'INST-B' }, [csv])).to.equal(0);
      expect(await people().countDocuments({ _id: 'INST-B:K1' })).to.equal(0);
      expect(await cmd.run(lms, { institution: 'INST-B', confirm: true }, [csv])).to.equal(0);
      expect(await people().countDocuments({ _id: 'INST-B:K1' })).to.equal(1);
      const bad = tmpFile([HEADER, 'K2,Kim,kim2@b.example,ZZ,,all,,no,yes'].join('\n'));
      expect(await cmd.run(lms, { institution: 'INST-B', confirm: true }, [bad])).to.equal(1);
    } finally {
      console.log = log;
      console.error = err;
    }
    expect(out.join('\n')).to.contain('row 2, unit: unknown unit code ZZ');
    expect(await people().countDocuments({ _id: 'INST-B:K2' })).to.equal(0);
  });
});
