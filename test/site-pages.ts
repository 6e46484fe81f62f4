/**
 * Every page of the site, for the tests that look at all of them (mobile layout, translations).
 * The start points come from the plugins' route tables (`lms.routes`), so a new page is covered
 * as soon as it is mounted; pages reached only through a query (a course, a person) are found by
 * following the links of the pages visited.
 */
import type { LmsApp } from '../server/app';
import type { ServedRoute } from '../server/core/routes';
import { settled } from './helpers';

export type Role = 'anonymous' | 'learner' | 'hr' | 'admin';
export const ROLES: Role[] = ['anonymous', 'learner', 'hr', 'admin'];

export interface DemoSite {
  users: Record<Exclude<Role, 'anonymous'>, { email: string; password: string; id: string }>;
  /** A real value for each route parameter, by route path. */
  params: Record<string, Record<string, string>>;
}

/**
 * Not pages of this site: the LRS API, course package files, the language switch, assets, and the
 * identity-provider protocol endpoints (redirects to the provider, callbacks, SAML metadata).
 */
const NOT_PAGES = [
  /^\/accounts\/identity\/(oidc\/|saml\/)?:?[^/]+\/(start|callback|metadata|logout)$/,
  /^\/xapi(\/|$)/,
  /^\/catalog\/(scorm-)?content\//,
  /^\/lang\//,
  /^\/static\//,
  /^\/catalog\/fetch\//,
  /^\/certificates\/status\//, // the badges' revocation lists (signed VC-JWT), not pages
];

/** demo:seed (the library, one user per role, an org tree, a roster) plus one issued certificate. */
export async function seedDemoSite(lms: LmsApp): Promise<DemoSite> {
  const seed = lms.plugins.flatMap((p) => p.commands ?? []).find((c) => c.name === 'demo:seed')!;
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  try {
    if ((await seed.run(lms, {}, [])) !== 0) throw new Error(`demo:seed failed:\n${out.join('\n')}`);
  } finally {
    console.log = log;
  }
  const text = out.join('\n');
  const users = {} as DemoSite['users'];
  for (const [role, email] of [
    ['admin', 'admin@demo.example'],
    ['hr', 'rrhh@demo.example'],
    ['learner', 'servidora@demo.example'],
  ] as const) {
    // The passwords are the last lines printed (plugins' demo data mention the same addresses).
    const password = [...text.matchAll(new RegExp(`${email.replace(/\./g, '\\.')}\\s+(demo-\\S+)`, 'g'))].pop()![1];
    const account = await lms.services.get('accounts.users').findByEmail(email);
    users[role] = { email, password, id: account!.id };
  }

  // The learner completes a course, so certificate pages have a real certificate to show.
  const catalog = lms.services.get('catalog');
  const [courseId] = await catalog.requiredCourses('all', 'local');
  const course = (await catalog.getCourse(courseId))!;
  const now = new Date();
  await lms.hooks.emit('catalog.course.satisfied', {
    userId: users.learner.id,
    course,
    progress: {
      _id: `${users.learner.id}:${course.id}`,
      userId: users.learner.id,
      courseId: course.id,
      courseVersion: course.version,
      registration: '0d8c8f0e-6f4e-4a6b-9a1e-2f1f5d3c7b10',
      status: 'satisfied',
      satisfied: true,
      satisfiedAt: now,
      timeSpentSeconds: 1800,
      updatedAt: now,
    },
  });
  await settled(lms); // the certificate is issued by an after-event
  const cert = await lms.db.collection('certificates_certificates').findOne({ userId: users.learner.id });
  const roster = await lms.db.collection('reports_imports').findOne({});
  if (!cert || !roster) throw new Error('the demo site has no certificate or no roster import');
  const code = String(cert._id);
  const unsubscribe = new URL(lms.services.get('notifications').unsubscribeUrl(users.learner.id, 'reminders')).pathname.split('/').pop()!;
  return {
    users,
    params: {
      '/verify/:code': { code },
      '/certificates/manage/:code': { code },
      '/certificates/:code/pdf': { code },
      '/certificates/:code/badge': { code },
      '/catalog/people/:userId': { userId: users.learner.id },
      '/accounts/admin/users/:id': { id: users.learner.id },
      '/privacy/admin/people/:id': { id: users.learner.id },
      '/privacy/admin/people/:id/export.zip': { id: users.learner.id },
      '/reports/roster/:id': { id: String(roster._id) },
      '/reports/export/:file': { file: 'people.csv' },
      '/catalog/library/:file': { file: 'no-such-course.zip' },
      '/catalog/library/scorm12/:file': { file: 'no-such-course.zip' },
      '/network/packages/:file': { file: 'no-such-package.zip' },
      // Pages for a link that is not (or no longer) valid: their error page is a page too.
      '/reports/invite/:token': { token: 'expired-or-mistyped-token' },
      '/notifications/unsubscribe/:token': { token: unsubscribe },
      '/accounts/setup/:token': { token: 'expired-or-mistyped-token' },
      '/accounts/password/reset/:token': { token: 'expired-or-mistyped-token' },
    },
  };
}

/** The GET paths of every route table, parameters filled in; fails on a parameter it cannot fill. */
export function routePaths(lms: LmsApp, site: DemoSite): string[] {
  const paths: string[] = ['/']; // the home page (core, not in a plugin's table)
  const unfilled: string[] = [];
  for (const r of lms.routes.filter((x: ServedRoute) => x.method === 'get')) {
    if (NOT_PAGES.some((re) => re.test(r.path))) continue;
    const values = site.params[r.path] ?? {};
    const filled = r.path.replace(/[:*](\w+)/g, (m, name: string) => values[name] ?? m);
    if (/[:*]\w/.test(filled)) unfilled.push(r.path);
    else paths.push(filled);
  }
  if (unfilled.length) throw new Error(`No sample value for the parameters of ${unfilled.join(', ')}: add them in test/site-pages.ts`);
  return [...new Set(paths)];
}

/** The same-origin links of a page, without the non-pages. */
export function pageLinks(html: string): string[] {
  const links = new Set<string>();
  for (const m of html.matchAll(/<a\s[^>]*href="(\/[^"#]*)/g)) {
    const href = m[1].replace(/&amp;/g, '&');
    if (href.startsWith('//') || NOT_PAGES.some((re) => re.test(href))) continue;
    links.add(href);
  }
  return [...links];
}

/**
 * Visits the route paths and then the links found on them, breadth first, each path (without its
 * query) at most `perPath` times. `load` returns the page's HTML, or undefined for a download.
 */
export async function crawl(
  start: string[],
  load: (url: string) => Promise<string | undefined>,
  perPath = 2,
  max = 120,
): Promise<string[]> {
  const queue = [...start];
  const seen = new Set<string>();
  const perPathCount = new Map<string, number>();
  const visited: string[] = [];
  while (queue.length && visited.length < max) {
    const url = queue.shift()!;
    const bare = url.split('?')[0];
    if (seen.has(url) || (perPathCount.get(bare) ?? 0) >= perPath) continue;
    seen.add(url);
    perPathCount.set(bare, (perPathCount.get(bare) ?? 0) + 1);
    const html = await load(url);
    if (html === undefined) continue;
    visited.push(url);
    for (const link of pageLinks(html)) if (!seen.has(link)) queue.push(link);
  }
  return visited;
}
