/**
 * Every periodic job of every plugin runs (on its timer, with short intervals, and on demand),
 * and then the server still answers right on the same database connections: people sign in,
 * statements are found. On the stock engine, connect-mongo's session clean-up (an unacknowledged
 * deleteMany every 10 minutes) left the next command of that connection with the wrong reply.
 * The list of jobs comes from the registry, so a job added later is covered without a new test.
 */
import { expect } from 'chai';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { parseDuration } from '../../server/core/jobs';
import { makeUser, signIn, testApp } from '../helpers';

const INTERVALS = {
  SESSION_CLEANUP_INTERVAL: '300ms',
  LOGIN_COUNTERS_PURGE_INTERVAL: '300ms',
  LRS_TOKEN_PURGE_INTERVAL: '300ms',
  CATALOG_FETCH_CLEANUP_INTERVAL: '300ms',
  REPORTS_DAILY_INTERVAL: '300ms',
  PRIVACY_RETENTION_INTERVAL: '300ms',
  EVENTS_PRUNE_INTERVAL: '300ms',
  NETWORK_SYNC_INTERVAL: '300ms',
  NETWORK_INDICATORS_INTERVAL: '300ms',
  NOTIFY_REMINDERS_INTERVAL: '300ms',
  NOTIFY_DIGEST_INTERVAL: '300ms',
};

describe('core: periodic jobs', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  let server: Server;
  let base: string;
  let auth: string;

  before(async () => {
    lms = await testApp({ env: INTERVALS });
    server = lms.app.listen(0, '127.0.0.1');
    await new Promise((ok) => server.once('listening', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { key, secret } = await lms.services.get('lrs.credentials').createClient({ name: 'jobs test', scopes: ['all'] });
    auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
  });
  after(async () => {
    server.close();
    await lms.close();
  });

  const xapi = (path: string, init: RequestInit = {}) =>
    fetch(base + '/xapi/' + path, {
      ...init,
      headers: { Authorization: auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json', ...init.headers },
    });

  /** Signs in, stores ten statements and reads them back: the server answers right. */
  async function useTheServer(person: { email: string; password: string }) {
    await signIn(lms, person.email, person.password);
    const registration = randomUUID();
    const ids = Array.from({ length: 10 }, () => randomUUID());
    const statements = ids.map((id) => ({
      id,
      actor: { mbox: 'mailto:jobs@example.org' },
      verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' },
      object: { id: 'http://example.org/activity/jobs' },
      context: { registration },
    }));
    expect((await xapi('statements', { method: 'POST', body: JSON.stringify(statements) })).status).to.equal(200);
    const one = await xapi(`statements?statementId=${ids[3]}`);
    expect(one.status).to.equal(200);
    expect(((await one.json()) as { id: string }).id).to.equal(ids[3]);
    const page = await xapi(`statements?registration=${registration}&limit=20`);
    expect(((await page.json()) as { statements: unknown[] }).statements).to.have.length(10);
  }

  it('registers every timer of the product with the interval its variable sets', () => {
    const jobs = lms.jobs.list();
    expect(jobs.map((j) => j.intervalVar).sort()).to.deep.equal(Object.keys(INTERVALS).sort());
    for (const j of jobs) expect(j.everyMs).to.equal(300);
  });

  it('runs each job on its timer, repeatedly, and the server then answers right', async () => {
    const person = await makeUser(lms);
    lms.jobs.start();
    try {
      for (let i = 0; i < 100 && lms.jobs.list().some((j) => j.runs < 3); i++) await new Promise((ok) => setTimeout(ok, 100));
      const jobs = lms.jobs.list();
      for (const j of jobs) {
        expect(j.runs, `${j.name} runs`).to.be.at.least(3);
        expect(j.lastError, j.name).to.equal(undefined);
      }
      await useTheServer(person);
    } finally {
      lms.jobs.stop();
      await lms.jobs.idle();
    }
  });

  it('runs each job on demand, then the server answers right', async () => {
    const person = await makeUser(lms);
    for (const j of lms.jobs.list()) {
      await lms.jobs.run(j.name);
      await useTheServer(person);
    }
  });

  it('removes expired sessions with an acknowledged write and keeps live ones', async () => {
    const person = await makeUser(lms);
    const agent = await signIn(lms, person.email, person.password);
    const sessions = lms.db.collection('core_sessions');
    await sessions.insertOne({
      _id: `expired-${randomBytes(4).toString('hex')}` as never,
      expires: new Date(Date.now() - 1000),
      session: '{}',
    });
    const before = await sessions.countDocuments({ expires: { $lt: new Date() } });
    expect(before).to.be.at.least(1);
    await lms.jobs.run('core.sessions-cleanup');
    expect(await sessions.countDocuments({ expires: { $lt: new Date() } })).to.equal(0);
    await agent.get('/accounts/profile').expect(200);
  });

  it('shows a translated error page when the session cannot be read (no raw keys, no "t is not defined")', async () => {
    const sid = randomBytes(12).toString('hex');
    await lms.db
      .collection('core_sessions')
      .insertOne({ _id: sid as never, expires: new Date(Date.now() + 3600_000), session: 'undefined' });
    const signature = createHmac('sha256', 'test-session-secret-0123456789').update(sid).digest('base64').replace(/=+$/, '');
    const res = await supertest(lms.app)
      .get('/accounts/profile')
      .set('Cookie', `lms.sid=${encodeURIComponent(`s:${sid}.${signature}`)}`)
      .set('Accept', 'text/html')
      .set('Accept-Language', 'es');
    expect(res.status).to.equal(500);
    expect(res.type).to.equal('text/html');
    expect(res.text).to.not.contain('core:errors');
    expect(res.text).to.contain('<h1>');
  });

  it('reads durations and refuses a bad interval naming its variable', async () => {
    expect(parseDuration('250ms')).to.equal(250);
    expect(parseDuration('10m')).to.equal(600_000);
    expect(parseDuration('24h')).to.equal(86_400_000);
    expect(parseDuration('90')).to.equal(90_000);
    expect(parseDuration('soon')).to.equal(undefined);
    expect(parseDuration('0s')).to.equal(undefined);
    let message = '';
    await testApp({ env: { SESSION_CLEANUP_INTERVAL: 'often' } }).catch((e: Error) => (message = e.message));
    expect(message).to.contain('SESSION_CLEANUP_INTERVAL must be a duration');
  });
});
