import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { judge } from '../../server/plugins/reports/trained-rule';
import { HEADER, importRoster, reportsApp, reportsOf, seedOrg } from './fixtures';

type Doc = { _id: string } & Record<string, unknown>;
const YEAR = 365.25 * 86400_000;

describe('reports: the "trained" rule', () => {
  let lms: LmsApp;
  const trainedEvents: Array<{ userId: string; tier: string; courseIds: string[] }> = [];
  const person = (id: string) => lms.db.collection<Doc>('reports_people').findOne({ _id: id }) as Promise<Doc>;
  type C = { t: number; k: number };
  const c = (x?: Partial<C>): C => ({ t: x?.t ?? 0, k: x?.k ?? 0 });
  /** Counters read back with absent fields as zero. */
  const summary = async (id: string) => {
    const s = (await lms.db.collection<Doc>('reports_summary').findOne({ _id: id })) as unknown as {
      all?: Partial<C>;
      tier?: Record<string, Partial<C>>;
    };
    return { all: c(s?.all), tier: Object.fromEntries(Object.entries(s?.tier ?? {}).map(([k, v]) => [k, c(v)])) };
  };
  const cat = () => lms.services.get('catalog.double');
  const r = () => reportsOf(lms);

  before(async () => {
    lms = await reportsApp();
    lms.hooks.on('reports.person.trained', (e) => void trainedEvents.push(e));
    await seedOrg(lms);
    await cat().addCourse('BASICS', 3);
    await cat().addCourse('SECURITY', 2);
    await cat().addCourse('LEAD', 4);
    await cat().setPath('all', ['BASICS', 'SECURITY']);
    await cat().setPath('manager', ['BASICS', 'SECURITY', 'LEAD']);
    await r().recompute.idle();
    await importRoster(
      lms,
      'INST-A',
      [
        HEADER,
        'T1,Tomás,tomas@a.example,A1,,all,,no,yes',
        'T2,Teresa,teresa@a.example,A1,,all,,no,yes',
        'T3,Tadeo,tadeo@a.example,A2,,all,,no,yes',
      ].join('\n'),
    );
  });
  after(() => lms.close());

  it('becomes trained when the last required course is satisfied, updating summaries and announcing it once', async () => {
    const t1 = await person('INST-A:T1');
    await cat().satisfy(String(t1.userId), 'BASICS', new Date('2026-01-10T10:00:00Z'));
    expect(await person('INST-A:T1')).to.deep.include({ trained: false, missing: ['SECURITY'] });
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 0 });
    await cat().satisfy(String(t1.userId), 'SECURITY', new Date('2026-02-03T10:00:00Z'));
    const after = await person('INST-A:T1');
    expect(after).to.deep.include({ trained: true, missing: [] });
    expect((after.trainedAt as Date).toISOString()).to.equal('2026-02-03T10:00:00.000Z');
    expect((await summary('A1')).all).to.deep.equal({ t: 2, k: 1 });
    for (const scope of ['INST-A', 'XC-NAT', 'XC', '*']) expect((await summary(scope)).all, scope).to.deep.equal({ t: 3, k: 1 });
    expect((await summary('A2')).all).to.deep.equal({ t: 1, k: 0 });
    expect(trainedEvents.filter((e) => e.userId === t1.userId)).to.have.length(1);
    expect(trainedEvents[0].courseIds).to.deep.equal(['BASICS', 'SECURITY']);
    // a repeated progress event changes nothing and announces nothing again
    await cat().satisfy(String(t1.userId), 'SECURITY', new Date('2026-02-03T10:00:00Z'));
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 1 });
    expect(trainedEvents.filter((e) => e.userId === t1.userId)).to.have.length(1);
  });

  it('a tier change in the roster re-evaluates against the new path', async () => {
    const t2 = await person('INST-A:T2');
    await cat().satisfy(String(t2.userId), 'BASICS', new Date('2026-03-01T00:00:00Z'));
    await cat().satisfy(String(t2.userId), 'SECURITY', new Date('2026-03-02T00:00:00Z'));
    expect(await person('INST-A:T2')).to.deep.include({ trained: true });
    await importRoster(
      lms,
      'INST-A',
      [
        HEADER,
        'T1,Tomás,tomas@a.example,A1,,all,,no,yes',
        'T2,Teresa,teresa@a.example,A1,,manager,,no,yes',
        'T3,Tadeo,tadeo@a.example,A2,,all,,no,yes',
      ].join('\n'),
    );
    expect(await person('INST-A:T2')).to.deep.include({ trained: false, tier: 'manager', missing: ['LEAD'] });
    const s = await summary('INST-A');
    expect(s.all).to.deep.equal({ t: 3, k: 1 });
    expect(s.tier).to.deep.equal({ all: { t: 2, k: 1 }, manager: { t: 1, k: 0 } });
    await cat().satisfy(String(t2.userId), 'LEAD', new Date('2026-04-01T00:00:00Z'));
    expect(await person('INST-A:T2')).to.deep.include({ trained: true });
    expect((await summary('INST-A')).tier.manager).to.deep.equal({ t: 1, k: 1 });
  });

  it('a course added to a path un-trains people in the background until they take it', async () => {
    await cat().addCourse('DATA', 1);
    await cat().setPath('all', ['BASICS', 'SECURITY', 'DATA']); // emits catalog.paths.changed
    await r().recompute.idle();
    const job = await r().recompute.status();
    expect(job).to.include({ status: 'done', total: 3, done: 3 });
    expect(await person('INST-A:T1')).to.deep.include({ trained: false, missing: ['DATA'] });
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 1 }); // T2 (manager) is still trained
    const t1 = await person('INST-A:T1');
    await cat().satisfy(String(t1.userId), 'DATA', new Date('2026-05-01T00:00:00Z'));
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 2 });
  });

  it('validity: training older than N years no longer counts (rule change recomputes everyone)', async () => {
    const t3 = await person('INST-A:T3');
    const old = new Date(Date.now() - 2.5 * YEAR);
    for (const c of ['BASICS', 'SECURITY', 'DATA']) await cat().satisfy(String(t3.userId), c, old);
    expect(await person('INST-A:T3')).to.deep.include({ trained: true });
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 3 });
    expect(await r().settings.setRule({ minHours: 0, validityYears: 2 }, 'test')).to.equal(true);
    await r().recompute.request('rule changed');
    await r().recompute.idle();
    const t3after = await person('INST-A:T3');
    expect(t3after).to.deep.include({ trained: false });
    expect(t3after.missing).to.have.members(['BASICS', 'SECURITY', 'DATA']);
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 2 });
    // a recent course on someone else carries an expiry date the daily sweep will act on
    const t1 = await person('INST-A:T1');
    expect((t1.expiresAt as Date).getTime()).to.be.closeTo(new Date('2026-01-10T10:00:00Z').getTime() + 2 * YEAR, 1000);
    expect(await r().trained.sweepExpired(new Date((t1.expiresAt as Date).getTime() + 1000))).to.be.greaterThan(0);
    expect(await person('INST-A:T1')).to.deep.include({ trained: false });
    await r().settings.setRule({ minHours: 0, validityYears: 0 }, 'test');
    await r().recompute.request('rule changed');
    await r().recompute.idle();
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 3 });
  });

  it('progress arriving while a recompute runs is neither lost nor counted twice', async () => {
    const t1 = await person('INST-A:T1');
    await cat().addCourse('ETHICS', 1);
    // T1 finishes the new course while the recompute is reading everyone's progress.
    const double = cat() as unknown as { satisfiedProgress: () => AsyncIterable<unknown> };
    const read = double.satisfiedProgress.bind(double);
    let during = false;
    double.satisfiedProgress = async function* () {
      for await (const p of read()) {
        yield p;
        if (!during) {
          during = true;
          await cat().satisfy(String(t1.userId), 'ETHICS', new Date('2026-06-01T00:00:00Z'));
        }
      }
    };
    try {
      await cat().setPath('all', ['BASICS', 'SECURITY', 'DATA', 'ETHICS']); // recomputes everyone
      await r().recompute.idle();
    } finally {
      delete (double as Partial<typeof double>).satisfiedProgress;
    }
    expect(during).to.equal(true);
    const job = await r().recompute.status();
    expect(job).to.include({ status: 'done', done: 3 });
    expect(job?.seconds).to.have.keys('progress', 'evaluate', 'write', 'summaries', 'announce');
    expect(await person('INST-A:T1')).to.deep.include({ trained: true, missing: [] });
    expect(await person('INST-A:T3')).to.deep.include({ trained: false, missing: ['ETHICS'] });
    expect((await summary('INST-A')).all).to.deep.equal({ t: 3, k: 2 });
    expect((await summary('A1')).all).to.deep.equal({ t: 2, k: 2 });
    // A rebuild from the people alone gives exactly the same summaries: nothing was counted twice.
    const all = () => lms.db.collection('reports_summary').find().sort({ _id: 1 }).toArray();
    const before = await all();
    await r().recompute.request('check', false);
    await r().recompute.idle();
    expect(await all()).to.deep.equal(before);
  });

  it('minimum hours and tiers without a path (pure rule)', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const p = (courseId: string, at: string) => ({
      _id: `u:${courseId}`,
      userId: 'u',
      courseId,
      courseVersion: 1,
      registration: 'r',
      status: 'satisfied' as const,
      satisfied: true,
      satisfiedAt: new Date(at),
      timeSpentSeconds: 0,
      updatedAt: new Date(at),
    });
    const courses = new Map([
      ['A', { id: 'A', version: 1, title: {}, hours: 3, tiers: [], levels: [] }],
      ['B', { id: 'B', version: 1, title: {}, hours: 2, tiers: [], levels: [] }],
    ]);
    const both = [p('A', '2026-01-01'), p('B', '2026-02-01')];
    expect(judge(['A', 'B'], both, courses, { minHours: 5, validityYears: 0 }, now)).to.include({ trained: true, hoursShort: 0 });
    expect(judge(['A', 'B'], both, courses, { minHours: 8, validityYears: 0 }, now)).to.include({ trained: false, hoursShort: 3 });
    expect(judge([], [], courses, { minHours: 0, validityYears: 0 }, now)).to.include({ trained: false });
    const notSatisfied = { ...p('B', '2026-02-01'), satisfied: false, status: 'in-progress' as const };
    expect(judge(['A', 'B'], [both[0], notSatisfied], courses, { minHours: 0, validityYears: 0 }, now).missing).to.deep.equal(['B']);
  });
});
