import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import type { ServedRoute } from '../../server/core/routes';
import { makeUser, testApp } from '../helpers';
import { HEADER, importRoster, reportsOf, seedOrg, tmpFile } from '../reports/fixtures';
import { course, satisfied } from '../certificates/helpers';
import { browserSession, listen } from './outsider';

/**
 * Generated from the app's own route tables: every route of every plugin, requested by an
 * anonymous visitor, a learner of institution A, an HR officer of A and that officer's API token,
 * with every path parameter set to an object of institution B (and `?unit=` / `?institution=` B).
 * A new route is swept without anyone writing a test for it. What must hold for all of them:
 * no 5xx; anonymous gets nothing behind a guard; nobody from A sees B's person; nothing of B changes;
 * nothing shown to a signed-in person or a token may be kept by a cache.
 */
describe('security: access sweep over every route', function () {
  this.timeout(300_000);
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  const B_NAME = 'Beatriz Secretísima';
  const B_EMAIL = 'beatriz.secreta@b.example';
  const b: Record<string, string> = {};
  const actors: Record<string, (path: string, init?: RequestInit) => Promise<Response>> = {};

  before(async () => {
    lms = await testApp();
    await seedOrg(lms);
    await importRoster(lms, 'INST-B', [HEADER, `B7,${B_NAME},${B_EMAIL},B1,,all,,no,yes`].join('\n'));
    const learnerB = (await lms.services.get('accounts.users').findByEmail(B_EMAIL))!;
    b.userId = learnerB.id;
    const issued = await lms.services.get('certificates').issueForCourse(satisfied(learnerB.id, course()));
    b.code = issued!.certificate._id;
    const imp = await reportsOf(lms).roster.preview({
      file: tmpFile([HEADER, `B8,${B_NAME} Dos,b8@b.example,B2,,all,,no,yes`].join('\n')),
      fileName: 'b.csv',
      institution: 'INST-B',
      userId: 'hr-b',
    });
    b.importId = imp._id;
    const hrB = await makeUser(lms, { role: 'hr', orgUnit: 'INST-B' });
    b.tokenId = (await reportsOf(lms).tokens.create(hrB.id, 'B token')).doc._id as string;

    http = await listen(lms);
    const learnerA = await makeUser(lms, { role: 'learner', orgUnit: 'A1', tier: 'all', level: 'national' });
    const hrA = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const token = (await reportsOf(lms).tokens.create(hrA.id, 'A token')).token;
    actors.anonymous = (path, init = {}) => fetch(http.base + path, { redirect: 'manual', ...init });
    actors.learnerA = (await browserSession(http.base, learnerA.email, learnerA.password)).request;
    const hrSession = await browserSession(http.base, hrA.email, hrA.password);
    actors.hrA = hrSession.request;
    actors.hrToken = (path, init = {}) =>
      fetch(http.base + path, { redirect: 'manual', ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
    b.csrf = await hrSession.csrf('/reports/tokens');
  });
  after(async () => {
    await http.close();
    await lms.close();
  });

  /** A path parameter filled with institution B's object of that kind. */
  function fill(route: ServedRoute): string {
    return route.path.replace('*path', 'index.html').replace(/:(\w+)/g, (_m, name: string) => {
      if (name === 'code') return b.code;
      if (name === 'userId') return b.userId;
      if (name === 'file') return 'people.csv';
      if (name === 'id' && route.path.includes('/roster/')) return b.importId;
      if (name === 'id' && route.path.includes('/tokens/')) return b.tokenId;
      if (name === 'id') return b.userId;
      return 'x';
    });
  }

  it('covers every route of every plugin’s table', () => {
    expect(lms.routes.length).to.be.above(90);
    for (const p of ['accounts', 'lrs', 'catalog', 'certificates', 'reports'])
      expect(
        lms.routes.some((r) => r.plugin === p),
        p,
      ).to.equal(true);
  });

  it('no 5xx, no anonymous access behind a guard, no sight of institution B’s person, nothing of B changed', async () => {
    const problems: string[] = [];
    const before = JSON.stringify(await stateOfB());
    for (const route of lms.routes) {
      const url = `${fill(route)}?unit=INST-B&institution=INST-B&userId=${b.userId}&code=${b.code}&status=all`;
      for (const [who, request] of Object.entries(actors)) {
        const init: RequestInit =
          route.method === 'get'
            ? {}
            : {
                method: route.method.toUpperCase(),
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({
                  _csrf: b.csrf,
                  userId: b.userId,
                  code: b.code,
                  unit: 'INST-B',
                  institution: 'INST-B',
                  reason: 'Tested',
                }).toString(),
              };
        const res = await request(url, init);
        const text = await res.text();
        const at = `${who} ${route.method.toUpperCase()} ${url} → ${res.status}`;
        if (res.status >= 500) problems.push(`${at}: server error`);
        if (who === 'anonymous' && route.guard !== 'public' && res.status < 300) problems.push(`${at}: guarded route answered anonymously`);
        // A public route with a secret in its path (/verify/:code) shows its holder what the code is for.
        const holderOfSecret = route.guard === 'public' && route.path.includes(':');
        if (!holderOfSecret && (text.includes(B_NAME) || text.includes(B_EMAIL))) problems.push(`${at}: shows institution B's person`);
        // What a signed-in person or a token is shown stays out of browser and proxy caches.
        if (
          who !== 'anonymous' &&
          route.guard !== 'public' &&
          res.status < 300 &&
          !/\bno-store\b/.test(res.headers.get('cache-control') ?? '')
        )
          problems.push(`${at}: cacheable (Cache-Control: ${res.headers.get('cache-control')})`);
      }
    }
    expect(JSON.stringify(await stateOfB()), 'institution B’s objects changed').to.equal(before);
    expect(problems).to.deep.equal([]);
  });

  async function stateOfB() {
    const pick = (d: Record<string, unknown> | null, keys: string[]) => (d ? Object.fromEntries(keys.map((k) => [k, d[k]])) : null);
    return {
      account: pick(await lms.db.collection('accounts_users').findOne({ email: B_EMAIL }), ['orgUnit', 'role', 'active', 'tier']),
      certificate: pick(await lms.db.collection('certificates_certificates').findOne({ _id: b.code as never }), ['status', 'learnerName']),
      import: pick(await lms.db.collection('reports_imports').findOne({ _id: b.importId as never }), ['status']),
      token: pick(await lms.db.collection('reports_api_tokens').findOne({ _id: b.tokenId as never }), ['revoked', 'revokedAt']),
    };
  }
});
