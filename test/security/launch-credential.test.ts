import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { accountsPlugin } from '../../server/plugins/accounts';
import { lrsPlugin } from '../../server/plugins/lrs';
import { catalogPlugin } from '../../server/plugins/catalog';
import { makeUser, signIn, testApp } from '../helpers';
import { cmi5Xml, importXml, launchAu, type Launched } from '../catalog/launch-fixtures';
import { listen } from './outsider';

const C = 'https://courses.example.org/alcance';
const AU = `${C}/au/uno`;

/**
 * A launch credential is one learner in one AU session. Used as a third-party AU would (URLs built
 * by appending to `endpoint`), it must not reach another learner's documents.
 */
describe('security: a launch credential reaches only its own actor and registration', () => {
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let mine: Launched & { token: string };
  let theirs: Launched;

  async function launched(): Promise<Launched> {
    const u = await makeUser(lms, { tier: 'all', level: 'national' });
    const session = await signIn(lms, u.email, u.password);
    await session.get('/catalog/my-path').expect(200); // enrols in the path's courses
    return launchAu(session, C, AU);
  }

  before(async () => {
    lms = await testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin] });
    await importXml(lms, cmi5Xml(C, 'Alcance', [{ au: AU, moveOn: 'Completed' }]));
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [C] });
    http = await listen(lms);
    const me = await launched();
    theirs = await launched();
    const fetchUrl = new URL(me.params.fetch);
    const res = await fetch(`${http.base}${fetchUrl.pathname}${fetchUrl.search}`, { method: 'POST' });
    mine = { ...me, token: ((await res.json()) as { 'auth-token': string })['auth-token'] };
  });
  after(async () => {
    await http.close();
    await lms.close();
  });

  /** An xAPI request with my launch token; `endpoint` is appended to, as cmi5 AUs do. */
  function xapi(method: string, resource: string, params: Record<string, string>, body?: unknown) {
    const endpoint = new URL(mine.params.endpoint);
    return fetch(`${http.base}${endpoint.pathname.replace(/\/?$/, '/')}${resource}?${new URLSearchParams(params)}`, {
      method,
      headers: {
        authorization: `Basic ${mine.token}`,
        'x-experience-api-version': '1.0.3',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  const agent = (l: Launched) => JSON.stringify(l.params.actor);
  const prefs = (l: Launched) => ({ agent: agent(l), profileId: 'cmi5LearnerPreferences' });
  const launchData = (l: Launched) => ({
    activityId: l.params.activityId,
    agent: agent(l),
    registration: l.params.registration,
    stateId: 'LMS.LaunchData',
  });

  it('reads and writes its own launch documents', async () => {
    expect((await xapi('GET', 'agents/profile', prefs(mine))).status).to.equal(200);
    expect((await xapi('GET', 'activities/state', launchData(mine))).status).to.equal(200);
    const bookmark = { ...launchData(mine), stateId: 'bookmark' };
    expect((await xapi('PUT', 'activities/state', bookmark, { section: 2 })).status).to.equal(204);
    expect((await xapi('DELETE', 'activities/state', bookmark)).status).to.equal(204);
  });

  it('gets 403 for another learner’s agent profile and state', async () => {
    const res = await xapi('GET', 'agents/profile', prefs(theirs));
    expect(res.status).to.equal(403);
    expect(await res.text()).to.match(/its own actor/);
    expect((await xapi('POST', 'agents/profile', prefs(theirs), { languagePreference: 'en' })).status).to.equal(403);
    expect((await xapi('GET', 'activities/state', launchData(theirs))).status).to.equal(403);
    const { stateId: _s, ...all } = launchData(theirs);
    expect((await xapi('DELETE', 'activities/state', all)).status).to.equal(403);
    expect((await xapi('GET', 'activities/state', all)).status).to.equal(403);
    // The other learner's documents are intact.
    const data = await lms.services.get('lrs.documents').getState({
      activityId: theirs.params.activityId,
      agent: theirs.params.actor,
      registration: theirs.params.registration,
      stateId: 'LMS.LaunchData',
    });
    expect(data).to.have.property('launchMode');
  });

  it('gets 403 for its own actor in another registration, and cannot delete its LaunchData with the rest', async () => {
    const other = { ...launchData(mine), registration: theirs.params.registration };
    expect((await xapi('GET', 'activities/state', other)).status).to.equal(403);
    const { stateId: _s, ...all } = launchData(mine);
    const res = await xapi('DELETE', 'activities/state', all);
    expect(res.status).to.equal(403);
    expect(await res.text()).to.match(/LMS\.LaunchData/);
    expect((await xapi('GET', 'activities/state', launchData(mine))).status).to.equal(200);
  });
});
