import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as samlify from 'samlify';
import type { LmsApp } from '../../../server/app';
import { csrfFrom } from '../../helpers';
import { alertOf, identityApp, identityOf, listen, newAgent, sessionCookie } from './fixtures';

// The test IdP trusts the one SP it serves; it does not schema-check our AuthnRequest (our SP does check its answers).
samlify.setSchemaValidator({ validate: async () => 'not checked by the test IdP' });

const IDP_ENTITY = 'https://idp.inst-a.test/metadata';
const users: Record<string, { nameID: string; email: string; name: string }> = {
  ana: { nameID: 'persistent-ana-7f3a', email: 'ana@a.gov', name: 'Ana Souza' },
  bruno: { nameID: 'persistent-bruno-19c2', email: 'bruno@b.gov', name: 'Bruno Lima' },
  nadie: { nameID: 'persistent-nadie-0000', email: 'nadie@a.gov', name: 'Nadie' },
};
type Variant = 'good' | 'expired' | 'audience' | 'recipient';
const ACS = 'http://127.0.0.1/accounts/identity/saml/adfs-a/acs';
const escapeXml = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** The IdP's response template with its {Tags} filled in; `raw` ones are XML fragments. */
const fill = (template: string, values: Record<string, string>, raw: string[]) =>
  template.replace(/\{(\w+)\}/g, (_m, tag: string) => (raw.includes(tag) ? values[tag] : escapeXml(values[tag] ?? '')));

describe('accounts: sign-in with SAML 2.0 (a samlify IdP)', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let server: Server;
  let idpUrl: string;
  let keyDir: string;

  before(async () => {
    keyDir = mkdtempSync(path.join(os.tmpdir(), 'idp-'));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=idp.inst-a.test'].concat([
        '-keyout',
        `${keyDir}/key.pem`,
        '-out',
        `${keyDir}/cert.pem`,
      ]),
      {
        stdio: 'ignore',
      },
    );
    const cert = readFileSync(`${keyDir}/cert.pem`, 'utf8');
    lms = await identityApp({ LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent' });
    let idp: samlify.IdentityProviderInstance | undefined;
    let sp: samlify.ServiceProviderInstance | undefined;
    // GET /sso?SAMLRequest=…&RelayState=…&as=ana&variant=… → the auto-posting form a browser gets.
    ({ server, url: idpUrl } = await listen((req, res) => {
      void (async () => {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/slo') return void res.writeHead(200).end('logged out at the IdP');
        const user = users[url.searchParams.get('as')!];
        const variant = (url.searchParams.get('variant') ?? 'good') as Variant;
        const query = Object.fromEntries(url.searchParams);
        const request = await idp!.parseLoginRequest(sp!, 'redirect', { query, octetString: '' });
        const response = await idp!.createLoginResponse(sp!, request as never, 'post', user, {
          relayState: query.RelayState,
          customTagReplacement: (template) => {
            const now = Date.now();
            const at = (ms: number) => new Date(now + ms).toISOString();
            const acs = ACS;
            const shift = variant === 'expired' ? -3600_000 : 0;
            const id = '_' + randomUUID();
            const context = fill(
              template,
              {
                ID: id,
                AssertionID: '_' + randomUUID(),
                Destination: acs,
                Audience: variant === 'audience' ? 'https://another-sp.example/metadata' : sp!.entityMeta.getEntityID(),
                SubjectRecipient: variant === 'recipient' ? 'https://another-sp.example/acs' : acs,
                Issuer: IDP_ENTITY,
                IssueInstant: at(shift),
                StatusCode: 'urn:oasis:names:tc:SAML:2.0:status:Success',
                ConditionsNotBefore: at(shift - 60_000),
                ConditionsNotOnOrAfter: at(shift + 300_000),
                SubjectConfirmationDataNotOnOrAfter: at(shift + 300_000),
                NameIDFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
                NameID: user.nameID,
                InResponseTo: String(request.extract.request?.id),
                AuthnStatement: `<saml:AuthnStatement AuthnInstant="${at(shift)}" SessionIndex="_session-${user.nameID}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`,
                AttributeStatement: `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue xsi:type="xs:string">${user.email}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="name"><saml:AttributeValue xsi:type="xs:string">${user.name}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`,
              },
              ['AuthnStatement', 'AttributeStatement'],
            );
            return { id, context };
          },
        });
        const r = response as { context: string; entityEndpoint: string; relayState?: string };
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            `<form method="post" action="${r.entityEndpoint}"><input type="hidden" name="SAMLResponse" value="${r.context}"><input type="hidden" name="RelayState" value="${r.relayState ?? ''}"></form>`,
          );
      })().catch((err) => res.writeHead(500).end(String(err)));
    }));
    await identityOf(lms).providers.save({
      id: 'adfs-a',
      protocol: 'saml',
      label: { es: 'ADFS del Ministerio A', pt: 'ADFS do Ministério A', en: 'Ministry A ADFS' },
      orgUnits: ['INST-A'],
      entryPoint: `${idpUrl}/sso`,
      idpIssuer: IDP_ENTITY,
      idpCert: cert,
      logoutUrl: `${idpUrl}/slo`,
    });
    const metadata = await newAgent(lms).get('/accounts/identity/saml/adfs-a/metadata').expect(200);
    expect(metadata.headers['content-type']).to.match(/samlmetadata\+xml/);
    expect(metadata.text).to.contain('WantAssertionsSigned="true"').and.contain('http://127.0.0.1/accounts/identity/saml/adfs-a/acs');
    sp = samlify.ServiceProvider({ metadata: metadata.text });
    idp = samlify.IdentityProvider({
      entityID: IDP_ENTITY,
      privateKey: readFileSync(`${keyDir}/key.pem`, 'utf8'),
      signingCert: cert,
      singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${idpUrl}/sso` }],
      singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${idpUrl}/slo` }],
      nameIDFormat: ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
    });
  });
  after(async () => {
    await lms.close();
    server.close();
    rmSync(keyDir, { recursive: true, force: true });
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
