import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { testApp } from '../helpers';
import { randomUUID, statement, xapiClient } from './lrs-helpers';

describe('lrs: statements resource', () => {
  let lms: LmsApp;
  let c: Awaited<ReturnType<typeof xapiClient>>;
  before(async () => {
    lms = await testApp({ env: { LRS_BODY_LIMIT: '200000' } });
    c = await xapiClient(lms);
  });
  after(() => lms.close());

  it('round-trips a statement exactly: keys with "." and "$", nested arrays, language maps', async () => {
    const id = randomUUID();
    const s = statement({
      id,
      result: {
        score: { scaled: 0.5 },
        extensions: {
          'http://example.org/ext.with.dots': {
            $weird: [
              [1, 2],
              [3, [4]],
            ],
            'a.b': null,
          },
        },
      },
      context: { registration: randomUUID(), language: 'pt-BR', extensions: { 'http://example.org/x': 'y' } },
    });
    await c.put(`/xapi/statements?statementId=${id}`).send(s).expect(204);
    const got = await c.get(`/xapi/statements?statementId=${id}`).expect(200);
    const { stored, timestamp, authority, version, ...rest } = got.body;
    expect(rest).to.deep.equal(s);
    expect(new Date(stored).getTime()).to.be.closeTo(Date.now(), 60_000);
    expect(timestamp).to.equal(stored);
    expect(version).to.equal('1.0.0');
    expect(authority.account.name).to.equal(c.key);
    expect(got.headers['x-experience-api-version']).to.equal('1.0.3');
    expect(got.headers['last-modified']).to.be.a('string');
  });

  it('accepts the same statement twice (idempotent retry) and rejects a different one with the same id (409)', async () => {
    const id = randomUUID();
    const s = statement({ id, result: { duration: 'PT1.234S' } });
    await c.put(`/xapi/statements?statementId=${id}`).send(s).expect(204);
    await c.put(`/xapi/statements?statementId=${id}`).send(s).expect(204);
    const again = await c.post('/xapi/statements').send([s]).expect(200);
    expect(again.body).to.deep.equal([id]);
    const diff = await c
      .post('/xapi/statements')
      .send([{ ...s, result: { success: false } }])
      .expect(409);
    expect(diff.body.error.message).to.contain(id);
  });

  it('stores nothing of a batch with one invalid statement, and names the offending field', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const bad = statement({ id: ids[2], result: { score: { scaled: 3 } } });
    const res = await c
      .post('/xapi/statements')
      .send([statement({ id: ids[0] }), statement({ id: ids[1] }), bad])
      .expect(400);
    expect(res.body.error.message).to.contain('statements[2].result.score.scaled');
    for (const id of ids) await c.get(`/xapi/statements?statementId=${id}`).expect(404);
  });

  it('stores nothing of a batch that conflicts with a stored statement', async () => {
    const existing = randomUUID();
    await c
      .post('/xapi/statements')
      .send(statement({ id: existing }))
      .expect(200);
    const fresh = randomUUID();
    await c
      .post('/xapi/statements')
      .send([statement({ id: fresh }), statement({ id: existing, result: { completion: true } })])
      .expect(409);
    await c.get(`/xapi/statements?statementId=${fresh}`).expect(404);
  });

  it('rejects malformed statements with 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [statement({ actor: { mbox: 'lucia@example.org' } }), 'statement.actor.mbox'],
      [statement({ actor: { mbox: 'mailto:a@b.org', openid: 'http://x.org/a' } }), 'statement.actor'],
      [statement({ verb: { id: 'not an iri' } }), 'statement.verb.id'],
      [statement({ verb: { id: 'http://x.org/v', display: { 'not a tag!': 'x' } } }), 'statement.verb.display'],
      [statement({ object: { id: 'http://x.org/a', definition: { name: null } } }), 'statement.object.definition.name'],
      [statement({ context: { registration: 'nope' } }), 'statement.context.registration'],
      [statement({ result: { score: { raw: 5, min: 6 } } }), 'statement.result.score.raw'],
      [statement({ result: { duration: '1 hour' } }), 'statement.result.duration'],
      [statement({ timestamp: 'yesterday' }), 'statement.timestamp'],
      [statement({ extra: 1 }), 'statement.extra'],
      [statement({ object: { objectType: 'StatementRef', id: randomUUID() }, context: { platform: 'web' } }), 'statement.context.platform'],
      [
        statement({ actor: { objectType: 'Group', member: [{ objectType: 'Group', mbox: 'mailto:g@x.org' }] } }),
        'statement.actor.member[0].objectType',
      ],
    ];
    for (const [s, field] of cases) {
      const res = await c.post('/xapi/statements').send(s).expect(400);
      expect(res.body.error.message, field).to.contain(field);
    }
    const notJson = await c.post('/xapi/statements').type('application/json').send('{"actor":').expect(400);
    expect(notJson.body.error.message).to.contain('body');
  });

  it('requires a supported X-Experience-API-Version and Basic auth', async () => {
    const raw = supertest(lms.app);
    const none = await raw.get('/xapi/statements').set('Authorization', c.auth).expect(400);
    expect(none.body.error.message).to.contain('X-Experience-API-Version');
    await raw.get('/xapi/statements').set('Authorization', c.auth).set('X-Experience-API-Version', '0.95').expect(400);
    await raw
      .get('/xapi/statements')
      .set('Authorization', c.auth)
      .set('X-Experience-API-Version', '2.0.0')
      .expect(200)
      .expect('X-Experience-API-Version', '2.0.0');
    await raw.get('/xapi/statements').set('X-Experience-API-Version', '1.0.3').expect(401).expect('WWW-Authenticate', /Basic/);
    await raw
      .get('/xapi/statements')
      .set('X-Experience-API-Version', '1.0.3')
      .set('Authorization', 'Basic ' + Buffer.from(`${c.key}:wrong`).toString('base64'))
      .expect(401);
    const about = await raw.get('/xapi/about').expect(200);
    expect(about.body.version).to.include.members(['1.0.3', '2.0.0']);
  });

  it('answers 413 for a body over LRS_BODY_LIMIT', async () => {
    const big = statement({ result: { response: 'x'.repeat(300_000) } });
    const res = await c.post('/xapi/statements').send(big).expect(413);
    expect(res.body.error.message).to.contain('LRS_BODY_LIMIT');
  });

  it('answers CORS preflights without auth and exposes the xAPI headers', async () => {
    const res = await supertest(lms.app)
      .options('/xapi/statements')
      .set('Origin', 'null')
      .set('Access-Control-Request-Method', 'POST')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).to.equal('*');
    expect(res.headers['access-control-allow-headers']).to.contain('X-Experience-API-Version');
    const get = await c.get('/xapi/statements?limit=1').set('Origin', 'https://content.example').expect(200);
    expect(get.headers['access-control-expose-headers']).to.contain('X-Experience-API-Consistent-Through');
    expect(get.headers['cross-origin-resource-policy']).to.equal(undefined);
  });

  it('enforces scopes: write-only clients cannot read, read/mine sees only its own statements', async () => {
    const writer = await xapiClient(lms, ['statements/write']);
    await writer.get('/xapi/statements').expect(403);
    const mine = await xapiClient(lms, ['statements/write', 'statements/read/mine']);
    const ownId = randomUUID();
    await mine
      .post('/xapi/statements')
      .send(statement({ id: ownId }))
      .expect(200);
    const list = await mine.get('/xapi/statements?limit=500').expect(200);
    expect(list.body.statements.map((s: { id: string }) => s.id)).to.deep.equal([ownId]);
    const other = randomUUID();
    await c
      .post('/xapi/statements')
      .send(statement({ id: other }))
      .expect(200);
    await mine.get(`/xapi/statements?statementId=${other}`).expect(404);
  });
});
