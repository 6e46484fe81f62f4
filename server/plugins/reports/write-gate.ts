import { Schema, type Connection, type Model } from 'mongoose';
import type { Lease, Locks } from '../../core/locks';

/**
 * Coordinates the writers of people and summaries with a full rebuild of the summaries, across
 * every server process on the database (leases in `core_locks`). Writers (a progress event, a
 * roster batch, the expiry sweep) hold the gate shared and say which people they touch; a
 * rebuild *watches* (a lease of its own, taken while no writer is inside, so none is missed) and
 * writers record the people they touch for every live watch in `reports_touched`. The rebuild
 * evaluates a snapshot of everyone, then closes with the gate held exclusively: it re-evaluates
 * the recorded people, corrects its tally and replaces the summaries while no writer can slip an
 * `$inc` in between. Writers are never refused, only held for the close (seconds); their `$inc`s
 * made before it are superseded by the rebuilt documents, which already count their people's
 * current state.
 */
const GATE = 'reports.summaries';
const WATCH = 'reports.summaries.watch';

interface Touched {
  _id: string;
  watch: string;
  person: string;
}
const touchedSchema = new Schema<Touched>(
  { _id: String, watch: String, person: String },
  { collection: 'reports_touched', versionKey: false },
);
touchedSchema.index({ watch: 1 });

export interface Watch {
  /** The people writers touched since the watch began (read it with the gate held exclusively). */
  ids(): Promise<Set<string>>;
  stop(): Promise<void>;
}

export class WriteGate {
  private readonly touched: Model<Touched>;

  constructor(
    db: Connection,
    private readonly locks: Locks,
  ) {
    this.touched = (db.models.ReportsTouched as Model<Touched>) ?? db.model<Touched>('ReportsTouched', touchedSchema);
  }

  init(): Promise<unknown> {
    return this.touched.init();
  }

  async write<T>(ids: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    return this.locks.shared(GATE, async () => {
      const watches = await this.locks.holders(WATCH);
      if (watches.length) {
        const people = [...new Set(ids)];
        const docs = watches.flatMap((watch) => people.map((person) => ({ _id: `${watch}|${person}`, watch, person })));
        await this.touched
          .insertMany(docs, { ordered: false, lean: true })
          .catch((err: { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }) => {
            if (!err.writeErrors?.every((w) => (w.code ?? w.err?.code) === 11000)) throw err;
          });
      }
      return fn();
    });
  }

  /** Starts recording the people writers touch from now on; `stop` when the rebuild is over. */
  async watch(): Promise<Watch> {
    const lease: Lease = await this.locks.exclusive(GATE, () => this.locks.hold(WATCH));
    // Records of watches whose rebuild died with its process.
    const live = await this.locks.holders(WATCH);
    await this.touched.deleteMany({ watch: { $nin: live } });
    return {
      ids: async () => new Set((await this.touched.find({ watch: lease.owner }, { person: 1 }).lean<Touched[]>()).map((t) => t.person)),
      stop: async () => {
        await lease.release();
        await this.touched.deleteMany({ watch: lease.owner });
      },
    };
  }

  /** Runs `fn` once the writers inside (in every process) have finished, holding new ones at the door. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.locks.exclusive(GATE, fn);
  }
}
