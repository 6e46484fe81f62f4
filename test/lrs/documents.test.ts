import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { HttpError } from '../../server/core/errors';
import { testApp } from '../helpers';
import { agentParam, randomUUID, xapiClient } from './lrs-helpers';

describe('lrs: state and profile documents', () => {
  let lms: LmsApp;
  let c: Awaited<ReturnType<typeof xapiClient>>;
  let c2: Awaited<ReturnType<typeof xapiClient>>;
  const activity = encodeURIComponent('http://example.org/act/doc');
  const agent = agentParam('mailto:doc@example.org');
  before(async () => {
    lms = await testApp();
    c = await xapiClient(lms, ['all'], '1.0.3');
    c2 = await xapiClient(lms, ['all'], '2.0.0');
  });
  after(() => lms.close());

  it('stores, lists, merges and deletes state documents with ETags', async () => {
    const reg = randomUUID();
    const url = (id: string) => `/xapi/activities/state?activityId=${activity}&agent=${agent}&registration=${reg}&stateId=${id}`;
    await c
      .put(url('bookmark'))
      .type('application/json')
      .send({ page: 3, 'a.b': { $x: [[1]] } })
      .expect(204);
    const got = await c.get(url('bookmark')).expect(200);
    expect(got.body).to.deep.equal({ page: 3, 'a.b': { $x: [[1]] } });
    expect(got.headers.etag).to.match(/^"[0-9a-f]{40}"$/);
    expect(got.headers['last-modified']).to.be.a('string');
    await c.post(url('bookmark')).type('application/json').send({ page: 4, done: false }).expect(204);
    expect((await c.get(url('bookmark')).expect(200)).body).to.deep.equal({ page: 4, 'a.b': { $x: [[1]] }, done: false });
    await c.put(url('note')).type('text/plain').send('hola').expect(204);
    const note = await c.get(url('note')).expect(200);
    expect(note.headers['content-type']).to.contain('text/plain');
    expect(note.text).to.equal('hola');
    const list = await c.get(`/xapi/activities/state?activityId=${activity}&agent=${agent}&registration=${reg}`).expect(200);
    expect(list.body).to.have.members(['bookmark', 'note']);
    // Merging into a non-JSON document is refused and changes nothing.
    await c.post(url('note')).type('application/json').send({ a: 1 }).expect(400);
    await c.delete(`/xapi/activities/state?activityId=${activity}&agent=${agent}&registration=${reg}`).expect(204);
    await c.get(url('bookmark')).expect(404);
  });

  it('applies If-Match / If-None-Match, and refuses a blind overwrite of a profile with 409', async () => {
    const url = `/xapi/activities/profile?activityId=${activity}&profileId=p-${randomUUID()}`;
    await c2.put(url).type('application/json').set('If-None-Match', '*').send({ v: 1 }).expect(204);
    const etag = (await c2.get(url).expect(200)).headers.etag as string;
    await c2.put(url).type('application/json').set('If-None-Match', '*').send({ v: 2 }).expect(412);
    await c2.put(url).type('application/json').send({ v: 2 }).expect(409);
    await c2.put(url).type('application/json').set('If-Match', '"0000000000000000000000000000000000000000"').send({ v: 2 }).expect(412);
    await c2.put(url).type('application/json').set('If-Match', etag).send({ v: 2 }).expect(204);
    expect((await c2.get(url).expect(200)).body).to.deep.equal({ v: 2 });
    await c2.delete(url).set('If-Match', etag).expect(412);
    await c2.delete(url).expect(204);
    await c2.get(url).expect(404);
  });

  it('serves agent profiles and validates parameters', async () => {
    const url = `/xapi/agents/profile?agent=${agent}&profileId=prefs`;
    await c2.post(url).type('application/json').send({ language: 'es' }).expect(204);
    expect((await c2.get(url).expect(200)).body).to.deep.equal({ language: 'es' });
    const bad = await c2.get(`/xapi/agents/profile?agent=${encodeURIComponent('{"mbox":"nope"}')}&profileId=prefs`).expect(400);
    expect(bad.body.error.message).to.contain('agent.mbox');
    const noAct = await c2.get(`/xapi/activities/state?agent=${agent}&stateId=x`).expect(400);
    expect(noAct.body.error.message).to.contain('activityId');
    const badJson = await c2
      .put(`/xapi/activities/state?activityId=${activity}&agent=${agent}&stateId=x`)
      .type('application/json')
      .send('{oops')
      .expect(400);
    expect(badJson.body.error.message).to.contain('body');
  });

  it('lets a plugin veto a document request through the lrs.document.validate hook, reads included', async () => {
    const seen: string[] = [];
    lms.hooks.on('lrs.document.validate', (p) => {
      if (p.stateId === 'LMS.LaunchData') seen.push(p.method);
      if (p.stateId === 'LMS.LaunchData' && (p.method === 'PUT' || p.method === 'POST'))
        throw new HttpError(403, 'LMS.LaunchData is written by the LMS only');
    });
    const url = `/xapi/activities/state?activityId=${activity}&agent=${agent}&stateId=LMS.LaunchData`;
    const r = await c.put(url).type('application/json').send({ launchMode: 'Browse' }).expect(403);
    expect(r.body.error.message).to.contain('LMS.LaunchData');
    // The LMS itself writes it through the service, and an AU can read it.
    await lms.services.get('lrs.documents').putState({
      activityId: 'http://example.org/act/doc',
      agent: { mbox: 'mailto:doc@example.org' },
      stateId: 'LMS.LaunchData',
      body: { launchMode: 'Normal' },
    });
    expect((await c.get(url).expect(200)).body).to.deep.equal({ launchMode: 'Normal' });
    expect(seen).to.deep.equal(['PUT', 'GET']);
  });
});
