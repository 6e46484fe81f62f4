import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser, settled, signIn, testApp, testDbUri } from '../helpers';
import { AuClient, cmi5Xml, importXml, launchAu } from '../catalog/launch-fixtures';
import { importRoster, seedOrg, HEADER } from '../reports/fixtures';
import { statement, xapiClient } from '../lrs/lrs-helpers';
import { startServer, stopServer } from './server-process';

const C = 'https://courses.example.org/crash-course';
const AU = `${C}/au/leer`;
const SATISFIED = 'https://w3id.org/xapi/adl/verbs/satisfied';
const EARNED = 'http://id.tincanapi.com/verb/earned';

describe('core: a server killed between storing statements and following them up', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await lms?.close();
  });

  it('after a restart, progress, the trained verdict, the certificates and their statements each appear exactly once', async () => {
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
      // A killed process's outbox claims and leases (registration, person) expire this soon.
      EVENTS_LEASE_SECONDS: '3',
      LOCKS_LEASE_SECONDS: '3',
    };
    // A process that stores and answers but has no time to follow up: it is killed right after.
    const first = await startServer({ ...env, EVENTS_WORKER: 'off' });
    children.push(first.child);
    // The AU names its activity: the LRS learns that definition with the write itself.
    const definition = { name: { 'es-419': 'Leer la guía' }, type: 'http://adlnet.gov/expapi/activities/lesson' };
    const completed = au.statement('completed', { completion: true, duration: 'PT5M' });
    const batch = [{ ...completed, object: { ...completed.object, definition } }, au.statement('terminated', { duration: 'PT6M' })];
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
    const activity = au.launch.params.activityId;
    const known = await db.collection('lrs_activities').findOne({ _id: activity as never }); // from initialized
    expect(JSON.stringify(known ?? {}), 'definition learned with the write').to.include('Leer la gu');

    // A retry by the AU after the lost answer is an idempotent re-post: it must not double anything.
    const second = await startServer(env);
    children.push(second.child);
    const retry = await fetch(`${second.base}/xapi/statements`, {
      method: 'POST',
      headers: { Authorization: `Basic ${au.token}`, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' },
      body: JSON.stringify(batch),
    });
    expect([200, 403]).to.include(retry.status);
    // Killed again as soon as the certificates exist: their "earned" statements are still to come.
    const certs = () => db.collection('certificates_certificates').find({ userId: u.id }).toArray();
    await waitFor(async () => (await certs()).length >= 2, 'the restarted server did not issue the certificates');
    second.child.kill('SIGKILL');
    await new Promise((r) => second.child.once('exit', r));

    const third = await startServer(env);
    children.push(third.child);
    await waitFor(
      async () => !(await db.collection('core_outbox').countDocuments({ state: { $ne: 'failed' } })),
      'the third server did not catch up',
    );
    third.child.kill('SIGTERM');
    await new Promise((r) => third.child.once('exit', r));

    const progress = await lms.services.get('catalog').progressOf(u.id, [C]);
    expect(progress).to.have.length(1);
    expect(progress[0]).to.include({ satisfied: true, status: 'satisfied', timeSpentSeconds: 360 }); // counted once
    const list = await certs();
    expect(list.map((c) => c.kind).sort()).to.deep.equal(['course', 'path']); // one of each
    const people = await db.collection('reports_people').find({ userId: u.id }).toArray();
    expect(people).to.have.length(1);
    expect(people[0].trained).to.equal(true);
    expect(await db.collection('core_outbox').countDocuments({ state: 'failed' })).to.equal(0);
    // Once each: the LMS's satisfied statement, each certificate's earned statement, and the definition.
    expect(await db.collection('lrs_statements').countDocuments({ verb: SATISFIED, reg: au.launch.params.registration })).to.equal(1);
    for (const c of list)
      expect(await db.collection('lrs_statements').countDocuments({ _id: c.xapiStatementId, verb: EARNED })).to.equal(1);
    expect(await db.collection('lrs_statements').countDocuments({ verb: EARNED })).to.equal(2);
    const learned = await db.collection('lrs_activities').findOne({ _id: activity as never });
    expect(JSON.parse(learned?.definition).name).to.deep.include(definition.name);
  });
});

