/**
 * What the benches that drive a real server process over HTTP share: starting `server/index.ts`,
 * signing in through the login form and pressing a course page's launch button as a browser does,
 * percentiles and the load average printed next to each figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { ROOT } from '../server/core/config';

export const PASSWORD = 'correct horse battery staple';

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

export const cookieOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');

export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

export async function signIn(base: string, email: string): Promise<string> {
  const page = await fetch(`${base}/accounts/login`);
  const res = await fetch(`${base}/accounts/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookieOf(page), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(await page.text()), email, password: PASSWORD }),
  });
  if (res.status !== 303) throw new Error(`sign-in of ${email}: ${res.status}`);
  return cookieOf(res);
}

/** Presses the course page's launch button for one AU/SCO; returns the launch URL. */
export async function launch(base: string, cookie: string, courseId: string, auId: string): Promise<string> {
  const page = await (await fetch(`${base}/catalog/course?id=${encodeURIComponent(courseId)}`, { headers: { cookie } })).text();
  const registration = /name="registration" value="([^"]+)"/.exec(page)![1];
  const res = await fetch(`${base}/catalog/launch`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfOf(page), registration, auId }),
  });
  if (res.status !== 303) throw new Error(`launch: ${res.status}`);
  return res.headers.get('location')!;
}

/** A server process on `port` with `env`, once its /health answers. */
export async function startServer(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'server/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`server on ${port} exited with ${child.exitCode}`);
    if (
      await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on ${port} did not start`);
}

/** SIGTERM, then wait for the exit. */
export async function stopServer(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
