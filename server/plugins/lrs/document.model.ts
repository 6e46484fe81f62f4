/** State, activity profile and agent profile documents (xAPI Communication 2.3, 2.6, 2.7). */
import { Schema, type Connection, type Model } from 'mongoose';

export type DocumentKind = 'state' | 'activityProfile' | 'agentProfile';

export interface DocumentScope {
  kind: DocumentKind;
  activityId?: string;
  /** IFI key of the agent. */
  agent?: string;
  registration?: string;
}

export interface DocumentDoc extends DocumentScope {
  /** Hash of the scope and the document id: reading one document is an `_id` lookup. */
  _id: string;
  docId: string;
  contentType: string;
  content: Buffer;
  /** SHA-1 of the content, the ETag. */
  etag: string;
  updated: Date;
}

const schema = new Schema<DocumentDoc>(
  {
    _id: String,
    kind: { type: String, required: true },
    activityId: String,
    agent: String,
    registration: String,
    docId: { type: String, required: true },
    contentType: String,
    content: Buffer,
    etag: String,
    updated: Date,
  },
  { collection: 'lrs_documents', versionKey: false },
);
// Listing ids (GET without stateId/profileId, `since`) and deleting all states of an agent in an activity.
schema.index({ kind: 1, activityId: 1, agent: 1, registration: 1, updated: 1 });

export const documentModel = (db: Connection): Model<DocumentDoc> =>
  (db.models.LrsDocument as Model<DocumentDoc>) ?? db.model<DocumentDoc>('LrsDocument', schema);
