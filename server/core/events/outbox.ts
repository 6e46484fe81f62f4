/**
 * The outbox: after-events recorded in the database, delivered later by a worker in every
 * process. Only single-document atomic writes (no transactions, no change streams, no TTL
 * indexes), so it runs the same on MongoDB and on the embedded FerretDB.
 *
 * An entry's `_id` is `event|natural key`: recording the same event twice (a retried write) is
 * one entry. Entries still to deliver live in `core_outbox` (kept small, so the worker's scan is
 * cheap on an engine without secondary indexes); delivered ones leave their `_id` in
 * `core_outbox_done` for `EVENTS_KEEP_DAYS`, so a retry after delivery is not delivered again.
 *
 * States: `held` (recorded before its write; becomes deliverable when the write is done, or when
 * `runAt` passes — the process died in between, and the emitter's `recover` decides what
 * happened), `ready`, `leased` (a worker holds it until `runAt`), `failed` (gave up; listed on the
 * admin page, retried from there).
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from '../db/connect';

export type OutboxState = 'held' | 'ready' | 'leased' | 'failed';

export interface OutboxEntry {
  _id: string;
  event: string;
  key: string;
  /** Deliveries of one group run in the order they were recorded (e.g. one AU session's batches). */
  group?: string;
  /** The payload as extended JSON (keeps Dates; statements have keys MongoDB cannot store). */
  payload: string;
  /** Consumers (plugin names) still to deliver to. */
  pending: string[];
  state: OutboxState;
  runAt: Date;
  owner?: string;
  attempts: number;
  lastError?: { consumer: string; message: string; at: Date };
  createdAt: Date;
  /** Recording order (milliseconds × 1000 + a counter), for the order within a group. */
  seq: number;
}

export interface OutboxDone {
  _id: string;
  doneAt: Date;
}

const entrySchema = new Schema(
  {
    _id: String,
    event: String,
    key: String,
    group: String,
    payload: String,
    pending: [String],
    state: String,
    runAt: Date,
    owner: String,
    attempts: Number,
    lastError: { consumer: String, message: String, at: Date },
    createdAt: Date,
    seq: Number,
  },
  { versionKey: false },
);
entrySchema.index({ state: 1, runAt: 1 });
entrySchema.index({ group: 1, seq: 1 });
const doneSchema = new Schema({ _id: String, doneAt: Date }, { versionKey: false });
doneSchema.index({ doneAt: 1 });

export interface OutboxModels {
  entries: Model<OutboxEntry>;
  done: Model<OutboxDone>;
}

export function outboxModels(db: Connection): OutboxModels {
  return {
    entries: (db.models.OutboxEntry as Model<OutboxEntry>) ?? db.model<OutboxEntry>('OutboxEntry', entrySchema, 'core_outbox'),
    done: (db.models.OutboxDone as Model<OutboxDone>) ?? db.model<OutboxDone>('OutboxDone', doneSchema, 'core_outbox_done'),
  };
}

/**
 * Payloads are stored as JSON text with Dates tagged, not as documents: statements carry keys
 * MongoDB cannot store (IRIs with dots) and arbitrary values (EJSON would read a statement's
 * `{"$date": …}` extension as a type of its own).
 */
const DATE_TAG = '__outboxDate';
export const encodePayload = (p: unknown): string =>
  JSON.stringify(p, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { [DATE_TAG]: raw.toISOString() } : value;
  });
export const decodePayload = (s: string): unknown =>
  JSON.parse(s, (_key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const tagged = (value as Record<string, unknown>)[DATE_TAG];
      if (keys.length === 1 && typeof tagged === 'string') return new Date(tagged);
    }
    return value;
  });

/** Delivered ids are kept hashed: keys name people (user ids), and the done list outlives erasure. */
const doneId = (id: string) => createHash('sha256').update(id).digest('base64url');

let counter = 0;
const nextSeq = () => Date.now() * 1000 + (counter = (counter + 1) % 1000);

export interface Claimed {
  entry: OutboxEntry;
  /** Its write was never confirmed (the emitting process died in between). */
  unconfirmed: boolean;
  owner: string;
}

export class Outbox {
  /**
   * Emits `group:<group>` when a worker of this process has delivered an entry of that group or
   * given it up, so a writer waiting for the group (`Hooks.caughtUp`) learns it at once.
   */
  readonly settledHere = new EventEmitter().setMaxListeners(0);

