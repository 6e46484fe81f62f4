import { expect } from 'chai';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../../server/app';
import { csrfFrom, makeUser, signIn } from '../../helpers';
import { alertOf, identityApp, identityOf, newAgent } from './fixtures';

const SECRET = 'the-client-secret-9b2e71';
const form = (fields: Record<string, string> = {}) => ({
  id: 'gov-form',
  protocol: 'oidc',
  label_es: 'Gov del formulario',
  label_pt: 'Gov do formulário',
  label_en: 'Gov of the form',
  orgUnits: 'INST-A, A1',
  match: 'email',
  enabled: 'on',
  issuer: 'https://id.gov-form.example',
  clientId: 'lms-form',
  clientSecret: SECRET,
  logout: 'on',
  ...fields,
});

describe('accounts: the identity providers admin form', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let admin: TestAgent;
  const providers = () => identityOf(lms).providers;

  before(async () => {
    lms = await identityApp();
    const a = await makeUser(lms, { role: 'admin' });
    admin = await signIn(lms, a.email, a.password);
  });
  after(() => lms?.close());

  const csrf = async () => csrfFrom((await admin.get('/accounts/identity/admin').expect(200)).text);
  const save = async (fields: Record<string, string>) =>
    admin
      .post('/accounts/identity/admin/providers')
      .type('form')
      .send({ _csrf: await csrf(), ...fields });

  it('refuses a change without the CSRF token, and anyone but an administrator', async () => {
    const noToken = await admin.post('/accounts/identity/admin/providers').type('form').send(form());
    expect(noToken.status).to.equal(403);
    const forged = await admin
      .post('/accounts/identity/admin/providers')
      .type('form')
      .send({ ...form(), _csrf: 'forged' });
    expect(forged.status).to.equal(403);
    const learner = await makeUser(lms, { orgUnit: 'A1' });
    const agent = await signIn(lms, learner.email, learner.password);
    const page = await agent.get('/accounts/profile').expect(200);
    const asLearner = await agent
      .post('/accounts/identity/admin/providers')
      .type('form')
      .send({ ...form(), _csrf: csrfFrom(page.text) });
    expect(asLearner.status).to.equal(403);
    await newAgent(lms).get('/accounts/identity/admin').expect(303);
    expect(await providers().get('gov-form')).to.equal(undefined);
  });

  it('refuses hostile input with a 400 naming the field, writes nothing and never echoes the secret', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ id: '../../etc' }, /id must be lower-case letters/],
      [{ id: 'x'.repeat(41) }, /id must be lower-case letters/],
      [{ protocol: 'kerberos' }, /protocol/],
      [{ issuer: 'javascript:alert(1)' }, /issuer/],
      [{ issuer: 'file:///etc/passwd' }, /issuer: must start with https:\/\/ or http:\/\//],
      [{ orgUnits: 'INST-A, {"$ne":1}' }, /org unit codes are letters/],
      [{ orgUnits: '' }, /bind it to at least one org unit/],
      [{ label_es: 'x'.repeat(101) }, /label\.es/],
      [{ label_pt: '   ' }, /label\.pt/],
      [{ match: 'password' }, /match/],
      [{ attr_email: '<img src=x onerror=alert(1)>'.repeat(10) }, /attributes\.email/],
    ];
    for (const [fields, message] of cases) {
      const res = await save(form(fields));
      expect(res.status, JSON.stringify(fields)).to.equal(400);
      expect(alertOf(res.text), JSON.stringify(fields)).to.match(message);
      expect(res.text).not.to.contain(SECRET);
      expect(res.text).not.to.contain('<img src=x');
    }
    expect(await providers().list()).to.have.length(0);
    // Arrays and objects where the form has text: a 400, not a crash.
    const odd = await admin
      .post('/accounts/identity/admin/providers')
      .type('form')
      .send(`_csrf=${encodeURIComponent(await csrf())}&id[]=a&id[]=b&protocol[$ne]=x`);
    expect(odd.status).to.be.within(400, 499);
  });

  it('creates a provider, escapes its names on every page, and does not show its secret again', async () => {
    const res = await save(form({ label_es: '<script>alert("es")</script> Gov' }));
    expect(res.status, res.text).to.equal(303);
    expect(res.headers.location).to.equal('/accounts/identity/admin?saved=gov-form');
    const p = await providers().get('gov-form');
    expect(p).to.include({ protocol: 'oidc', clientSecret: SECRET, enabled: true, issuer: 'https://id.gov-form.example' });
    expect(p!.orgUnits).to.deep.equal(['INST-A', 'A1']);
    const page = await admin.get('/accounts/identity/admin').expect(200);
    expect(page.text).to.contain('&lt;script&gt;alert(&#34;es&#34;)&lt;/script&gt; Gov');
    expect(page.text).not.to.contain('<script>alert');
    expect(page.text).not.to.contain(SECRET);
    const login = await newAgent(lms).get('/accounts/login').expect(200);
    expect(login.text).to.contain('/accounts/identity/gov-form/start');
    expect(login.text).not.to.contain('<script>alert');
  });

  it('edits it: the form is filled (secret left out), and an empty secret keeps the stored one', async () => {
    const edit = await admin.get('/accounts/identity/admin?edit=gov-form').expect(200);
    expect(edit.text).to.contain('value="gov-form"').and.contain('value="lms-form"').and.contain('value="INST-A, A1"');
    expect(edit.text).not.to.contain(SECRET);
    const res = await save(form({ label_en: 'Gov, renamed', clientSecret: '', scope: 'openid email' }));
    expect(res.status, res.text).to.equal(303);
    expect(await providers().get('gov-form')).to.include({ clientSecret: SECRET, scope: 'openid email' });
    expect((await providers().get('gov-form'))!.label.en).to.equal('Gov, renamed');
    await admin.get('/accounts/identity/admin?edit=no-such-provider').expect(404);
  });

  it('disables it: off the sign-in page and its start answers 404; enabling it again brings it back', async () => {
    const { enabled: _e, ...withoutEnabled } = form({ clientSecret: '' });
    expect((await save(withoutEnabled)).status).to.equal(303);
    expect(await providers().get('gov-form')).to.include({ enabled: false, clientSecret: SECRET });
    expect((await newAgent(lms).get('/accounts/login').expect(200)).text).not.to.contain('gov-form');
    await newAgent(lms).get('/accounts/identity/gov-form/start').expect(404);
    expect((await save(form({ clientSecret: '' }))).status).to.equal(303);
    expect((await newAgent(lms).get('/accounts/login').expect(200)).text).to.contain('/accounts/identity/gov-form/start');
  });

  it('removes it with the form (CSRF checked)', async () => {
    await admin.post('/accounts/identity/admin/providers/gov-form/delete').type('form').send({}).expect(403);
    expect(await providers().get('gov-form')).not.to.equal(undefined);
    await admin
      .post('/accounts/identity/admin/providers/gov-form/delete')
      .type('form')
      .send({ _csrf: await csrf() })
      .expect(303);
    expect(await providers().get('gov-form')).to.equal(undefined);
  });
});
