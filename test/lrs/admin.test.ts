import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, signIn, testApp, testDbUri } from '../helpers';

describe('lrs: credentials admin UI and CLI', () => {
  let lms: LmsApp;
  before(async () => {
    lms = await testApp();
  });
  after(() => lms.close());

  it('lets an admin create a client (secret shown once, stored hashed) that then authenticates', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/lrs/admin/clients').expect(200);
    expect(page.text).to.contain('<caption>');
    const res = await agent
      .post('/lrs/admin/clients')
      .type('form')
      .send(
        `_csrf=${encodeURIComponent(csrfFrom(page.text))}&name=Moodle+ministerio&scopes=statements%2Fwrite&scopes=statements%2Fread%2Fmine`,
      )
      .expect(201);
    const key = /<dt>[^<]+<\/dt><dd><code>([0-9a-f]{24})<\/code>/.exec(res.text)?.[1];
    const secret = /<dd><code>([A-Za-z0-9_-]{43})<\/code>/.exec(res.text)?.[1];
    expect(key).to.be.a('string');
    expect(secret).to.be.a('string');
    const doc = await lms.db.collection('lrs_credentials').findOne({ _id: key as never });
    expect(JSON.stringify(doc)).not.to.contain(secret!);
    await supertest(lms.app)
      .post('/xapi/statements')
      .set('Authorization', `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`)
      .set('X-Experience-API-Version', '2.0.0')
      .send({ actor: { mbox: 'mailto:a@example.org' }, verb: { id: 'http://example.org/v' }, object: { id: 'http://example.org/a' } })
      .expect(200);
    // Revoke: the key stops working.
    const list = await agent.get('/lrs/admin/clients').expect(200);
    await agent
      .post(`/lrs/admin/clients/${key}/revoke`)
      .type('form')
      .send({ _csrf: csrfFrom(list.text) })
      .expect(303);
    await supertest(lms.app)
      .get('/xapi/statements')
      .set('Authorization', `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`)
      .set('X-Experience-API-Version', '2.0.0')
      .expect(401);
  });

  it('refuses unknown scopes with a message, and non-admins', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/lrs/admin/clients');
    const bad = await agent
      .post('/lrs/admin/clients')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), name: 'x', scopes: 'root' })
      .expect(400);
    expect(bad.text).to.contain('role="alert"');
    const learner = await makeUser(lms, { role: 'learner' });
    const la = await signIn(lms, learner.email, learner.password);
    await la.get('/lrs/admin/clients').expect(403);
  });

  it('creates a client from the CLI with --json', async function () {
    this.timeout(120_000);
    const env = { ...process.env, MONGODB_URI: testDbUri(), DB_NAME: lms.config.dbName, LOG_LEVEL: 'silent' };
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'server/cli.ts', 'lrs:client:create', '--name', 'cts', '--scopes', 'all', '--json'],
      { env },
    );
    const { key, secret } = JSON.parse(stdout.trim().split('\n').pop()!) as { key: string; secret: string };
    const c = await lms.services.get('lrs.credentials');
    expect(
      await (c as unknown as { authenticate(k: string, s: string): Promise<{ scopes: string[] } | undefined> }).authenticate(key, secret),
    )
      .to.have.property('scopes')
      .that.deep.equals(['all']);
  });
});
