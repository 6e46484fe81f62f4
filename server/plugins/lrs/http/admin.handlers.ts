/** Admin pages: list, create and revoke LRS clients. The secret is shown once, right after creation. */
import type { Request, Response } from 'express';
import { HttpError, errorText } from '../../../core/errors';
import { SCOPES, type CredentialsService } from '../credentials.service';

export function adminHandlers(credentials: CredentialsService) {
  const render = async (req: Request, res: Response, extra: Record<string, unknown> = {}) => {
    res.render('lrs/clients', {
      title: req.t('lrs:admin.title'),
      clients: await credentials.list(),
      scopes: SCOPES,
      created: undefined,
      error: undefined,
      form: {},
      endpoint: `${res.locals.baseUrl}/xapi/`,
      ...extra,
    });
  };
  return {
    list: (req: Request, res: Response) => render(req, res),
    async create(req: Request, res: Response) {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const scopes = ([] as unknown[]).concat(body.scopes ?? []).map(String);
      try {
        const created = await credentials.createClient({ name: String(body.name ?? ''), scopes });
        await render(req, res.status(201), { created });
      } catch (err) {
        if (!(err instanceof HttpError) || err.status !== 400) throw err;
        await render(req, res.status(400), {
          error: errorText(req.t, err),
          form: { name: body.name, scopes },
        });
      }
    },
    async revoke(req: Request, res: Response) {
      await credentials.revoke(String(req.params.key));
      res.redirect(303, '/lrs/admin/clients');
    },
  };
}
