/**
 * The promises MongoDB makes that the embedded engine must keep (engine/patches/). Each test
 * failed on the stock FerretDB 1.24.2 build:
 * - atomicity: 400 concurrent $inc on one document over 16 connections counted 45, because
 *   update and findAndModify read, change in Go and write back with nothing in between;
 * - unacknowledged writes: FerretDB answered a w: 0 write anyway, and the driver read that answer
 *   as the reply to the next command on the same connection (wrong documents, "cursor is missing").
 * - a bulkWrite of more than 100 updates waited forever: each update's cursor held one of the
 *   pool's 100 SQLite connections until the whole command ended.
 * - concurrent writers failed with SQLITE_BUSY ("database is locked") once one had waited for
 *   SQLite's write lock longer than the busy timeout (10 s): they polled for it in SQLite's busy
 *   handler, in no order. (Since patch 050 they queue in the engine and fail only if the client gives up.)
 * - checkpoints of the WAL into the database file ran inside the commit that filled the WAL past
 *   1000 pages, holding the write lock every other writer waited for; they run in the background
 *   after writes now (patch 080), so written documents reach the database file without such a commit.
 * They use the raw driver, as any client of the engine would.
 */
import { expect } from 'chai';
import mongoose from 'mongoose';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ensureEngineBinary } from '../../server/core/db/engine';
import { testDbUri } from '../helpers';
import { testRun } from '../setup';

const { MongoClient } = mongoose.mongo;

describe('core: the embedded engine keeps MongoDB promises', function () {
  this.timeout(120_000);
  let client: InstanceType<typeof MongoClient>;
  const dbName = `t_promises_${randomBytes(4).toString('hex')}`;

  before(async () => {
    client = await new MongoClient(testDbUri(), { maxPoolSize: 16, minPoolSize: 16, directConnection: true }).connect();
  });
  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('counts all of 400 concurrent $inc/$push updates of one document (16 connections)', async () => {
    const c = client.db(dbName).collection<{ _id: string; n: number; ids: number[] }>('counters');
    await c.insertOne({ _id: 'one', n: 0, ids: [] });
    await Promise.all(Array.from({ length: 400 }, (_, i) => c.updateOne({ _id: 'one' }, { $inc: { n: 1 }, $push: { ids: i } })));
    const doc = await c.findOne({ _id: 'one' });
    expect(doc?.n).to.equal(400);
    expect(new Set(doc?.ids).size).to.equal(400);
  });

  it('gives each of 200 concurrent findOneAndUpdate claims a different value', async () => {
    const c = client.db(dbName).collection<{ _id: string; next: number }>('sequences');
    await c.insertOne({ _id: 'seq', next: 0 });
    const got = await Promise.all(
      Array.from({ length: 200 }, () => c.findOneAndUpdate({ _id: 'seq' }, { $inc: { next: 1 } }, { returnDocument: 'after' })),
    );
    expect(new Set(got.map((d) => d?.next)).size).to.equal(200);
  });

  it('lets only one of 50 concurrent conditional claims of a job win', async () => {
    const c = client.db(dbName).collection<{ _id: string; owner: string | null }>('jobs');
    await c.insertOne({ _id: 'job', owner: null });
    const res = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.updateOne({ _id: 'job', owner: null }, { $set: { owner: `w${i}` } })),
    );
    expect(res.filter((r) => r.modifiedCount === 1)).to.have.length(1);
  });

  it('runs a bulkWrite of 300 updates (stock 1.24 kept each cursor, and so a pool connection, until the end: it hung)', async () => {
    const c = client.db(dbName).collection<{ _id: string; n: number }>('bulk');
    await c.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: `d${i}`, n: 0 })));
    const res = await c.bulkWrite(
      Array.from({ length: 300 }, (_, i) => ({ updateOne: { filter: { _id: `d${i}` }, update: { $inc: { n: i } } } })),
    );
    expect(res.modifiedCount).to.equal(300);
    const sum = (await c.find().toArray()).reduce((a, d) => a + d.n, 0);
    expect(sum).to.equal((299 * 300) / 2);
  });

  it('answers every command right after unacknowledged (w: 0) writes on the same connection', async () => {
    // One connection, so the next command surely travels where the w: 0 write went.
    const one = await new MongoClient(testDbUri(), { maxPoolSize: 1, directConnection: true }).connect();
    try {
      const c = one.db(dbName).collection<{ _id: number; v: string }>('unacked');
      await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i, v: `doc${i}` })));
      for (let round = 0; round < 20; round++) {
        await c.deleteMany({ _id: { $gte: 1000 } }, { writeConcern: { w: 0 } });
        await c.insertOne({ _id: 1000 + round, v: 'x' }, { writeConcern: { w: 0 } });
        const found = await c.find({ _id: { $lt: 10 } }).toArray();
        expect(found.map((d) => d.v)).to.deep.equal(Array.from({ length: 10 }, (_, i) => `doc${i}`));
        expect((await c.findOne({ _id: round % 10 }))?.v).to.equal(`doc${round % 10}`);
      }
    } finally {
      await one.close();
    }
  });

  it('checkpoints written documents into the database file in the background, without a commit filling the WAL', async function () {
    if (process.env.TEST_MONGODB_URI) this.skip(); // the file is the embedded engine's
    const name = `t_checkpoint_${randomBytes(4).toString('hex')}`;
    const file = path.join(testRun.dataDir, 'ferretdb', `${name}.sqlite`);
    const c = client.db(name).collection<{ _id: number; text: string }>('docs');
    try {
      // About 1 MB: a few hundred pages, well under the 1000 pages at which a commit checkpoints.
      await c.insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i, text: `${i}`.padEnd(4000, 'x') })));
      const deadline = Date.now() + 5000;
      while (statSync(file).size < 1_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(statSync(file).size, 'bytes in the database file').to.be.at.least(1_000_000);
      expect(await c.countDocuments()).to.equal(250);
    } finally {
      await client.db(name).dropDatabase();
    }
  });

  it('lets 16 concurrent writers all write, however long they queue for SQLite (no SQLITE_BUSY)', async () => {
    // An engine of its own whose busy timeout is 20 ms instead of 10 s, so that writers queueing longer
    // than it show within a test; the LRS ingest bench met the 10 s one under load.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lms-busy-'));
    const engine = spawn(
      ensureEngineBinary(() => {}),
      ['-dir', dir, '-log-level', 'error', '-busy-timeout', '20'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const own = await new Promise<string>((resolve) => createInterface({ input: engine.stdout! }).once('line', resolve));
    const writers = await new MongoClient((JSON.parse(own) as { uri: string }).uri, { maxPoolSize: 16, directConnection: true }).connect();
    try {
      const c = writers.db('busy').collection<{ _id: string }>('statements');
      for (const key of [{ agents: 1, stored: -1 }, { verb: 1, stored: -1 }, { relActs: 1 }]) await c.createIndex(key as never);
      const batch = (b: number) =>
        Array.from({ length: 100 }, (_, i) => ({
          _id: `s${b}-${i}`,
          agents: [`agent-${i}`, `group-${b % 5}`],
          verb: `verb-${i % 7}`,
          relActs: [`course-${b}`, `au-${i}`, 'cmi5'],
          stored: new Date(),
          text: 'x'.repeat(2000),
        }));
      const results = await Promise.allSettled(Array.from({ length: 48 }, (_, b) => c.insertMany(batch(b))));
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(failed, failed[0]).to.deep.equal([]);
      expect(await c.countDocuments({})).to.equal(4800);
    } finally {
      await writers.close();
      engine.stdin!.end();
      await new Promise((r) => engine.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
