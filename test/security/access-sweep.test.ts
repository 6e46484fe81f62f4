import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { testApp } from '../helpers';
import { HEADER } from '../reports/fixtures';
import { VERB } from '../../server/plugins/catalog/launch/cmi5';
import { browserSession, listen } from './outsider';
import { walkRoutes, type WalkedRoute } from './route-walk';
import { B_BOOKMARK, B_EMAIL, B_HR_EMAIL, B_NAME, B_SUSPEND, makeWorld, type World } from './sweep-world';

type Request = (path: string, init?: RequestInit) => Promise<Response>;
interface Actor {
  request: Request;
  /** A CSRF token of this actor's own session (a session's forms refuse another session's token). */
  csrf: string;
  session?: { email: string; password: string; page: string };
}

/**
 * Generated from the routes Express itself serves (every plugin, and what plugins mount outside
 * their tables: SCORM runtime, assessment API, cmi5 fetch URL, preflights, core pages). Each route
 * is requested by an anonymous visitor, institution A's learner, A's HR officer, that officer's API
 * token and A's learner's launch credential, naming institution B's objects in every way a request
 * can: path parameters set to B's user, certificate, import, token, SCORM and cmi5 sessions; queries
 * naming B's unit, person, agent, registration, activity and statement; bodies naming B's person
 * (form, JSON, an xAPI statement with B as actor, a SCORM commit for B's session, a roster naming B's
 * learner and HR officer by e-mail). Then, with every id A's own answers handed back (an import A
 * uploaded, a token A created), every route with a parameter again: a roster A uploads naming B's
 * people must not become a confirmed capture. What must hold for every request: no 5xx; anonymous
 * gets nothing behind a guard; a path naming B's object gets 401/403/404/410; a launch credential
 * naming B's agent or registration gets 403; no answer shows B's person or B's documents; nothing
 * of B changed in the database (compared after every route and actor, so a failure names both);
 * nothing shown to a signed-in person or a token may be kept by a cache.
 */
