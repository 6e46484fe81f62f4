import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { Locks, lockSettings } from '../../server/core/locks';
import { createLogger } from '../../server/core/log';
import { makeUser, signIn, testApp } from '../helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Leases in the database. Two `Locks` on one database stand for two server processes: each has
 * its own memory, so only what is in the database keeps them apart.
 */
describe('core: leases in the database (locks shared by every process)', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let one: Locks;
  let two: Locks;
  before(async () => {
    lms = await testApp({ env: { LOG_LEVEL: 'silent', LOCKS_LEASE_SECONDS: '1', LOCKS_POLL_MS: '5' } });
    const log = createLogger('silent', 'test');
    one = lms.locks;
    two = new Locks(lms.db, lockSettings({ LOCKS_LEASE_SECONDS: '1', LOCKS_POLL_MS: '5' }), log);
  });
  after(() => lms?.close());

  it('lets one holder of an exclusive lease in at a time across two lock sets (a read-modify-write loses nothing)', async () => {
    const doc = lms.db.collection('locks_test_counter');
    await doc.insertOne({ _id: 'n' as never, n: 0 });
    // A non-atomic read, a pause, then a write: without the lease the increments overwrite each other.
    const bump = (locks: Locks) =>
      locks.exclusive('test.counter', async () => {
        const { n } = (await doc.findOne({ _id: 'n' as never }))!;
        await sleep(2);
        await doc.updateOne({ _id: 'n' as never }, { $set: { n: n + 1 } });
      });
    await Promise.all(Array.from({ length: 40 }, (_, i) => bump(i % 2 ? one : two)));
    expect((await doc.findOne({ _id: 'n' as never }))!.n).to.equal(40);
    expect(await lms.db.collection('core_locks').countDocuments({})).to.equal(0);
  });

  it('keeps exclusive holders out while shared ones are inside, and shared ones out while an exclusive one is', async () => {
    const events: string[] = [];
    const shared = (locks: Locks, name: string) =>
      locks.shared('test.gate', async () => {
        events.push(`${name}+`);
        await sleep(150);
        events.push(`${name}-`);
      });
    const s1 = shared(one, 's1');
    const s2 = shared(two, 's2');
    await sleep(50);
    const x = two.exclusive('test.gate', async () => {
      events.push('x+');
      await sleep(150);
      events.push('x-');
    });
    await sleep(50);
    const s3 = shared(one, 's3'); // arrives while the exclusive one waits: it waits behind it
    await Promise.all([s1, s2, x, s3]);
    const at = (e: string) => events.indexOf(e);
    expect(at('x+')).to.be.greaterThan(Math.max(at('s1-'), at('s2-')));
    expect(at('s3+')).to.be.greaterThan(at('x-'));
    expect(at('s2+')).to.be.lessThan(at('s1-')); // shared holders are inside together
  });

  it('takes over a lease whose holder died (stopped renewing) once LOCKS_LEASE_SECONDS have passed, and the server goes on', async () => {
    // A holder in a killed process: its lease document stays, nobody renews it.
    await lms.db
      .collection('core_locks')
      .insertOne({ _id: 'test.dead|x' as never, key: 'test.dead', mode: 'x', owner: 'killed', until: new Date(Date.now() + 1000) });
    const t0 = Date.now();
    await one.exclusive('test.dead', async () => {});
    const waited = Date.now() - t0;
    expect(waited).to.be.within(700, 10_000);
    // The server's own work through the same mechanism still runs: a registration's progress
    // lease and a person's token lease, taken by a signed-in request.
    const u = await makeUser(lms, { role: 'hr' });
    const agent = await signIn(lms, u.email, u.password);
    const page = await agent.get('/reports/tokens').expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    await agent.post('/reports/tokens').type('form').send({ _csrf: csrf, name: 'Power BI' }).expect(201);
    expect(await lms.db.collection('core_locks').countDocuments({})).to.equal(0);
  });

  it('renews a lease while its holder works longer than the lease', async () => {
    let inside = 0;
    let most = 0;
    const long = (locks: Locks) =>
      locks.exclusive('test.long', async () => {
        most = Math.max(most, ++inside);
        await sleep(2500); // 2.5 × LOCKS_LEASE_SECONDS: renewed every third of it
        inside--;
      });
    await Promise.all([long(one), long(two)]);
    expect(most).to.equal(1);
  });
});
