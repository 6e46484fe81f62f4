import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { LmsApp } from '../../../server/app';
import { csrfFrom, makeUser, runCli, signIn } from '../../helpers';
import { identityApp, identityOf, ldapSignIn, newAgent } from './fixtures';
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

  it('opens secrets sealed by `lms identity:seal`; one that does not open stops start-up naming provider and field', async () => {
    const key = randomBytes(32).toString('hex');
    const seal = (provider: string, field: string, value: string, env = { SECRETS_KEY: key }) =>
      runCli(['identity:seal', '--provider', provider, '--field', field], env, `${value}\n`);
    const made = seal('ad-file', 'bindPassword', 'file-service-password');
    expect(made.code, made.err).to.equal(0);
    const sealed = JSON.parse(made.out.trim().split('\n').pop()!) as { sealed: string };
    const f = file('sealed.json', [{ ...providers[0], bindPassword: sealed }, providers[1]]);
    expect(readFileSync(f, 'utf8')).not.to.contain('file-service-password');
    const ok = await identityApp({ IDENTITY_PROVIDERS_FILE: f, SECRETS_KEY: key });
    try {
      // The directory accepts the opened bind password: Ana signs in.
      const { answer } = await ldapSignIn(ok, 'ad-file', 'ana', 'ana-file-password');
      expect(answer.status, answer.text).to.equal(303);
    } finally {
      await ok.close();
    }

    const [header, cek, iv, ciphertext, tag] = sealed.sealed.split('.');
    const flipped = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1);
    const cases: Array<[string, unknown[], Record<string, string>, RegExp]> = [
      [
        'another key',
        [{ ...providers[0], bindPassword: sealed }],
        { SECRETS_KEY: randomBytes(32).toString('hex') },
        /provider 1 \(ad-file\): bindPassword: the sealed value does not open \(encrypted with another key/,
      ],
      [
        'tampered',
        [{ ...providers[0], bindPassword: { sealed: [header, cek, iv, flipped, tag].join('.') } }],
        { SECRETS_KEY: key },
        /provider 1 \(ad-file\): bindPassword: the sealed value does not open \(decryption operation failed\)/,
      ],
      [
        'copied onto another provider',
        [providers[0], { ...providers[1], clientSecret: sealed }],
        { SECRETS_KEY: key, TEST_AD_FILE_BIND_PASSWORD: 'file-service-password' },
        /provider 2 \(gov-file\): clientSecret: the sealed value does not open \(sealed for [^ ]+ad-file:bindPassword/,
      ],
    ];
    for (const [name, content, env, message] of cases) {
      const err = await identityApp({ IDENTITY_PROVIDERS_FILE: file(`${name}.json`, content), ...env }).then(
        async (l) => {
          await l.close();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(err?.message, name).to.match(message);
    }
    const bad = seal('ad-file', 'password', 'x');
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain('--field: "password" is not clientSecret, bindPassword or spPrivateKey');
    expect(seal('ad-file', 'bindPassword', '').err).to.contain('stdin was empty');
  });

  it('stops start-up naming the file and the problem', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['broken.json', '[{"id": ', /IDENTITY_PROVIDERS_FILE .*broken\.json: .*JSON/],
      ['object.json', { id: 'x' }, /must hold a JSON array of providers/],
      ['field.json', [{ ...providers[1], issuer: 'javascript:alert(1)' }], /provider 1 \(gov-file\): issuer: /],
      ['twice.json', [providers[1], providers[1]], /provider id gov-file appears twice/],
      [
        'unset.json',
        [providers[1], providers[0]],
        /provider 2 \(ad-file\): bindPassword: the environment variable TEST_AD_FILE_BIND_PASSWORD is not set/,
      ],
      [
        'ref.json',
        [{ ...providers[0], bindPassword: { file: '/etc/x' } }],
        /provider 1 \(ad-file\): bindPassword: a secret is a string, \{"env": "VARIABLE_NAME"\} or \{"sealed"/,
      ],
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
