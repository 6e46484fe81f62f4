import type { Request, Response } from 'express';
import type { OrgScope } from '../../core/contracts/org';
import { localizedError } from '../../core/errors';
import type { Route } from '../../core/routes';
import { KINDS, type Kind, type NotificationModels } from './notifications.model';

/** The institutions a person may switch kinds for: all (admin), those in their subtree (HR). */
async function manageable(org: OrgScope, req: Request): Promise<string[]> {
  const u = req.user!;
  if (u.role === 'admin') return org.institutionsIn('*');
  return u.orgUnit ? org.institutionsIn(u.orgUnit) : [];
}

/**
 * Each kind of notification switched on or off for everyone in an institution (its HR or the
 * programme's administrators). Mailer.deliver reads the switch for every sender.
 */
export function institutionRoutes(m: NotificationModels, org: () => OrgScope): Route[] {
  const page = async (req: Request, res: Response, saved?: string) => {
    const codes = await manageable(org(), req);
    const docs = new Map((await m.institutions.find({ _id: { $in: codes } }).lean()).map((d) => [d._id, new Set(d.off)]));
    const institutions = await Promise.all(
      codes.map(async (code) => ({ code, name: await org().name(code), off: docs.get(code) ?? new Set() })),
    );
    res.render('notifications/institutions', { title: req.t('notifications:institutions.title'), institutions, kinds: KINDS, saved });
  };
  return [
    { method: 'get', path: '/institutions', guard: 'notifications:institutions', handler: (req, res) => page(req, res) },
    {
      method: 'post',
      path: '/institutions',
      guard: 'notifications:institutions',
      handler: async (req, res) => {
        const code = String(req.body?.institution ?? '');
        if (!(await manageable(org(), req)).includes(code)) throw localizedError(403, 'notifications:institutions.outside');
        const on = new Set(([] as unknown[]).concat(req.body?.on ?? []).map(String));
        const off: Kind[] = KINDS.filter((k) => !on.has(k));
        await m.institutions.updateOne({ _id: code }, { $set: { off, updatedAt: new Date() } }, { upsert: true });
        await page(req, res, code);
      },
    },
  ];
}
