import type { NextFunction, Request, Response } from 'express';
import { HttpError, errorText } from './errors';
import type { Logger } from './log';

/** Clients that want JSON: API paths, or an Accept header that prefers JSON to HTML. */
function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/xapi') || req.path.includes('/api/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction) {
  next(new HttpError(404, `No such page: ${req.method} ${req.path}`, { key: 'core:errors.404.body' }));
}

interface ParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
  expose?: boolean;
  message?: string;
}

/**
 * The one place errors become responses. 4xx carry a message naming the problem; 5xx are logged
 * with their stack and shown as a plain "something went wrong" page — never a stack trace.
 */
export function errorHandler(log: Logger, preparePage: (req: Request, res: Response) => void) {
  // Express recognises error handlers by their four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let message = 'Internal server error';
    let key: string | undefined;
    let params: Record<string, unknown> | undefined;
    let details: unknown;
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
      key = err.options.key;
      params = err.options.params;
      details = err.options.details;
      for (const [h, v] of Object.entries(err.options.headers ?? {})) res.setHeader(h, v);
    } else if (typeof err === 'object' && err !== null) {
      const e = err as ParserError;
      const s = e.status ?? e.statusCode;
      if (e.code === 'EBADCSRFTOKEN') {
        status = 403;
        message = 'Invalid or missing CSRF token: reload the form and try again';
        key = 'core:errors.csrf';
      } else if (e.type === 'entity.parse.failed') {
        status = 400;
        message = 'Malformed request body: it is not valid JSON or form data';
      } else if (e.type === 'entity.too.large') {
        status = 413;
        message = 'Request body too large';
      } else if (s && s >= 400 && s < 500) {
        status = s;
        message = e.expose && e.message ? e.message : 'Bad request';
      }
    }
    if (status >= 500) log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return res.end();
    res.status(status);
    if (wantsJson(req)) {
      res.json({ error: { status, message, ...(details ? { details } : {}) } });
      return;
    }
    if (status === 401 && req.method === 'GET') {
      return res.redirect(303, `/accounts/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    preparePage(req, res);
    const t = req.t;
    const known = [400, 401, 403, 404, 410, 413, 422, 429, 500].includes(status) ? status : status >= 500 ? 500 : 400;
    const view = {
      title: t(`core:errors.${known}.title`),
      status,
      explanation: key ? t(key, params) : t(`core:errors.${known}.body`),
      // An error that explains itself (a package's broken rule) is read in the page's language.
      detail: status < 500 && !key ? (err instanceof HttpError ? errorText(t, err) : message) : undefined,
    };
    // A broken template must not turn an error page into a stack trace.
    res.render('errors/error', view, (renderErr: Error | null, html?: string) => {
      if (renderErr) {
        log.error({ err: renderErr }, 'error page failed to render');
        res.type('text/plain').send(`${status} ${view.title}`);
      } else res.send(html);
    });
  };
}
