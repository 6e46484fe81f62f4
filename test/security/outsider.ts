import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { LmsApp } from '../../server/app';
import { csrfFrom } from '../helpers';

/** The app on a real loopback port, for clients that speak plain HTTP (fetch, raw sockets). */
export async function listen(lms: LmsApp): Promise<{ base: string; port: number; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = lms.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A browser-like session made with fetch: sign in through the form, keep the cookie. */
export async function browserSession(base: string, email: string, password: string) {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const request = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(base + path, { redirect: 'manual', ...init, headers: { cookie: cookie(), ...(init.headers ?? {}) } });
    keep(res);
    return res;
  };
  const login = await request('/accounts/login');
  const res = await request('/accounts/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrfFrom(await login.text()), email, password }).toString(),
  });
  if (res.status !== 303) throw new Error(`sign-in of ${email} failed with ${res.status}`);
  /** A CSRF token of this session, read from a page that has a form. */
  const csrf = async (page: string) => csrfFrom(await (await request(page)).text());
  return { request, cookie, csrf };
}
