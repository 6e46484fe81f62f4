import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { HttpError } from '../../server/core/errors';
import type { StatementHookPayload } from '../../server/core/contracts/lrs';
import { settled, testApp } from '../helpers';
import { agentParam, randomUUID, statement, xapiClient } from './lrs-helpers';

describe('lrs: services and hooks for other plugins', () => {
  let lms: LmsApp;
  const storedEvents: Array<StatementHookPayload & { stored: unknown[] }> = [];
  before(async () => {
    // Only the LRS: the catalog's cmi5 rules would (rightly) refuse these hand-made launch sessions.
    lms = await testApp({ env: { PLUGINS: 'accounts,lrs' } });
    lms.hooks.on('lrs.statements.stored', (p) => void storedEvents.push(p));
    // A cmi5-like rule: statements about the "locked" activity are refused as a whole batch.
    lms.hooks.on('lrs.statements.validate', ({ statements }) => {
      if (statements.some((s) => (s.object as { id?: string }).id === 'http://example.org/locked'))
        throw new HttpError(403, 'statement.object.id: this activity is locked');
    });
  });
  after(() => lms.close());

  it('stores as the LMS (authority = the LMS) and fires lrs.statements.stored once per new batch', async () => {
    const id = randomUUID();
    const before = storedEvents.length;
    const ids = await lms.services.get('lrs.statements').storeAsSystem([statement({ id })]);
    expect(ids).to.deep.equal([id]);
    await settled(lms);
    expect(storedEvents).to.have.length(before + 1);
    const ev = storedEvents[storedEvents.length - 1];
    expect(ev.statements[0].id).to.equal(id);
    expect((ev.statements[0].authority as { account: { name: string } }).account.name).to.equal('lms');
    // An idempotent re-post fires nothing.
    await lms.services.get('lrs.statements').storeAsSystem([statement({ id })]);
    await settled(lms);
    expect(storedEvents).to.have.length(before + 1);
  });

  it('lets a validate hook reject a whole batch with its status, storing nothing', async () => {
    const c = await xapiClient(lms);
    const okId = randomUUID();
    const r = await c
      .post('/xapi/statements')
      .send([statement({ id: okId }), statement({ object: { id: 'http://example.org/locked' } })])
      .expect(403);
    expect(r.body.error.message).to.contain('locked');
    await c.get(`/xapi/statements?statementId=${okId}`).expect(404);
  });

  it('answers 200 for stored statements even when a stored-hook consumer fails (a retry could not help it)', async () => {
    const c = await xapiClient(lms);
    const id = randomUUID();
    lms.hooks.on('lrs.statements.stored', ({ statements }) => {
      if (statements.some((s) => s.id === id)) throw new Error('consumer broke');
    });
    await c.post('/xapi/statements').send(statement({ id })).expect(200);
    await c.get(`/xapi/statements?statementId=${id}`).expect(200);
  });

  it('issues cmi5 launch tokens usable as Basic auth, bound to their session, and revocable', async () => {
    const creds = lms.services.get('lrs.credentials');
    const actor = { objectType: 'Agent', account: { homePage: 'http://127.0.0.1', name: 'learner-1' } };
    const { id, authToken } = await creds.createLaunchToken({
      name: 'AU session',
      launch: {
        actor,
        registration: randomUUID(),
        activityId: 'http://example.org/au/1',
        sessionId: randomUUID(),
        meta: { 'course.id': 'c1' },
      },
      ttlSeconds: 600,
    });
    const events: StatementHookPayload[] = [];
    lms.hooks.on('lrs.statements.validate', (p) => void events.push(p));
    const req = supertest(lms.app);
    const s = statement({ actor, object: { id: 'http://example.org/au/1' } });
    const posted = await req
      .post('/xapi/statements')
      .set('Authorization', `Basic ${authToken}`)
      .set('X-Experience-API-Version', '1.0.3')
      .send(s);
    expect(posted.status, JSON.stringify(posted.body)).to.equal(200);
    const launch = events[events.length - 1].credential.launch!;
    expect(launch.activityId).to.equal('http://example.org/au/1');
    expect(launch.meta).to.deep.equal({ 'course.id': 'c1' });
    // The AU reads its own statements only.
    const mine = await req
      .get(`/xapi/statements?agent=${encodeURIComponent(JSON.stringify(actor))}`)
      .set('Authorization', `Basic ${authToken}`)
      .set('X-Experience-API-Version', '1.0.3')
      .expect(200);
    expect(mine.body.statements).to.have.length(1);
    await creds.revoke(id);
    await req
      .post('/xapi/statements')
      .set('Authorization', `Basic ${authToken}`)
      .set('X-Experience-API-Version', '1.0.3')
      .send(s)
      .expect(401);
  });

  it('reads and writes documents as the LMS (cmi5 LaunchData, learner preferences)', async () => {
    const docs = lms.services.get('lrs.documents');
    const agent = { mbox: 'mailto:prefs@example.org' };
    const args = { activityId: 'http://example.org/au/2', agent, stateId: 'LMS.LaunchData', registration: randomUUID() };
    expect(await docs.getState(args)).to.equal(undefined);
    await docs.putState({ ...args, body: { launchMode: 'Normal', masteryScore: 0.8 } });
    await docs.putState({ ...args, body: { launchMode: 'Review' } });
    expect(await docs.getState(args)).to.deep.equal({ launchMode: 'Review' });
    await docs.putAgentProfile({ agent, profileId: 'cmi5LearnerPreferences', body: { languagePreference: 'es-419' } });
    const c = await xapiClient(lms);
    const r = await c
      .get(`/xapi/agents/profile?agent=${agentParam('mailto:prefs@example.org')}&profileId=cmi5LearnerPreferences`)
      .expect(200);
    expect(r.body).to.deep.equal({ languagePreference: 'es-419' });
  });
});
