import { expect } from 'chai';
import * as samlify from 'samlify';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../../server/app';
import { HttpError } from '../../../server/core/errors';
import { alertOf, identityApp, identityOf, local, newAgent } from './fixtures';
import { TestIdp, keyPair } from './saml-idp';

const users = {
  ana: { nameID: 'persistent-ana-51d0', email: 'ana@a.gov', name: 'Ana Souza' },
  alberto: { nameID: 'persistent-alberto-8e21', email: 'alberto@a.gov', name: 'Alberto Paz' },
};
const SP = 'http://127.0.0.1/accounts/identity/saml/shib-a';
const ACS = `${SP}/acs`;
const SLO = `${SP}/logout`;

describe('accounts: SAML with an SP key — signed requests, encrypted assertions, IdP-initiated logout', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let idp: TestIdp;
  const spKeys = keyPair('aprende.inst-a.test');
  let metadata: string;

  before(async () => {
    lms = await identityApp({ LOG_LEVEL: process.env.DEBUG_LOG ?? 'silent' });
    idp = await TestIdp.start('shib-a', users, { encrypt: true, wantSignedRequests: true });
    await identityOf(lms).providers.save({
      id: 'shib-a',
      protocol: 'saml',
      label: { es: 'Shibboleth A', pt: 'Shibboleth A', en: 'Shibboleth A' },
      orgUnits: ['INST-A'],
      entryPoint: `${idp.url}/sso`,
      idpIssuer: idp.entityId,
      idpCert: idp.cert,
      logoutUrl: `${idp.url}/slo`,
      spCert: spKeys.cert,
      spPrivateKey: spKeys.key,
      encryptedAssertions: true,
    });
    metadata = (await newAgent(lms).get('/accounts/identity/saml/shib-a/metadata').expect(200)).text;
    idp.trust(metadata, ACS);
  });
  after(async () => {
    await lms.close();
    idp.close();
  });

  /** Starts a sign-in, lets the IdP answer as `as`, and posts its form back like a browser. */
  async function signInAs(as: keyof typeof users, agent = newAgent(lms)) {
    const start = await agent.get('/accounts/identity/shib-a/start?next=/accounts/profile').expect(303);
    const idpRes = await fetch(`${start.headers.location}&as=${as}`);
    const form = await idpRes.text();
    expect(idpRes.status, form).to.equal(200);
    const field = (n: string) => new RegExp(`name="${n}" value="([^"]*)"`).exec(form)?.[1] ?? '';
    const answer = await agent
      .post(new URL(ACS).pathname)
      .type('form')
      .send({ SAMLResponse: field('SAMLResponse'), RelayState: field('RelayState') });
    return { agent, start: start.headers.location as string, SAMLResponse: field('SAMLResponse'), answer };
  }

  it('publishes its signing and encryption certificate in the metadata', () => {
    const certBody = spKeys.cert.replace(/-----[^-]+-----|\s/g, '');
    expect(metadata).to.contain('AuthnRequestsSigned="true"').and.contain('WantAssertionsSigned="true"');
    expect(metadata)
      .to.match(/<KeyDescriptor use="signing">/)
      .and.match(/<KeyDescriptor use="encryption">/);
    expect(metadata.replace(/\s/g, '')).to.contain(certBody);
    expect(metadata).to.contain(`Location="${SLO}"`);
    expect(metadata).not.to.contain('PRIVATE KEY');
  });

  it('signs its AuthnRequest (the IdP verifies it against our metadata) and reads an encrypted assertion', async () => {
    const { agent, start, SAMLResponse, answer } = await signInAs('ana');
    const url = new URL(start);
    expect(url.searchParams.get('SigAlg')).to.equal('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(url.searchParams.get('Signature')).to.be.a('string');
    const xml = Buffer.from(SAMLResponse, 'base64').toString('utf8');
    expect(xml).to.contain('EncryptedAssertion').and.not.contain('ana@a.gov');
    expect(answer.status, answer.text).to.equal(303);
    expect((await agent.get('/accounts/profile').expect(200)).text).to.contain('ana@a.gov');

    // The IdP really checks: the same request with its signature removed, or signed over other octets, is refused.
    const unsigned = new URL(start);
    unsigned.searchParams.delete('Signature');
    expect((await fetch(`${unsigned.href}&as=ana`)).status).to.equal(400);
    const other = new URL(start);
    other.searchParams.set('RelayState', '/accounts/admin/users');
    expect((await fetch(`${other.href}&as=ana`)).status).to.equal(400);
  });

  it('refuses a signed but unencrypted assertion when encrypted ones are required', async () => {
    const settings = idp.idp.entitySetting as { isAssertionEncrypted: boolean };
    settings.isAssertionEncrypted = false;
    try {
      const { agent, SAMLResponse, answer } = await signInAs('ana');
      expect(Buffer.from(SAMLResponse, 'base64').toString('utf8')).to.contain('ana@a.gov');
      expect(answer.status).to.equal(401);
      expect(alertOf(answer.text)).to.match(/No se pudo completar/);
      await agent.get('/accounts/profile').expect(303);
    } finally {
      settings.isAssertionEncrypted = true;
    }
  });

  it('names the problem of a bad SP key pair', async () => {
    const providers = identityOf(lms).providers;
    const base = {
      id: 'shib-bad',
      protocol: 'saml',
      label: { es: 'x', pt: 'x', en: 'x' },
      orgUnits: ['INST-A'],
      entryPoint: `${idp.url}/sso`,
      idpIssuer: idp.entityId,
      idpCert: idp.cert,
    };
    const other = keyPair('someone-else.test');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ spCert: spKeys.cert }, /spPrivateKey: This site’s private key is missing for the certificate/],
      [{ spPrivateKey: spKeys.key }, /spCert: This site’s certificate is missing for the private key/],
      [{ spCert: 'not a certificate', spPrivateKey: spKeys.key }, /spCert: This site’s certificate is not a PEM X\.509 certificate/],
      [
        { spCert: spKeys.cert, spPrivateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' },
        /spPrivateKey: This site’s private key is not a PEM private key/,
      ],
      [{ spCert: spKeys.cert, spPrivateKey: other.key }, /spPrivateKey: This site’s private key does not belong to its certificate/],
      [{ encryptedAssertions: true }, /spPrivateKey: Encrypted assertions need this site’s certificate and private key/],
    ];
    for (const [extra, message] of cases) {
      const err = await providers.save({ ...base, ...extra }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, String(message)).to.be.instanceOf(HttpError);
      expect((err as HttpError).status).to.equal(400);
      expect((err as HttpError).message).to.match(message);
    }
    expect(await providers.get('shib-bad')).to.equal(undefined);
  });

  /** The IdP's LogoutResponse check: signed by our SP key, for the request it sent, successful. */
  async function idpReadsLogoutResponse(location: string, requestId: string) {
    const url = new URL(location);
    expect(url.origin + url.pathname).to.equal(`${idp.url}/slo`);
    const parsed = await idp.idp.parseLogoutResponse(idp.sp, 'redirect', {
      query: Object.fromEntries(url.searchParams),
      octetString: TestIdp.signedOctets(location, 'SAMLResponse'),
    });
    const extract = parsed.extract as { response?: { inResponseTo?: string } };
    expect(extract.response?.inResponseTo).to.equal(requestId);
    expect(parsed.samlContent).to.contain('urn:oasis:names:tc:SAML:2.0:status:Success');
  }

  const signedIn = async (agent: TestAgent) => (await agent.get('/accounts/profile')).status === 200;

  it('a LogoutRequest from the IdP by HTTP-POST (cross-site, no cookie) ends that person’s sessions and is answered', async () => {
    const ana1 = (await signInAs('ana')).agent;
    const ana2 = (await signInAs('ana')).agent;
    const alberto = (await signInAs('alberto')).agent;
    expect([await signedIn(ana1), await signedIn(ana2), await signedIn(alberto)]).to.deep.equal([true, true, true]);
    const request = idp.idp.createLogoutRequest(idp.sp, 'post', { logoutNameID: users.ana.nameID }, 'after-logout') as unknown as {
      id: string;
      context: string;
      entityEndpoint: string;
      relayState: string;
    };
    expect(request.entityEndpoint).to.equal(SLO); // the binding and address our metadata announce
    const res = await newAgent(lms)
      .post(new URL(SLO).pathname)
      .type('form')
      .send({ SAMLRequest: request.context, RelayState: request.relayState });
    expect(res.status, res.text).to.equal(303);
    await idpReadsLogoutResponse(res.headers.location, request.id);
    expect(new URL(res.headers.location).searchParams.get('RelayState')).to.equal('after-logout');
    expect([await signedIn(ana1), await signedIn(ana2), await signedIn(alberto)]).to.deep.equal([false, false, true]);
  });

  it('a LogoutRequest by HTTP-Redirect ends the session it names (NameID and SessionIndex)', async () => {
    const { agent } = await signInAs('alberto');
    // An IdP configured by hand with a redirect binding to our logout URL.
    const spByRedirect = samlify.ServiceProvider({
      entityID: `${SP}/metadata`,
      signingCert: spKeys.cert,
      wantLogoutRequestSigned: true,
      singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: SLO }],
      assertionConsumerService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', Location: ACS }],
    });
    const other = idp.idp.createLogoutRequest(spByRedirect, 'redirect', {
      logoutNameID: users.alberto.nameID,
      sessionIndex: '_session-another',
    }) as unknown as { id: string; context: string };
    const first = await agent.get(local(other.context));
    expect(first.status).to.equal(303);
    expect(await signedIn(agent)).to.equal(true); // another session of Alberto's at the IdP: not this one

    const request = idp.idp.createLogoutRequest(spByRedirect, 'redirect', {
      logoutNameID: users.alberto.nameID,
      sessionIndex: `_session-${users.alberto.nameID}`,
    }) as unknown as { id: string; context: string };
    const res = await agent.get(local(request.context));
    expect(res.status, res.text).to.equal(303);
    await idpReadsLogoutResponse(res.headers.location, request.id);
    expect(await signedIn(agent)).to.equal(false);
  });

  it('refuses an unsigned or forged LogoutRequest: nobody can sign anyone out', async () => {
    const { agent } = await signInAs('ana');
    const spByRedirect = samlify.ServiceProvider({
      entityID: `${SP}/metadata`,
      wantLogoutRequestSigned: false,
      singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: SLO }],
      assertionConsumerService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', Location: ACS }],
    });
    const unsigned = idp.idp.createLogoutRequest(spByRedirect, 'redirect', { logoutNameID: users.ana.nameID }) as unknown as {
      context: string;
    };
    expect(new URL(unsigned.context).searchParams.has('Signature')).to.equal(false);
    const byRedirect = await newAgent(lms).get(local(unsigned.context));
    expect(byRedirect.status).to.equal(400);
    expect(byRedirect.text).to.contain('No se pudo verificar la solicitud de cierre de sesión');

    // Signed by someone else's key, by POST.
    const forgerKeys = keyPair('forger.test');
    const forger = samlify.IdentityProvider({
      entityID: idp.entityId,
      privateKey: forgerKeys.key,
      signingCert: forgerKeys.cert,
      singleSignOnService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${idp.url}/sso` }],
      singleLogoutService: [{ Binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', Location: `${idp.url}/slo` }],
    });
    const forged = forger.createLogoutRequest(idp.sp, 'post', { logoutNameID: users.ana.nameID }) as unknown as { context: string };
    const byPost = await newAgent(lms).post(new URL(SLO).pathname).type('form').send({ SAMLRequest: forged.context });
    expect(byPost.status).to.equal(400);
    expect(await signedIn(agent)).to.equal(true);
  });
});
