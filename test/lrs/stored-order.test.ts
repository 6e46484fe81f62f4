import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { testApp } from '../helpers';
import { randomUUID, xapiClient } from './lrs-helpers';

describe('lrs: stored times follow the order batches are stored in', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp();
  });
  after(() => lms.close());

  it('gives every batch a later `stored` than the one before, even when they arrive in the same millisecond', async () => {
    const c = await xapiClient(lms, ['all'], '1.0.3');
    const registration = randomUUID();
    const statement = (n: number) => ({
      id: randomUUID(),
      actor: { mbox: 'mailto:order@example.org' },
      verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' },
      object: { id: `http://example.org/act/order/${n}` },
      context: { registration },
    });
    // Concurrent single-statement batches: without the LRS's monotonic clock several share a millisecond.
    const ids = await Promise.all(Array.from({ length: 30 }, (_, n) => lms.services.get('lrs.statements').storeAsSystem([statement(n)])));
    expect(ids.flat()).to.have.length(30);
    const r = await c.get(`/xapi/statements?registration=${registration}&ascending=true&limit=100`).expect(200);
    const stored = (r.body.statements as Array<{ stored: string }>).map((s) => s.stored);
    expect(stored).to.have.length(30);
    expect(new Set(stored).size, 'distinct stored times').to.equal(30);
  });

  it('stores one batch in its own order: each statement a later `stored` than the one before it, after the batch before', async () => {
    const c = await xapiClient(lms, ['all'], '1.0.3');
    const registration = randomUUID();
    const statement = (n: number) => ({
      id: randomUUID(),
      actor: { mbox: 'mailto:order@example.org' },
      verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' },
      object: { id: `http://example.org/act/batch/${n}` },
      context: { registration },
    });
    const svc = lms.services.get('lrs.statements');
    // Random ids: ordered by id, a batch would come back shuffled.
    const first = await svc.storeAsSystem(Array.from({ length: 20 }, (_, n) => statement(n)));
    const second = await svc.storeAsSystem(Array.from({ length: 20 }, (_, n) => statement(20 + n)));
    const r = await c.get(`/xapi/statements?registration=${registration}&ascending=true&limit=100`).expect(200);
    const got = r.body.statements as Array<{ id: string; stored: string }>;
    expect(got.map((s) => s.id)).to.deep.equal([...first, ...second]);
    const times = got.map((s) => Date.parse(s.stored));
    expect(
      times.every((t, i) => i === 0 || t > times[i - 1]),
      'increasing stored',
    ).to.equal(true);
    // Paging with `more` walks the same order.
    const page = await c.get(`/xapi/statements?registration=${registration}&ascending=true&limit=7`).expect(200);
    expect((page.body.statements as Array<{ id: string }>).map((s) => s.id)).to.deep.equal(first.slice(0, 7));
    const next = await c.get(page.body.more as string).expect(200);
    expect((next.body.statements as Array<{ id: string }>).map((s) => s.id)).to.deep.equal(first.slice(7, 14));
  });
});
