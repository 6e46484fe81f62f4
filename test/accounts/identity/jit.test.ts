import { expect } from 'chai';
import type { LmsApp } from '../../../server/app';
import { csrfFrom } from '../../helpers';
import { HEADER, importRoster, reportsApp, seedOrg } from '../../reports/fixtures';
import { alertOf, identityOf, ldapSignIn, newAgent } from './fixtures';
import { baseLdif, personEntry, startSlapd, type Slapd } from './slapd';

const SUFFIX = 'dc=red,dc=test';
// One government directory for both institutions; the names in it are not the rosters'.
const LDIF = [
  baseLdif(SUFFIX),
  personEntry(SUFFIX, 'ana', 'Ana Directorio', 'ana@a.gov', 'X-1', 'ana-password-123'),
  personEntry(SUFFIX, 'bruno', 'Bruno Directorio', 'bruno@b.gov', 'X-2', 'bruno-password-123'),
  personEntry(SUFFIX, 'nadie', 'Nadie Nunca', 'nadie@a.gov', 'X-3', 'nadie-password-123'),
].join('');

/**
 * Institutions whose identity provider requires SSO: their rosters record people without
 * accounts (no password, no invitation), and a person's first sign-in makes the account from the
 * roster entry — the roster, never the provider, decides institution, unit, level and tier.
 */
