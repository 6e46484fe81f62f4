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
   * `exceptSid` (the one that changed the password stays signed in).
   */
  endFor(userId: string, exceptSid?: string): Promise<number> {
    return this.endWhere((session, sid) => session.passport?.user === userId && sid !== exceptSid);
  }

  /**
   * Ends the sessions `match` picks (e.g. those an identity provider's single logout names).
   * Sessions are found by reading them all: this runs rarely, and what is matched is inside each
   * session's serialized data.
   */
  async endWhere(match: (session: SessionData & { passport?: { user?: unknown } }, sid: string) => boolean): Promise<number> {
    const self = this as unknown as StoreInternals;
    const collection = await self.collectionP;
    let ended = 0;
    for await (const doc of collection.find({}, { projection: { session: 1 } })) {
      let session: SessionData | undefined;
      try {
        session = self.transformFunctions.unserialize(doc.session);
      } catch {
        continue; // not ours to judge: an unreadable session gives nobody access
      }
      if (!session || !match(session, String(doc._id))) continue;
      await collection.deleteOne({ _id: doc._id });
      ended++;
    }
    return ended;
  }
}
