import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn } from '../helpers';
import { reportsApp, reportsOf, seedOrg } from './fixtures';

describe('reports: organisation tree', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await reportsApp();
    await seedOrg(lms);
  });
  after(() => lms.close());

  it('answers org.scope for other plugins: a unit and everything below it', async () => {
    const scope = lms.services.get('org.scope');
    expect((await scope.subtree('INST-A')).sort()).to.deep.equal(['A1', 'A2', 'INST-A']);
    expect((await scope.subtree('XC')).length).to.equal(9);
    expect(await scope.subtree('UNKNOWN')).to.deep.equal(['UNKNOWN']);
    expect(await scope.name('INST-B')).to.equal('Municipio B');
  });

  it('imports all or nothing, with row errors for unknown parents, bad kinds, duplicates and cycles', async () => {
    const rows = [
      { code: 'NEW-1', name: 'Nueva', parent: 'XC-LOC', kind: 'institution', level: '' },
      { code: 'NEW-2', name: 'Huérfana', parent: 'NOPE', kind: 'unit', level: '' },
      { code: 'NEW-1', name: 'Repetida', parent: 'XC-LOC', kind: 'institution', level: '' },
      { code: 'bad.code', name: 'Punto', parent: 'XC', kind: 'level', level: 'local' },
      { code: 'NEW-3', name: 'Tipo', parent: 'XC', kind: 'ministry', level: '' },
      { code: 'XC', name: 'Ciclo', parent: 'A1', kind: 'unit', level: '' },
    ];
    const r = await reportsOf(lms).org.importUnits(rows.map((input, i) => ({ row: i + 2, input: input as never })));
    expect(r.units).to.equal(0);
    const by = (row: number) => r.errors.filter((e) => e.row === row).map((e) => e.column);
    expect(by(3)).to.deep.equal(['parent']);
    expect(by(4)).to.deep.equal(['code']);
    expect(by(5)).to.deep.equal(['code']);
    expect(by(6)).to.deep.equal(['kind']);
    expect(by(7)).to.deep.equal(['parent']);
    expect(await lms.db.collection('reports_units').countDocuments({ _id: 'NEW-1' as never })).to.equal(0);
  });

  it('admins manage units in the page and import a CSV; HR officers cannot', async () => {
    const a = await makeUser(lms, { role: 'admin' });
    const admin = await signIn(lms, a.email, a.password);
    const page = await admin.get('/reports/org').expect(200);
    expect(page.text).to.contain('Ministerio A');
    await admin
      .post('/reports/org')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: 'A3', name: 'Unidad A3', parent: 'INST-A', kind: 'unit' })
      .expect(200);
    expect(await lms.services.get('org.scope').subtree('INST-A')).to.include('A3');
    const bad = await admin
      .post('/reports/org')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: 'A4', name: 'x', parent: 'ZZ', kind: 'unit' })
      .expect(400);
    expect(bad.text).to.contain('código de unidad superior desconocido ZZ');
    const csv = 'codigo,nombre,padre,tipo,nivel\nINST-C,Instituto C,XC-NAT,institution,\nC1,Unidad C1,INST-C,unit,\n';
    await admin.post('/reports/org/import').field('_csrf', csrfFrom(page.text)).attach('file', Buffer.from(csv), 'units.csv').expect(200);
    expect(await reportsOf(lms).org.levelOf('C1')).to.equal('national');
    const h = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const hr = await signIn(lms, h.email, h.password);
    await hr.get('/reports/org').expect(403);
    await hr.get('/reports/settings').expect(403);
  });
});
