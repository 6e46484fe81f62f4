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

/** A new sign-up link for a person whose account has no password yet. */
export interface Invitation {
  link: string;
  /** Whether it went out by e-mail (a mail server is configured and accepted it). */
  sent: boolean;
}

/** The sign-up invitations of accounts created without a password (rosters, admins). */
export interface RosterInvitations {
  /** When the person's latest pending invitation was made and sent, if they have one. */
  pending(userId: string): Promise<{ createdAt: Date; sentAt?: Date; institution: string } | undefined>;
  /**
   * Replaces the person's pending invitations with a new one (earlier links stop working) and
   * e-mails it with `mail` (subject and text in the person's language) when a mail server is set.
   */
  resend(
    person: { id: string; email: string; name: string; institution: string },
    mail: { subject: string; text: (name: string, link: string) => string },
  ): Promise<Invitation>;
}

declare module '../services' {
  interface Services {
    'roster.directory': RosterDirectory;
    'roster.invitations': RosterInvitations;
  }
}
