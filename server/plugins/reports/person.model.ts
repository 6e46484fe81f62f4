import { Schema, type Connection, type Model } from 'mongoose';

/** One public servant of one institution's roster: the denominator of every figure. */
export interface Person {
  _id: string; // `${institution}:${employeeId}` — the natural key makes re-imports idempotent upserts
  institution: string;
  employeeId: string;
  name: string;
  email: string;
  unit: string;
  level: string;
  tier: string;
  position?: string;
  /** CPF, RUT, CI…, when the roster gives it: a national identity provider's sign-in finds the person by it. */
  nationalId?: string;
  decisionMaker: boolean;
  active: boolean;
  userId?: string;
  /** Hash of the roster fields, to tell unchanged rows from changed ones without comparing field by field. */
  rowHash: string;
  trained: boolean;
  trainedAt?: Date;
  /** With a validity rule: when the earliest course counted stops counting. */
  expiresAt?: Date;
  /** Required course ids not (or no longer) satisfied: what the person still needs. */
  missing: string[];
  hoursShort: number;
  evaluatedAt?: Date;
  importedAt: Date;
}

const personSchema = new Schema<Person>(
  {
    _id: { type: String, required: true },
    institution: { type: String, required: true },
    employeeId: { type: String, required: true },
    name: { type: String, required: true },
    email: { type: String, required: true },
    unit: { type: String, required: true },
    level: { type: String, required: true },
    tier: { type: String, required: true },
    position: String,
    nationalId: String,
    decisionMaker: { type: Boolean, default: false },
    active: { type: Boolean, default: true },
    userId: String,
    rowHash: { type: String, required: true },
    trained: { type: Boolean, default: false },
    trainedAt: Date,
    expiresAt: Date,
    missing: { type: [String], default: [] },
    hoursShort: { type: Number, default: 0 },
    evaluatedAt: Date,
    importedAt: { type: Date, default: Date.now },
  },
  { collection: 'reports_people', versionKey: false },
);
// Roster confirm loads one institution; drill-down lists a scope's untrained people; the expiry sweep.
personSchema.index({ institution: 1, _id: 1 });
personSchema.index({ unit: 1, active: 1, trained: 1, _id: 1 });
personSchema.index({ expiresAt: 1 });
personSchema.index({ userId: 1 });
personSchema.index({ nationalId: 1 });

export type PersonModel = Model<Person>;
export const personModel = (db: Connection): PersonModel =>
  (db.models.ReportsPerson as PersonModel) ?? db.model<Person>('ReportsPerson', personSchema);

/**
 * userId → person ids. Progress events arrive by user; on the embedded engine only `_id` filters
 * use an index, so this small mapping keeps that hot path an `_id` lookup.
 */
export interface UserLink {
  _id: string; // user id
  people: string[];
}
const linkSchema = new Schema<UserLink>(
  { _id: String, people: { type: [String], default: [] } },
  { collection: 'reports_user_people', versionKey: false },
);
export type UserLinkModel = Model<UserLink>;
export const userLinkModel = (db: Connection): UserLinkModel =>
  (db.models.ReportsUserLink as UserLinkModel) ?? db.model<UserLink>('ReportsUserLink', linkSchema);
