import type { Request, Response } from 'express';
import { pageNumber } from '../../core/page-number';
import type { Route } from '../../core/routes';
import type { Inbox } from './inbox';

const PAGE = 30;

/** The signed-in person's own notifications: the list, newest first, and marking them read. */
export function inboxRoutes(inbox: Inbox): Route[] {
  const page = async (req: Request, res: Response) => {
    const n = pageNumber(req.query.page);
    const userId = req.user!.id;
    const [{ notices, total }, unread] = await Promise.all([
      inbox.list(userId, req.lang, { skip: (n - 1) * PAGE, limit: PAGE }),
      inbox.unread(userId),
    ]);
    res.render('notifications/inbox', {
      title: req.t('notifications:inbox.title'),
      notices,
      total,
      unread,
      page: n,
      pages: Math.max(1, Math.ceil(total / PAGE)),
      done: typeof req.query.done === 'string' ? req.query.done : '',
    });
  };
  // Back to the same page of the list, at the notice just read (its heading), for keyboard users.
  const back = (req: Request, done: string, anchor = '') => {
    const n = pageNumber(req.body?.page);
    return `/notifications/inbox?done=${done}${n > 1 ? `&page=${n}` : ''}${anchor}`;
  };
  return [
    { method: 'get', path: '/inbox', guard: 'notifications:preferences', handler: page },
    {
      method: 'post',
      path: '/inbox/read-all',
      guard: 'notifications:preferences',
      handler: async (req, res) => {
        await inbox.markAllRead(req.user!.id);
        res.redirect(303, back(req, 'all'));
      },
    },
    {
      method: 'post',
      path: '/inbox/:id/read',
      guard: 'notifications:preferences',
      handler: async (req, res) => {
        const id = String(req.params.id);
        await inbox.markRead(req.user!.id, id);
        res.redirect(303, back(req, 'one', `#n-${encodeURIComponent(id)}`));
      },
    },
  ];
}