  constructor(
    readonly m: OutboxModels,
    private readonly leaseMs: number,
  ) {}

  async init(): Promise<void> {
    await Promise.all([this.m.entries.init(), this.m.done.init()]);
  }

  /**
   * Records entries (one per event occurrence); those already recorded or already delivered are
   * left alone. `held` entries wait for `release` (their write is under way). Returns the ids this
   * call inserted.
   */
  async record(items: Array<Omit<OutboxEntry, 'state' | 'runAt' | 'attempts' | 'createdAt' | 'seq'>>, held: boolean): Promise<string[]> {
    const now = new Date();
    const fresh: OutboxEntry[] = [];
    // Only an entry with consumers can have been delivered (one without is dropped, never done).
    const toTell = items.filter((it) => it.pending.length).map((it) => doneId(it._id));
    const delivered = new Set(toTell.length ? (await this.m.done.find({ _id: { $in: toTell } }, { _id: 1 }).lean()).map((d) => d._id) : []);
    for (const it of items) {
      if (delivered.has(doneId(it._id))) continue;
      fresh.push({
        ...it,
        state: held ? 'held' : 'ready',
        runAt: new Date(now.getTime() + (held ? this.leaseMs : 0)),
        attempts: 0,
        createdAt: now,
        seq: nextSeq(),
      });
    }
    if (!fresh.length) return [];
    try {
      await this.m.entries.insertMany(fresh, { ordered: false, lean: true });
      return fresh.map((e) => e._id);
    } catch (err) {
      const writeErrors = (err as { writeErrors?: Array<{ index?: number; err?: { index?: number; code?: number }; code?: number }> })
        .writeErrors;
      if (!writeErrors?.length || writeErrors.some((w) => (w.code ?? w.err?.code) !== 11000)) throw err;
      const dup = new Set(writeErrors.map((w) => (w.index ?? w.err?.index) as number));
      return fresh.filter((_, i) => !dup.has(i)).map((e) => e._id);
    }
  }

  /** The write is done: held entries become deliverable now. */
  async release(ids: string[]): Promise<void> {
    const now = new Date();
    for (const _id of ids) await this.m.entries.updateOne({ _id, state: 'held' }, { $set: { state: 'ready', runAt: now } });
  }

  /**
   * The write is done and this process delivers the entries itself: the held entries become
   * leased to it in the update `release` would make, so none needs a claim (a sorted scan under
   * the outbox's write lock) or a worker's next look. If the process dies before delivering, the
   * lease expires and any worker claims them. An entry no longer held (another attempt of the
   * same write released it) is left to whoever has it.
   */
  async releaseTo(ids: string[]): Promise<Claimed[]> {
    const owner = randomUUID();
    const lease = { $set: { state: 'leased', owner, runAt: new Date(Date.now() + this.leaseMs) } };
    let entries: OutboxEntry[];
    if (ids.length === 1) {
      const one = await this.m.entries
        .findOneAndUpdate({ _id: ids[0], state: 'held' }, lease, { returnDocument: 'after' })
        .lean<OutboxEntry>();
      entries = one ? [one] : [];
    } else {
      // One write for all (every write queues for the engine's single writer), then one read.
      await this.m.entries.updateMany({ _id: { $in: ids }, state: 'held' }, lease);
      entries = await this.m.entries
        .find({ _id: { $in: ids }, owner })
        .sort({ seq: 1 })
        .lean<OutboxEntry[]>();
    }
    return entries.map((entry) => ({ entry, unconfirmed: false, owner }));
  }

  /** The write is done and nobody is to be told: the held entries go. */
  async drop(ids: string[]): Promise<void> {
    await this.m.entries.deleteMany({ _id: { $in: ids }, state: 'held' });
  }

  /** The write failed: the held entries this call inserted are removed. */
  async cancel(ids: string[]): Promise<void> {
    for (const _id of ids) await this.m.entries.deleteOne({ _id, state: 'held' });
  }

