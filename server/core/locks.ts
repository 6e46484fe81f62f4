/**
 * Coordination between the server processes that share one database: named leases kept in
 * `core_locks`, taken and given up with single-document atomic writes only (no transactions), so
 * the same on MongoDB and on the embedded engine. Every plugin that must not let two writers
 * interleave (a registration's progress, a person's verdict, the summaries' rebuild) uses these;
 * nothing of the kind is kept in one process's memory.
 *
 * A lease is a document that exists while it is held: `{_id, key, mode, owner, until}`. Taking an
 * exclusive lease inserts `key|x` (a duplicate key means someone holds it) or takes over one whose
 * `until` has passed (its holder died); shared leases are one document each, `key|s|owner`. An
 * exclusive holder waits until no live shared lease remains; a shared taker that finds an
 * exclusive lease after inserting its own steps back — so the exclusive one is never starved.
 * Held leases are renewed every third of `LOCKS_LEASE_SECONDS`; a process killed while holding one
 * holds it at most that long. Waiters in the same process queue in memory first, so only one of
 * them at a time polls the database.
 */
import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from './db/connect';
import type { Logger } from './log';
import { envNumber } from './config';

export interface LockSettings {
  /** How long a lease lasts without renewal (ms). */
  leaseMs: number;
  /** First wait between two attempts to take a held lease (ms); it doubles up to 10×. */
  pollMs: number;
}

export function lockSettings(env: Readonly<Record<string, string | undefined>>): LockSettings {
  const num = (name: string, def: number, min: number) => envNumber(env, name, def, min);
  return { leaseMs: num('LOCKS_LEASE_SECONDS', 30, 1) * 1000, pollMs: num('LOCKS_POLL_MS', 10, 1) };
}

interface LockDoc {
  _id: string;
  key: string;
  mode: 'x' | 's';
  owner: string;
  until: Date;
}

const lockSchema = new Schema<LockDoc>({ _id: String, key: String, mode: String, owner: String, until: Date }, { versionKey: false });
lockSchema.index({ key: 1, mode: 1 });

/** A lease held until `release()`; renewed meanwhile. */
export interface Lease {
  owner: string;
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Locks {
  readonly m: Model<LockDoc>;
  /** Exclusive waiters of this process, per key: they queue here, not all against the database. */
  private readonly local = new Map<string, Promise<unknown>>();

  constructor(
    db: Connection,
    private readonly s: LockSettings,
    private readonly log: Logger,
  ) {
    this.m = (db.models.CoreLock as Model<LockDoc>) ?? db.model<LockDoc>('CoreLock', lockSchema, 'core_locks');
  }

  async init(): Promise<void> {
    await this.m.init();
  }

  /** How long a lease lasts without renewal (for work that keeps a lease of its own, e.g. a job document). */
  get leaseMs(): number {
    return this.s.leaseMs;
  }

  /** Runs `fn` with no other exclusive or shared holder of `key` in any process. */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.local.get(key) ?? Promise.resolve();
    const run = async () => {
      const lease = await this.takeExclusive(key);
      try {
        return await fn();
      } finally {
        await lease.release();
      }
    };
    const next = prev.then(run, run);
    const tail = next.catch(() => undefined);
    this.local.set(key, tail);
    void tail.then(() => {
      if (this.local.get(key) === tail) this.local.delete(key);
    });
    return next;
  }

  /** Runs `fn` beside other shared holders of `key`, but never beside an exclusive one. */
  async shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lease = await this.hold(key);
    try {
      return await fn();
    } finally {
      await lease.release();
    }
  }

  /** Takes a shared lease on `key` and keeps it until `release()` (work spanning several calls). */
  async hold(key: string): Promise<Lease> {
    const owner = randomUUID();
    const _id = `${key}|s|${owner}`;
    for (let wait = this.s.pollMs; ; wait = Math.min(wait * 2, this.s.pollMs * 10)) {
      await this.m.create({ _id, key, mode: 's', owner, until: this.until() });
      // Checked after our own lease exists: an exclusive taker either sees ours or we see theirs.
      if (!(await this.liveExclusive(key))) return this.keep(_id, owner);
      await this.m.deleteOne({ _id, owner });
      while (await this.liveExclusive(key)) await sleep(wait);
    }
  }

  /** Owners of the live shared leases of `key` (e.g. the rebuilds watching the summaries' writers). */
  async holders(key: string): Promise<string[]> {
    const rows = await this.m.find({ key, mode: 's' }, { owner: 1, until: 1 }).lean<LockDoc[]>();
    const now = Date.now();
    return rows.filter((r) => new Date(r.until).getTime() > now).map((r) => r.owner);
  }

  private async takeExclusive(key: string): Promise<Lease> {
    const owner = randomUUID();
    const _id = `${key}|x`;
    let wait = this.s.pollMs;
    while (!(await this.tryTake(_id, key, owner))) {
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, this.s.pollMs * 10);
    }
    const lease = this.keep(_id, owner);
    try {
      // New shared takers now step back; wait for those already in.
      for (wait = this.s.pollMs; await this.liveShared(key); wait = Math.min(wait * 2, this.s.pollMs * 10)) await sleep(wait);
    } catch (err) {
      await lease.release();
      throw err;
    }
    return lease;
  }

  private async tryTake(_id: string, key: string, owner: string): Promise<boolean> {
    try {
      await this.m.create({ _id, key, mode: 'x', owner, until: this.until() });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    // Held: take it over only if its holder stopped renewing it (the process died).
    const r = await this.m.updateOne({ _id, until: { $lte: new Date() } }, { $set: { owner, until: this.until() } });
    if (r.modifiedCount === 1) this.log.warn({ key }, 'locks: took over a lease whose holder stopped renewing it');
    return r.modifiedCount === 1;
  }

  private async liveExclusive(key: string): Promise<boolean> {
    const x = await this.m.findById(`${key}|x`, { until: 1 }).lean<LockDoc>();
    return !!x && new Date(x.until).getTime() > Date.now();
  }

  private async liveShared(key: string): Promise<boolean> {
    return (await this.holders(key)).length > 0;
  }

  private until(): Date {
    return new Date(Date.now() + this.s.leaseMs);
  }

  private keep(_id: string, owner: string): Lease {
    const renew = setInterval(() => {
      this.m.updateOne({ _id, owner }, { $set: { until: this.until() } }).then(
        (r) => r.matchedCount || this.log.error({ lock: _id }, 'locks: a held lease was taken over (renewal came too late)'),
        (err: unknown) => this.log.warn({ err, lock: _id }, 'locks: could not renew a lease'),
      );
    }, this.s.leaseMs / 3);
    renew.unref();
    return {
      owner,
      release: async () => {
        clearInterval(renew);
        await this.m.deleteOne({ _id, owner });
      },
    };
  }
}
