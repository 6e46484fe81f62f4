import { Schema, type Connection, type Model } from 'mongoose';
import type { LaunchMode } from './cmi5';
import type { MoveOn } from '../paths/course-reader';

/** catalog_sessions: one AU launch session (cmi5 §9.6.3.1), `_id` = session id (UUID). */
export interface SessionDoc {
  _id: string;
  registration: string;
  userId: string;
  courseId: string;
  courseVersion: number;
  /** The AU's publisher id (course structure) and the LMS-generated activity id (launch URL). */
  auId: string;
  activityId: string;
  /** The cmi5 launch token (LRS credential); SCORM sessions have none (they commit to the catalog). */
  credentialId?: string;
  launchMode: LaunchMode;
  moveOn: MoveOn;
  masteryScore?: number;
  state: 'launched' | 'initialized' | 'terminated' | 'abandoned';
  /** cmi5 defined verbs already used in this session (names, e.g. 'completed'). */
  verbs: string[];
  /** The AU has read cmi5LearnerPreferences in this session (required before "initialized", §11.0). */
  preferencesRead?: boolean;
  /** Ids of the statements accepted in this session: a re-post of one of them is not a new statement. */
  statementIds: string[];
  /** Those of them that broke the rules when followed up (voided by the LMS; they count for nothing). */
  conflictIds?: string[];
  /** Id of the statement that terminated the session (a retry of its request is not "after terminated"). */
  terminatedBy?: string;
  launchedAt: Date;
  lastStatementAt?: Date;
  endedAt?: Date;
  /** Absent for cmi5. */
  format?: 'scorm';
  scorm?: ScormSessionData;
}

/** A SCORM session: its attempt (xAPI SCORM profile), its commit key and what it has reported so far. */
export interface ScormSessionData {
  version: '1.2' | '2004';
  attemptIri: string;
  /** The attempt resumed (cmi.entry = resume) and where its data comes from. */
  entry: 'ab-initio' | 'resume' | '';
  resumeFrom?: string;
  /** sha256 of the secret the SCO commits with. */
  commitKeyHash: string;
  /** Highest commit sequence number applied (a retried commit is applied once). */
  lastSeq: number;
  initialized?: boolean;
  completed?: boolean;
  success?: 'passed' | 'failed';
  scoreKey?: string;
  interactions?: number;
  exit?: string;
}
const sessionSchema = new Schema<SessionDoc>(
  {
    _id: { type: String, required: true },
    registration: { type: String, required: true },
    userId: { type: String, required: true },
    courseId: { type: String, required: true },
    courseVersion: { type: Number, required: true },
    auId: { type: String, required: true },
    activityId: { type: String, required: true },
    credentialId: String,
    launchMode: { type: String, required: true },
    moveOn: { type: String, required: true },
    masteryScore: Number,
    state: { type: String, required: true, default: 'launched' },
    verbs: { type: [String], default: [] },
    preferencesRead: Boolean,
    statementIds: { type: [String], default: [] },
    conflictIds: { type: [String], default: undefined },
    terminatedBy: String,
    launchedAt: { type: Date, default: Date.now },
    lastStatementAt: Date,
    endedAt: Date,
    format: String,
    // Small, written whole by the SCORM commit handler.
    scorm: Schema.Types.Mixed,
  },
  { collection: 'catalog_sessions', versionKey: false },
);
// A learner's sessions (history) and a registration's sessions, on MongoDB.
sessionSchema.index({ userId: 1, launchedAt: -1 });
sessionSchema.index({ registration: 1, launchedAt: -1 });

/**
 * catalog_fetch: the one-time fetch URL (cmi5 §8.2), `_id` = the random id in the URL. The token
 * is removed the first time it is returned; the document stays so a second call gets error 1.
 */
export interface FetchDoc {
  _id: string;
  sessionId: string;
  authToken?: string;
  createdAt: Date;
  usedAt?: Date;
}
const fetchSchema = new Schema<FetchDoc>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true },
    authToken: String,
    createdAt: { type: Date, default: Date.now },
    usedAt: Date,
  },
  { collection: 'catalog_fetch', versionKey: false },
);
// Periodic clean-up of old fetch documents (no TTL indexes on FerretDB).
fetchSchema.index({ createdAt: 1 });

export function sessionModels(db: Connection) {
  return {
    sessions: (db.models.CatalogSession as Model<SessionDoc>) ?? db.model<SessionDoc>('CatalogSession', sessionSchema),
    fetches: (db.models.CatalogFetch as Model<FetchDoc>) ?? db.model<FetchDoc>('CatalogFetch', fetchSchema),
  };
}
export type SessionModels = ReturnType<typeof sessionModels>;
