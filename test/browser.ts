/**
 * Headless Chromium from Debian driven by playwright-core (no browser download), and axe-core
 * for accessibility checks. Shared by every @browser test.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Express } from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { LmsApp } from '../server/app';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Serves an express app on a free loopback port. */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs every axe-core rule (WCAG 2.0/2.1 A and AA, and best practices) on the page; returns the
 * serious and critical violations.
 * Evaluated through the DevTools protocol, so the pages keep their strict or sandboxed CSP.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    type Result = { violations: AxeViolation[]; passes: unknown[] };
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<Result> } }).axe;
    const r = await axe.run(document, {});
    // An axe that checked nothing would report no violations either.
    if (r.passes.length < 10) throw new Error(`axe-core checked only ${r.passes.length} rules`);
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(vs: AxeViolation[]): string {
  return vs.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
}

/**
 * For a mocha suite: its app served on a free port and a browser, started before its tests and
 * stopped after them. Register it first; a later `before` can seed `s.lms`.
 */
export function browserSuite(makeApp: () => Promise<LmsApp>): { lms: LmsApp; browser: Browser; url: string } {
  const s = {} as { lms: LmsApp; browser: Browser; url: string };
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  before(async () => {
    s.lms = await makeApp();
    server = await listen(s.lms.app);
    s.url = server.url;
    s.browser = await launchBrowser();
  });
  after(async () => {
    await s.browser?.close();
    await server?.close();
    await s.lms?.close();
  });
  return s;
}

/** Signs in through the login form, as a person would (and lands on the role's first page). */
export async function signInPage(page: Page, url: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${url}/accounts/login`);
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.origin === url && !u.pathname.startsWith('/accounts/login'));
}
