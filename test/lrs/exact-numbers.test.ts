import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { binaryParser, testApp } from '../helpers';
import { xapiClient } from './lrs-helpers';

/**
 * JSON numbers come back exactly as they were sent: xAPI extensions are arbitrary JSON, and a
 * double cannot hold 12345678901234567890, 1.0000000000000001 or 1e400. Requests are written as
 * text and answers read as text, as a client that is not JavaScript sees them.
 */
describe('lrs: numbers are kept exactly as sent', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let lrs: Awaited<ReturnType<typeof xapiClient>>;
  before(async () => {
    lms = await testApp();
    lrs = await xapiClient(lms);
  });
  after(() => lms.close());

  const NUMBERS = ['12345678901234567890', '1.0000000000000001', '1e400', '-1E-400', '2.50', '1.0', '-0', '9007199254740993', '0.1'];
  const ext = (prefix: string) => `{${NUMBERS.map((n, i) => `"http://example.org/ext/${prefix}${i}":${n}`).join(',')}}`;
  const activity = `http://example.org/activity/${randomUUID()}`;
  const id = randomUUID();
  const text = `{"id":"${id}","actor":{"mbox":"mailto:exacta@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/scored"},
    "object":{"id":"${activity}","definition":{"extensions":${ext('d')}}},
    "result":{"score":{"raw":12345678901234567890,"scaled":0.50},"extensions":${ext('r')}},
    "context":{"extensions":{"http://example.org/ext/nested":[{"a":1e400,"b":[12345678901234567890]}]}}}`;

  const has = (body: string, ...parts: string[]) => {
    for (const p of parts) expect(body, p).to.contain(p);
  };
  const every = (prefix: string) => NUMBERS.map((n, i) => `"http://example.org/ext/${prefix}${i}":${n}`);

  it('a statement read back (exact, canonical, in a list, with attachments) has every number as sent', async () => {
    await lrs.post('/xapi/statements').type('application/json').send(text).expect(200);
    const one = await lrs.get(`/xapi/statements?statementId=${id}`).buffer(true).expect(200);
    has(one.text, ...every('r'), ...every('d'), '"raw":12345678901234567890', '"scaled":0.50', '{"a":1e400,"b":[12345678901234567890]}');
    const canonical = await lrs.get(`/xapi/statements?statementId=${id}&format=canonical`).buffer(true).expect(200);
    has(canonical.text, ...every('r'), '"raw":12345678901234567890');
    const list = await lrs
      .get(`/xapi/statements?activity=${encodeURIComponent(activity)}`)
      .buffer(true)
      .expect(200);
    has(list.text, ...every('r'), '{"a":1e400,"b":[12345678901234567890]}');
    const multipart = await lrs.get(`/xapi/statements?statementId=${id}&attachments=true`).buffer(true).parse(binaryParser).expect(200);
    expect(multipart.headers['content-type']).to.match(/^multipart\/mixed/);
    has((multipart.body as Buffer).toString('utf8'), ...every('r'));
    // The activity definition the LRS learned from the statement.
    const act = await lrs
      .get(`/xapi/activities?activityId=${encodeURIComponent(activity)}`)
      .buffer(true)
      .expect(200);
    has(act.text, ...every('d'));
  });

  it('the same statement re-sent is accepted once; a number changed in its last digit is a conflict', async () => {
    await lrs.put(`/xapi/statements?statementId=${id}`).type('application/json').send(text).expect(204);
    const changed = text.replace('"b":[12345678901234567890]', '"b":[12345678901234567891]');
    expect(changed).not.to.equal(text);
    await lrs.put(`/xapi/statements?statementId=${id}`).type('application/json').send(changed).expect(409);
  });

  it('a JSON state document merged by POST keeps its numbers as written', async () => {
    const q = `activityId=${encodeURIComponent(activity)}&agent=${encodeURIComponent('{"mbox":"mailto:exacta@example.org"}')}&stateId=exact`;
    await lrs.post(`/xapi/activities/state?${q}`).type('application/json').send('{"big":12345678901234567890,"tiny":1e-400}').expect(204);
    await lrs.post(`/xapi/activities/state?${q}`).type('application/json').send('{"more":1.0000000000000001}').expect(204);
    const doc = await lrs.get(`/xapi/activities/state?${q}`).buffer(true).expect(200);
    has(doc.text, '"big":12345678901234567890', '"tiny":1e-400', '"more":1.0000000000000001');
  });

  it('a score outside a double’s range is refused by name, not stored as null', async () => {
    const bad = text.replace(id, randomUUID()).replace('"scaled":0.50', '"scaled":1e400');
    const res = await lrs.post('/xapi/statements').type('application/json').send(bad).expect(400);
    expect(res.body.error.message).to.contain('result.score.scaled');
  });
});
