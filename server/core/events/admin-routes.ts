/**
 * The failed deliveries page (admins): after-events a consumer gave up on, with the error and a
 * retry button that gives the entry a fresh set of attempts. Mounted at /admin/events.
 */
import type { Request, Response } from 'express';
import { HttpError } from '../errors';
import type { Route } from '../routes';
import type { Outbox } from './outbox';

export const EVENTS_PERMISSION = 'core:events';

export function eventAdminRoutes(outbox: Outbox): Route[] {
  return [
    {
      method: 'get',
      path: '/',
      guard: EVENTS_PERMISSION,
      handler: async (req: Request, res: Response) => {
        const [failed, outstanding] = await Promise.all([outbox.listFailed(), outbox.outstanding()]);
        res.render('core/events', {
          title: req.t('core:events.title'),
          failed,
          outstanding,
          retried: typeof req.query.retried === 'string' ? req.query.retried : undefined,
        });
      },
    },
    {
      method: 'post',
      path: '/retry',
      guard: EVENTS_PERMISSION,
      handler: async (req: Request, res: Response) => {
        const id = (req.body as Record<string, unknown> | undefined)?.id;
        if (typeof id !== 'string' || !id || id.length > 2000) throw new HttpError(400, 'id: the failed delivery to retry is missing');
        if (!(await outbox.retry(id))) throw new HttpError(404, `no failed delivery ${id} (already retried or delivered?)`);
        res.redirect(303, `/admin/events?retried=${encodeURIComponent(id)}`);
      },
    },
  ];
}
