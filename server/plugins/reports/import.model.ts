import { Schema, type Connection, type Model } from 'mongoose';

/** A problem on one row of an imported file: a locale key for people, its English for the CLI and API. */
export interface RowError {
  row: number;
  column: string;
  key?: string;
  params?: Record<string, unknown>;
  message: string;
}

/** An uploaded roster file between preview and confirm. The file itself stays in DATA_DIR/uploads/reports. */
export interface RosterImport {
  _id: string;
  institution: string;
  userId: string;
  fileName: string;
  path: string;
  sha256: string;
  format: 'csv' | 'xlsx';
  encoding: 'utf-8' | 'windows-1252';
  deactivateMissing: boolean;
  status: 'previewed' | 'rejected' | 'confirmed';
  rows: number;
  errorCount: number;
  /** The first errors only (capped), so a 100,000-row disaster stays a small document. */
  problems: RowError[];
  counts: {
    created: number;
    changed: number;
    unchanged: number;
    deactivated: number;
    newAccounts: number;
    linkedAccounts: number;
    /** People of SSO-only units without an account yet: made at their first sign-in (absent in older imports). */
    atSignIn?: number;
  };
  createdAt: Date;
  confirmedAt?: Date;
}
const importSchema = new Schema<RosterImport>(
  {
    _id: String,
    institution: String,
    userId: String,
    fileName: String,
    path: String,
    sha256: String,
    format: String,
    encoding: String,
    deactivateMissing: Boolean,
    status: String,
    rows: Number,
    errorCount: Number,
    problems: [{ _id: false, row: Number, column: String, key: String, params: Schema.Types.Mixed, message: String }],
    counts: {
      created: Number,
      changed: Number,
      unchanged: Number,
      deactivated: Number,
      newAccounts: Number,
      linkedAccounts: Number,
      atSignIn: Number,
    },
    createdAt: { type: Date, default: Date.now },
    confirmedAt: Date,
  },
  { collection: 'reports_imports', versionKey: false },
);
importSchema.index({ institution: 1, createdAt: -1 });
export type ImportModel = Model<RosterImport>;
export const importModel = (db: Connection): ImportModel =>
  (db.models.ReportsImport as ImportModel) ?? db.model<RosterImport>('ReportsImport', importSchema);

/** A one-time sign-up invitation. The link's token is derived (HMAC) from `_id`, never stored. */
export interface Invite {
  _id: string;
  userId: string;
  email: string;
  name: string;
  institution: string;
  createdAt: Date;
  sentAt?: Date;
  usedAt?: Date;
}
const inviteSchema = new Schema<Invite>(
  {
    _id: String,
    userId: String,
    email: String,
    name: String,
    institution: String,
    createdAt: { type: Date, default: Date.now },
    sentAt: Date,
    usedAt: Date,
  },
  { collection: 'reports_invites', versionKey: false },
);
inviteSchema.index({ institution: 1, usedAt: 1 });
export type InviteModel = Model<Invite>;
export const inviteModel = (db: Connection): InviteModel =>
  (db.models.ReportsInvite as InviteModel) ?? db.model<Invite>('ReportsInvite', inviteSchema);
