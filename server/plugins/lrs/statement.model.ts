/**
 * Statements as Learning Locker stores them: one wrapper document per statement whose `_id` is
 * the statement id (GET by id is an `_id` lookup) with the fields GET /statements filters on
 * pre-extracted, each with the index that serves it. The statement itself is kept as its JSON
 * text, so it round-trips exactly (extension keys with `.` or `$`, nested arrays, language maps),
 * in a body document with the same `_id`: a page of results reads small wrappers through the
 * indexes below, then its bodies by `{_id: {$in}}`.
 */
import { Schema, type Connection, type Model } from 'mongoose';

/** What one statement (or one statement it targets through a StatementRef) can be found by. */
export interface MatchFields {
  /** IFI keys of the actor (and its members) and of an Agent/Group object: the `agent` filter. */
  agents: string[];
  /** Every agent anywhere in the statement: `agent` + `related_agents=true`. */
  relAgents: string[];
  verb: string;
  /** The object's id when it is an Activity: the `activity` filter. */
  activity?: string;
  /** Object, context activities and SubStatement activities: `activity` + `related_activities=true`. */
  relActs: string[];
  reg?: string;
}

export interface StatementDoc extends MatchFields {
  _id: string;
  /** Hash of the statement minus what the spec lets an LRS change: equal hash = same statement. */
  hash: string;
  stored: Date;
  timestamp: Date;
  voided: boolean;
  /** Verb is "voided": such a statement can never be voided itself. */
  voiding: boolean;
  /** Credential that stored it (`statements/read/mine`). */
  cred: string;
  /** Match fields of the statements this one targets through StatementRef (the spec's "filter conditions for StatementRefs"). */
  refs: MatchFields[];
  /** sha2 of the attachments whose content the LRS holds. */
  att: string[];
}

const matchFields = {
  agents: { type: [String], default: undefined },
  relAgents: { type: [String], default: undefined },
  verb: String,
  activity: String,
  relActs: { type: [String], default: undefined },
  reg: String,
};

const schema = new Schema<StatementDoc>(
  {
    _id: String,
    hash: { type: String, required: true },
    stored: { type: Date, required: true },
    timestamp: { type: Date, required: true },
    voided: { type: Boolean, default: false },
    voiding: { type: Boolean, default: false },
    cred: String,
    ...matchFields,
    refs: { type: [new Schema(matchFields, { _id: false })], default: undefined },
    att: { type: [String], default: undefined },
  },
  { collection: 'lrs_statements', versionKey: false },
);

// Every list query is "not voided, <filter>, newest first, then _id" (the `more` cursor's tie-breaker).
schema.index({ voided: 1, stored: -1, _id: -1 });
schema.index({ agents: 1, voided: 1, stored: -1, _id: -1 });
schema.index({ verb: 1, activity: 1, voided: 1, stored: -1, _id: -1 });
schema.index({ activity: 1, voided: 1, stored: -1, _id: -1 });
schema.index({ reg: 1, voided: 1, stored: -1, _id: -1 });
schema.index({ relAgents: 1, voided: 1, stored: -1, _id: -1 });
schema.index({ relActs: 1, voided: 1, stored: -1, _id: -1 });
schema.index({ cred: 1, stored: -1, _id: -1 });
// The $or branch matching through a StatementRef's target (see StatementsService.filter).
schema.index({ 'refs.agents': 1 });
schema.index({ 'refs.verb': 1 });
schema.index({ 'refs.activity': 1 });
schema.index({ 'refs.reg': 1 });
schema.index({ 'refs.relAgents': 1 });
schema.index({ 'refs.relActs': 1 });

/** The statement as returned by the LRS, as JSON text; `_id` = the statement id. */
export interface StatementBodyDoc {
  _id: string;
  raw: string;
}

const bodySchema = new Schema<StatementBodyDoc>(
  { _id: String, raw: { type: String, required: true } },
  { collection: 'lrs_statement_bodies', versionKey: false },
);

export const statementBodyModel = (db: Connection): Model<StatementBodyDoc> =>
  (db.models.LrsStatementBody as Model<StatementBodyDoc>) ?? db.model<StatementBodyDoc>('LrsStatementBody', bodySchema);

export interface AttachmentDoc {
  _id: string; // sha2 of the content: equal content is stored once
  contentType: string;
  data: Buffer;
}

const attachmentSchema = new Schema<AttachmentDoc>(
  { _id: String, contentType: String, data: Buffer },
  { collection: 'lrs_attachments', versionKey: false },
);

export const statementModel = (db: Connection): Model<StatementDoc> =>
  (db.models.LrsStatement as Model<StatementDoc>) ?? db.model<StatementDoc>('LrsStatement', schema);

export const attachmentModel = (db: Connection): Model<AttachmentDoc> =>
  (db.models.LrsAttachment as Model<AttachmentDoc>) ?? db.model<AttachmentDoc>('LrsAttachment', attachmentSchema);
