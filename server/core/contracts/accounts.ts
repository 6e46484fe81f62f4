/**
 * What the `accounts` plugin offers the others: the people who have accounts, as `SessionUser`s
 * (no password hashes, no sign-in state). Other plugins reach accounts only through this; the
 * plugin's own service has more (sign-in, recovery, the first administrator).
 */
import type { Level } from '../taxonomy';
import type { Role, SessionUser } from '../permissions';

/** A new account. The roster's invited accounts have no password until their invitation is used. */
export interface NewAccount {
  email: string;
  name: string;
  role?: Role;
  password?: string;
  nationalId?: string;
  orgUnit?: string;
  level?: Level;
  tier?: string;
  language?: 'es' | 'pt' | 'en';
}

/** A person's unit, level of government and tier, as an institution's roster gives them. */
export interface Placement {
  id: string;
  orgUnit: string;
  level?: string;
  tier: string;
}

export interface AccountsUsers {
  create(input: NewAccount): Promise<SessionUser>;
  findById(id: string): Promise<SessionUser | undefined>;
  /** For requests on every page (sessions, API tokens): cached a few seconds, undefined if deactivated. */
  findActiveById(id: string): Promise<SessionUser | undefined>;
  findByEmail(email: string): Promise<SessionUser | undefined>;
  /** `q`: name or e-mail words, accent- and case-insensitive. `orgUnit`: one unit or any of several. */
  list(filter?: {
    q?: string;
    role?: string;
    orgUnit?: string | string[];
    skip?: number;
    limit?: number;
  }): Promise<{ users: Array<SessionUser & { active: boolean; lastLoginAt?: Date }>; total: number }>;
  /** Validates the password (400 naming the problem) before setting it. */
  setPassword(id: string, password: string): Promise<void>;
  setActive(id: string, active: boolean): Promise<void>;
  hasAdmin(): Promise<boolean>;
  /** Accounts deactivated before `cutoff` (retention). */
  deactivatedBefore(cutoff: Date, limit?: number): Promise<SessionUser[]>;
  /** The accounts of these addresses (a roster's), in one pass. */
  accountsByEmail(emails: Set<string>): Promise<Map<string, { id: string; role: Role; orgUnit?: string }>>;
  /** Learner accounts without a password, for invitations; existing addresses are left as they are. */
  createInvited(inputs: NewAccount[]): Promise<Map<string, { id: string; created: boolean }>>;
  /** Moves learners to the unit, level and tier their roster gives; returns how many changed. */
  setPlacements(placements: Placement[]): Promise<number>;
}

/** How people sign in, as other plugins must respect it. */
export interface AccountsSignIn {
  /**
   * The org units (with everything below them) whose people sign in only with an identity
   * provider that requires it: they get no password and no invitation to set one; a roster records
   * them and their account is made at their first sign-in (just in time, from the roster entry).
   */
  ssoOnlyUnits(): Promise<Set<string>>;
}

declare module '../services' {
  interface Services {
    'accounts.users': AccountsUsers;
    'accounts.sign-in': AccountsSignIn;
  }
}
