import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { signIn, testApp } from '../helpers';

describe('reports: demo:seed with every plugin enabled', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp();
  });
  after(() => lms.close());

  it('builds a real org tree and roster for the demo institution, visible to its HR officer', async () => {
    const cmd = lms.plugins.flatMap((p) => p.commands ?? []).find((c) => c.name === 'demo:seed')!;
    const out: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      expect(await cmd.run(lms, {}, [])).to.equal(0);
      expect(await cmd.run(lms, {}, [])).to.equal(0); // idempotent
    } finally {
      console.log = log;
    }
    expect(await lms.services.get('org.scope').subtree('DEMO')).to.include.members([
      'DEMO-LOCAL',
      'DEMO-MUNI',
      'DEMO-MUNI-ADM',
      'DEMO-MUNI-TIC',
    ]);
    expect(await lms.db.collection('reports_people').countDocuments()).to.equal(8);
    const pw = [...out.join('\n').matchAll(/rrhh@demo\.example\s+(\S+)/g)].pop()![1]; // the second run set new passwords
    const hr = await signIn(lms, 'rrhh@demo.example', pw);
    const d = (await hr.get('/reports/api/dashboard').expect(200)).body;
    expect(d.scope.code).to.equal('DEMO-MUNI');
    expect(d.total).to.equal(8);
    expect(d.decisionMakers.total).to.equal(2);
    const learner = await lms.db.collection('reports_people').findOne({ email: 'servidora@demo.example' });
    const account = await lms.services.get('accounts.users').findByEmail('servidora@demo.example');
    expect(learner!.userId).to.equal(account!.id); // linked to the existing account, not a new one
  });
});
