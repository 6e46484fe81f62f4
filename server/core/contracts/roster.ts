/**
 * What the `reports` plugin offers the accounts plugin's sign-in with an identity provider: the
 * institutions' rosters, which alone decide whether a person gets an account and where they work
 * (institution, unit, level and tier) — never the identity provider.
 */
export interface RosterEntry {
  /** The roster person's id (`institution:employeeId`). */
  id: string;
  institution: string;
  employeeId: string;
  name: string;
  email: string;
  unit: string;
  level: string;
  tier: string;
  /** The account already linked to this person, if any. */
  userId?: string;
}

/** How a verified identity finds its roster person: e-mail (lower-case), employee id or national id. */
export type RosterKey = 'email' | 'employeeId' | 'nationalId';

export interface RosterDirectory {
  /** Active roster people whose unit is one of `units`, found by `key`. */
  find(units: string[], key: RosterKey, value: string): Promise<RosterEntry[]>;
  /**
   * Whether an active roster person *outside* `units` has this value: a national id that is
   * another institution's person's, to be refused with a message saying so (and nothing moved).
   */
  heldElsewhere(units: string[], key: RosterKey, value: string): Promise<boolean>;
  /** Links a roster person to the account just created for them (only if none is linked yet). */
  linkAccount(personId: string, userId: string): Promise<boolean>;
}

declare module '../services' {
  interface Services {
    'roster.directory': RosterDirectory;
  }
}
