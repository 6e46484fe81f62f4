/**
 * The SCORM runtime's HTTP side, outside the plugin's form router (like cmi5's fetch URL): called
 * from the SCO's sandboxed, opaque origin with no session cookie and no CSRF token, over CORS.
 * The page's scripts are served from the installed packages (scorm-again from node_modules).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import { HttpError } from '../../../../core/errors';
import type { Route } from '../../../../core/routes';
import { frameHandler } from './frame';
import { FRAME_PATH } from './params';
import type { CommitBody, ScormRuntime } from './runtime';

/** A commit carries the whole CMI data: SCORM 2004 allows 64,000 characters of suspend_data and many interactions. */
const COMMIT_LIMIT = '1mb';

interface Script {
  body: Buffer;
  etag: string;
}

function script(file: string): () => Script {
  let cached: Script | undefined;
  return () => {
    if (!cached) {
      const body = readFileSync(file);
      cached = { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` };
    }
    return cached;
  };
}

const SCRIPTS: Record<string, () => Script> = {
  '/catalog/scorm/player.js': script(path.join(__dirname, 'player.js')),
  '/catalog/scorm/scorm12.js': script(require.resolve('scorm-again/scorm12/min')),
  '/catalog/scorm/scorm2004.js': script(require.resolve('scorm-again/scorm2004/min')),
};

const cors = (res: Response) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  res.setHeader('Cache-Control', 'no-store');
};

/** JSON errors the page can log: it is not a person's browser tab but the SCO's API talking. */
const json = (fn: (req: Request, res: Response) => Promise<unknown>) => async (req: Request, res: Response) => {
  cors(res);
  try {
    res.status(200).json(await fn(req, res));
  } catch (err) {
    if (!(err instanceof HttpError) || err.status >= 500) throw err;
    res.status(err.status).json({ error: err.message });
  }
};

export function scormRoutes(
  runtime: ScormRuntime,
  learnerName: (userId: string) => Promise<string>,
  opts: { baseUrl: string; contentOrigin?: string; title: (lang: string) => string },
): Route[] {
  const text = express.text({ type: () => true, limit: COMMIT_LIMIT });
  const contentOrigin = opts.contentOrigin;
  return [
    ...(contentOrigin
      ? [{ method: 'get', path: FRAME_PATH, guard: 'public', handler: frameHandler({ ...opts, contentOrigin }) } satisfies Route]
      : []),
    ...Object.entries(SCRIPTS).map(([p, get]): Route => ({
      method: 'get',
      path: p,
      guard: 'public',
      handler: (req, res) => {
        const s = get();
        res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
        // Loaded by SCO pages of the opaque content origin.
        res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
        res.setHeader('Access-Control-Allow-Origin', '*');
        res.setHeader('Cache-Control', 'public, max-age=86400');
        res.setHeader('ETag', s.etag);
        if (req.headers['if-none-match'] === s.etag) return res.status(304).end();
        res.send(s.body);
      },
    })),
    {
      method: 'post',
      path: '/catalog/scorm/start/:id',
      guard: 'public',
      handler: json((req) => runtime.start(String(req.params.id), learnerName)),
    },
    {
      method: 'post',
      path: '/catalog/scorm/commit',
      guard: 'public',
      handler: [
        (req, res, next) =>
          text(req, res, (err?: unknown) => {
            if (!err) return next();
            cors(res);
            const e = err as { status?: number; message?: string };
            res.status(e.status === 413 ? 413 : 400).json({ error: `SCORM commit: ${e.message ?? 'unreadable body'}` });
          }),
        json(async (req) => {
          let body: CommitBody;
          try {
            body = JSON.parse(typeof req.body === 'string' ? req.body : '') as CommitBody;
          } catch {
            throw new HttpError(400, 'SCORM commit: the body must be JSON');
          }
          if (!body || typeof body !== 'object' || Array.isArray(body))
            throw new HttpError(400, 'SCORM commit: the body must be a JSON object');
          return runtime.commit(body);
        }),
      ],
    },
  ];
}

/** Preflights (a page that sends JSON as application/json). */
export const SCORM_PREFLIGHT_PATHS = ['/catalog/scorm/commit', '/catalog/scorm/start/:id'];
export const preflight = (_req: Request, res: Response) => {
  cors(res);
  res.status(204).end();
};
