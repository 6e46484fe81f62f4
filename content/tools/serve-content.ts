/**
 * A small static server for built packages with the headers the catalog's content route uses
 * (sandboxed opaque origin, CORS), so a page previewed here behaves as it will for learners.
 * Used by `npm run content:preview` and by the browser tests.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';

export const SANDBOX_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
};

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Serves whatever `open(urlPath)` finds, with the AU-content headers. */
export async function contentServer(
  open: (urlPath: string) => Promise<{ size: number; body: () => Readable } | null>,
  port = 0,
  host = '127.0.0.1',
): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return void res.writeHead(400).end('bad path');
    }
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Content-Security-Policy', SANDBOX_CSP);
    open(urlPath).then(
      (file) => {
        if (!file) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        res.writeHead(200, {
          'Content-Type': TYPES[path.extname(urlPath).toLowerCase()] ?? 'application/octet-stream',
          'Content-Length': String(file.size),
        });
        file.body().pipe(res);
      },
      () => void res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: actual } = server.address() as AddressInfo;
  return { url: `http://${host}:${actual}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** `/<name>/<file>` → `<roots[name]>/<file>`, never outside a root. */
export function dirServer(roots: Record<string, string>, port = 0): Promise<RunningServer> {
  return contentServer(async (urlPath) => {
    const [, name, ...rest] = urlPath.split('/');
    const root = roots[name];
    if (!root || rest.some((p) => p === '..' || p.includes('\\'))) return null;
    const file = path.join(root, ...rest);
    if (!existsSync(file) || !statSync(file).isFile()) return null;
    return { size: statSync(file).size, body: () => createReadStream(file) };
  }, port);
}
