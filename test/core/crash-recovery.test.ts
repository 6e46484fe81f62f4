import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { ROOT } from '../../server/core/config';
import { freePort, makeUser, settled, signIn, testApp, testDbUri } from '../helpers';
import { AuClient, cmi5Xml, importXml, launchAu } from '../catalog/launch-fixtures';
import { importRoster, seedOrg, HEADER } from '../reports/fixtures';

const C = 'https://courses.example.org/crash-course';
const AU = `${C}/au/leer`;

/** `npm start` on the test database, as a separate process that can be killed. */
async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'server/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', CONTENT_LIBRARY: 'off', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (
      await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, base };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

describe('core: a server killed between storing statements and following them up', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await lms?.close();
  });

  it('after a restart, progress, the trained verdict and the certificate each appear exactly once', async () => {
    // Course, path, roster and an AU session set up in this process, on a database a server will share.
    lms = await testApp({ env: { LOG_LEVEL: 'silent' } });
    await importXml(lms, cmi5Xml(C, 'Curso de prueba', [{ au: AU, moveOn: 'Completed' }]));
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [C] });
    await seedOrg(lms);
    const u = await makeUser(lms, { tier: 'all', level: 'national', orgUnit: 'A1' });
    await importRoster(lms, 'INST-A', `${HEADER}\nE-1,Test Person,${u.email},A1,national,all,Analyst,no,yes\n`);
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    const au = await new AuClient(lms, await launchAu(agent, C, AU), AU).start();
    expect((await au.send(au.statement('initialized'))).status).to.equal(200);
    await settled(lms);
    await lms.events.worker.stop();

    const env = {
      MONGODB_URI: testDbUri(),
      DB_NAME: lms.config.dbName,
      BASE_URL: lms.config.baseUrl,
      SESSION_SECRET: 'test-session-secret-0123456789',
      DATA_DIR: lms.config.dataDir,
    };
    // A process that stores and answers but has no time to follow up: it is killed right after.
    const first = await startServer({ ...env, EVENTS_WORKER: 'off' });
    children.push(first.child);
    const batch = [au.statement('completed', { completion: true, duration: 'PT5M' }), au.statement('terminated', { duration: 'PT6M' })];
    const res = await fetch(`${first.base}/xapi/statements`, {
      method: 'POST',
      headers: { Authorization: `Basic ${au.token}`, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' },
      body: JSON.stringify(batch),
    });
    expect(res.status).to.equal(200);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const db = lms.db;
    const stored = await db.collection('lrs_statements').countDocuments({ _id: { $in: batch.map((s) => s.id) } as never });
    expect(stored).to.equal(2); // the statements are there …
    expect(await db.collection('certificates_certificates').countDocuments({ userId: u.id })).to.equal(0); // … their follow-up is not
    expect((await lms.services.get('catalog').progressOf(u.id, [C]))[0].satisfied).to.equal(false);

    // A retry by the AU after the lost answer is an idempotent re-post: it must not double anything.
    const second = await startServer(env);
    children.push(second.child);
    const retry = await fetch(`${second.base}/xapi/statements`, {
      method: 'POST',
      headers: { Authorization: `Basic ${au.token}`, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' },
      body: JSON.stringify(batch),
    });
    expect([200, 403]).to.include(retry.status);
    const deadline = Date.now() + 30_000;
    const certs = () => db.collection('certificates_certificates').find({ userId: u.id }).toArray();
    while ((await certs()).length < 2 || (await db.collection('core_outbox').countDocuments({ state: { $ne: 'failed' } }))) {
      if (Date.now() > deadline) throw new Error('the restarted server did not catch up');
      await new Promise((r) => setTimeout(r, 100));
    }
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));

    const progress = await lms.services.get('catalog').progressOf(u.id, [C]);
    expect(progress).to.have.length(1);
    expect(progress[0]).to.include({ satisfied: true, status: 'satisfied', timeSpentSeconds: 360 }); // counted once
    const list = await certs();
    expect(list.map((c) => c.kind).sort()).to.deep.equal(['course', 'path']); // one of each
    const people = await db.collection('reports_people').find({ userId: u.id }).toArray();
    expect(people).to.have.length(1);
    expect(people[0].trained).to.equal(true);
    expect(await db.collection('core_outbox').countDocuments({ state: 'failed' })).to.equal(0);
  });
});