async function waitFor(done: () => Promise<boolean>, message: string, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !(await done()); await new Promise((r) => setTimeout(r, 50)))
    if (Date.now() > end) throw new Error(message);
}

describe('core: a follow-up delivered again after a crash', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  after(() => lms?.close());

  it('stores the satisfied statement once and counts the session time once, wherever the first delivery stopped', async () => {
    lms = await testApp({ env: { LOG_LEVEL: 'silent' } });
    await importXml(lms, cmi5Xml(C, 'Curso de prueba', [{ au: AU, moveOn: 'Completed' }]));
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [C] });
    const u = await makeUser(lms, { tier: 'all', level: 'national' });
    const agent = await signIn(lms, u.email, u.password);
    await agent.get('/catalog/my-path').expect(200);
    const au = await new AuClient(lms, await launchAu(agent, C, AU), AU).start();
    expect((await au.send(au.statement('initialized'))).status).to.equal(200);
    await settled(lms);
    const db = lms.db;
    const reg = au.launch.params.registration;
    const snapshot = async () => ({
      progress: (await db.collection('catalog_progress').findOne({ userId: u.id }))!,
      lines: (await db.collection('catalog_learners').findOne({ _id: u.id as never }))!,
      session: (await db.collection('catalog_sessions').findOne({ registration: reg }))!,
    });
    const restore = async (what: Partial<Awaited<ReturnType<typeof snapshot>>>) => {
      if (what.progress) await db.collection('catalog_progress').replaceOne({ _id: what.progress._id }, what.progress);
      if (what.lines) await db.collection('catalog_learners').replaceOne({ _id: what.lines._id }, what.lines);
      if (what.session) await db.collection('catalog_sessions').replaceOne({ _id: what.session._id }, what.session);
    };
    const before = await snapshot();
    const delivered: Array<Parameters<Parameters<typeof lms.hooks.on<'lrs.statements.stored'>>[1]>[0]> = [];
    lms.hooks.on('lrs.statements.stored', (p) => void delivered.push(p), 'test');
    const ended = [au.statement('completed', { completion: true, duration: 'PT1M' }), au.statement('terminated', { duration: 'PT2M' })];
    expect((await au.send(...ended)).status).to.equal(200);
    await settled(lms);
    const redeliver = async () => {
      const batch = delivered.find((p) => p.credential.kind === 'launch')!; // not the LMS's own statements
      await lms.hooks.subscriber('lrs.statements.stored', 'catalog')!(batch);
      await settled(lms);
    };
    const check = async (when: string) => {
      const [p] = await lms.services.get('catalog').progressOf(u.id, [C]);
      expect(p, when).to.include({ satisfied: true, timeSpentSeconds: 120 });
      expect(await db.collection('lrs_statements').countDocuments({ verb: SATISFIED, reg }), `satisfied statements ${when}`).to.equal(1);
      expect(await db.collection('lrs_statements').countDocuments({ voided: true }), `voided statements ${when}`).to.equal(0);
    };
    await check('after the first delivery');

    // A crash between the session's write and the progress write, after the satisfied statement
    // was stored: the statement is in the LRS, the progress is as before; the event comes again.
    await restore({ progress: before.progress, lines: before.lines });
    await redeliver();
    await check('after a delivery stopped before the progress write');

    // A crash before anything was written, and one after everything was (before the outbox
    // struck the entry off): each delivered again.
    await restore(before);
    await redeliver();
    await check('after a delivery stopped before the session write');
    await redeliver();
    await check('after a delivery that had finished');
  });
});

