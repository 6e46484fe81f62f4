/**
 * Failed sign-in counts (per address, per known browser, per directory form) kept in the database,
 * as express-rate-limit's store: every server process behind a load balancer counts into the same
 * document, so two processes do not give an attacker twice the allowance. Each count is one
 * document updated atomically ($inc); a window that has ended starts again on the next failure,
 * and ended windows are deleted by the `accounts.sign-in-counters-purge` job (the embedded engine
 * has no TTL indexes). Keys are hashed: the collection holds no address or device id in clear.
 */
import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import type { IncrementResponse, Options, Store } from 'express-rate-limit';
import { isDuplicateKey } from '../../core/db/connect';

interface CounterDoc {
  _id: string;
  hits: number;
  resetAt: Date;
}

export const COUNTERS_COLLECTION = 'accounts_sign_in_counters';

function counterModel(db: Connection): Model<CounterDoc> {
  return (
    (db.models[COUNTERS_COLLECTION] as Model<CounterDoc> | undefined) ??
    db.model<CounterDoc>(
      COUNTERS_COLLECTION,
      new Schema<CounterDoc>({ _id: String, hits: Number, resetAt: Date }, { versionKey: false, collection: COUNTERS_COLLECTION }),
    )
  );
}

export class SignInCounters {
  private readonly m: Model<CounterDoc>;
  constructor(db: Connection) {
    this.m = counterModel(db);
  }

  /** A store for one limiter; `prefix` keeps limiters' counts apart. */
  store(prefix: string): Store {
    return new CounterStore(this.m, prefix);
  }

  /** Deletes the counts whose window has ended (the purge job); returns how many. */
  async purgeExpired(): Promise<number> {
    return (await this.m.deleteMany({ resetAt: { $lte: new Date() } })).deletedCount;
  }
}

class CounterStore implements Store {
  /** Counts are shared by every process (express-rate-limit's double-count check reads this). */
  readonly localKeys = false;
  private windowMs = 15 * 60_000;

  constructor(
    private readonly m: Model<CounterDoc>,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  private id(key: string): string {
    return `${this.prefix}:${createHash('sha256').update(key).digest('base64url')}`;
  }

  async get(key: string) {
    const d = await this.m.findById(this.id(key)).lean<CounterDoc>();
    return d && d.resetAt > new Date() ? { totalHits: d.hits, resetTime: d.resetAt } : undefined;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const _id = this.id(key);
    const now = new Date();
    const resetAt = new Date(now.getTime() + this.windowMs);
    // An ended window starts again, once: after this its resetAt is in the future for every process.
    await this.m.updateOne({ _id, resetAt: { $lte: now } }, { $set: { hits: 0, resetAt } });
    for (let attempt = 0; ; attempt++) {
      try {
        const d = await this.m
          .findOneAndUpdate({ _id }, { $inc: { hits: 1 }, $setOnInsert: { resetAt } }, { upsert: true, returnDocument: 'after' })
          .lean<CounterDoc>();
        return { totalHits: d!.hits, resetTime: d!.resetAt };
      } catch (err) {
        // Two processes inserting the first count at once: one insert wins, the other increments it.
        if (attempt > 0 || !isDuplicateKey(err)) throw err;
      }
    }
  }

  async decrement(key: string): Promise<void> {
    await this.m.updateOne({ _id: this.id(key), hits: { $gt: 0 } }, { $inc: { hits: -1 } });
  }

  async resetKey(key: string): Promise<void> {
    await this.m.deleteOne({ _id: this.id(key) });
  }
}
