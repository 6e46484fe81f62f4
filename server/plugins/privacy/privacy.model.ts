import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One erasure, `_id` = a hash of the person's account id (see `erasureId`), so an interrupted
 * erasure is found and finished with the same pseudonym. Who it was about (email, name, the
 * pseudonym) is kept only while it runs; a finished record says that, when and by whom.
 */
export interface Erasure {
  _id: string;
  status: 'running' | 'done';
  /** Plugins whose step has completed. */
  steps: string[];
  pseudonym?: string;
  userId?: string;
  email?: string;
  name?: string;
  via: 'admin' | 'retention';
  requestedBy?: string;
  startedAt: Date;
  finishedAt?: Date;
  attempts: number;
  lastError?: string;
}
const erasureSchema = new Schema<Erasure>(
  {
    _id: String,
    status: { type: String, required: true },
    steps: { type: [String], default: [] },
    pseudonym: String,
    userId: String,
    email: String,
    name: String,
    via: { type: String, required: true },
    requestedBy: String,
    startedAt: { type: Date, required: true },
    finishedAt: Date,
    attempts: { type: Number, default: 1 },
    lastError: String,
  },
  { collection: 'privacy_erasures', versionKey: false },
);
// The admin page lists unfinished erasures; the retention job resumes them.
erasureSchema.index({ status: 1, startedAt: -1 });

/** What was done with personal data: exports, erasures (started, resumed, done, failed), retention runs. */
export interface PrivacyAuditEntry {
  at: Date;
  action: 'export' | 'erase.start' | 'erase.resume' | 'erase.done' | 'erase.fail' | 'retention';
  /** Who did it: an account id, or 'retention' for the periodic job. */
  actorId: string;
  /** The person's account id (exports), or the erasure's id (erasures never keep the account id). */
  subject?: string;
  /** 'self' when people download their own data. */
  via?: string;
  detail?: string;
}
const auditSchema = new Schema<PrivacyAuditEntry>(
  { at: { type: Date, default: Date.now }, action: String, actorId: String, subject: String, via: String, detail: String },
  { collection: 'privacy_audit', versionKey: false },
);
auditSchema.index({ at: -1 });

export function privacyModels(db: Connection) {
  return {
    erasures: (db.models.PrivacyErasure as Model<Erasure>) ?? db.model<Erasure>('PrivacyErasure', erasureSchema),
    audit: (db.models.PrivacyAudit as Model<PrivacyAuditEntry>) ?? db.model<PrivacyAuditEntry>('PrivacyAudit', auditSchema),
  };
}
export type PrivacyModels = ReturnType<typeof privacyModels>;
