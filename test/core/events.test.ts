import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../../server/core/config';
import { eventTableMarkdown } from '../../server/core/events/hooks';
import type { LmsApp } from '../../server/app';
import { Outbox, outboxModels } from '../../server/core/events/outbox';
import { csrfFrom, makeUser, settled, signIn, testApp } from '../helpers';
import { randomUUID, statement, xapiClient } from '../lrs/lrs-helpers';

/** Polls `check` until it holds (the worker runs on its own timer), failing after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('core: after-events in the outbox', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({
      env: { PLUGINS: 'accounts,lrs', EVENTS_RETRY_MS: '40', EVENTS_MAX_ATTEMPTS: '3', EVENTS_POLL_MS: '20' },
    });
  });
  after(() => lms.close());

  it('answers the POST before its follow-up runs, and delivers it once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const id = randomUUID();
    lms.hooks.on('lrs.statements.stored', async ({ stored }) => {
      if (!stored.some((s) => s.id === id)) return;
      await gate; // a slow consumer (a PDF to sign, say)
      seen.push(id);
    });
    const c = await xapiClient(lms);
    await c.post('/xapi/statements').send(statement({ id })).expect(200);
    expect(seen).to.deep.equal([]); // the request did not wait for it
    // A retry of the same batch is recorded once.
    await c.post('/xapi/statements').send(statement({ id })).expect(200);
    release();
    await settled(lms);
    expect(seen).to.deep.equal([id]);
  });

  it('retries a failing consumer with backoff, then lists it on the admin page while the others run; the retry button delivers it', async () => {
    const id = randomUUID();
    const good: string[] = [];
    let attempts = 0;
    let broken = true;
    lms.hooks.on('lrs.statements.stored', ({ stored }) => {
      if (stored.some((s) => s.id === id)) good.push(id);
    });
    lms.hooks.on('lrs.statements.stored', ({ stored }) => {
      if (!stored.some((s) => s.id === id)) return;
      attempts++;
      if (broken) throw new Error('the certificate template is missing');
    });
    const c = await xapiClient(lms);
    await c.post('/xapi/statements').send(statement({ id })).expect(200);
    const entries = outboxModels(lms.db).entries;
    await until('the delivery to give up', async () => !!(await entries.exists({ state: 'failed' })));
    expect(attempts).to.equal(3);
    expect(good).to.deep.equal([id]); // delivered once to the healthy consumer, not on every retry

    // Another statement still gets through to everyone meanwhile.
    const other = randomUUID();
    await c
      .post('/xapi/statements')
      .send(statement({ id: other }))
      .expect(200);
    await settled(lms);

    const admin = await makeUser(lms, { role: 'admin', language: 'en' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/admin/events').expect(200);
    expect(page.text).to.contain('Failed event deliveries');
    expect(page.text).to.contain('lrs.statements.stored');
    expect(page.text).to.contain('the certificate template is missing');
    for (const [language, title] of [
      ['es', 'Entregas de eventos fallidas'],
      ['pt', 'Entregas de eventos com falha'],
    ] as const) {
      const other = await makeUser(lms, { role: 'admin', language });
      expect((await (await signIn(lms, other.email, other.password)).get('/admin/events').expect(200)).text).to.contain(title);
    }
    const learner = await makeUser(lms);
    await (await signIn(lms, learner.email, learner.password)).get('/admin/events').expect(403);

    const [failed] = await entries.find({ state: 'failed' }).lean();
    const csrf = csrfFrom(page.text);
    await agent.post('/admin/events/retry').type('form').send({ _csrf: csrf, id: 'nope' }).expect(404);
    await agent.post('/admin/events/retry').type('form').send({ _csrf: csrf }).expect(400);
    broken = false;
    await agent.post('/admin/events/retry').type('form').send({ _csrf: csrf, id: failed._id }).expect(303);
    await until('the retried delivery', async () => !(await entries.exists({ _id: failed._id })));
    expect(attempts).to.equal(4);
    expect(good).to.deep.equal([id]);
    expect((await agent.get('/admin/events').expect(200)).text).not.to.contain('the certificate template is missing');
  });

  it('lets only one of two workers on one database hold an entry at a time (atomic claim with a lease)', async () => {
    const a = new Outbox(outboxModels(lms.db), 60_000);
    const b = new Outbox(outboxModels(lms.db), 60_000);
    await lms.events.worker.stop(); // this test claims by hand
    try {
      const ids = Array.from({ length: 20 }, () => `test.claim|${randomUUID()}`);
      await a.record(
        ids.map((_id) => ({ _id, event: 'test.claim', key: _id, payload: '{}', pending: ['x'] })),
        false,
      );
      const claims = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).claim()));
      const got = claims.filter((c) => c && ids.includes(c.entry._id)).map((c) => c!.entry._id);
      expect(got).to.have.length(20);
      expect(new Set(got).size).to.equal(20); // nobody got the same entry twice
      await outboxModels(lms.db).entries.deleteMany({ event: 'test.claim' });
    } finally {
      lms.events.worker.start();
    }
  });
});

describe('core: a process delivers the after-events of its own writes', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ env: { PLUGINS: 'accounts,lrs', EVENTS_CONCURRENCY: '1', EVENTS_POLL_MS: '20' } });
  });
  after(() => lms.close());

  it('leases them to itself as the write finishes (no other worker can claim them), and gives back what it did not deliver when it stops', async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    lms.hooks.on('lrs.statements.stored', async ({ stored }) => {
      if (stored.some((s) => s.id === first)) await gate; // keeps the one delivery slot busy
      if (stored.some((s) => s.id === second)) seen.push(second);
    });
    const entries = outboxModels(lms.db).entries;
    const entryOf = (id: string) => entries.findOne({ event: 'lrs.statements.stored', payload: { $regex: id } }).lean();
    const c = await xapiClient(lms);
    await c
      .post('/xapi/statements')
      .send(statement({ id: first }))
      .expect(200);
    await until('the first delivery to start', async () => (await entryOf(first))?.state === 'leased');
    await c
      .post('/xapi/statements')
      .send(statement({ id: second }))
      .expect(200);
    // Waiting here for the busy slot, but already this process's: another worker finds nothing.
    const waiting = await entryOf(second);
    expect(waiting?.state).to.equal('leased');
    const other = new Outbox(outboxModels(lms.db), 60_000);
    const claimed = await other.claim();
    expect(claimed?.entry._id).not.to.equal(waiting?._id);
    if (claimed) await other.defer(claimed, 0);

    const stopped = lms.events.worker.stop();
    release();
    await stopped;
    expect(seen).to.deep.equal([]);
    // Stopped before its turn: given back at once, not left leased until the lease expires.
    const back = await other.claim();
    expect(back?.entry._id).to.equal(waiting?._id);
    await other.defer(back!, 0);
    lms.events.worker.start();
    await settled(lms);
    expect(seen).to.deep.equal([second]);
    expect(await entryOf(second)).to.equal(null);
  });
});

describe('core: a statement write nobody follows up', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ env: { PLUGINS: 'accounts,lrs' } }); // no consumer of lrs.statements.stored
  });
  after(() => lms.close());

  it('is recorded in the outbox only while it has something to finish after a crash (new definitions)', async () => {
    const recorded: string[] = [];
    lms.db.set('debug', (collection: string, method: string) => {
      if (collection === 'core_outbox' && method === 'insertMany') recorded.push(method);
    });
    try {
      const c = await xapiClient(lms);
      const activity = `http://example.org/course/${randomUUID()}`;
      const object = { objectType: 'Activity', id: activity, definition: { name: { es: 'Curso nuevo' } } };
      await c.post('/xapi/statements').send(statement({ object })).expect(200);
      expect(recorded).to.have.length(1); // its definition is new: held until written
      await c.post('/xapi/statements').send(statement({ object })).expect(200);
      expect(recorded).to.have.length(1); // the same definition again: nothing to finish, nothing recorded
      expect(await outboxModels(lms.db).entries.countDocuments({ payload: { $regex: activity } })).to.equal(0);
    } finally {
      lms.db.set('debug', false);
    }
  });
});

describe('core: the events table in the README', () => {
  it('is the one the manifests declare', async () => {
    const lms = await testApp();
    try {
      const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
      const m = /<!-- events:table -->\n([\s\S]*?)\n<!-- \/events:table -->/.exec(readme);
      expect(m?.[1]).to.equal(eventTableMarkdown(lms.hooks));
    } finally {
      await lms.close();
    }
  });
});
