import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { LmsApp } from '../../../server/app';
import { csrfFrom, makeUser, signIn } from '../../helpers';
import { identityApp, identityOf, newAgent } from './fixtures';
import { startSlapd, type Slapd } from './slapd';

const SUFFIX = 'dc=archivo,dc=test';
const LDIF = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: archivo
o: Directorio del archivo

dn: ou=services,${SUFFIX}
objectClass: organizationalUnit
ou: services

dn: cn=lms,ou=services,${SUFFIX}
objectClass: person
cn: lms
sn: lms
userPassword: file-service-password

dn: uid=ana,${SUFFIX}
objectClass: inetOrgPerson
uid: ana
cn: Ana Souza
sn: Souza
mail: ana@a.gov
userPassword: ana-file-password
`;

describe('accounts: identity providers from IDENTITY_PROVIDERS_FILE', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'identity-file-'));
  const file = (name: string, content: unknown) => {
    const f = path.join(dir, name);
    writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
    return f;
  };
  let slapd: Slapd;
  let lms: LmsApp;
  let providers: Array<Record<string, unknown>>;

  before(async () => {
    slapd = await startSlapd(SUFFIX, LDIF);
    providers = [
      {
        id: 'ad-file',
        protocol: 'ldap',
        label: { es: 'Red del archivo', pt: 'Rede do arquivo', en: 'File network' },
        orgUnits: ['INST-A'],
        url: slapd.url,
        ca: slapd.ca,
        bindDn: `cn=lms,ou=services,${SUFFIX}`,
        // The file holds no secret in clear: the bind password comes from the environment.
        bindPassword: { env: 'TEST_AD_FILE_BIND_PASSWORD' },
        searchBase: SUFFIX,
      },
      {
        id: 'gov-file',
        protocol: 'oidc',
        label: { es: 'Gov del archivo', pt: 'Gov do arquivo', en: 'Gov from the file' },
        orgUnits: ['INST-B'],
        issuer: 'https://id.gov-file.example',
        clientId: 'lms',
      },
    ];
    lms = await identityApp({
      IDENTITY_PROVIDERS_FILE: file('providers.json', providers),
      TEST_AD_FILE_BIND_PASSWORD: 'file-service-password',
    });
  });
  after(async () => {
    await lms?.close();
    await slapd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the file’s providers on the sign-in page, in the person’s language and per institution', async () => {
    const es = await newAgent(lms).get('/accounts/login').expect(200);
    expect(es.text).to.contain('Red del archivo').and.contain('Gov del archivo');
    const pt = await newAgent(lms).get('/accounts/login?institution=INST-A').set('Cookie', 'lms.lang=pt').expect(200);
    expect(pt.text).to.contain('Rede do arquivo').and.not.contain('gov-file');
  });

  it('signs a person in through a provider of the file (a real directory)', async () => {
    const agent = newAgent(lms);
    const page = await agent.get('/accounts/identity/ad-file/start').expect(200);
    const res = await agent
      .post('/accounts/identity/ldap/ad-file')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), username: 'ana', password: 'ana-file-password', next: '/accounts/profile' });
    expect(res.status, res.text).to.equal(303);
    expect((await agent.get('/accounts/profile').expect(200)).text).to.contain('ana@a.gov');
  });

  it('shows them read-only to administrators: no change or removal from the admin page', async () => {
    const admin = await makeUser(lms, { role: 'admin' });
    const agent = await signIn(lms, admin.email, admin.password);
    const page = await agent.get('/accounts/identity/admin').expect(200);
    expect(page.text).to.contain('Archivo de configuración');
    expect(page.text).not.to.contain('/accounts/identity/admin/providers/ad-file/delete');
    await agent.get('/accounts/identity/admin?edit=ad-file').expect(404);
    const save = await agent
      .post('/accounts/identity/admin/providers')
      .type('form')
      .send({
        _csrf: csrfFrom(page.text),
        id: 'ad-file',
        protocol: 'oidc',
        label_es: 'x',
        label_pt: 'x',
        label_en: 'x',
        orgUnits: 'INST-B',
        issuer: 'https://evil.example',
        clientId: 'x',
        enabled: 'on',
      });
    expect(save.status).to.equal(409);
    expect(save.text).to.contain('viene del archivo de configuración');
    const del = await agent
      .post('/accounts/identity/admin/providers/ad-file/delete')
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    expect(del.status).to.equal(409);
    expect((await identityOf(lms).providers.get('ad-file'))?.protocol).to.equal('ldap');
  });

  it('stops start-up naming the file and the problem', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['broken.json', '[{"id": ', /IDENTITY_PROVIDERS_FILE .*broken\.json: .*JSON/],
      ['object.json', { id: 'x' }, /must hold a JSON array of providers/],
      ['field.json', [{ ...providers[1], issuer: 'javascript:alert(1)' }], /provider 1: issuer: /],
      ['twice.json', [providers[1], providers[1]], /provider id gov-file appears twice/],
      [
        'unset.json',
        [providers[1], providers[0]],
        /provider 2: bindPassword: the environment variable TEST_AD_FILE_BIND_PASSWORD is not set/,
      ],
      ['ref.json', [{ ...providers[0], bindPassword: { file: '/etc/x' } }], /provider 1: bindPassword: a secret is a string or \{"env"/],
      ['missing.json', undefined, /IDENTITY_PROVIDERS_FILE .*missing\.json: ENOENT/],
    ];
    for (const [name, content, message] of cases) {
      const f = content === undefined ? path.join(dir, name) : file(name, content);
      const err = await identityApp({ IDENTITY_PROVIDERS_FILE: f }).then(
        async (l) => {
          await l.close();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(err?.message, name).to.match(message);
    }
  });
});
