/**
 * Two server processes on one database, as behind a load balancer: learners, AU statements,
 * recomputes, a roster import and API tokens go through both at once, and nothing is lost or
 * counted twice. Everything that must not interleave is coordinated in the database
 * (server/core/locks.ts), not in one process's memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { ROOT } from '../../server/core/config';
import { csrfFrom, freePort, makeUser, settled, testApp, testDbUri } from '../helpers';
import { cmi5Xml, importXml, launchAu } from '../catalog/launch-fixtures';
import { ThirdPartyAu } from '../catalog/third-party-au';
import { HEADER, importRoster, seedOrg } from '../reports/fixtures';
import { startServer, stopServer } from './server-process';

const C1 = 'https://courses.example.org/two-proc-one';
const C2 = 'https://courses.example.org/two-proc-two';
const AU1 = `${C1}/au/a`;
const AU2 = `${C2}/au/a`;
const SATISFIED = 'https://w3id.org/xapi/adl/verbs/satisfied';
const LEARNERS = 8;
const FILLER = 400;

/** A cookie-keeping client signed in on one server process (through its own address). */
async function signInAt(base: string, email: string, password: string) {
  const agent = supertest.agent(base);
  const page = await agent.get('/accounts/login').expect(200);
  const res = await agent
    .post('/accounts/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email, password });
  expect(res.status, `sign-in of ${email} at ${base}`).to.equal(303);
  return agent;
}

/** The AU of a launch, its xAPI requests sent to `base` (the other process than the launch, if so chosen). */
function auAt(launchUrl: URL, base: string): ThirdPartyAu {
  const url = new URL(launchUrl);
  for (const p of ['endpoint', 'fetch']) {
    const u = new URL(url.searchParams.get(p)!);
    url.searchParams.set(p, base + u.pathname + u.search);
  }
  return new ThirdPartyAu(url.toString());
}

async function takeCourse(au: ThirdPartyAu): Promise<void> {
  await au.start();
  for (const st of [
    au.statement('initialized'),
    au.statement('completed', { completion: true, duration: 'PT3M' }),
    au.statement('terminated', { duration: 'PT4M' }),
  ]) {
    const r = await au.send(st);
    expect(r.status, r.text).to.equal(204);
  }
}

describe('core: two server processes on one database', function () {
  this.timeout(600_000);
  let lms: LmsApp;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await stopServer(c, 'SIGKILL');
    await lms?.close();
  });

  it('learners, AU statements, recomputes, a roster import and API tokens through both: nothing lost or doubled', async () => {
    lms = await testApp({ env: { LOG_LEVEL: 'silent' } });
    for (const [c, au] of [
      [C1, AU1],
      [C2, AU2],
    ])
      await importXml(lms, cmi5Xml(c, `Curso ${c.slice(-3)}`, [{ au, moveOn: 'Completed' }]));
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [C1, C2] });
    await seedOrg(lms);
    const learners = await Promise.all(
      Array.from({ length: LEARNERS }, (_, i) =>
        makeUser(lms, { email: `servidor${i}@a.example.gov`, tier: 'all', level: 'national', orgUnit: i % 2 ? 'A1' : 'A2' }),
      ),
    );
    const admin = await makeUser(lms, { role: 'admin', email: 'admin@example.gov' });
    await importRoster(
      lms,
      'INST-A',
      [HEADER, ...learners.map((u, i) => `E-${i},Servidor ${i},${u.email},${i % 2 ? 'A1' : 'A2'},national,all,Analista,no,yes`)].join('\n'),
    );
    await settled(lms);
    await lms.events.worker.stop(); // from here on only the two servers deliver

    const port = await freePort();
    const env = {
      MONGODB_URI: testDbUri(),
      DB_NAME: lms.config.dbName,
      BASE_URL: `http://127.0.0.1:${port}`, // both behind one public address
      SESSION_SECRET: 'test-session-secret-0123456789',
      DATA_DIR: lms.config.dataDir,
      EVENTS_POLL_MS: '50',
    };
    const [a, b] = await Promise.all([startServer(env, port), startServer(env)]);
    children.push(a.child, b.child);
    const servers = [a.base, b.base];

    // Each learner takes both courses at once, one through each process (their verdict changes
    // twice at the same moment, from two processes).
    const learn = (i: number) => async () => {
      const u = learners[i];
      const agent = await signInAt(servers[i % 2], u.email, u.password);
      await agent.get('/catalog/my-path').expect(200);
      const l1 = await launchAu(agent, C1, AU1);
      const l2 = await launchAu(agent, C2, AU2);
      await Promise.all([takeCourse(auAt(l1.location, a.base)), takeCourse(auAt(l2.location, b.base))]);
    };

    // Phase 1: half the learners while an admin keeps asking process A for recomputes, and a
    // roster import (its own CLI process) adds people.
    const adminAgent = await signInAt(a.base, admin.email, admin.password);
    const settingsPage = await adminAgent.get('/reports/settings').expect(200);
    const csrf = csrfFrom(settingsPage.text);
    let asking = true;
    const recomputes = (async () => {
      let n = 0;
      while (asking) {
        await adminAgent.post('/reports/settings/recompute').type('form').send({ _csrf: csrf }).expect(303);
        n++;
        await new Promise((r) => setTimeout(r, 150));
      }
      return n;
    })();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'two-proc-'));
    const roster = path.join(dir, 'roster.csv');
    writeFileSync(
      roster,
      [
        HEADER,
        ...learners.map((u, i) => `E-${i},Servidor ${i},${u.email},${i % 2 ? 'A1' : 'A2'},national,all,Analista,no,yes`),
        ...Array.from({ length: FILLER }, (_, i) => `F-${i},Relleno ${i},relleno${i}@a.example.gov,A1,national,all,Asistente,no,yes`),
      ].join('\n'),
    );
    const cli = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', 'server/cli.ts', 'roster:import', roster, '--institution', 'INST-A', '--confirm'],
      {
        cwd: ROOT,
        env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    children.push(cli);
    const cliDone = new Promise<number | null>((ok) => cli.once('exit', ok));
    await Promise.all([0, 1, 2, 3].map((i) => learn(i)()));
    expect(await cliDone, 'roster:import exit code').to.equal(0);
    asking = false;
    expect(await recomputes).to.be.greaterThan(0);
    const db = lms.db;
    const job = () => db.collection('reports_jobs').findOne({ _id: 'recompute' as never });
    for (let t = Date.now(); (await job())?.status !== 'done'; await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() - t > 120_000) throw new Error(`recompute did not finish: ${JSON.stringify(await job())}`);

    // Phase 2: the other half with no recompute to repair anything afterwards, and 30 API-token
    // requests of one person, half through each process, against the limit of 20.
    const hr = await makeUser(lms, { role: 'hr', email: 'rrhh@a.example.gov', orgUnit: 'INST-A' });
    const hrAgents = await Promise.all(servers.map((s) => signInAt(s, hr.email, hr.password)));
    const tokenCsrf = await Promise.all(hrAgents.map(async (ag) => csrfFrom((await ag.get('/reports/tokens').expect(200)).text)));
    const tokenReplies = Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        hrAgents[i % 2]
          .post('/reports/tokens')
          .type('form')
          .send({ _csrf: tokenCsrf[i % 2], name: `BI ${i}` })
          .then((r) => r.status),
      ),
    );
    await Promise.all([4, 5, 6, 7].map((i) => learn(i)()));
    const statuses = await tokenReplies;
    expect(statuses.filter((s) => s === 201)).to.have.length(20);
    expect(statuses.filter((s) => s === 409)).to.have.length(10);
    expect(await db.collection('reports_api_tokens').countDocuments({ userId: hr.id })).to.equal(20);

    // Both processes deliver until the outbox is empty.
    const outstanding = () => db.collection('core_outbox').countDocuments({});
    for (let t = Date.now(); (await outstanding()) > 0; await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() - t > 120_000) throw new Error('the outbox was not drained');
    await Promise.all(children.map((c) => stopServer(c)));

    // Progress: both courses satisfied, each session's time counted once.
    for (const u of learners) {
      const progress = await lms.services.get('catalog').progressOf(u.id, [C1, C2]);
      expect(progress.map((p) => [p.courseId, p.satisfied, p.timeSpentSeconds])).to.deep.equal([
        [C1, true, 240],
        [C2, true, 240],
      ]);
    }
    // One satisfied statement per registration and course; one course and one path certificate
    // per learner, each with one earned statement.
    const regs = await db
      .collection('catalog_progress')
      .find({ userId: { $in: learners.map((u) => u.id) } })
      .toArray();
    expect(regs).to.have.length(2 * LEARNERS);
    for (const r of regs) {
      const n = await db.collection('lrs_statements').countDocuments({ verb: SATISFIED, reg: r.registration });
      expect(n, `satisfied statements of ${r.registration}`).to.equal(1);
    }
    const certs = await db
      .collection('certificates_certificates')
      .find({ userId: { $in: learners.map((u) => u.id) } })
      .toArray();
    expect(certs.map((c) => c.kind).sort()).to.deep.equal([...Array(2 * LEARNERS).fill('course'), ...Array(LEARNERS).fill('path')]);
    for (const c of certs) expect(await db.collection('lrs_statements').countDocuments({ _id: c.xapiStatementId })).to.equal(1);

    // Verdicts and summaries: every learner trained once, and the summaries count exactly what the
    // people documents say (in every scope), though recomputes and $incs ran in both processes.
    const people = await db.collection('reports_people').find({}).toArray();
    expect(people).to.have.length(LEARNERS + FILLER);
    expect(
      people
        .filter((p) => p.trained)
        .map((p) => p.email)
        .sort(),
    ).to.deep.equal(learners.map((u) => u.email).sort());
    const count = (f: (p: (typeof people)[number]) => boolean) => ({
      t: people.filter((p) => p.active && f(p)).length,
      k: people.filter((p) => p.active && p.trained && f(p)).length,
    });
    for (const scope of ['*', 'XC', 'XC-NAT', 'INST-A']) {
      const s = await db.collection('reports_summary').findOne({ _id: scope as never });
      expect(s?.all, `summary of ${scope}`).to.deep.equal(count(() => true));
    }
    for (const unit of ['A1', 'A2']) {
      const s = await db.collection('reports_summary').findOne({ _id: 'INST-A' as never });
      expect(s?.unit?.[unit], `unit ${unit} within INST-A`).to.deep.equal(count((p) => p.unit === unit));
    }
    expect(await db.collection('core_locks').countDocuments({}), 'no lease left behind').to.equal(0);
    expect(await db.collection('core_outbox').countDocuments({ state: 'failed' })).to.equal(0);
  });
});
