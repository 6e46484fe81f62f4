import { Schema, type Connection, type Model } from 'mongoose';

/**
 * Summary of one scope (an org unit, or '*' for everything): counts kept up to date with `$inc`
 * as people change, so the dashboard is one `_id` read. Counters are {t: total, k: trained}.
 * `days.dYYYYMMDD` counts people (still trained) whose trainedAt falls on that day: the monthly
 * trend and the baseline are running sums over it.
 */
export interface Counter {
  t: number;
  k: number;
}
export interface Summary {
  _id: string;
  all?: Counter;
  dm?: Counter;
  level?: Record<string, Counter>;
  tier?: Record<string, Counter>;
  institution?: Record<string, Counter>;
  unit?: Record<string, Counter>;
  days?: Record<string, number>;
}
const summarySchema = new Schema<Summary>({ _id: String }, { collection: 'reports_summary', versionKey: false, strict: false });
export type SummaryModel = Model<Summary>;
export const summaryModel = (db: Connection): SummaryModel =>
  (db.models.ReportsSummary as SummaryModel) ?? db.model<Summary>('ReportsSummary', summarySchema);

/** A scope's figures at the end of a month (`_id` = `YYYY-MM|scope`), see history.service.ts. */
export interface HistoryEntry {
  _id: string;
  t: number;
  k: number;
  takenAt: Date;
}
const historySchema = new Schema<HistoryEntry>(
  { _id: String, t: Number, k: Number, takenAt: Date },
  { collection: 'reports_history', versionKey: false },
);
export type HistoryModel = Model<HistoryEntry>;
export const historyModel = (db: Connection): HistoryModel =>
  (db.models.ReportsHistory as HistoryModel) ?? db.model<HistoryEntry>('ReportsHistory', historySchema);

/** Settings by `_id`: 'trained-rule', 'baseline'. */
const settingSchema = new Schema(
  { _id: String, value: Schema.Types.Mixed, updatedAt: Date, updatedBy: String },
  { collection: 'reports_settings', versionKey: false },
);
export type SettingModel = Model<{ _id: string; value: unknown; updatedAt?: Date; updatedBy?: string }>;
export const settingModel = (db: Connection): SettingModel =>
  (db.models.ReportsSetting as SettingModel) ?? (db.model('ReportsSetting', settingSchema) as unknown as SettingModel);

/** Background recompute job (one document, `_id: 'recompute'`), shown in the settings page. */
export interface Job {
  _id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  reason: string;
  evaluate: boolean;
  /** Another request arrived while running: run again when this one ends. */
  again: boolean;
  total: number;
  done: number;
  changed: number;
  /** Changed verdicts saved so far (they are written after everyone is evaluated). */
  written?: number;
  /** Seconds spent in each step of the last run (progress, evaluate, write, summaries, announce). */
  seconds?: Record<string, number>;
  queuedAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  error?: string;
  /** The process running it and until when (renewed while it runs; a dead process's run is taken over). */
  owner?: string;
  until?: Date;
}
const jobSchema = new Schema<Job>(
  {
    _id: String,
    status: String,
    reason: String,
    evaluate: Boolean,
    again: Boolean,
    total: Number,
    done: Number,
    changed: Number,
    written: Number,
    seconds: Schema.Types.Mixed,
    queuedAt: Date,
    startedAt: Date,
    finishedAt: Date,
    error: String,
    owner: String,
    until: Date,
  },
  { collection: 'reports_jobs', versionKey: false },
);
export type JobModel = Model<Job>;
export const jobModel = (db: Connection): JobModel => (db.models.ReportsJob as JobModel) ?? db.model<Job>('ReportsJob', jobSchema);

/** Every export and API read: who, when, what, which scope. */
export interface AuditEntry {
  at: Date;
  userId: string;
  email: string;
  action: string;
  format: string;
  scope: string;
  rows?: number;
  /** 'token' when the call was authenticated with a personal API token (absent for a browser session). */
  via?: string;
}
const auditSchema = new Schema<AuditEntry>(
  {
    at: { type: Date, default: Date.now },
    userId: String,
    email: String,
    action: String,
    format: String,
    scope: String,
    rows: Number,
    via: String,
  },
  { collection: 'reports_audit', versionKey: false },
);
auditSchema.index({ at: -1 });
export type AuditModel = Model<AuditEntry>;
export const auditModel = (db: Connection): AuditModel =>
  (db.models.ReportsAudit as AuditModel) ?? db.model<AuditEntry>('ReportsAudit', auditSchema);

/**
 * A personal API token for BI tools. Only the token's SHA-256 is stored, as `_id`: authenticating
 * is one `_id` read (the embedded engine indexes nothing else), and the database never holds a
 * usable token. `prefix` (the first 12 characters) lets people tell their tokens apart.
 */
export interface ApiToken {
  _id: string;
  userId: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt?: Date;
}
const apiTokenSchema = new Schema<ApiToken>(
  { _id: String, userId: String, name: String, prefix: String, createdAt: Date, lastUsedAt: Date },
  { collection: 'reports_api_tokens', versionKey: false },
);
export type ApiTokenModel = Model<ApiToken>;
export const apiTokenModel = (db: Connection): ApiTokenModel =>
  (db.models.ReportsApiToken as ApiTokenModel) ?? db.model<ApiToken>('ReportsApiToken', apiTokenSchema);
