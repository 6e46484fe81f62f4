import { expect } from 'chai';
import type { LmsApp } from '../../../server/app';
import { alertOf, identityApp, identityOf, ldapSignIn as ldapSignInAt, sessionCookie } from './fixtures';
import { baseLdif, personEntry, startSlapd, type Slapd } from './slapd';

const SUFFIX = 'dc=gob,dc=test';
const entry = (uid: string, cn: string, mail: string, employee: string, password: string) =>
  personEntry(SUFFIX, uid, cn, mail, employee, password);
const LDIF = `${baseLdif(SUFFIX)}${entry('ana', 'Ana Souza', 'ana@a.gov', 'A-001', 'ana-password-123')}${entry('bruno', 'Bruno Lima', 'bruno@b.gov', 'B-001', 'bruno-password-123')}${entry('nadie', 'Nadie Nunca', 'nadie@a.gov', 'A-999', 'nadie-password-123')}`;

describe('accounts: sign-in with LDAP (OpenLDAP slapd)', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let slapd: Slapd;

  before(async () => {
    slapd = await startSlapd(SUFFIX, LDIF);
    lms = await identityApp();
    const base = {
      protocol: 'ldap',
      label: { es: 'Red del Ministerio A', pt: 'Rede do Ministério A', en: 'Ministry A network' },
      orgUnits: ['INST-A'],
      match: 'employeeId',
      url: slapd.url,
      bindDn: `cn=lms,ou=services,${SUFFIX}`,
      bindPassword: 'service-password-123',
      searchBase: `ou=people,${SUFFIX}`,
      attributes: { employeeId: 'employeeNumber' },
    };
    await identityOf(lms).providers.save({ ...base, id: 'red-a', ca: slapd.ca });
    // The same directory without trusting its self-signed certificate.
    await identityOf(lms).providers.save({ ...base, id: 'red-untrusted' });
  });
  after(async () => {
    await lms?.close();
    await slapd?.stop();
  });

  const ldapSignIn = (username: string, password: string, provider = 'red-a') => ldapSignInAt(lms, provider, username, password);

  it('searches then binds over TLS and links the roster account by employee id', async () => {
    const { agent, answer, before, page } = await ldapSignIn('ana', 'ana-password-123');
    expect(page.text).to.contain('Red del Ministerio A');
    expect(answer.status, answer.text).to.equal(303);
    expect(answer.headers.location).to.equal('/accounts/profile');
    expect(sessionCookie(answer)).to.be.a('string').and.not.equal(before);
    expect((await agent.get('/accounts/profile').expect(200)).text).to.contain('ana@a.gov');
    // Her first sign-in: where she works, her tier and level are the roster's, and she is a learner.
    const ana = await lms.services.get('accounts.users').findByEmail('ana@a.gov');
    expect(ana).to.include({ orgUnit: 'A1', tier: 'manager', level: 'national', role: 'learner', name: 'Ana Souza' });
    const { links } = await identityOf(lms).linker.list({ provider: 'red-a' });
    expect(links.map((l) => l.userId)).to.deep.equal([ana!.id]);
    // The subject is the entry's entryUUID, not its (renameable) DN.
    expect(links[0].subject).to.match(/^[0-9a-f-]{36}$/);
  });

  it('refuses a wrong password, an empty password (an anonymous bind) and an unknown user alike', async () => {
    for (const [u, p] of [
      ['ana', 'wrong-password'],
      ['ana', ''],
      ['nobody', 'whatever-123'],
    ]) {
      const { answer } = await ldapSignIn(u, p);
      expect(answer.status, `${u}/${p}`).to.equal(401);
      expect(alertOf(answer.text)).to.equal('Usuario o contraseña incorrectos.');
    }
  });

  it('is not fooled by filter syntax in the user name', async () => {
    for (const u of ['an*', '*', 'ana)(uid=*', 'x)(|(uid=ana)']) {
      const { answer } = await ldapSignIn(u, 'ana-password-123');
      expect(answer.status, u).to.equal(401);
    }
  });

  it('keeps people of institution B and people on no roster out', async () => {
    const b = await ldapSignIn('bruno', 'bruno-password-123');
    expect(b.answer.status).to.equal(403);
    expect(alertOf(b.answer.text)).to.match(/no figura en la nómina/);
    const n = await ldapSignIn('nadie', 'nadie-password-123');
    expect(n.answer.status).to.equal(403);
    expect(await lms.services.get('accounts.users').findByEmail('nadie@a.gov')).to.equal(undefined);
  });

  it('does not talk to a directory whose TLS certificate it cannot verify', async () => {
    const { answer } = await ldapSignIn('ana', 'ana-password-123', 'red-untrusted');
    expect(answer.status).to.equal(502);
    expect(alertOf(answer.text)).to.match(/No se puede contactar el directorio/);
  });
});
