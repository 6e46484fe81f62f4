import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import superagent from 'superagent';
import type { LmsApp } from '../../server/app';
import { COUNTERS_COLLECTION } from '../../server/plugins/accounts/sign-in-counters';
import { csrfFrom, makeUser, testApp, testDbUri } from '../helpers';
import { startServer, stopServer } from '../core/server-process';

/** A browser: one cookie jar for both processes (cookies do not depend on the port). */
type Browser = ReturnType<typeof superagent.agent>;
const browser = (): Browser =>
  superagent
    .agent()
    .ok(() => true)
    .redirects(0);

/**
 * Two server processes on one database, as behind a load balancer: the failures counted per
 * address, per known browser and per account are one count, whichever process a request reaches,
 * so two processes do not give twice the allowance.
 */
describe('security: sign-in limits are shared by server processes', function () {
  this.timeout(300_000);
  let lms: LmsApp;
  const children: ChildProcess[] = [];
  let servers: string[] = [];

  before(async () => {
    lms = await testApp({ env: { LOG_LEVEL: 'silent' } });
    const env = {
      MONGODB_URI: testDbUri(),
      DB_NAME: lms.config.dbName,
      SESSION_SECRET: 'test-session-secret-0123456789',
      DATA_DIR: lms.config.dataDir,
      TRUST_PROXY: '1',
      LOGIN_RATE_LIMIT: '4',
      LOGIN_MAX_FAILURES: '6',
      LOGIN_LOCK_MINUTES: '15',
    };
    const started = await Promise.all([startServer(env), startServer(env)]);
    children.push(...started.map((s) => s.child));
    servers = started.map((s) => s.base);
  });
  after(async () => {
    for (const c of children) await stopServer(c);
    await lms?.close();
  });

  /** One sign-in at server `i` from `address` in `browser`; the answer's status (signed out again after a success). */
  async function attempt(i: number, b: Browser | undefined, address: string, email: string, password: string): Promise<number> {
    b ??= browser();
    const page = await b.get(`${servers[i]}/accounts/login`).set('X-Forwarded-For', address);
    expect(page.status).to.equal(200);
    const res = await b
      .post(`${servers[i]}/accounts/login`)
      .set('X-Forwarded-For', address)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email, password });
    if (res.status === 303) {
      const profile = await b.get(`${servers[i]}/accounts/profile`);
      const out = await b
        .post(`${servers[i]}/accounts/logout`)
        .type('form')
        .send({ _csrf: csrfFrom(profile.text) });
      expect(out.status).to.equal(303);
    }
    return res.status;
  }

  it('failures from one address, alternating between the processes, stop sign-ins there after LOGIN_RATE_LIMIT in all', async () => {
    const guesser = '198.51.100.20';
    for (let i = 0; i < 4; i++)
      expect(await attempt(i % 2, undefined, guesser, `nadie${i}@example.org`, 'wrong guess wrong'), `failure ${i + 1}`).to.equal(401);
    const u = await makeUser(lms);
    // Per process, each would still allow two more; together the address has used its four.
    expect(await attempt(0, undefined, guesser, u.email, u.password)).to.equal(429);
    expect(await attempt(1, undefined, guesser, u.email, u.password)).to.equal(429);
    expect(await attempt(1, undefined, '198.51.100.21', u.email, u.password)).to.equal(303);
    // What the database holds: hashed keys, no address in clear.
    const docs = await lms.db.db!.collection(COUNTERS_COLLECTION).find({}).toArray();
    expect(docs.length).to.be.above(0);
    expect(JSON.stringify(docs)).not.to.include('198.51.100');
  });

  it('failures on one account sent to both processes at once lock it after LOGIN_MAX_FAILURES (none lost)', async () => {
    const u = await makeUser(lms);
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => attempt(i % 2, undefined, `192.0.2.${30 + i}`, u.email, 'a wrong password')),
    );
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 401]);
    // The right password from an unknown browser, at either process: locked (the same answer as a wrong one).
    expect(await attempt(0, undefined, '192.0.2.40', u.email, u.password)).to.equal(401);
    expect(await attempt(1, undefined, '192.0.2.41', u.email, u.password)).to.equal(401);
  });

  it('a known browser’s own count is one count across the processes', async () => {
    const u = await makeUser(lms);
    const own = browser();
    expect(await attempt(0, own, '192.0.2.50', u.email, u.password)).to.equal(303);
    // LOGIN_MAX_FAILURES (6) in all, three at each process.
    for (let i = 0; i < 6; i++)
      expect(await attempt(i % 2, own, '192.0.2.50', u.email, 'a wrong password'), `failure ${i + 1}`).to.equal(401);
    expect(await attempt(0, own, '192.0.2.50', u.email, u.password)).to.equal(429);
    expect(await attempt(1, own, '192.0.2.50', u.email, u.password)).to.equal(429);
  });

  it('an ended window is purged by its job and counting starts again', async () => {
    const guesser = '198.51.100.30';
    for (let i = 0; i < 4; i++) expect(await attempt(i % 2, undefined, guesser, `otro${i}@example.org`, 'wrong guess wrong')).to.equal(401);
    const u = await makeUser(lms);
    expect(await attempt(0, undefined, guesser, u.email, u.password)).to.equal(429);
    // Fifteen minutes later, as the database sees it: every window has ended.
    const counters = lms.db.db!.collection(COUNTERS_COLLECTION);
    await counters.updateMany({}, { $set: { resetAt: new Date(Date.now() - 1000) } });
    await lms.jobs.run('accounts.sign-in-counters-purge');
    expect(await counters.countDocuments({})).to.equal(0);
    expect(await attempt(1, undefined, guesser, u.email, u.password)).to.equal(303);
  });
});
