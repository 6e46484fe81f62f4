import { Schema, type Connection, type Model } from 'mongoose';

/**
 * catalog_item_banks: the item bank of an AU the LMS scores, per course version.
 * `_id` = `${courseId}#v${version}|${auId}`; the items (with their key) as one JSON string.
 */
export interface ItemBankDoc {
  _id: string;
  courseId: string;
  version: number;
  auId: string;
  ask: number;
  masteryScore: number;
  languages: string[];
  /** JSON of BankItem[] (content/tools/item-bank.ts) */
  items: string;
  digest: string;
  installedAt: Date;
}
const bankSchema = new Schema<ItemBankDoc>(
  {
    _id: { type: String, required: true },
    courseId: { type: String, required: true },
    version: { type: Number, required: true },
    auId: { type: String, required: true },
    ask: { type: Number, required: true },
    masteryScore: { type: Number, required: true },
    languages: { type: [String], default: [] },
    items: { type: String, required: true },
    digest: { type: String, required: true },
    installedAt: { type: Date, default: Date.now },
  },
  { collection: 'catalog_item_banks', versionKey: false },
);

export const bankId = (courseId: string, version: number, auId: string) => `${courseId}#v${version}|${auId}`;

/**
 * catalog_attempts: one attempt at an assessment the LMS scores, `_id` = a random id the page
 * holds. What was drawn (bank items and the order their options were shown in) stays here.
 */
export interface AttemptDoc {
  _id: string;
  sessionId: string;
  userId: string;
  registration: string;
  bankId: string;
  /** JSON of Array<{ item: number; options: number[] }>: per question shown, its bank item and, per option shown, the bank option */
  drawn: string;
  masteryScore: number;
  createdAt: Date;
  scoredAt?: Date;
  result?: { raw: number; max: number; scaled: number; passed: boolean };
}
const attemptSchema = new Schema<AttemptDoc>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true },
    userId: { type: String, required: true },
    registration: { type: String, required: true },
    bankId: { type: String, required: true },
    drawn: { type: String, required: true },
    masteryScore: { type: Number, required: true },
    createdAt: { type: Date, default: Date.now },
    scoredAt: Date,
    result: { type: { raw: Number, max: Number, scaled: Number, passed: Boolean, _id: false }, default: undefined },
  },
  { collection: 'catalog_attempts', versionKey: false },
);
// The cmi5 rules read a session's attempts for every passed/failed; privacy reads a person's.
attemptSchema.index({ sessionId: 1 });
attemptSchema.index({ userId: 1 });

export function assessmentModels(db: Connection) {
  return {
    banks: (db.models.CatalogItemBank as Model<ItemBankDoc>) ?? db.model<ItemBankDoc>('CatalogItemBank', bankSchema),
    attempts: (db.models.CatalogAttempt as Model<AttemptDoc>) ?? db.model<AttemptDoc>('CatalogAttempt', attemptSchema),
  };
}
export type AssessmentModels = ReturnType<typeof assessmentModels>;
