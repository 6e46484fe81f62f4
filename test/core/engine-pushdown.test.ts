/**
 * The embedded engine answers filters, sorts and limits from SQLite's indexes
 * (engine/patches/040-sqlite-indexed-queries.patch), and gives the same answers as without them.
 *
 * Each query runs twice through the raw driver: as written, and wrapped in {$nor: [{$nor: [filter]}]},
 * which means the same but which the engine never pushes down (it reads every document and filters
 * in Go, as stock FerretDB 1.24 did for every filter but {_id: value}). The documents and filters are
 * generated to hit what makes pushdown hard: values inside arrays and arrays of documents, numbers
 * equal across int32/int64/double, dates equal to numbers, strings equal to ObjectIds' hex, null and
 * missing fields, strings whose JSON text sorts differently. The plan tests fail on
 * the stock engine, which used no index but _id's.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { testDbUri } from '../helpers';
import { testRun } from '../setup';

const { MongoClient, ObjectId, Long, Double } = mongoose.mongo;
type Doc = Record<string, unknown>;
type Filter = Record<string, unknown>;

/** Deterministic generator, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const OID_A = new ObjectId('65a1b2c3d4e5f60718293a4b');
const OID_B = new ObjectId('65a1b2c3d4e5f60718293a4c');
const DATES = [
  new Date('2026-01-01T00:00:00Z'),
  new Date('2026-06-15T12:30:00Z'),
  new Date('2027-03-01T08:00:00.123Z'),
  new Date('1990-05-05T00:00:00Z'), // 12 digits of milliseconds
  new Date('1960-01-01T00:00:00Z'), // negative
];
const STRINGS = ['a', 'b', 'c', 'ab', 'a b', 'x<y&z', 'é', '', 'a!', OID_A.toHexString()];
/** Values of the fields that hold only what SQLite sorts as MongoDB does, so sorts and limits on them are pushed down. */
const CLEAN = ['a', 'b', 'ab', 'abc', 'é', 'zz'];

