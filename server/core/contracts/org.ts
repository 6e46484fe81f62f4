/**
 * What the `reports` plugin offers the others: the organisation tree, so that an HR officer's
 * rights cover their org unit's subtree. Without the reports plugin, scope is the unit itself.
 */
export interface OrgScope {
  /** Codes of the unit and every unit below it. */
  subtree(code: string): Promise<string[]>;
  /** Display name of a unit (falls back to the code). */
  name(code: string): Promise<string>;
  /** The institution a unit belongs to (itself or its nearest ancestor of kind institution). */
  institutionOf(code: string): Promise<string | undefined>;
  /** Institutions inside a scope ('*': all of them). */
  institutionsIn(scope: string): Promise<string[]>;
}

declare module '../services' {
  interface Services {
    'org.scope': OrgScope;
  }
  interface HookEvents {
    /** A person's "trained" status changed (certificates may issue the path certificate). */
    'reports.person.trained': { userId: string; tier: string; trainedAt: Date; courseIds: string[] };
  }
}
