/** Activity definitions merged from the statements that use them (GET /xapi/activities). */
import { Schema, type Connection, type Model } from 'mongoose';

export interface ActivityDoc {
  _id: string; // the activity id: GET /activities is an _id lookup
  /** The merged definition as JSON text (extension keys may contain `.`). */
  definition: string;
  updated: Date;
}

const schema = new Schema<ActivityDoc>(
  { _id: String, definition: String, updated: Date },
  { collection: 'lrs_activities', versionKey: false },
);

export const activityModel = (db: Connection): Model<ActivityDoc> =>
  (db.models.LrsActivity as Model<ActivityDoc>) ?? db.model<ActivityDoc>('LrsActivity', schema);
