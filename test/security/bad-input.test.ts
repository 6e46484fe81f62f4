import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser, testApp } from '../helpers';
import { statement, xapiClient } from '../lrs/lrs-helpers';
import { browserSession, listen } from './outsider';

/** Hostile or odd input gets a 4xx naming the problem, never a 500. */
describe('security: bad input is a 4xx, never a 500', () => {
  let lms: LmsApp;
  let lrs: Awaited<ReturnType<typeof xapiClient>>;
  before(async () => {
    lms = await testApp();
    lrs = await xapiClient(lms);
  });
  after(() => lms.close());

  const postJson = (body: string) => lrs.post('/xapi/statements').set('Content-Type', 'application/json').send(body);

  it('POST /xapi/statements with null or [null]', async () => {
    for (const body of ['null', '[null]', '[1]', '"x"', '[[]]']) {
      const res = await postJson(body);
      expect(res.status, body).to.equal(400);
      expect(res.text, body).to.match(/statement/i);
    }
  });

  it('an extension value nested 3,000+ deep', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const s = JSON.stringify(statement({ result: { extensions: { 'http://example.org/x': 0 } } })).replace(
      '"http://example.org/x":0',
      `"http://example.org/x":${deep}`,
    );
    const res = await postJson(s);
    expect(res.status).to.be.within(400, 499);
    expect(res.text).to.match(/deep|nest/i);
  });

  it('a statement larger than the database’s 16 MiB document limit but under the body limit is a 413', async () => {
    const big = 'x'.repeat(17 * 1024 * 1024);
    const res = await postJson(JSON.stringify(statement({ result: { extensions: { 'http://example.org/x': big } } })));
    expect(res.status, res.text).to.equal(413);
    const doc = await lrs
      .put('/xapi/activities/profile?activityId=http%3A%2F%2Fexample.org%2Fa&profileId=big')
      .set('Content-Type', 'application/octet-stream')
      .set('If-None-Match', '*')
      .send(Buffer.alloc(17 * 1024 * 1024, 1));
    expect(doc.status, doc.text).to.equal(413);
  });

  it('?page=1e400 and other unreadable numbers in query strings', async () => {
    const http = await listen(lms);
    try {
      const u = await makeUser(lms, { role: 'admin' });
      const admin = await browserSession(http.base, u.email, u.password);
      for (const path of ['/accounts/admin/users?page=1e400', '/accounts/admin/users?page=-1', '/accounts/admin/users?page=NaN']) {
        const res = await admin.request(path);
        expect(res.status, path).to.be.below(500);
      }
    } finally {
      await http.close();
    }
  });
});
