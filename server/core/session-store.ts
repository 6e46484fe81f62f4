import type { mongo } from 'mongoose';
import { MongoStore } from 'connect-mongo';
import type { SessionData } from 'express-session';

/** The parts of connect-mongo's store this override reads (private in its typings). */
interface StoreInternals {
  collectionP: Promise<mongo.Collection<mongo.Document>>;
  computeStorageId(sid: string): string;
  transformFunctions: { unserialize(s: unknown): SessionData & { lastModified?: Date } };
  options: { touchAfter: number };
  cryptoAdapter?: unknown;
}

/**
 * connect-mongo, reading a session by `_id` alone. Its own `get` adds an `$or` on the expiry
 * date, and FerretDB on SQLite uses its index only for a filter that is exactly `{_id: value}`,
 * so every request would scan the whole sessions collection. We check the expiry here instead;
 * expired sessions are removed by the `core.sessions-cleanup` job (app.ts).
 */
export class SessionStore extends MongoStore {
  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    const self = this as unknown as StoreInternals;
    if (self.cryptoAdapter) return super.get(sid, callback);
    (async () => {
      const doc = await (await self.collectionP).findOne({ _id: self.computeStorageId(sid) as never });
      if (!doc || (doc.expires instanceof Date && doc.expires <= new Date())) return callback(null, null);
      const session = self.transformFunctions.unserialize(doc.session);
      if (self.options.touchAfter > 0 && doc.lastModified) session.lastModified = doc.lastModified as Date;
      this.emit('get', sid);
      callback(null, session);
    })().catch((err: unknown) => callback(err));
  }

  /**
   * Ends every session of one person (erasure, deactivation). Sessions are found by reading
   * them all: this runs rarely, and their `_id` is the only thing the embedded engine indexes.
   */
  async endFor(userId: string): Promise<number> {
    const self = this as unknown as StoreInternals;
    const collection = await self.collectionP;
    let ended = 0;
    for await (const doc of collection.find({}, { projection: { session: 1 } })) {
      let session: { passport?: { user?: unknown } } | undefined;
      try {
        session = self.transformFunctions.unserialize(doc.session) as typeof session;
      } catch {
        continue; // not ours to judge: an unreadable session gives nobody access
      }
      if (session?.passport?.user !== userId) continue;
      await collection.deleteOne({ _id: doc._id });
      ended++;
    }
    return ended;
  }
}
