import type { Request } from 'express';
import { HttpError } from '../../core/errors';
import { ALL, type OrgService } from './org.service';

/**
 * What a signed-in person may see: the national programme (admin) everything, an HR officer the
 * subtree of their own org unit. Every query, page and export goes through here.
 */
export class ScopeGuard {
  constructor(private readonly org: OrgService) {}

  root(req: Request): string {
    const u = req.user!;
    if (u.role === 'admin') return ALL;
    if (!u.orgUnit)
      throw new HttpError(403, 'Your account has no org unit: ask the programme to assign one', { key: 'reports:errors.noOrgUnit' });
    return u.orgUnit;
  }

  /** The scope asked for (`?unit=`), or the person's own; 403 when it is outside their rights. */
  async requested(req: Request, asked?: unknown): Promise<string> {
    const root = this.root(req);
    const code = typeof asked === 'string' && asked.trim() ? asked.trim() : root;
    if (code !== ALL && !(await this.org.get(code)) && code !== root) throw new HttpError(404, `No org unit with code ${code}`);
    if (!(await this.org.within(root, code)))
      throw new HttpError(403, `Org unit ${code} is outside your scope`, { key: 'core:errors.403.body' });
    return code;
  }

  /** Units of a scope for people queries ('*' = no filter). */
  async units(scope: string): Promise<string[] | '*'> {
    return scope === ALL ? '*' : this.org.subtree(scope);
  }

  async allows(req: Request, code: string): Promise<boolean> {
    return this.org.within(this.root(req), code);
  }
}