  /**
   * Takes the next due entry with one atomic single-document update (a lease until `runAt`), so
   * two workers never deliver the same entry at once.
   */
  async claim(): Promise<Claimed | undefined> {
    const now = new Date();
    const owner = randomUUID();
    const before = await this.m.entries
      .findOneAndUpdate(
        { state: { $in: ['held', 'ready', 'leased'] }, runAt: { $lte: now } },
        { $set: { state: 'leased', owner, runAt: new Date(now.getTime() + this.leaseMs) } },
        { sort: { runAt: 1 }, returnDocument: 'before' },
      )
      .lean<OutboxEntry>();
    if (!before) return undefined;
    return { entry: { ...before, state: 'leased', owner }, unconfirmed: before.state === 'held', owner };
  }

  /** An earlier entry of the same group is not delivered yet (one that gave up does not block). */
  async blockedByEarlier(e: OutboxEntry): Promise<boolean> {
    if (!e.group) return false;
    return !!(await this.m.entries.exists({ group: e.group, seq: { $lt: e.seq }, state: { $ne: 'failed' } }));
  }

  /** Renews a lease; false if it was lost (it expired and another worker claimed the entry). */
  async extend(c: Claimed): Promise<boolean> {
    const r = await this.m.entries.updateOne(
      { _id: c.entry._id, owner: c.owner },
      { $set: { runAt: new Date(Date.now() + this.leaseMs) } },
    );
    return r.matchedCount === 1;
  }

  /** Puts a claimed entry back untouched (it waits for an earlier one of its group). */
  async defer(c: Claimed, ms: number): Promise<void> {
    await this.m.entries.updateOne(
      { _id: c.entry._id, owner: c.owner },
      { $set: { state: c.unconfirmed ? 'held' : 'ready', runAt: new Date(Date.now() + ms) }, $unset: { owner: 1 } },
    );
  }

  async consumerDone(c: Claimed, consumer: string): Promise<void> {
    await this.m.entries.updateOne({ _id: c.entry._id, owner: c.owner }, { $pull: { pending: consumer } });
  }

  /** Every consumer has it: the id moves to the done list (first, so it is always in one of the two). */
  async complete(c: Claimed): Promise<void> {
    try {
      await this.m.done.create({ _id: doneId(c.entry._id), doneAt: new Date() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    await this.m.entries.deleteOne({ _id: c.entry._id, owner: c.owner });
    this.settled(c.entry);
  }

  /** Some consumers failed: try again at `retryAt`, or give up (`failed`). */
  async failed(c: Claimed, pending: string[], error: { consumer: string; message: string }, retryAt: Date | undefined): Promise<void> {
    await this.m.entries.updateOne(
      { _id: c.entry._id, owner: c.owner },
      {
        $set: { pending, state: retryAt ? 'ready' : 'failed', runAt: retryAt ?? new Date(), lastError: { ...error, at: new Date() } },
        $inc: { attempts: 1 },
        $unset: { owner: 1 },
      },
    );
    if (!retryAt) this.settled(c.entry);
  }

  private settled(e: OutboxEntry): void {
    if (e.group) this.settledHere.emit(`group:${e.group}`);
  }

  /** Entries that gave up, newest first (the admin page). */
  async listFailed(limit = 200): Promise<OutboxEntry[]> {
    return this.m.entries.find({ state: 'failed' }, { payload: 0 }).sort({ runAt: -1 }).limit(limit).lean<OutboxEntry[]>();
  }

  /** Gives a failed entry a fresh set of attempts. Returns whether it was failed. */
  async retry(id: string): Promise<boolean> {
    const r = await this.m.entries.updateOne({ _id: id, state: 'failed' }, { $set: { state: 'ready', runAt: new Date(), attempts: 0 } });
    return r.modifiedCount === 1;
  }

  /** How many entries are still to deliver (failed ones excluded). */
  async outstanding(): Promise<number> {
    return this.m.entries.countDocuments({ state: { $in: ['held', 'ready', 'leased'] } });
  }

  /** Entries not yet through their first delivery (what a caller waiting for the follow-up waits for). */
  async unsettled(): Promise<number> {
    return this.m.entries.countDocuments({ state: { $in: ['held', 'ready', 'leased'] }, attempts: 0 });
  }

  /** Forgets delivered ids older than `days` (FerretDB has no TTL indexes). */
  async prune(days: number): Promise<number> {
    const r = await this.m.done.deleteMany({ doneAt: { $lt: new Date(Date.now() - days * 86400_000) } });
    return r.deletedCount;
  }
}