describe('accounts: just-in-time accounts from the roster where SSO is required (slapd)', function () {
  this.timeout(90_000);
  let lms: LmsApp;
  let slapd: Slapd;
  const accounts = () => lms.db.collection('accounts_users');
  const person = (email: string) => lms.db.collection('reports_people').findOne({ email });

  before(async () => {
    slapd = await startSlapd(SUFFIX, LDIF);
    lms = await reportsApp();
    await seedOrg(lms);
    const directory = {
      protocol: 'ldap',
      required: true,
      url: slapd.url,
      ca: slapd.ca,
      bindDn: `cn=lms,ou=services,${SUFFIX}`,
      bindPassword: 'service-password-123',
      searchBase: `ou=people,${SUFFIX}`,
    };
    await identityOf(lms).providers.save({
      ...directory,
      id: 'red-a',
      label: { es: 'Red del Ministerio A', pt: 'Rede do Ministério A', en: 'Ministry A network' },
      orgUnits: ['INST-A'],
    });
    await identityOf(lms).providers.save({
      ...directory,
      id: 'red-b',
      label: { es: 'Red del Municipio B', pt: 'Rede do Município B', en: 'Municipality B network' },
      orgUnits: ['INST-B'],
    });
  });
  after(async () => {
    await lms?.close();
    await slapd?.stop();
  });

  /** Institution A's roster: imported twice below, the second time it must change nothing. */
  const rosterA = () =>
    [HEADER, 'A-001,Ana Souza,ana@a.gov,A1,national,manager,,no,yes', 'A-002,Alberto Paz,alberto@a.gov,A2,national,technical,,no,yes'].join(
      '\n',
    );

  it('a roster of an SSO-only institution records its people without accounts or invitations', async () => {
    const a = await importRoster(lms, 'INST-A', rosterA());
    expect(a.counts).to.include({ created: 2, newAccounts: 0, linkedAccounts: 0, atSignIn: 2 });
    await importRoster(lms, 'INST-B', [HEADER, 'B-001,Bruno Lima,bruno@b.gov,B1,local,technical,,no,yes'].join('\n'));
    expect(await accounts().countDocuments({ email: { $in: ['ana@a.gov', 'alberto@a.gov', 'bruno@b.gov'] } })).to.equal(0);
    expect(await lms.db.collection('reports_invites').countDocuments({})).to.equal(0);
    // They count on the roster (the denominator) all the same.
    expect(await person('ana@a.gov')).to.include({ institution: 'INST-A', unit: 'A1', active: true, trained: false });
    expect(await person('ana@a.gov')).not.to.have.property('userId');
  });

  it('the first sign-in makes the account from the roster entry, linked to it; later sign-ins use it', async () => {
    const { agent, answer } = await ldapSignIn(lms, 'red-a', 'ana', 'ana-password-123');
    expect(answer.status, answer.text).to.equal(303);
    const profile = await agent.get('/accounts/profile').expect(200);
    expect(profile.text).to.contain('ana@a.gov');
    // No password to set where SSO is required: no form, and the form's address refuses.
    expect(profile.text).not.to.contain('action="/accounts/profile/password"');
    expect(profile.text).to.contain('no tiene contraseña que cambiar');
    const setPassword = await agent
      .post('/accounts/profile/password')
      .type('form')
      .send({ _csrf: csrfFrom(profile.text), current: '', password: 'a new long password', confirm: 'a new long password' });
    expect(setPassword.status).to.equal(403);
    expect(alertOf(setPassword.text)).to.match(/exige ingresar con su proveedor de identidad/);
    const ana = await lms.services.get('accounts.users').findByEmail('ana@a.gov');
    // The roster's name, unit, level and tier — not the directory's "Ana Directorio".
    expect(ana).to.include({ name: 'Ana Souza', orgUnit: 'A1', level: 'national', tier: 'manager', role: 'learner' });
    expect((await accounts().findOne({ email: 'ana@a.gov' }))!.passwordHash).to.equal(undefined);
    expect(await person('ana@a.gov')).to.include({ userId: ana!.id });
    expect(await lms.db.collection('reports_user_people').findOne({ _id: ana!.id as never })).to.deep.include({ people: ['INST-A:A-001'] });
    expect((await identityOf(lms).linker.list({ provider: 'red-a' })).links.map((l) => l.userId)).to.deep.equal([ana!.id]);

    expect((await ldapSignIn(lms, 'red-a', 'ana', 'ana-password-123')).answer.status).to.equal(303);
    expect(await accounts().countDocuments({ email: 'ana@a.gov' })).to.equal(1);
    // The same roster again changes nothing: Ana keeps her account, Alberto still waits for his first sign-in.
    const again = await importRoster(lms, 'INST-A', rosterA());
    expect(again.counts).to.include({ unchanged: 2, newAccounts: 0, atSignIn: 1 });
    expect(await person('ana@a.gov')).to.include({ userId: ana!.id });
  });

  it('captures nobody: another institution’s person and a person on no roster are refused, with no account', async () => {
    // Bruno is on B's roster: A's provider opens nothing for him, neither in A nor in B.
    const bruno = await ldapSignIn(lms, 'red-a', 'bruno', 'bruno-password-123');
    expect(bruno.answer.status).to.equal(403);
    expect(alertOf(bruno.answer.text)).to.match(/no figura en la nómina/);
    await bruno.agent.get('/accounts/profile').expect(303);
    expect(await accounts().countDocuments({ email: 'bruno@b.gov' })).to.equal(0);
    expect(await person('bruno@b.gov')).not.to.have.property('userId');
    // Nadie is in the directory but on no roster; the message is in the person's language.
    const agent = newAgent(lms);
    agent.set('Accept-Language', 'en');
    const nadie = await ldapSignIn(lms, 'red-a', 'nadie', 'nadie-password-123', agent);
    expect(nadie.answer.status).to.equal(403);
    expect(alertOf(nadie.answer.text)).to.match(/not on the staff roster of an institution that uses this identity provider/);
    expect(await accounts().countDocuments({ email: 'nadie@a.gov' })).to.equal(0);
    // Ana, now A's, does not land in B through B's provider.
    const ana = await ldapSignIn(lms, 'red-b', 'ana', 'ana-password-123');
    expect(ana.answer.status).to.equal(403);
    expect(await lms.services.get('accounts.users').findByEmail('ana@a.gov')).to.include({ orgUnit: 'A1' });
    // Through his own institution's provider Bruno gets his account, placed by B's roster.
    expect((await ldapSignIn(lms, 'red-b', 'bruno', 'bruno-password-123')).answer.status).to.equal(303);
    expect(await lms.services.get('accounts.users').findByEmail('bruno@b.gov')).to.include({
      name: 'Bruno Lima',
      orgUnit: 'B1',
      level: 'local',
      tier: 'technical',
    });
    expect(await accounts().countDocuments({})).to.equal(2);
  });
});