describe('core: the embedded engine pushes queries down to its indexes', function () {
  this.timeout(900_000);
  const seed = Number(process.env.PUSHDOWN_SEED ?? Date.now() % 100_000);
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const dbName = `t_pushdown_${randomBytes(4).toString('hex')}`;
  let client: InstanceType<typeof MongoClient>;
  let coll: ReturnType<ReturnType<InstanceType<typeof MongoClient>['db']>['collection']>;

  const scalar = (): unknown =>
    pick<() => unknown>([
      () => pick(STRINGS),
      () => pick(STRINGS),
      () => pick([OID_A, OID_B]),
      () => pick([true, false]),
      () => pick(DATES),
      () => pick([1, 2, new Double(1), Long.fromNumber(2), DATES[0].getTime()]),
      () => null,
    ])();
  const value = (): unknown => {
    const r = rand();
    if (r < 0.55) return scalar();
    if (r < 0.85) return Array.from({ length: Math.floor(rand() * 4) }, scalar);
    if (r < 0.9) return [{ x: scalar() }, scalar()];
    return { x: scalar() };
  };
  const maybe = (d: Doc, k: string, v: () => unknown, p = 0.8): void => {
    if (rand() < p) d[k] = v();
  };

  function makeDoc(i: number): Doc {
    const d: Doc = { _id: `d${String(i).padStart(5, '0')}` };
    maybe(d, 'k', () => pick(CLEAN), 0.9);
    maybe(d, 'ts', () => new Date(DATES[0].getTime() + Math.floor(rand() * 400) * 60_000), 0.9);
    maybe(d, 's', () => (rand() < 0.7 ? pick(STRINGS) : value()));
    maybe(d, 'b', () => (rand() < 0.8 ? pick([true, false]) : value()));
    maybe(d, 't', () => (rand() < 0.9 ? pick(DATES.slice(0, 3)) : value()));
    maybe(d, 'v', value);
    maybe(d, 'u', value); // not indexed
    maybe(d, 'n', () => (rand() < 0.8 ? { x: value(), y: pick(STRINGS) } : [{ x: value() }, { x: scalar() }]));
    maybe(d, 'arr', () => Array.from({ length: Math.floor(rand() * 3) }, () => ({ k: value(), z: pick(STRINGS) })), 0.6);
    return d;
  }

  const PATHS = ['_id', 's', 'b', 't', 'v', 'u', 'n.x', 'n.y', 'arr.k', 'arr.z', 'k', 'ts', 'k', 'ts'];
  function leaf(): Filter {
    const path = pick(PATHS);
    const own: Record<string, () => unknown> = {
      _id: () => pick([`d${String(Math.floor(rand() * 1200)).padStart(5, '0')}`, OID_A]),
      k: () => (rand() < 0.8 ? pick(CLEAN) : scalar()),
      ts: () => (rand() < 0.8 ? new Date(DATES[0].getTime() + Math.floor(rand() * 400) * 60_000) : scalar()),
    };
    const v = (own[path] ?? scalar)();
    const r = rand();
    if (r < 0.35) return { [path]: v };
    if (r < 0.45) return { [path]: { $eq: v } };
    if (r < 0.7) return { [path]: { $in: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => (own[path] ?? scalar)()) } };
    if (r < 0.75) return { [path]: { $in: [v], $ne: scalar() } };
    if (r < 0.77) return { [path]: { $in: [] } };
    return { [path]: { [pick(['$gt', '$gte', '$lt', '$lte'])]: v } };
  }
  function filter(depth = 0): Filter {
    const r = rand();
    if (depth < 2 && r < 0.2) return { $or: Array.from({ length: 2 + Math.floor(rand() * 2) }, () => filter(depth + 1)) };
    if (depth < 2 && r < 0.3) return { $and: Array.from({ length: 2 }, () => filter(depth + 1)) };
    if (r < 0.5) return { ...leaf(), ...leaf() };
    return leaf();
  }
  const SORTS: Record<string, 1 | -1>[] = [
    { ts: -1, _id: -1 },
    { k: 1, _id: 1 },
    { k: -1, ts: 1, _id: 1 },
    { _id: -1 },
    { t: -1, _id: -1 },
    { s: 1, _id: 1 },
    { b: -1, t: -1, _id: 1 },
  ];

  /** Asserts that a query gives the same documents with and without pushdown; returns how many. */
  async function same(f: Filter, sort?: Record<string, 1 | -1>, limit = 0, skip = 0): Promise<number> {
    const run = (q: Filter) =>
      coll
        .find(q, { projection: { _id: 1 } })
        .sort(sort ?? { _id: 1 })
        .skip(skip)
        .limit(limit)
        .toArray()
        .then((ds) => ds.map((d) => String(d._id)));
    const [pushed, plain] = await Promise.all([run(f), run({ $nor: [{ $nor: [f] }] })]);
    const what = `seed ${seed}: ${JSON.stringify(f)} sort ${JSON.stringify(sort)} skip ${skip} limit ${limit}`;
    expect(pushed, what).to.deep.equal(plain);
    if (rand() < 0.85) return plain.length;
    const [n, m] = await Promise.all([coll.countDocuments(f), coll.countDocuments({ $nor: [{ $nor: [f] }] })]);
    expect(n, `count, ${what}`).to.equal(m);
    return plain.length;
  }

  async function compareMany(n: number): Promise<number> {
    let nonEmpty = 0;
    for (let i = 0; i < n; i++) {
      const f = filter();
      const sorted = rand() < 0.6;
      if ((await same(f, sorted ? pick(SORTS) : undefined, sorted ? 1 + Math.floor(rand() * 20) : 0, rand() < 0.2 ? 3 : 0)) > 0) nonEmpty++;
    }
    return nonEmpty;
  }

  async function plan(
    f: Filter,
    sort?: Record<string, 1 | -1>,
    limit?: number,
    collection = 'docs',
  ): Promise<{ plan: string; limit: boolean; pushed: boolean }> {
    const res = await client
      .db(dbName)
      .command({ explain: { find: collection, filter: f, ...(sort ? { sort } : {}), ...(limit ? { limit } : {}) } });
    const qp = res.queryPlanner as { Plan?: string[] };
    return { plan: (qp.Plan ?? []).join('\n'), limit: res.limitPushdown === true, pushed: res.filterPushdown === true };
  }

  before(async () => {
    client = await new MongoClient(testDbUri(), { maxPoolSize: 4, directConnection: true }).connect();
    coll = client.db(dbName).collection('docs');
    // Half of the documents before the indexes (filled in when an index is created), half after (triggers).
    await coll.insertMany(Array.from({ length: 600 }, (_, i) => makeDoc(i)) as never[]);
    const keys = [{ s: 1 }, { b: 1, t: -1, _id: 1 }, { t: -1, _id: -1 }, { s: 1, _id: 1 }, { v: 1 }, { 'n.x': 1 }, { 'n.y': 1 }];
    for (const key of [...keys, { 'arr.k': 1 }, { 'arr.z': 1 }, { ts: -1, _id: -1 }, { k: 1, _id: 1 }, { k: -1, ts: 1, _id: 1 }]) {
      await coll.createIndex(key as never);
    }
    await coll.insertMany(Array.from({ length: 600 }, (_, i) => makeDoc(600 + i)) as never[]);
  });
  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('answers 150 generated filters, sorts, skips and limits as the unpushed path does', async () => {
    const nonEmpty = await compareMany(150);
    expect(nonEmpty, 'most generated filters match something').to.be.greaterThan(60);
  });

  it('still does after updates turn values into arrays and back, and after deletes', async () => {
    const ids = (await coll.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
    for (let i = 0; i < 150; i++) {
      const id = pick(ids);
      await coll.updateOne(
        { _id: id },
        { $set: { s: value(), n: rand() < 0.5 ? { x: value() } : [{ x: value() }], arr: [{ k: value() }] } },
      );
    }
    await coll.deleteMany({ _id: { $in: ids.slice(0, 100) } });
    await coll.updateMany({ b: true }, { $set: { v: pick(STRINGS) } });
    await compareMany(80);
  });

  it('finds by _id $in, by equality on a field and on an array field through indexes', async () => {
    expect((await plan({ _id: { $in: ['d00001', 'd00002'] } })).plan).to.match(/USING INDEX \S+__id_ /);
    expect((await plan({ _id: { $eq: 'd00001' } })).plan).to.match(/USING INDEX \S+__id_ /);
    expect((await plan({ s: 'a' })).plan).to.match(/USING INDEX \S+_s_1/);
    // v holds arrays: the values inside them come from the multikey table's primary key.
    expect((await plan({ v: { $in: ['a', 'b'] } })).plan).to.match(/__ferretdb_mk USING PRIMARY KEY/);
    expect((await plan({ $or: [{ _id: 'd00001' }, { _id: 'd00002', s: 'a' }] })).plan).to.match(/USING INDEX \S+__id_ /);
    // Matches nothing: answered by the SQL (WHERE 0, no row read) rather than by reading every document.
    expect((await plan({ _id: { $in: [] } })).pushed).to.equal(true);
  });

  it("reads a page by agent from the agent's index lookups whatever SQLite's statistics say", async () => {
    // The LRS's shape: the statements of an agent or those of a StatementRef to one (refs.agents, missing
    // on nearly every statement), not voided, stored before the page's start, newest first.
    const st = client.db(dbName).collection('statements');
    for (const key of [{ agents: 1, voided: 1, stored: -1, _id: -1 }, { 'refs.agents': 1 }, { voided: 1, stored: -1, _id: -1 }]) {
      await st.createIndex(key as never);
    }
    await st.createIndex({ cred: 1, stored: -1, _id: -1 });
    await st.insertMany(
      Array.from({ length: 2000 }, (_, i) => ({
        _id: `s${String(i).padStart(5, '0')}`,
        agents: [`agent-${i % 400}`, `group-${i % 7}`],
        voided: false,
        stored: new Date(1_780_000_000_000 + i * 1000),
        cred: `client-${i % 2}`,
      })) as never[],
    );
    // The engine refreshes the table's statistics in the background after 1,000 inserts: they then say
    // that each value of refs.agents has as many rows as the table (they are all NULL). Before patch 045
    // the planner walked the cred or stored index, or the table, testing every statement.
    await new Promise((r) => setTimeout(r, 3000));
    const f = { voided: false, stored: { $lte: new Date() }, $and: [{ $or: [{ agents: 'agent-7' }, { 'refs.agents': 'agent-7' }] }] };
    for (let i = 0; i < 8; i++) {
      const res = await client.db(dbName).command({ explain: { find: 'statements', filter: f, sort: { stored: -1, _id: -1 }, limit: 11 } });
      const detail = ((res.queryPlanner as { Plan: string[] }).Plan ?? []).join('\n');
      expect(detail).to.match(/USING INDEX \S+_agents_1_voided_1_stored_-1__id_-1/);
      expect(detail).to.match(/USING INDEX \S+_refs\.agents_1/);
      // (a SCAN of a branch's subquery reads the few rows its index lookup found: patch 085)
      expect(detail, detail).not.to.match(/SCAN (?!\(subquery-\d+\))|INDEX \S+?_[0-9a-f]{8}_(cred|voided)_1/);
    }
    const got = await st.find(f).sort({ stored: -1, _id: -1 }).limit(11).toArray();
    expect(got.map((d) => d._id)).to.deep.equal(Array.from({ length: 5 }, (_, i) => `s${String(1607 - i * 400).padStart(5, '0')}`));
  });

  describe('an OR of index lookups, sorted and limited (patch 085)', () => {
    // The LRS's pages: {voided: false, $and: [{$or: [{verb, activity}, {refs.verb, refs.activity}]}]}, newest
    // first. Each branch is sorted and limited by SQLite on its own (by the index of verb, activity,
    // voided and stored, in that index's order), then their union sorted and limited again. Stored
    // values repeat (a batch of statements is stored at once), so pages cut through ties in the sort's
    // first key; branches overlap (a statement of that verb and activity that is also a StatementRef
    // to one); refs is an array of documents in some statements (multikey: no index to name).
    const br = () => client.db(dbName).collection('branches');
    const T0 = 1_780_000_000_000;
    const VERBS = ['v0', 'v1', 'v2'];
    const ACTS = ['a0', 'a1', 'a2', 'a3'];
    const id = (i: number) => `b${String((i * 7919) % 3000).padStart(4, '0')}`; // _id order is not insertion order

    before(async () => {
      for (const key of [
        { verb: 1, act: 1, voided: 1, stored: -1, _id: -1 },
        { act: 1, voided: 1, stored: -1, _id: -1 },
        { voided: 1, stored: -1, _id: -1 },
        { tags: 1, voided: 1, stored: -1, _id: -1 },
        { 'refs.verb': 1 },
        { 'refs.act': 1 },
      ]) {
        await br().createIndex(key as never);
      }
      await br().insertMany(
        Array.from({ length: 3000 }, (_, i) => ({
          _id: id(i),
          verb: VERBS[i % 3],
          act: ACTS[(i >> 1) % 4],
          voided: i % 11 === 0,
          stored: new Date(T0 + Math.floor(i / 40) * 1000), // 40 statements a batch
          tags: [`t${i % 5}`, `t${i % 7}`],
          ...(i % 13 === 0 ? { refs: [{ verb: VERBS[(i >> 2) % 3], act: ACTS[i % 4] }] } : {}),
        })) as never[],
      );
    });

    const lrs = (verb: string, act: string, more: Filter[] = []): Filter => ({
      voided: false,
      $and: [
        {
          $or: [
            { verb, act },
            { 'refs.verb': verb, 'refs.act': act },
          ],
        },
        ...more,
      ],
    });
    const key = (d: Doc) => (d.stored as Date).getTime();

    const matching: Record<string, Set<unknown>> = {};
    /** The page through the engine as asked and through the unpushed path; equal, or (sort without _id) equal in the sort key. */
    async function samePage(f: Filter, sort: Record<string, 1 | -1>, skip: number, limit: number): Promise<Doc[]> {
      const run = (q: Filter) => br().find(q).sort(sort).skip(skip).limit(limit).toArray() as Promise<Doc[]>;
      const [pushed, plain] = await Promise.all([run(f), run({ $nor: [{ $nor: [f] }] })]);
      const what = `${JSON.stringify(f)} sort ${JSON.stringify(sort)} skip ${skip} limit ${limit}`;
      if ('_id' in sort) {
        expect(
          pushed.map((d) => d._id),
          what,
        ).to.deep.equal(plain.map((d) => d._id));
      } else {
        // Which of the documents equal in the sort keys come first is unspecified (in MongoDB too).
        expect(pushed.map(key), what).to.deep.equal(plain.map(key));
        const all = (matching[JSON.stringify(f)] ??= new Set(
          (
            await br()
              .find({ $nor: [{ $nor: [f] }] })
              .toArray()
          ).map((d) => d._id),
        ));
        for (const d of pushed) expect(all.has(d._id), `${String(d._id)} matches ${what}`).to.equal(true);
        expect(new Set(pushed.map((d) => d._id)).size, what).to.equal(pushed.length);
      }
      return pushed;
    }

    it('gives the pages of the unpushed path: ties in the sort key, skips, both directions, overlapping branches', async () => {
      const filters: Filter[] = [];
      for (const verb of VERBS) for (const act of ACTS) filters.push(lrs(verb, act));
      filters.push(lrs('v1', 'a2', [{ stored: { $lte: new Date(T0 + 40_000) } }]));
      filters.push({ ...lrs('v0', 'a1'), stored: { $gt: new Date(T0 + 10_000), $lte: new Date(T0 + 60_000) } });
      // overlapping branches, a multikey branch, an _id branch, a branch matching nothing
      filters.push({ voided: false, $or: [{ verb: 'v1' }, { act: 'a2' }] });
      filters.push({ $or: [{ tags: 't3' }, { verb: 'v2', act: 'a0' }, { _id: id(5) }] });
      filters.push({ voided: false, $or: [{ act: 'a3' }, { act: { $in: ['a3', 'a1'] } }, { verb: 'none' }] });
      filters.push({ $or: [{ 'refs.verb': 'v2' }, { act: 'a0', voided: true }] });
      const sorts: Record<string, 1 | -1>[] = [{ stored: -1, _id: -1 }, { stored: 1, _id: 1 }, { stored: -1 }, { stored: 1 }, { _id: -1 }];
      let nonEmpty = 0;
      for (const f of filters) {
        for (const sort of sorts) {
          for (const [skip, limit] of [
            [0, 1],
            [0, 11],
            [17, 40],
            [0, 400],
          ]) {
            if ((await samePage(f, sort, skip, limit)).length > 0) nonEmpty++;
          }
        }
      }
      expect(nonEmpty).to.be.greaterThan(filters.length * sorts.length * 3);
      // sorted and limited by SQLite, not only by the handler
      expect((await plan(lrs('v1', 'a2'), { stored: -1, _id: -1 }, 11, 'branches')).limit).to.equal(true);
    });

    it('pages through the LRS way (after the last one) to the same statements as the unpushed path', async () => {
      for (const [verb, act] of [
        ['v1', 'a2'],
        ['v0', 'a0'],
      ]) {
        const seen: unknown[] = [];
        let after: Doc | undefined;
        for (let page = 0; page < 200; page++) {
          const more: Filter[] = after
            ? [{ $or: [{ stored: { $lt: after.stored } }, { stored: after.stored, _id: { $lt: after._id } }] }]
            : [];
          const docs = await samePage(lrs(verb, act, more), { stored: -1, _id: -1 }, 0, 11);
          if (docs.length === 0) break;
          seen.push(...docs.map((d) => d._id));
          after = docs[docs.length - 1];
        }
        const all = await br()
          .find({ $nor: [{ $nor: [lrs(verb, act)] }] })
          .sort({ stored: -1, _id: -1 })
          .toArray();
        expect(seen).to.deep.equal(all.map((d) => d._id));
        expect(seen.length).to.be.greaterThan(100);
      }
    });

    it("reads each branch's first page from its index in the index's order", async () => {
      const f = { ...lrs('v1', 'a2'), stored: { $lte: new Date(T0 + 3_600_000) } };
      const { plan: detail, limit } = await plan(f, { stored: -1, _id: -1 }, 11, 'branches');
      expect(limit, detail).to.equal(true);
      const rows = detail.split('\n').map((l) => {
        const [, rowId, parent, text] = /^id=(\d+) parent=(\d+) notused=\d+ detail=(.*)$/.exec(l)!;
        return { rowId, parent, text };
      });
      // verb, activity, voided looked up and stored bounded in the index; before patch 085 only the
      // verb and activity were (the branch found every statement of them, to be read and sorted).
      const search = rows.find((r) =>
        /USING INDEX \S+_verb_1_act_1_voided_1_stored_-1__id_-1 \(<expr>=\? AND <expr>=\? AND <expr>=\? AND <expr><\?\)/.test(r.text),
      );
      expect(search, detail).to.not.equal(undefined);
      // ... in the index's order: no sort of that branch's rows
      expect(
        rows.filter((r) => r.parent === search!.parent && /TEMP B-TREE/.test(r.text)),
        detail,
      ).to.deep.equal([]);
      expect(detail).not.to.match(/SCAN (?!\(subquery-\d+\))/);
    });
  });

  it('pushes sort and limit down only when the filter is exact and the sort paths sort as MongoDB sorts', async () => {
    const isoColl = client.db(dbName).collection<{ _id: string; voided: boolean; stored: Date }>('pages');
    await isoColl.insertMany(
      Array.from({ length: 200 }, (_, i) => ({
        _id: `p${String(i).padStart(4, '0')}`,
        voided: i % 9 === 0,
        stored: new Date(1_780_000_000_000 + (i % 50) * 1000),
      })),
    );
    await isoColl.createIndex({ voided: 1, stored: -1, _id: -1 });
    const page = await client.db(dbName).command({
      explain: { find: 'pages', filter: { voided: false }, sort: { stored: -1, _id: -1 }, limit: 11 },
    });
    const detail = ((page.queryPlanner as { Plan: string[] }).Plan ?? []).join('\n');
    expect(page.limitPushdown, detail).to.equal(true);
    expect(detail).to.match(/USING INDEX \S+_voided_1_stored_-1__id_-1/);
    expect(detail).not.to.match(/TEMP B-TREE/);
    const got = await isoColl.find({ voided: false }).sort({ stored: -1, _id: -1 }).limit(11).toArray();
    const all = (await isoColl.find({ $nor: [{ $nor: [{ voided: false }] }] }).toArray()).sort(
      (a, b) => (b.stored as Date).getTime() - (a.stored as Date).getTime() || (a._id < b._id ? 1 : -1),
    );
    expect(got.map((d) => d._id)).to.deep.equal(all.slice(0, 11).map((d) => d._id));

    // t holds numbers and 12-digit dates as well: never sorted by SQLite.
    expect((await plan({ b: true }, { t: -1, _id: 1 }, 5)).limit).to.equal(false);
    // A filter with a part left to the handler: never limited by SQLite.
    expect((await plan({ voided: false, stored: { $gt: new Date(0) } }, { stored: -1, _id: -1 }, 5)).limit).to.equal(false);
  });

  it('answers a query whose index was dropped behind its back, without it (patch 060)', async function () {
    // The $or of lookups names its indexes (INDEXED BY) from the collection's metadata; an index
    // gone from the SQLite file (a concurrent dropIndexes, another process, the sqlite3 shell)
    // made SQLite refuse the whole statement ("no such index") before patch 060.
    if (process.env.TEST_MONGODB_URI) this.skip();
    const dropped = client.db(dbName).collection('dropped');
    await dropped.insertMany(Array.from({ length: 60 }, (_, i) => ({ _id: `q${i}`, a: `a${i % 5}`, b: `b${i % 7}` })) as never[]);
    await dropped.createIndex({ a: 1 });
    await dropped.createIndex({ b: 1 });
    const f = { $or: [{ a: 'a1' }, { b: 'b2' }] };
    const want = Array.from({ length: 60 }, (_, i) => i)
      .filter((i) => i % 5 === 1 || i % 7 === 2)
      .map((i) => `q${i}`)
      .sort();
    const ids = async () => (await dropped.find(f).toArray()).map((d) => String(d._id)).sort();
    expect(await ids()).to.deep.equal(want);
    expect((await plan(f, undefined, undefined, 'dropped')).plan).to.match(/INDEX \S+_a_1/);

    const file = path.join(testRun.dataDir, 'ferretdb', `${dbName}.sqlite`);
    const sql = (q: string) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', file, q], { encoding: 'utf8' }).trim();
    const index = sql(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'dropped%\\_a\\_1' ESCAPE '\\'`);
    expect(index, 'the SQLite index of {a: 1}').to.match(/^dropped_[0-9a-f]{8}_a_1$/);
    sql(`DROP INDEX "${index}"`);

    expect(await ids()).to.deep.equal(want);
    const after = await plan(f, undefined, undefined, 'dropped');
    expect(after.pushed).to.equal(true);
    expect(after.plan).not.to.match(/INDEX \S+_a_1/);
    expect(await dropped.countDocuments(f)).to.equal(want.length);
  });
});
