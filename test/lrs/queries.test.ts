import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { testApp } from '../helpers';
import { agentParam, randomUUID, statement, xapiClient } from './lrs-helpers';

type S = { id: string };
const ids = (body: { statements: S[] }) => body.statements.map((s) => s.id);

describe('lrs: statement queries, voiding and paging', () => {
  let lms: LmsApp;
  let c: Awaited<ReturnType<typeof xapiClient>>;
  const reg = randomUUID();
  const verb = `http://example.org/verbs/${randomUUID()}`;
  const activity = `http://example.org/act/${randomUUID()}`;
  const mbox = `mailto:${randomUUID()}@example.org`;
  const stored: string[] = [];

  before(async () => {
    lms = await testApp();
    c = await xapiClient(lms);
    // 5 statements by our agent with our verb+activity in our registration, plus noise.
    for (let i = 0; i < 5; i++) {
      const s = statement({
        id: randomUUID(),
        actor: { mbox },
        verb: { id: verb },
        object: { id: activity },
        context: {
          registration: reg,
          instructor: { mbox: 'mailto:teacher@example.org' },
          contextActivities: { parent: { id: 'http://example.org/course' } },
        },
      });
      stored.push((await c.post('/xapi/statements').send(s).expect(200)).body[0]);
    }
    await c
      .post('/xapi/statements')
      .send([statement(), statement({ verb: { id: verb } })])
      .expect(200);
  });
  after(() => lms.close());

  it('filters by agent, verb + activity, registration, and related agents/activities', async () => {
    const byAgent = await c.get(`/xapi/statements?agent=${agentParam(mbox)}`).expect(200);
    expect(ids(byAgent.body)).to.deep.equal([...stored].reverse());
    const byVerbAct = await c.get(`/xapi/statements?verb=${encodeURIComponent(verb)}&activity=${encodeURIComponent(activity)}`).expect(200);
    expect(ids(byVerbAct.body)).to.have.members(stored);
    const byReg = await c.get(`/xapi/statements?registration=${reg}&ascending=true`).expect(200);
    expect(ids(byReg.body)).to.deep.equal(stored);
    await c
      .get(`/xapi/statements?agent=${agentParam('mailto:teacher@example.org')}`)
      .expect(200)
      .expect((r) => expect(r.body.statements).to.have.length(0));
    const related = await c.get(`/xapi/statements?agent=${agentParam('mailto:teacher@example.org')}&related_agents=true`).expect(200);
    expect(ids(related.body)).to.have.members(stored);
    const relAct = await c
      .get(`/xapi/statements?activity=${encodeURIComponent('http://example.org/course')}&related_activities=true`)
      .expect(200);
    expect(ids(relAct.body)).to.have.members(stored);
  });

  it('rejects bad query parameters with 400 naming them', async () => {
    for (const [q, field] of [
      ['agent=notjson', 'agent'],
      ['verb=not%20an%20iri', 'verb'],
      ['registration=123', 'registration'],
      ['limit=-1', 'limit'],
      ['format=pretty', 'format'],
      ['since=yesterday', 'since'],
      ['colour=blue', 'colour'],
      [`statementId=${randomUUID()}&verb=${encodeURIComponent(verb)}`, 'verb'],
    ]) {
      const r = await c.get(`/xapi/statements?${q}`).expect(400);
      expect(r.body.error.message, q).to.contain(field);
      expect(r.headers['x-experience-api-consistent-through']).to.be.a('string');
    }
  });

  it('pages with `more`, and later pages do not shift when statements are written meanwhile', async () => {
    const first = await c.get(`/xapi/statements?agent=${agentParam(mbox)}&limit=2`).expect(200);
    expect(ids(first.body)).to.deep.equal([stored[4], stored[3]]);
    expect(first.body.more).to.match(/^\/xapi\/statements\?more=/);
    // A new statement by the same agent arrives between pages.
    await c
      .post('/xapi/statements')
      .send(statement({ actor: { mbox }, verb: { id: verb }, object: { id: activity } }))
      .expect(200);
    const second = await c.get(first.body.more).expect(200);
    expect(ids(second.body)).to.deep.equal([stored[2], stored[1]]);
    const third = await c.get(second.body.more).expect(200);
    expect(ids(third.body)).to.deep.equal([stored[0]]);
    expect(third.body.more).to.equal('');
    await c.get('/xapi/statements?more=garbage').expect(400);
  });

  it('voids statements: hidden from lists, returned by voidedStatementId, and a voiding statement cannot be voided', async () => {
    const target = (
      await c
        .post('/xapi/statements')
        .send(statement({ actor: { mbox: 'mailto:void@example.org' } }))
        .expect(200)
    ).body[0];
    const voiding = (
      await c
        .post('/xapi/statements')
        .send(
          statement({
            actor: { mbox: 'mailto:admin@example.org' },
            verb: { id: 'http://adlnet.gov/expapi/verbs/voided' },
            object: { objectType: 'StatementRef', id: target },
          }),
        )
        .expect(200)
    ).body[0];
    await c.get(`/xapi/statements?statementId=${target}`).expect(404);
    const v = await c.get(`/xapi/statements?voidedStatementId=${target}`).expect(200);
    expect(v.body.id).to.equal(target);
    const list = await c.get(`/xapi/statements?agent=${agentParam('mailto:void@example.org')}`).expect(200);
    // The voided statement is gone; the voiding statement matches through its StatementRef.
    expect(ids(list.body)).to.deep.equal([voiding]);
    const again = await c
      .post('/xapi/statements')
      .send(statement({ verb: { id: 'http://adlnet.gov/expapi/verbs/voided' }, object: { objectType: 'StatementRef', id: voiding } }))
      .expect(400);
    expect(again.body.error.message).to.contain('statement.object.id');
  });

  it('returns ids and canonical formats', async () => {
    const idsFmt = await c.get(`/xapi/statements?statementId=${stored[0]}&format=ids`).expect(200);
    expect(idsFmt.body.actor).to.deep.equal({ mbox });
    expect(idsFmt.body.object).to.deep.equal({ id: activity });
    const id = (await c.post('/xapi/statements').send(statement()).expect(200)).body[0];
    const canon = await c.get(`/xapi/statements?statementId=${id}&format=canonical`).set('Accept-Language', 'en-US').expect(200);
    expect(canon.body.verb.display).to.deep.equal({ 'en-US': 'completed' });
    const exact = await c.get(`/xapi/statements?statementId=${id}`).set('Accept-Language', 'en-US').expect(200);
    expect(Object.keys(exact.body.verb.display)).to.have.length(2);
  });

  it('serves GET /activities (merged definition), /agents (Person) and HEAD', async () => {
    const a = `http://example.org/act/${randomUUID()}`;
    await c
      .post('/xapi/statements')
      .send(statement({ object: { id: a, definition: { name: { es: 'Uno' } } } }))
      .expect(200);
    await c
      .post('/xapi/statements')
      .send(statement({ object: { id: a, definition: { name: { en: 'One' }, type: 'http://adlnet.gov/expapi/activities/course' } } }))
      .expect(200);
    const act = await c.get(`/xapi/activities?activityId=${encodeURIComponent(a)}`).expect(200);
    expect(act.body.definition).to.deep.equal({ name: { es: 'Uno', en: 'One' }, type: 'http://adlnet.gov/expapi/activities/course' });
    const person = await c.get(`/xapi/agents?agent=${agentParam(mbox)}`).expect(200);
    expect(person.body).to.deep.equal({ objectType: 'Person', mbox: [mbox] });
    const head = await c.head(`/xapi/statements?statementId=${stored[0]}`).expect(200);
    expect(head.headers['content-type']).to.contain('application/json');
    expect(head.text ?? '').to.equal('');
  });
});
