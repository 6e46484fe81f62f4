import type { Request, Response } from 'express';
import { HttpError, errorText } from '../../core/errors';
import type { Reports } from './bundle';
import { MAX_TOKENS_PER_USER } from './api-tokens.service';
import type { ApiToken } from './store.model';

/** `/reports/tokens`: a person's own API tokens for BI tools (create, list, revoke). */
export function tokensHandlers(r: Reports) {
  const render = async (
    req: Request,
    res: Response,
    extra: { error?: string; message?: string; created?: { token: string; doc: ApiToken }; form?: Record<string, string> } = {},
  ) => {
    res.render('reports/tokens', {
      title: req.t('reports:tokens.title'),
      tokens: await r.tokens.list(req.user!.id),
      max: MAX_TOKENS_PER_USER,
      created: undefined,
      form: {},
      message: req.query.revoked === '1' ? req.t('reports:tokens.revoked') : undefined,
      ...extra,
    });
  };

  const page = (req: Request, res: Response) => render(req, res);

  const create = async (req: Request, res: Response) => {
    const name = typeof req.body?.name === 'string' ? req.body.name : '';
    try {
      const created = await r.tokens.create(req.user!.id, name);
      // The token is in this page and nowhere else (which, as every page, no cache keeps).
      res.status(201);
      await render(req, res, { created, message: req.t('reports:tokens.created') });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      res.status(err.status);
      await render(req, res, {
        error: errorText(req.t, err),
        form: { name },
      });
    }
  };

  const revoke = async (req: Request, res: Response) => {
    await r.tokens.revoke(req.user!.id, String(req.params.id));
    res.redirect(303, '/reports/tokens?revoked=1');
  };

  return { page, create, revoke };
}
