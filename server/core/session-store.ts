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
}
