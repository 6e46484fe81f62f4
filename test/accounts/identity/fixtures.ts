import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../../server/app';
import { csrfFrom } from '../../helpers';
import { HEADER, importRoster, reportsApp, seedOrg } from '../../reports/fixtures';

/**
 * INST-A (units A1, A2) and INST-B (B1, B2), each with a roster: Ana (A1) and Alberto (A2) in A,
 * Bruno (B1) in B. The roster import gives each an account, as in production.
 */
export async function identityApp(env: Record<string, string> = {}): Promise<LmsApp> {
  const lms = await reportsApp(env);
  await seedOrg(lms);
  await importRoster(
    lms,
    'INST-A',
    [HEADER, 'A-001,Ana Souza,ana@a.gov,A1,national,manager,,no,yes', 'A-002,Alberto Paz,alberto@a.gov,A2,national,technical,,no,yes'].join(
      '\n',
    ),
  );
  await importRoster(lms, 'INST-B', [HEADER, 'B-001,Bruno Lima,bruno@b.gov,B1,local,technical,,no,yes'].join('\n'));
  return lms;
}

export const identityOf = (lms: LmsApp) => lms.services.get('accounts.identity');

/** Starts a plain node HTTP server on a free loopback port. */
export async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A minimal cookie jar for a browser's requests to one identity provider (plain fetch). */
export class Browser {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }
}

/** Path and query of an absolute URL on our server (the tests talk to it through supertest). */
export function local(url: string): string {
  const u = new URL(url, 'http://127.0.0.1');
  expect(u.origin).to.equal('http://127.0.0.1');
  return u.pathname + u.search;
}

export function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const set = (res.headers['set-cookie'] as string[] | undefined) ?? [];
  return set.find((c) => c.startsWith('lms.sid='))?.split(';')[0];
}

export const newAgent = (lms: LmsApp): TestAgent => supertest.agent(lms.app);

/** The alert text of a page (the message a person reads). */
export const alertOf = (html: string) => /role="alert"[^>]*>([^<]+)</.exec(html)?.[1]?.trim();

/** A person's sign-in with their directory password through an LDAP provider's form. */
export async function ldapSignIn(lms: LmsApp, provider: string, username: string, password: string, agent = newAgent(lms)) {
  const page = await agent.get(`/accounts/identity/${provider}/start?next=/accounts/profile`).expect(200);
  const answer = await agent
    .post(`/accounts/identity/ldap/${provider}`)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), username, password, next: '/accounts/profile' });
  return { agent, answer, page, before: sessionCookie(page) };
}
