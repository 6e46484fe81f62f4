import type { mongo } from 'mongoose';
import { MongoStore } from 'connect-mongo';
import type { SessionData } from 'express-session';

/** The parts of connect-mongo's store this override reads (private in its typings). */
interface StoreInternals {
  collectionP: Promise<mongo.Collection<mongo.Document>>;
  transformFunctions: { unserialize(s: unknown): SessionData };
}

/**
 * connect-mongo's store (its `get` finds a session by `_id` and expiry, which the embedded engine
 * answers from its `_id` index), plus ending every session of one person.
 */
export class SessionStore extends MongoStore {
  /**
   * Ends every session of one person (erasure, password change or reset), except the session
   * `exceptSid` (the one that changed the password stays signed in). Sessions are found by reading
   * them all: this runs rarely, and the person is inside each session's serialized data.
   */
  async endFor(userId: string, exceptSid?: string): Promise<number> {
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
      if (session?.passport?.user !== userId || (exceptSid !== undefined && String(doc._id) === exceptSid)) continue;
      await collection.deleteOne({ _id: doc._id });
      ended++;
    }
    return ended;
  }
}
