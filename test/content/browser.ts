/**
 * Browser helpers for the content tests: Debian's chromium driven by playwright-core, axe-core
 * injected into pages, and a static server that serves AU files the way the catalog's content
 * route does (sandboxed opaque origin + CORS), so pages are tested under the same constraints.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export const SANDBOX_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves files found by `open(urlPath)` with the AU-content headers. */
export async function contentServer(open: (urlPath: string) => Promise<{ size: number; body: () => Readable } | null>, port = 0): Promise<StaticServer> {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Content-Security-Policy', SANDBOX_CSP);
    open(urlPath).then(
      (file) => {
        if (!file) return void res.writeHead(404).end('not found');
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(urlPath)] ?? 'application/octet-stream', 'Content-Length': String(file.size) });
        file.body().pipe(res);
      },
      () => void res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `/<name>/<file>` → `<roots[name]>/<file>`, never outside the root. */
export function dirServer(roots: Record<string, string>): Promise<StaticServer> {
  return contentServer(async (urlPath) => {
    const [, name, ...rest] = urlPath.split('/');
    const root = roots[name];
    if (!root || rest.some((p) => p === '..')) return null;
    const file = path.join(root, ...rest);
    if (!existsSync(file) || !statSync(file).isFile()) return null;
    return { size: statSync(file).size, body: () => createReadStream(file) };
  });
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core on the current page; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe;
    const r = await axe.run(document, {});
    // An axe that checked nothing would report no violations either.
    if (r.passes.length < 10) throw new Error(`axe-core checked only ${r.passes.length} rules`);
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export const describeViolations = (vs: AxeViolation[]) => vs.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