describe('security: access sweep over every route', function () {
  this.timeout(600_000);
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let w: World;
  let routes: WalkedRoute[];
  const actors: Record<string, Actor> = {};
  /** Ids A's actors were handed back by the server (their own objects), per actor. */
  const handedBack = new Map<string, Set<string>>();

  before(async () => {
    // Sign-in failures the sweep itself makes (every body to POST /accounts/login) must not block its own sign-ins.
    lms = await testApp({ env: { LOGIN_RATE_LIMIT: '100000', LOGIN_MAX_FAILURES: '100000' } });
    w = await makeWorld(lms);
    routes = walkRoutes(lms.app, lms.routes);
    http = await listen(lms);
    const bare =
      (headers: Record<string, string> = {}): Request =>
      (path, init = {}) =>
        fetch(http.base + path, {
          redirect: 'manual',
          ...init,
          headers: { ...headers, ...((init.headers as Record<string, string>) ?? {}) },
        });
    actors.anonymous = { request: bare(), csrf: 'none' };
    actors.learnerA = await signedIn(w.a.learner.email, w.a.learner.password, '/accounts/profile');
    actors.hrA = await signedIn(w.a.hr.email, w.a.hr.password, '/reports/tokens');
    actors.hrToken = { request: bare({ authorization: `Bearer ${w.a.token}` }), csrf: 'none' };
    actors.launchA = { request: bare({ authorization: `Basic ${w.a.launchToken}`, 'x-experience-api-version': '1.0.3' }), csrf: 'none' };
  });
  after(async () => {
    await http?.close();
    await lms?.close();
  });

  async function signedIn(email: string, password: string, page: string): Promise<Actor> {
    const s = await browserSession(http.base, email, password);
    return { request: s.request, csrf: await s.csrf(page), session: { email, password, page } };
  }

  /** A route that signs its caller out (or ends its session) must not leave the rest of the sweep anonymous. */
  async function stillSignedIn(name: string): Promise<void> {
    const a = actors[name];
    if (!a.session) return;
    const res = await a.request('/accounts/profile');
    await res.arrayBuffer();
    if (res.status !== 200) actors[name] = await signedIn(a.session.email, a.session.password, a.session.page);
  }

  it('walks every route Express serves, including those outside the plugins’ route tables', () => {
    expect(routes.length).to.be.at.least(lms.routes.length);
    for (const r of lms.routes)
      expect(
        routes.some((x) => x.method === r.method && x.path === r.path),
        `${r.method} ${r.path}`,
      ).to.equal(true);
    for (const p of ['accounts', 'lrs', 'catalog', 'certificates', 'reports', 'privacy', 'network', 'core'])
      expect(
        routes.some((r) => r.plugin === p),
        p,
      ).to.equal(true);
    for (const p of ['/catalog/scorm/start/:id', '/catalog/scorm/commit', '/catalog/fetch/:id', '/catalog/api/assessment/attempts/:id'])
      expect(
        routes.some((r) => r.path === p && r.method === 'post'),
        p,
      ).to.equal(true);
  });

  /** Path parameters set to B's object of that kind; `named` says whether one of them is B's. */
  function fillWithB(route: WalkedRoute): { url: string; named: boolean } {
    let named = false;
    const url = route.path.replace('*path', 'index.html').replace(/:(\w+)/g, (_m, name: string) => {
      const v = ofB(route.path, name);
      if (v) named = true;
      return v ?? 'x';
    });
    return { url, named };
  }
  function ofB(path: string, name: string): string | undefined {
    if (name === 'code') return path.startsWith('/certificates/') || path.startsWith('/verify/') ? w.b.code : undefined;
    if (name === 'userId') return w.b.userId;
    if (name !== 'id') return undefined;
    if (path.includes('/roster/')) return w.b.importId;
    if (path.includes('/tokens/')) return w.b.tokenId;
    // A session's id is not its start or fetch URL: guessing it must not start B's session.
    if (path.includes('/scorm/start/')) return w.b.scormSession;
    if (path.includes('/fetch/')) return w.b.cmi5Session;
    if (path.includes('/identity/') || path.includes('/erasures/')) return undefined;
    return w.b.userId;
  }

  /**
   * Queries naming B. Outside the LRS one query names B every way at once (routes ignore what they do
   * not read); the LRS refuses parameters a resource does not take, so each xAPI addressing of B's
   * documents and statements is its own query there.
   */
  function queries(route: WalkedRoute): Array<Record<string, string>> {
    const agent = JSON.stringify(w.b.actor);
    const where = { agent, activityId: w.b.activityId, registration: w.b.registration };
    const hr = { unit: 'INST-B', institution: 'INST-B', userId: w.b.userId, code: w.b.code, id: w.b.userId, email: B_EMAIL, status: 'all' };
    if (!route.path.startsWith('/xapi/')) return [{ ...hr, ...where, stateId: 'bookmark', profileId: 'cmi5LearnerPreferences' }];
    return [
      hr,
      { ...where, stateId: 'LMS.LaunchData' },
      { ...where, stateId: 'bookmark' },
      where,
      { agent, profileId: 'cmi5LearnerPreferences' },
      { agent },
      { registration: w.b.registration },
      { statementId: w.b.statementId },
    ];
  }

  /** Bodies naming B, each with the actor's CSRF token: form, JSON, multipart roster, xAPI statement. */
  function bodies(actor: Actor, route: WalkedRoute): Array<{ kind: string; init: RequestInit }> {
    const fields = {
      _csrf: actor.csrf,
      userId: w.b.userId,
      code: w.b.code,
      unit: 'INST-B',
      institution: 'INST-B',
      email: B_EMAIL,
      registration: w.b.scormRegistration,
      auId: 'sco1',
      reason: 'Administrative',
      comment: 'Sweep',
      confirm: '1',
      // A SCORM commit for B's session signed with A's own session secret.
      key: `${w.b.scormSession}.${w.a.scormSecret}`,
      seq: '9',
      event: 'commit',
    };
    const roster = new FormData();
    for (const [k, v] of Object.entries(fields)) roster.append(k, v);
    roster.set('institution', 'INST-A');
    const csv = [HEADER, `S1,Sofía,${B_EMAIL},A1,,all,,no,yes`, `S2,Hugo,${B_HR_EMAIL},A2,,all,,no,yes`].join('\n');
    roster.append('file', new Blob([csv], { type: 'text/csv' }), 'roster.csv');
    const statement = {
      actor: w.b.actor,
      verb: { id: VERB.passed, display: { 'en-US': 'passed' } },
      object: { id: w.b.activityId, objectType: 'Activity' },
      result: { success: true, score: { scaled: 1 } },
      context: { registration: w.b.registration },
    };
    const json = (body: unknown): RequestInit => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const out: Array<{ kind: string; init: RequestInit }> = [
      {
        kind: 'form',
        init: { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() },
      },
      { kind: 'json', init: json({ ...fields, seq: 9, cmi: { cmi: { core: { lesson_status: 'passed', score: { raw: '100' } } } } }) },
      { kind: 'roster', init: { headers: { accept: 'application/json' }, body: roster } },
    ];
    if (route.path.startsWith('/xapi/')) out.push({ kind: 'statement', init: json(route.method === 'post' ? [statement] : statement) });
    return out.map((b) => ({ kind: b.kind, init: { method: route.method.toUpperCase(), ...b.init } }));
  }

  /** B's ids as the database holds them. */
  const idsOfB = () => [
    w.b.userId,
    w.b.hrId,
    w.b.registration,
    w.b.scormRegistration,
    w.b.scormSession,
    w.b.cmi5Session,
    w.b.code,
    w.b.importId,
    w.b.tokenId,
  ];
  /**
   * B's objects as the database holds them: every document of every collection that names one of
   * B's ids, B's people's addresses or B's institution.
   */
  async function stateOfB(): Promise<Map<string, string>> {
    const markers = [...idsOfB(), B_EMAIL, B_HR_EMAIL, 'INST-B'];
    const out = new Map<string, string>();
    for (const { name } of await lms.db.db!.listCollections().toArray()) {
      for (const d of await lms.db.db!.collection(name).find({}).toArray()) {
        // Sign-in failures are counted against the account whose address was tried, by design (lock-out).
        const { failedLogins: _f, lockedUntil: _l, ...doc } = d as Record<string, unknown>;
        const text = JSON.stringify(doc);
        if (markers.some((m) => text.includes(m))) out.set(`${name} ${JSON.stringify(d._id)}`, text);
      }
    }
    return out;
  }
  /**
   * What changed of B. A new document counts when it holds one of B's ids: one that only repeats
   * an address or unit code A sent (A's own refused roster, naming the row's address) is A's.
   */
  function changes(before: Map<string, string>, after: Map<string, string>): string[] {
    const out: string[] = [];
    for (const [k, v] of before)
      if (after.get(k) !== v) out.push(after.has(k) ? `changed ${k}: ${after.get(k)!.slice(0, 300)}` : `removed ${k}`);
    for (const [k, v] of after) if (!before.has(k) && idsOfB().some((id) => v.includes(id))) out.push(`added ${k}: ${v.slice(0, 300)}`);
    return out;
  }

  /**
   * A refusal: 401/403/404/410; a redirect to sign in (for credentials that are no session); a
   * cmi5 fetch error (§8.2 answers every fetch with 200 and an error-code).
   */
  function refused(res: Response, text: string): boolean {
    if ([401, 403, 404, 410].includes(res.status)) return true;
    if (res.status === 303 && (res.headers.get('location') ?? '').startsWith('/accounts/login')) return true;
    return res.status === 200 && /^\{"error-code":/.test(text);
  }

  /** What each answer must (not) be; returns the problems found. */
  function judge(who: string, route: WalkedRoute, at: string, res: Response, text: string, sent: string, namedB: boolean): string[] {
    const carriesEmail = sent.includes(B_EMAIL) || sent.includes(encodeURIComponent(B_EMAIL));
    const problems: string[] = [];
    if (res.status >= 500) problems.push(`${at}: server error`);
    if (who === 'anonymous' && route.guard !== undefined && route.guard !== 'public' && res.status < 300)
      problems.push(`${at}: guarded route answered anonymously`);
    // A public route with a secret in its path (/verify/:code) shows its holder what the code is for.
    const holderOfSecret = route.guard === 'public' && route.path.includes(':');
    const secrets = [B_NAME, B_BOOKMARK, B_SUSPEND, ...(carriesEmail ? [] : [B_EMAIL])];
    if (!holderOfSecret && secrets.some((s) => text.includes(s))) problems.push(`${at}: shows institution B's person or documents`);
    if (!holderOfSecret && !sent.includes(w.b.statementId) && text.includes(w.b.statementId)) problems.push(`${at}: shows B's statement`);
    if (namedB && !holderOfSecret && route.method !== 'options' && !refused(res, text))
      problems.push(`${at}: a path naming B's object answered ${res.status}`);
    if (
      who === 'launchA' &&
      route.path.startsWith('/xapi/') &&
      /(activities\/state|agents\/profile)$/.test(route.path) &&
      sent.includes(encodeURIComponent(JSON.stringify(w.b.actor))) &&
      res.status < 300
    )
      problems.push(`${at}: a launch credential reached B's documents (${res.status})`);
    if (who !== 'anonymous' && route.guard !== undefined && route.guard !== 'public' && res.status < 300)
      if (!/\bno-store\b/.test(res.headers.get('cache-control') ?? ''))
        problems.push(`${at}: cacheable (${res.headers.get('cache-control')})`);
    return problems;
  }

  /** Collects ids the server handed back to A (Location paths, JSON `_id`/`id`) for the second pass. */
  function keepIds(who: string, res: Response, text: string): void {
    const ids = handedBack.get(who) ?? new Set<string>();
    handedBack.set(who, ids);
    const loc = res.headers.get('location');
    if (loc) for (const seg of new URL(loc, http.base).pathname.split('/')) if (/^[0-9a-f]{24}$|^[0-9a-f-]{36}$/i.test(seg)) ids.add(seg);
    if ((res.headers.get('content-type') ?? '').includes('json'))
      try {
        const j = JSON.parse(text) as Record<string, unknown>;
        for (const k of ['_id', 'id']) if (typeof j?.[k] === 'string') ids.add(j[k]);
      } catch {
        /* not an object */
      }
  }

  async function send(who: string, route: WalkedRoute, url: string, init: RequestInit, namedB: boolean, problems: string[]) {
    const res = await actors[who].request(url, init);
    const text = await res.text();
    const sent = `${url} ${typeof init.body === 'string' ? init.body : ''}`;
    problems.push(...judge(who, route, `${who} ${route.method.toUpperCase()} ${url} → ${res.status}`, res, text, sent, namedB));
    if (who !== 'anonymous') keepIds(who, res, text);
  }

  it('no route lets institution A (learner, HR, token, launch credential) see or change institution B’s objects', async () => {
    const problems: string[] = [];
    let state = await stateOfB();
    const check = async (label: string) => {
      const now = await stateOfB();
      for (const c of changes(state, now)) problems.push(`${label}: B ${c}`);
      state = now;
    };
    for (const route of routes) {
      const { url: path, named } = fillWithB(route);
      for (const who of Object.keys(actors)) {
        for (const q of queries(route)) {
          const url = `${path}?${new URLSearchParams(q)}`;
          if (route.method === 'get' || route.method === 'options')
            await send(who, route, url, { method: route.method.toUpperCase() }, named, problems);
          else for (const { init } of bodies(actors[who], route)) await send(who, route, url, init, named, problems);
        }
        await check(`${who} ${route.method.toUpperCase()} ${route.path}`);
        await stillSignedIn(who);
      }
    }
    // Second pass: A's own objects (an import A uploaded naming B's people, a token A made) in every route with a parameter.
    for (const route of routes.filter((r) => r.path.includes(':') && r.method !== 'get' && r.method !== 'options')) {
      for (const [who, ids] of handedBack) {
        for (const id of ids) {
          const url = route.path.replace('*path', 'index.html').replace(/:\w+/g, id);
          for (const { init } of bodies(actors[who], route).filter((b) => b.kind !== 'roster'))
            await send(who, route, url, init, false, problems);
          await check(`${who} ${route.method.toUpperCase()} ${route.path} with ${id}, handed to ${who} earlier`);
          await stillSignedIn(who);
        }
      }
    }
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
