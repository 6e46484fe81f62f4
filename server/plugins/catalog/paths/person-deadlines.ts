import { Schema, type Connection, type Model } from 'mongoose';
import { localizedError } from '../../../core/errors';

/**
 * catalog_person_deadlines: `_id` = account id; the date by which HR asks this person to have
 * satisfied the required courses of their path, instead of the path's own due date (earlier or
 * later: an officer may also give someone more time). `institution` is the org unit of the
 * officer's institution it was set under, kept to say whose decision it is.
 */
export interface PersonDeadlineDoc {
  _id: string;
  dueAt: Date;
  institution?: string;
  by: string;
  at: Date;
}
const schema = new Schema<PersonDeadlineDoc>(
  { _id: String, dueAt: { type: Date, required: true }, institution: String, by: String, at: Date },
  { collection: 'catalog_person_deadlines', versionKey: false },
);

export const personDeadlineModel = (db: Connection): Model<PersonDeadlineDoc> =>
  (db.models.CatalogPersonDeadline as Model<PersonDeadlineDoc>) ?? db.model<PersonDeadlineDoc>('CatalogPersonDeadline', schema);

/** A YYYY-MM-DD day that exists (2026-02-30 does not), as the start of that day in UTC. */
function parseDay(v: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v ? d : undefined;
}

export class PersonDeadlines {
  constructor(private readonly model: Model<PersonDeadlineDoc>) {}

  init() {
    return this.model.init();
  }

  async of(userId: string): Promise<Date | undefined> {
    return (await this.model.findById(userId).lean<PersonDeadlineDoc>())?.dueAt;
  }

  /** The deadlines of these people (a page of HR's list or an export), by account id. */
  async many(userIds: string[]): Promise<Map<string, Date>> {
    if (!userIds.length) return new Map();
    const docs = await this.model.find({ _id: { $in: userIds } }).lean<PersonDeadlineDoc[]>();
    return new Map(docs.map((d) => [d._id, d.dueAt]));
  }

  /**
   * Sets (YYYY-MM-DD) or clears ('') a person's deadline; a 400 naming the value in the reader's
   * language on anything else, nothing written. The caller has checked the person is the officer's.
   */
  async set(userId: string, due: string, by: { id: string; institution?: string }): Promise<Date | undefined> {
    const value = due.trim();
    if (!value) {
      await this.model.deleteOne({ _id: userId });
      return undefined;
    }
    const dueAt = parseDay(value);
    if (!dueAt) throw localizedError(400, 'catalog:personDeadline.invalid', { value: value.slice(0, 40) });
    await this.model.replaceOne(
      { _id: userId },
      { _id: userId, dueAt, ...(by.institution ? { institution: by.institution } : {}), by: by.id, at: new Date() },
      { upsert: true },
    );
    return dueAt;
  }

  async erase(userId: string): Promise<void> {
    await this.model.deleteOne({ _id: userId });
  }
}
