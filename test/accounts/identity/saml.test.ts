import { expect } from 'chai';
import type { LmsApp } from '../../../server/app';
import { csrfFrom } from '../../helpers';
import { alertOf, identityApp, identityOf, newAgent, sessionCookie } from './fixtures';
import { TestIdp, type Variant } from './saml-idp';

const users = {
  ana: { nameID: 'persistent-ana-7f3a', email: 'ana@a.gov', name: 'Ana Souza' },
  bruno: { nameID: 'persistent-bruno-19c2', email: 'bruno@b.gov', name: 'Bruno Lima' },
  nadie: { nameID: 'persistent-nadie-0000', email: 'nadie@a.gov', name: 'Nadie' },
};
const ACS = 'http://127.0.0.1/accounts/identity/saml/adfs-a/acs';

describe('accounts: sign-in with SAML 2.0 (a samlify IdP)', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let idp: TestIdp;
  let idpUrl: string;

  before(async () => {
    lms = await identityApp({ LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent' });
    idp = await TestIdp.start('inst-a', users);
    idpUrl = idp.url;
    await identityOf(lms).providers.save({
      id: 'adfs-a',
      protocol: 'saml',
      label: { es: 'ADFS del Ministerio A', pt: 'ADFS do Ministério A', en: 'Ministry A ADFS' },
      orgUnits: ['INST-A'],
      entryPoint: `${idpUrl}/sso`,
      idpIssuer: idp.entityId,
      idpCert: idp.cert,
      logoutUrl: `${idpUrl}/slo`,
    });
    const metadata = await newAgent(lms).get('/accounts/identity/saml/adfs-a/metadata').expect(200);
    expect(metadata.headers['content-type']).to.match(/samlmetadata\+xml/);
    expect(metadata.text).to.contain('WantAssertionsSigned="true"').and.contain(ACS);
    idp.trust(metadata.text, ACS);
  });
  after(async () => {
    await lms.close();
    idp.close();
  });

  /** Our redirect to the IdP, the IdP's form, and its fields (what the browser would post). */
  async function idpAnswer(as: string, variant: Variant = 'good', agent = newAgent(lms)) {
    const start = await agent.get('/accounts/identity/adfs-a/start?next=/accounts/profile').expect(303);
    expect(start.headers.location.startsWith(`${idpUrl}/sso?SAMLRequest=`)).to.equal(true);
    const form = await (await fetch(`${start.headers.location}&as=${as}&variant=${variant}`)).text();
    const field = (n: string) => new RegExp(`name="${n}" value="([^"]*)"`).exec(form)?.[1] ?? '';
    const action = /action="([^"]+)"/.exec(form)![1];
    return {
      agent,
      action: new URL(action).pathname,
      SAMLResponse: field('SAMLResponse'),
      RelayState: field('RelayState'),
      before: sessionCookie(start),
    };
  }
  const post = (a: Awaited<ReturnType<typeof idpAnswer>>, SAMLResponse = a.SAMLResponse) =>
    a.agent.post(a.action).type('form').send({ SAMLResponse, RelayState: a.RelayState });

  it('accepts a signed assertion for this SP, links the roster account and rotates the session', async () => {
    const a = await idpAnswer('ana');
    const res = await post(a);
    expect(res.status, res.text).to.equal(303);
    expect(res.headers.location).to.equal('/accounts/profile');
    expect(sessionCookie(res)).to.be.a('string').and.not.equal(a.before);
    expect((await a.agent.get('/accounts/profile').expect(200)).text).to.contain('ana@a.gov');
    const { links } = await identityOf(lms).linker.list({ provider: 'adfs-a' });
    expect(links.map((l) => l.subject)).to.include('persistent-ana-7f3a');
  });

  it('refuses a replayed response', async () => {
    const a = await idpAnswer('ana');
    expect((await post(a)).status).to.equal(303);
    const again = await post({ ...a, agent: newAgent(lms) });
    expect(again.status).to.equal(401);
    expect(alertOf(again.text)).to.match(/No se pudo completar/);
  });

  it('refuses a tampered assertion and one whose signature was removed', async () => {
    const a = await idpAnswer('ana');
    const xml = Buffer.from(a.SAMLResponse, 'base64').toString('utf8');
    const tampered = Buffer.from(xml.replace('ana@a.gov', 'alberto@a.gov')).toString('base64');
    const res = await post(a, tampered);
    expect(res.status).to.equal(401);
    const b = await idpAnswer('ana');
    const unsigned = Buffer.from(
      Buffer.from(b.SAMLResponse, 'base64')
        .toString('utf8')
        .replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/, ''),
    ).toString('base64');
    expect(unsigned).not.to.equal(b.SAMLResponse);
    expect((await post(b, unsigned)).status).to.equal(401);
    expect(await lms.services.get('accounts.users').findByEmail('alberto@a.gov')).to.have.property('orgUnit', 'A2');
  });

  it('refuses expired, wrong-audience and wrong-recipient assertions (all validly signed)', async () => {
    for (const v of ['expired', 'audience', 'recipient'] as const) {
      const a = await idpAnswer('ana', v);
      const res = await post(a);
      expect(res.status, v).to.equal(401);
      await a.agent.get('/accounts/profile').expect(303);
    }
  });

  it('keeps people of institution B and people on no roster out', async () => {
    const b = await post(await idpAnswer('bruno'));
    expect(b.status).to.equal(403);
    expect(alertOf(b.text)).to.match(/no corresponde a su institución/);
    const n = await post(await idpAnswer('nadie'));
    expect(n.status).to.equal(403);
    expect(alertOf(n.text)).to.match(/no figura en la nómina/);
    expect(await lms.services.get('accounts.users').findByEmail('nadie@a.gov')).to.equal(undefined);
  });

  it('signing out sends a LogoutRequest for the session to the IdP (single logout)', async () => {
    const a = await idpAnswer('ana');
    expect((await post(a)).status).to.equal(303);
    const page = await a.agent.get('/accounts/profile').expect(200);
    const out = await a.agent
      .post('/accounts/logout')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303);
    const slo = new URL(out.headers.location);
    expect(slo.origin + slo.pathname).to.equal(`${idpUrl}/slo`);
    const { inflateRawSync } = await import('node:zlib');
    const request = inflateRawSync(Buffer.from(slo.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    expect(request).to.contain('LogoutRequest').and.contain('persistent-ana-7f3a').and.contain('_session-persistent-ana-7f3a');
    await a.agent.get('/accounts/profile').expect(303);
  });
});
