import express, { type Request, type Response } from 'express';
import { localizedError } from '../../core/errors';
import type { Route } from '../../core/routes';
import type { Mailer } from './mailer';
import { KINDS, type Kind, type NotificationModels } from './notifications.model';

async function setOff(m: NotificationModels, userId: string, off: Kind[]): Promise<void> {
  await m.prefs.updateOne({ _id: userId }, { $set: { off: [...new Set(off)], updatedAt: new Date() } }, { upsert: true });
}

/** The signed-in person's preferences page. */
export function notificationRoutes(m: NotificationModels, mailer: Mailer): Route[] {
  const page = async (req: Request, res: Response, saved = false) => {
    const prefs = await m.prefs.findById(req.user!.id).lean();
    res.render('notifications/preferences', {
      title: req.t('notifications:preferences.title'),
      kinds: KINDS.filter((k) => k !== 'digest' || req.user!.role !== 'learner'),
      off: new Set(prefs?.off ?? []),
      saved,
      mailConfigured: mailer.configured,
    });
  };
  return [
    {
      method: 'get',
      path: '/admin/failed',
      guard: 'notifications:admin',
      handler: async (req, res) =>
        res.render('notifications/failed', { title: req.t('notifications:admin.failed'), failures: await mailer.failures(100) }),
    },
    { method: 'get', path: '/preferences', guard: 'notifications:preferences', handler: (req, res) => page(req, res) },
    {
      method: 'post',
      path: '/preferences',
      guard: 'notifications:preferences',
      handler: async (req, res) => {
        const on = new Set(([] as unknown[]).concat(req.body?.on ?? []).map(String));
        await setOff(
          m,
          req.user!.id,
          KINDS.filter((k) => !on.has(k)),
        );
        await page(req, res, true);
      },
    },
  ];
}

/**
 * The unsubscribe link of every e-mail, at the site's root: it works without signing in (the
 * token is the person's authority for this one change). GET shows a button (mail scanners follow
 * links); POST turns the kind off, also as the one-click request of RFC 8058, which a mail client
 * sends without a page or CSRF token — hence no CSRF check here.
 */
export function unsubscribeRoutes(m: NotificationModels, mailer: Mailer): Route[] {
  const read = (req: Request) => {
    const who = mailer.readToken(String(req.params.token));
    if (!who) throw localizedError(404, 'notifications:unsubscribe.invalid');
    return who;
  };
  const render = (req: Request, res: Response, kind: Kind, done: boolean) =>
    res.render('notifications/unsubscribe', { title: req.t('notifications:unsubscribe.title'), kind, done, token: req.params.token });
  return [
    {
      method: 'get',
      path: '/notifications/unsubscribe/:token',
      guard: 'public',
      handler: (req, res) => render(req, res, read(req).kind, false),
    },
    {
      method: 'post',
      path: '/notifications/unsubscribe/:token',
      guard: 'public',
      handler: [
        express.urlencoded({ extended: false, limit: '4kb' }),
        async (req, res) => {
          const who = read(req);
          const prefs = await m.prefs.findById(who.userId).lean();
          await setOff(m, who.userId, [...(prefs?.off ?? []), who.kind]);
          if (req.body?.['List-Unsubscribe'] === 'One-Click') return res.status(200).type('text/plain').send('OK');
          render(req, res, who.kind, true);
        },
      ],
    },
  ];
}
