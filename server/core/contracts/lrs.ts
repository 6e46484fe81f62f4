/**
 * What the `lrs` plugin offers the others. Statements are plain xAPI JSON objects.
 */
export type XapiStatement = Record<string, unknown> & { id?: string };

/** xAPI's interactionType vocabulary (Data 2.4.4.1); SCORM's interaction types are the same words. */
export const XAPI_INTERACTION_TYPES: readonly string[] = [
  'true-false',
  'choice',
  'fill-in',
  'long-fill-in',
  'matching',
  'performance',
  'sequencing',
  'likert',
  'numeric',
  'other',
];

/** An LRS credential: an admin-created client, or a cmi5 launch token bound to one AU session. */
export interface LrsCredential {
  id: string;
  key: string;
  name: string;
  /** xAPI scopes: 'all', 'all/read', 'statements/write', 'statements/read', 'statements/read/mine', 'state', 'profile', 'define'. */
  scopes: string[];
  kind: 'client' | 'launch';
  /** The agent set as `authority` on statements stored with this credential. */
  authority: Record<string, unknown>;
  /** Present on launch tokens (kind 'launch'): what the AU session may do. */
  launch?: {
    actor: Record<string, unknown>;
    registration: string;
    activityId: string;
    sessionId: string;
    /** Free data the catalog attaches (course id, AU id, launch mode, mastery score, ...). */
    meta?: Record<string, unknown>;
  };
}

export interface StoredStatement {
  id: string;
  /** The statement as the LRS returns it (with id, stored, timestamp, authority, version). */
  statement: XapiStatement;
  stored: Date;
}

export interface LrsStatements {
  /**
   * Stores statements as the LMS itself (authority = this LMS), through the same validation and
   * hooks as HTTP. Returns their ids. Used for `launched`, `satisfied`, `abandoned`, `waived`,
   * and certificate statements. With `once`, a statement whose id is already stored counts as
   * stored, whatever its content: follow-ups give their statements name-based ids (`stableId`),
   * and one repeated after a crash (its event redelivered) must not fail on its own first copy.
   */
  storeAsSystem(statements: XapiStatement[], opts?: { once?: boolean }): Promise<string[]>;
}

export interface LrsDocuments {
  /** Writes a state document (activities/state) as the LMS, e.g. cmi5 `LMS.LaunchData`. */
  putState(args: {
    activityId: string;
    agent: Record<string, unknown>;
    stateId: string;
    registration?: string;
    body: unknown;
  }): Promise<void>;
  getState(args: {
    activityId: string;
    agent: Record<string, unknown>;
    stateId: string;
    registration?: string;
  }): Promise<unknown | undefined>;
  /** Writes an agent profile as the LMS, e.g. cmi5 `cmi5LearnerPreferences`. */
  putAgentProfile(args: { agent: Record<string, unknown>; profileId: string; body: unknown }): Promise<void>;
}

export interface LrsCredentials {
  createClient(args: { name: string; scopes: string[] }): Promise<{ id: string; key: string; secret: string }>;
  /** A launch token (cmi5 fetch URL): returned once as base64("key:secret"), bound to one AU session. */
  createLaunchToken(args: {
    name: string;
    launch: NonNullable<LrsCredential['launch']>;
    ttlSeconds?: number;
  }): Promise<{ id: string; authToken: string }>;
  revoke(id: string): Promise<void>;
  /** The credential of a Basic-auth key and secret; undefined if unknown, wrong, revoked or expired. */
  authenticate(key: string, secret: string): Promise<LrsCredential | undefined>;
}

export interface StatementHookPayload {
  statements: XapiStatement[];
  credential: LrsCredential;
}

declare module '../services' {
  interface Services {
    'lrs.statements': LrsStatements;
    'lrs.documents': LrsDocuments;
    'lrs.credentials': LrsCredentials;
  }
  interface HookEvents {
    /** Before a batch is stored; a handler that throws an HttpError (e.g. 403 for cmi5 rules) rejects the whole batch. */
    'lrs.statements.validate': StatementHookPayload;
    /** After a batch is stored (not for idempotent re-posts). Handlers update progress etc. */
    'lrs.statements.stored': StatementHookPayload & { stored: StoredStatement[] };
    /**
     * Before a document request through HTTP, reads included; throwing rejects it (e.g. AUs may
     * not write LMS.LaunchData, an ended AU session reads nothing more).
     */
    'lrs.document.validate': {
      resource: 'state' | 'activityProfile' | 'agentProfile';
      method: 'GET' | 'PUT' | 'POST' | 'DELETE';
      activityId?: string;
      agent?: Record<string, unknown>;
      stateId?: string;
      profileId?: string;
      registration?: string;
      credential: LrsCredential;
    };
  }
}
