import type { Request, Response } from 'express';
import { isValidObjectId } from 'mongoose';
import { HttpError } from '../../core/errors';
import type { Route } from '../../core/routes';
import type { PrivacyService } from './privacy.service';

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const wantsJson = (req: Request) => req.accepts(['html', 'json']) === 'json';

/** What the users directory offers these pages (the accounts plugin's `accounts.users`). */
export interface Directory {
  findById(id: string): Promise<{ id: string; email: string; name: string; role: string; orgUnit?: string } | undefined>;
  list(f: {
    q?: string;
    limit?: number;
  }): Promise<{ users: Array<{ id: string; email: string; name: string; role: string; active: boolean }> }>;
}

export function privacyRoutes(svc: PrivacyService, directory: () => Directory): Route[] {
  const sendArchive = async (res: Response, userId: string, by: Parameters<PrivacyService['exportArchive']>[1]) => {
    const { stream, fileName } = await svc.exportArchive(userId, by);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="${fileName}"`);
    stream.pipe(res);
  };

  const person = async (req: Request) => {
    const id = String(req.params.id);
    const p = isValidObjectId(id) ? await directory().findById(id) : undefined;
    if (!p) throw new HttpError(404, 'No such person', { key: 'core:errors.404.body' });
    return p;
  };

  const mine = (req: Request, res: Response) => {
    res.render('privacy/mine', { title: req.t('privacy:mine.title'), holdings: svc.holdings(), retentionDays: svc.retention.days });
  };

  const admin = async (req: Request, res: Response) => {
    const q = str(req.query.q).trim().slice(0, 254);
    res.render('privacy/admin', {
      title: req.t('privacy:admin.title'),
      q,
      found: q ? (await directory().list({ q, limit: 50 })).users : undefined,
      unfinished: await svc.unfinished(),
      audit: await svc.recentAudit(50),
      retentionDays: svc.retention.days,
      done: str(req.query.done),
    });
  };

  const personPage = async (req: Request, res: Response, status = 200, error?: string) => {
    const p = await person(req);
    res.status(status).render('privacy/person', { title: req.t('privacy:person.title'), person: p, holdings: svc.holdings(), error });
  };

  const finished = (req: Request, res: Response, erasure: { _id: string; status: string }) => {
    if (wantsJson(req)) return res.json({ erasure: erasure._id, status: erasure.status });
    res.redirect(303, '/privacy/admin?done=erased');
  };

  return [
    { method: 'get', path: '/', guard: 'privacy:export-own', handler: mine },
    // The privacy notice: public, built from what each plugin declares it keeps.
    {
      method: 'get',
      path: '/notice',
      guard: 'public',
      handler: (req, res) =>
        res.render('privacy/notice', { title: req.t('privacy:notice.title'), holdings: svc.holdings(), retentionDays: svc.retention.days }),
    },
    {
      method: 'get',
      path: '/export.zip',
      guard: 'privacy:export-own',
      handler: (req, res) => sendArchive(res, req.user!.id, { id: req.user!.id, via: 'self' }),
    },
    { method: 'get', path: '/admin', guard: 'privacy:manage', handler: admin },
    { method: 'get', path: '/admin/people/:id', guard: 'privacy:manage', handler: (req, res) => personPage(req, res) },
    {
      method: 'get',
      path: '/admin/people/:id/export.zip',
      guard: 'privacy:manage',
      handler: async (req, res) => sendArchive(res, (await person(req)).id, { id: req.user!.id, via: 'admin' }),
    },
    {
      method: 'post',
      path: '/admin/people/:id/erase',
      guard: 'privacy:manage',
      handler: async (req, res) => {
        const p = await person(req);
        // Typing the person's e-mail is the confirmation: an erasure cannot be undone.
        if (str(req.body?.confirm).trim().toLowerCase() !== p.email.toLowerCase()) {
          if (wantsJson(req))
            throw new HttpError(400, 'confirm: type the person’s e-mail address to confirm the erasure', { key: 'privacy:errors.confirm' });
          return personPage(req, res, 400, req.t('privacy:errors.confirm'));
        }
        finished(req, res, await svc.erase(p.id, { id: req.user!.id, via: 'admin' }));
      },
    },
    {
      method: 'post',
      path: '/admin/erasures/:id/resume',
      guard: 'privacy:manage',
      handler: async (req, res) => finished(req, res, await svc.resume(String(req.params.id), { id: req.user!.id, via: 'admin' })),
    },
  ];
}
