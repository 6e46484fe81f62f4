import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn, testApp } from '../helpers';
import { HEADER, importRoster, reportsOf, seedOrg, tmpFile } from './fixtures';

/**
 * A roster names tiers as HR writes them: a tier the admin created (by code or by its name), or
 * a built-in tier by its name in Spanish, Portuguese or English, whatever the case and accents.
 * Everyone lands on the tier's code; an unknown name is a row error in the page's language.
 */
describe('reports: roster tiers as HR names them', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  before(async () => {
    lms = await testApp(); // the real catalog: its tiers, built-in and added
    await seedOrg(lms);
    await lms.services.get('catalog.paths').addTier('auditor', [
      { lang: 'es', text: 'Auditoría interna' },
      { lang: 'pt', text: 'Auditoria interna' },
    ]);
  });
  after(() => lms.close());

  it('accepts an added tier and tier names in any language, stored as codes', async () => {
    const csv = [
      HEADER,
      'T1,Ana,t1@a.example,A1,,auditor,,no,yes',
      'T2,Beto,t2@a.example,A1,,AUDITORÍA INTERNA,,no,yes',
      'T3,Caro,t3@a.example,A1,,Técnico / profesional,,no,yes',
      'T4,Dani,t4@a.example,A1,,tecnico,,no,yes',
      'T5,Eva,t5@a.example,A1,,Gestores / chefias,,no,yes',
      'T6,Fer,t6@a.example,A1,,Decision-makers,,no,yes',
      'T7,Gil,t7@a.example,A1,,especialistas tic,,no,yes',
    ].join('\n');
    await importRoster(lms, 'INST-A', csv);
    const tiers = await lms.db
      .collection<{ _id: string; tier: string }>('reports_people')
      .find({ institution: 'INST-A' })
      .sort({ _id: 1 })
      .toArray();
    expect(tiers.map((p) => p.tier)).to.deep.equal([
      'auditor',
      'auditor',
      'technical',
      'technical',
      'manager',
      'decision-maker',
      'ict-specialist',
    ]);
    // The accounts follow, so each person's learning path is their tier's.
    expect((await lms.services.get('accounts.users').findByEmail('t2@a.example'))?.tier).to.equal('auditor');
    // The same people with codes instead of names: nothing changed (the stored tier is the code).
    const again = await reportsOf(lms).roster.preview({
      file: tmpFile(csv.replace('AUDITORÍA INTERNA', 'auditor').replace('tecnico', 'technical')),
      fileName: 'codes.csv',
      institution: 'INST-A',
      userId: 'test',
    });
    expect(again.counts).to.include({ unchanged: 7, changed: 0 });
  });

  it('an unknown tier is one row error, summarised in Spanish with the right plural', async () => {
    const hr = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const agent = await signIn(lms, hr.email, hr.password);
    const page = await agent.get('/reports/roster').expect(200);
    const res = await agent
      .post('/reports/roster')
      .field('_csrf', csrfFrom(page.text))
      .field('institution', 'INST-A')
      .attach('file', Buffer.from([HEADER, 'U1,Uno,u1@a.example,A1,,mago,,no,yes'].join('\n')), 'malo.csv')
      .redirects(1);
    expect(res.text).to.contain('El archivo tiene 1 error.').and.not.contain('1 errores');
    expect(res.text).to.contain('perfil desconocido «mago»').and.contain('auditor');
  });
});
