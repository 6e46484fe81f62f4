import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from './errors';

export const ROLES = ['learner', 'hr', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What the session knows about the signed-in person (set by the accounts plugin). */
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  language: string;
  /** Org unit the person belongs to (an HR officer's scope is this unit's subtree). */
  orgUnit?: string;
  level?: string;
  tier?: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends SessionUser {}
  }
}

/**
 * Separation of duties, on top of an HR officer's unit scope: an HR officer acts on the people of
 * their units (waivers, certificate revocation and reissue, person pages), but never on an
 * administrator's account, whose records only administrators handle, nor on their own (no
 * self-waived requirement, no self-reissued certificate). Administrators act on anyone.
 */
export function mayManagePerson(actor: SessionUser, person: { id: string; role: Role }): boolean {
  if (actor.role === 'admin') return true;
  return actor.role === 'hr' && person.role !== 'admin' && person.id !== actor.id;
}

export interface PermissionSpec {
  /** Roles that hold the permission by default. */
  roles: Role[];
  description?: string;
}

/** Permissions are data declared in plugin manifests and checked here, in one place. */
export class Permissions {
  private readonly specs = new Map<string, PermissionSpec>();

  declare(plugin: string, perms: Record<string, PermissionSpec> = {}): void {
    for (const [name, spec] of Object.entries(perms)) {
      if (!name.startsWith(`${plugin}:`)) throw new Error(`Permission "${name}" of plugin "${plugin}" must start with "${plugin}:".`);
      this.specs.set(name, spec);
    }
  }

  allows(user: SessionUser | undefined, permission: string): boolean {
    const spec = this.specs.get(permission);
    if (!spec) throw new Error(`Unknown permission "${permission}" (declare it in the plugin manifest).`);
    return !!user && spec.roles.includes(user.role);
  }

  /** Route guard: 401 (or a redirect to the login page for browsers) when anonymous, 403 when not allowed. */
  guard(permission?: string): RequestHandler {
    if (permission) this.allows(undefined, permission); // fail at start-up on a typo, not per request
    return (req: Request, _res: Response, next: NextFunction) => {
      if (!req.user) return next(new HttpError(401, 'Sign-in required', { key: 'core:errors.401.body' }));
      if (permission && !this.allows(req.user, permission)) {
        return next(new HttpError(403, `Missing permission ${permission}`, { key: 'core:errors.403.body' }));
      }
      next();
    };
  }

  list(): Array<[string, PermissionSpec]> {
    return [...this.specs.entries()];
  }
}
