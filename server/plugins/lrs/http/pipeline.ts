/**
 * What every /xapi request goes through before its handler: CORS, the 1.0.3 alternate request
 * syntax, the version header, Basic auth and a size-limited body. Handlers read the outcome from
 * `xapi(res)` instead of req.query/req.headers, because the alternate syntax moves headers and
 * parameters into a form body.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from '../../../core/errors';
import type { LrsCredential } from '../../../core/contracts/lrs';
import type { CredentialsService } from '../credentials.service';
import type { Family } from '../validate/primitives';

export interface XapiContext {
  /** Version to answer with: "1.0.3" or "2.0.0". */
  version: string;
  family: Family;
  method: string;
  params: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body?: Buffer;
  contentType?: string;
  credential?: LrsCredential;
}

export const xapi = (res: Response): XapiContext => res.locals.xapi as XapiContext;

export const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, PUT, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match, X-Requested-With',
  'Access-Control-Expose-Headers': 'ETag, Last-Modified, X-Experience-API-Consistent-Through, X-Experience-API-Version, Content-Type',
  'Access-Control-Max-Age': '86400',
};

/**
 * `//` in a resource path is read as `/`: clients build URLs by appending `/statements` to the
 * endpoint, and endpoints are handed out with and without a trailing slash (cmi5 AUs, BI tools).
 * Only the path is touched; the query string is left as sent.
 */
export function collapseSlashes(): RequestHandler {
  return (req, _res, next) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (path.includes('//')) req.url = path.replace(/\/{2,}/g, '/') + (q < 0 ? '' : req.url.slice(q));
    next();
  };
}

/** AUs call the LRS from the page, possibly from another origin or an opaque (`null`) one. */
export function cors(): RequestHandler {
  return (req, res, next) => {
    res.set(CORS_HEADERS);
    // helmet's defaults are for our HTML pages; an API read from other origins must not forbid it.
    res.removeHeader('Cross-Origin-Resource-Policy');
    res.removeHeader('Cross-Origin-Opener-Policy');
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  };
}

/** Reads the body, counting bytes as they arrive: over the limit is 413 before it is all in memory. */
export function readBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        chunks.length = 0;
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => !done && ((done = true), resolve(Buffer.concat(chunks))));
    req.on('error', (err) => !done && ((done = true), reject(err)));
  });
}

const tooLarge = (limit: number) => new HttpError(413, `Request body larger than the limit of ${limit} bytes (LRS_BODY_LIMIT)`);

const HEADER_PARAMS = ['authorization', 'x-experience-api-version', 'content-type', 'content-length', 'if-match', 'if-none-match'];
const ALT_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

function familyOf(v: string | undefined): Family | undefined {
  if (!v) return undefined;
  if (/^1\.0(\.\d+)?$/.test(v)) return '1.0';
  if (/^2\.0(\.\d+)?$/.test(v)) return '2.0';
  return undefined;
}

function singleParams(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  const url = new URL(req.originalUrl, 'http://x');
  for (const [k, v] of url.searchParams) {
    if (k in out) throw new HttpError(400, `query parameter ${k} is given more than once`, { details: { field: k } });
    out[k] = v;
  }
  return out;
}

