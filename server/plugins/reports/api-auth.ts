import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { detectLanguage } from '../../core/i18n';
import type { Reports } from './bundle';

/** Users authenticated by an API token in this request (the object is a fresh copy per request). */
const byToken = new WeakSet<Express.User>();

/** Whether this request's user came from an API token rather than a browser session. */
export const viaToken = (user: Express.User): boolean => byToken.has(user);

/**
 * `Authorization: Bearer lmsr_…` for BI tools. Mounted on the reports router for `/api` and
 * `/export` only, and it acts on GET requests only: a token never reaches a form or any other
 * write. A valid token of an active account sets `req.user`; the route's permission guard and
 * the scope checks then apply exactly as for a session. A bad or revoked token, or a deactivated
 * account, is a 401 with `WWW-Authenticate`. Without the header, the session decides as usual.
 */
export function apiTokenAuth(r: Reports): RequestHandler {
  const reject = (res: Response) =>
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer error="invalid_token"')
      .json({ error: 'Invalid or revoked API token, or the account is deactivated' });

  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET') return next();
    const header = req.headers.authorization;
    if (header === undefined || !/^bearer(\s|$)/i.test(header)) return next();
    try {
      const token = header.slice('bearer'.length).trim();
      const userId = token ? await r.tokens.authenticate(token) : undefined;
      const user = userId ? await r.rt.services.get('accounts.users').findActiveById(userId) : undefined;
      if (!user) return reject(res);
      byToken.add(user);
      req.user = user;
      // res.locals.user stays unset: an HTML error page would otherwise show the sign-out form,
      // whose CSRF token opens a session (and sets a cookie) for a client that has none.
      req.setLanguage(detectLanguage(req)); // the account's language, as for a session
      next();
    } catch (err) {
      next(err);
    }
  };
}