describe('core: a statement write interrupted between inserting the statements and finishing the write', function () {
  this.timeout(120_000);
  let lms: LmsApp;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await lms?.close();
  });

  it('is finished by the next server: what the batch voids is voided and its definitions learned, once', async () => {
    lms = await testApp({ env: { LOG_LEVEL: 'silent' } });
    const client = await xapiClient(lms);
    const target = statement({ id: randomUUID() }) as { id: string; actor: unknown };
    await client.post('/xapi/statements').send(target).expect(200);
    await settled(lms);
    await lms.events.worker.stop(); // from here on only the started server delivers

    const activity = 'https://lms.example.gov/activities/interrupted-write';
    const definition = { name: { es: 'Guía interrumpida' }, extensions: { 'https://lms.example.gov/ext/n': 12345678901234567890n } };
    const voiding = {
      id: randomUUID(),
      actor: target.actor,
      verb: { id: 'http://adlnet.gov/expapi/verbs/voided', display: { 'en-US': 'voided' } },
      object: { objectType: 'StatementRef', id: target.id },
    };
    const carrying = statement({ id: randomUUID(), object: { objectType: 'Activity', id: activity, definition } }) as { id: string };
    const body = JSON.stringify([voiding, carrying], (_k, v: unknown) => (typeof v === 'bigint' ? `@${v}@` : v)).replace(
      /"@(\d+)@"/g,
      '$1',
    );
    // A plain client's batch is held in the outbox only while it is written (nobody follows it up
    // but the LRS's own recovery): this process "dies" before dropping it.
    const { outbox } = lms.events;
    const drop = outbox.drop;
    outbox.drop = async () => {};
    await client.post('/xapi/statements').set('Content-Type', 'application/json').send(body).expect(200);
    outbox.drop = drop;
    // Leave it as a process SIGKILLed right after inserting the statements leaves it: the rest of
    // the write (voiding marks, definitions) undone and its outbox entry still held (its hold over).
    const db = lms.db;
    const ids = [voiding.id, carrying.id];
    const entry = { event: 'lrs.statements.stored' }; // the only one: the first batch's was dropped
    expect(await db.collection('core_outbox').countDocuments(entry)).to.equal(1);
    await db.collection('core_outbox').updateOne(entry, { $set: { state: 'held', runAt: new Date() } });
    await db.collection('lrs_statements').updateOne({ _id: target.id as never }, { $set: { voided: false } });
    await db.collection('lrs_activities').deleteOne({ _id: activity as never });
    expect((await client.get(`/xapi/statements?statementId=${target.id}`)).status).to.equal(200);
    expect((await db.collection('lrs_statements').findOne({ _id: target.id as never }))?.voided).to.equal(false);
    expect(await db.collection('lrs_activities').countDocuments({ _id: activity as never })).to.equal(0);
    const doneBefore = await db.collection('core_outbox_done').countDocuments();

    const server = await startServer({
      MONGODB_URI: testDbUri(),
      DB_NAME: lms.config.dbName,
      BASE_URL: lms.config.baseUrl,
      SESSION_SECRET: 'test-session-secret-0123456789',
      DATA_DIR: lms.config.dataDir,
      EVENTS_POLL_MS: '50',
    });
    children.push(server.child);
    await waitFor(async () => !(await db.collection('core_outbox').countDocuments()), 'the server did not recover the held entry');
    const xapi = (url: string) =>
      fetch(`${server.base}/xapi/${url}`, { headers: { Authorization: client.auth, 'X-Experience-API-Version': '1.0.3' } });
    // Voided: gone from the statement resource, there by voidedStatementId.
    expect((await xapi(`statements?statementId=${target.id}`)).status).to.equal(404);
    expect((await xapi(`statements?voidedStatementId=${target.id}`)).status).to.equal(200);
    // Learned from the stored text, its number exact.
    const learned = await xapi(`activities?activityId=${encodeURIComponent(activity)}`);
    expect(learned.status).to.equal(200);
    const text = await learned.text();
    expect(text).to.include('Guía interrumpida').and.to.include('12345678901234567890');
    await stopServer(server.child);

    // Once: one definition, one voided statement, one delivery, and nothing left to deliver.
    expect(await db.collection('lrs_activities').countDocuments({ _id: activity as never })).to.equal(1);
    expect(await db.collection('lrs_statements').countDocuments({ voided: true })).to.equal(1);
    expect(await db.collection('lrs_statements').countDocuments({ _id: { $in: ids } as never })).to.equal(2);
    expect(await db.collection('core_outbox_done').countDocuments()).to.equal(doneBefore + 1);
  });
});