export function prepare(opts: {
  credentials: CredentialsService;
  bodyLimit: number;
  needsAuth: (path: string) => boolean;
  defaultVersion: string;
}): RequestHandler {
  const lastVersion = new Map<string, string>();
  return (req: Request, res: Response, next: NextFunction) => {
    (async () => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      let params = singleParams(req);
      let body: Buffer | undefined;
      const alt = params.method !== undefined;

      if (alt) {
        const form = req.method === 'POST' ? new URLSearchParams((await readBody(req, opts.bodyLimit)).toString('utf8')) : undefined;
        const version = headers['x-experience-api-version'] ?? form?.get('X-Experience-API-Version') ?? undefined;
        if (familyOf(version) === '2.0')
          throw new HttpError(400, 'The alternate request syntax (?method=) does not exist in xAPI 2.0', { details: { field: 'method' } });
        if (req.method !== 'POST' || !form)
          throw new HttpError(400, 'The alternate request syntax must be sent as POST', { details: { field: 'method' } });
        if (!/^application\/x-www-form-urlencoded\b/i.test(headers['content-type'] ?? '')) {
          throw new HttpError(400, 'The alternate request syntax needs a Content-Type of application/x-www-form-urlencoded', {
            details: { field: 'Content-Type' },
          });
        }
        const extra = Object.keys(params).filter((k) => k !== 'method');
        if (extra.length)
          throw new HttpError(400, `With the alternate request syntax, ${extra[0]} must be in the form body, not the query string`, {
            details: { field: extra[0] },
          });
        const method = params.method.toUpperCase();
        if (!ALT_METHODS.includes(method))
          throw new HttpError(400, `method=${params.method} is not an HTTP method the LRS knows`, { details: { field: 'method' } });
        params = {};
        for (const [k, v] of form) {
          if (HEADER_PARAMS.includes(k.toLowerCase())) headers[k.toLowerCase()] = v;
          else if (k === 'content') body = Buffer.from(v, 'utf8');
          else params[k] = v;
        }
        if (body && !form.has('Content-Type') && !form.has('content-type')) headers['content-type'] = 'application/json';
        if (!body) headers['content-type'] = undefined;
        req.method = method; // lets the route table dispatch to the real method's handler
      }

      let credential: LrsCredential | undefined;
      if (opts.needsAuth(req.path)) {
        const m = /^Basic\s+(\S+)$/i.exec(headers.authorization ?? '');
        const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        credential = colon > 0 ? await opts.credentials.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
        if (!credential) {
          res.set('X-Experience-API-Version', opts.defaultVersion);
          throw new HttpError(401, 'Authentication required: HTTP Basic with an LRS key and secret', {
            headers: { 'WWW-Authenticate': 'Basic realm="xAPI"' },
          });
        }
      }

      const rawVersion = headers['x-experience-api-version'];
      const family = familyOf(rawVersion);
      // Every response states a version, errors included. A request that does not say which version
      // it speaks is answered in the one its credential last used (clients speak one version), else
      // in LRS_DEFAULT_VERSION.
      const remembered = credential ? lastVersion.get(credential.id) : undefined;
      const version = family === '2.0' ? '2.0.0' : family === '1.0' ? '1.0.3' : (remembered ?? opts.defaultVersion);
      res.set('X-Experience-API-Version', version);
      if (req.path === '/statements' && req.method === 'GET') res.set('X-Experience-API-Consistent-Through', new Date().toISOString());
      if (req.path !== '/about' || rawVersion !== undefined) {
        if (rawVersion === undefined)
          throw new HttpError(400, 'The X-Experience-API-Version header is required', { details: { field: 'X-Experience-API-Version' } });
        if (!family)
          throw new HttpError(400, `X-Experience-API-Version ${rawVersion} is not supported (use 1.0.x or 2.0.x)`, {
            details: { field: 'X-Experience-API-Version' },
          });
      }
      if (credential && family) {
        if (lastVersion.size > 10_000) lastVersion.clear();
        lastVersion.set(credential.id, version);
      }

      if (!alt && ['PUT', 'POST'].includes(req.method)) body = await readBody(req, opts.bodyLimit);
      res.locals.xapi = {
        version,
        family: family ?? '2.0',
        method: req.method,
        params,
        headers,
        body,
        contentType: headers['content-type'],
        credential,
      } satisfies XapiContext;
    })().then(() => next(), next);
  };
}

/** Scope check: `all` covers everything, `all/read` every GET, and each resource has its own scopes. */
export function allows(credential: LrsCredential, needed: string[]): boolean {
  return credential.scopes.some((s) => s === 'all' || needed.includes(s));
}

export function requireScope(read: string[], write: string[]): RequestHandler {
  return (req, res, next) => {
    const c = xapi(res).credential!;
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    const needed = isRead ? ['all/read', ...read] : write;
    if (!allows(c, needed))
      return next(
        new HttpError(
          403,
          `This credential lacks the scope for ${req.method} ${req.baseUrl}${req.path} (needs one of: all, ${needed.join(', ')})`,
        ),
      );
    next();
  };
}
