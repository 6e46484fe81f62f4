import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser } from '../helpers';
import { HEADER, importRoster, reportsApp, seedOrg } from '../reports/fixtures';
import { browserSession, listen } from './outsider';

/** HR of INST-A must not take over INST-B's people (or anyone's HR or admin account) with a roster. */
describe('security: a roster cannot capture another institution’s accounts', () => {
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let hrA: Awaited<ReturnType<typeof browserSession>>;
  const users = () => lms.services.get('accounts.users');

  before(async () => {
    lms = await reportsApp();
    await seedOrg(lms);
    http = await listen(lms);
    const h = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    hrA = await browserSession(http.base, h.email, h.password);
  });
  after(async () => {
    await http.close();
    await lms.close();
  });

  async function upload(csv: string) {
    const form = new FormData();
    form.append('_csrf', await hrA.csrf('/reports/roster'));
    form.append('institution', 'INST-A');
    form.append('file', new Blob([csv]), 'roster.csv');
    const res = await hrA.request('/reports/roster', { method: 'POST', body: form, headers: { accept: 'application/json' } });
    expect(res.status).to.equal(201);
    return (await res.json()) as {
      _id: string;
      status: string;
      errorCount: number;
      problems: Array<{ row: number; column: string; message: string }>;
    };
  }

  it('refuses rows naming another institution’s learner, HR officer or an admin, and moves nobody', async () => {
    await importRoster(lms, 'INST-B', [HEADER, 'B1,Beatriz,b1@b.example,B1,,all,,no,yes'].join('\n'));
    const b1 = await users().findByEmail('b1@b.example');
    const hrB = await makeUser(lms, { role: 'hr', orgUnit: 'INST-B', email: 'hr@b.example' });
    const admin = await makeUser(lms, { role: 'admin', email: 'admin@x.example' });
    const csv = [
      HEADER,
      'A1,Ana,ana@a.example,A1,,all,,no,yes',
      'A2,Beatriz,b1@b.example,A1,,all,,no,yes',
      'A3,Hugo,hr@b.example,A1,,all,,no,yes',
      'A4,Admin,admin@x.example,A2,,all,,no,yes',
    ].join('\n');
    const imp = await upload(csv);
    expect(imp.status).to.equal('rejected');
    expect(imp.errorCount).to.equal(3);
    expect(imp.problems.map((p) => [p.row, p.column])).to.deep.equal([
      [3, 'email'],
      [4, 'email'],
      [5, 'email'],
    ]);
    expect(imp.problems[0].message).to.match(/b1@b\.example belongs to an existing account outside INST-A/);
    expect(imp.problems[0].message).not.to.match(/INST-B|B1/); // where the account is stays private
    const confirm = await hrA.request(`/reports/roster/${imp._id}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ _csrf: await hrA.csrf(`/reports/roster/${imp._id}`) }).toString(),
    });
    expect(confirm.status).to.equal(409);

    expect(await users().findById(b1!.id)).to.include({ orgUnit: 'B1' });
    expect(await users().findById(hrB.id)).to.include({ orgUnit: 'INST-B', role: 'hr' });
    expect((await users().findById(admin.id))?.orgUnit).to.equal(undefined);
    expect(await lms.db.collection('reports_people').countDocuments({ institution: 'INST-A' })).to.equal(0);
    expect(await lms.db.collection('reports_people').findOne({ _id: 'INST-B:B1' as never })).to.include({ userId: b1!.id });
  });

  it('links the institution’s own HR officer to their roster row without moving their account', async () => {
    const own = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A', email: 'hr2@a.example' });
    await importRoster(lms, 'INST-A', [HEADER, 'A9,Hilda,hr2@a.example,A2,,manager,,no,yes'].join('\n'));
    expect(await lms.db.collection('reports_people').findOne({ _id: 'INST-A:A9' as never })).to.include({ userId: own.id });
    expect(await users().findById(own.id)).to.include({ orgUnit: 'INST-A', role: 'hr' });
  });
});
