import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { loadConfig } from '../../../server/core/config';
import { SecretBox, secretsKeyWarning } from '../../../server/core/secrets';
import { testApp, testConfig } from '../../helpers';
import { keyPair } from './saml-idp';

const KEY_1 = randomBytes(32).toString('hex');
const KEY_2 = randomBytes(32).toString('base64url');
const OIDC_SECRET = 'oidc-client-secret-4f9a2c';
const LDAP_PASSWORD = 'ldap-bind-password-77e1b0';

const oidc = {
  id: 'gov-x',
  protocol: 'oidc',
  label: { es: 'Gov X', pt: 'Gov X', en: 'Gov X' },
  orgUnits: ['INST-A'],
  issuer: 'https://id.gov-x.example',
  clientId: 'lms',
  clientSecret: OIDC_SECRET,
};
const ldap = {
  id: 'ad-x',
  protocol: 'ldap',
  label: { es: 'AD X', pt: 'AD X', en: 'AD X' },
  orgUnits: ['INST-A'],
  url: 'ldaps://dc.x.example',
  bindDn: 'cn=lms,dc=x',
  bindPassword: LDAP_PASSWORD,
  searchBase: 'dc=x',
};

const idp = keyPair('idp.x.example');
const saml = {
  id: 'saml-x',
  protocol: 'saml',
  label: { es: 'SAML X', pt: 'SAML X', en: 'SAML X' },
  orgUnits: ['INST-A'],
  entryPoint: 'https://idp.x.example/sso',
  idpIssuer: 'https://idp.x.example',
  idpCert: idp.cert,
};

describe('accounts: identity provider secrets are encrypted at rest', function () {
  this.timeout(60_000);
  const dbName = `t_secrets_${randomBytes(4).toString('hex')}`;
  const open = (key: string) => testApp({ config: testConfig({ DB_NAME: dbName, SECRETS_KEY: key }) });
  const rawDocs = async (lms: Awaited<ReturnType<typeof testApp>>) =>
    lms.database.connection.collection('accounts_identity_providers').find({}).sort({ _id: 1 }).toArray();

  it('stores client secrets and bind passwords only as JWEs, and gives them back to the sign-in', async () => {
    const lms = await open(KEY_1);
    try {
      const providers = lms.services.get('accounts.identity').providers;
      await providers.save(oidc);
      await providers.save(ldap);
      const sp = keyPair('sp.x.example');
      await providers.save({ ...saml, spCert: sp.cert, spPrivateKey: sp.key });
      const docs = await rawDocs(lms);
      const dump = JSON.stringify(docs);
      expect(dump).not.to.contain(OIDC_SECRET).and.not.to.contain(LDAP_PASSWORD).and.not.to.contain('PRIVATE KEY');
      expect(dump).to.contain('BEGIN CERTIFICATE'); // certificates are public
      for (const d of docs) {
        expect(d.secrets, String(d._id)).to.match(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/); // compact JWE, `dir`: no encrypted key
        expect(d.settings).not.to.have.any.keys('clientSecret', 'bindPassword', 'spPrivateKey');
      }
      expect(await providers.get('saml-x')).to.include({ spPrivateKey: sp.key.trim() });
      expect(await providers.get('gov-x')).to.include({ clientSecret: OIDC_SECRET, clientId: 'lms' });
      expect(await providers.get('ad-x')).to.include({ bindPassword: LDAP_PASSWORD });
    } finally {
      await lms.close();
    }
  });

  it('encrypts secrets stored in clear by an earlier version when the server starts', async () => {
    let lms = await open(KEY_1);
    try {
      // What the previous version wrote: the whole settings, secrets included, in clear.
      await lms.database.connection
        .collection('accounts_identity_providers')
        .replaceOne(
          { _id: 'gov-x' as never },
          { settings: { ...oidc, scope: 'openid email profile', match: 'email', enabled: true, required: false, logout: true } },
          { upsert: true },
        );
      expect(JSON.stringify(await rawDocs(lms))).to.contain(OIDC_SECRET);
    } finally {
      await lms.close();
    }
    lms = await open(KEY_1);
    try {
      expect(JSON.stringify(await rawDocs(lms))).not.to.contain(OIDC_SECRET);
      expect(await lms.services.get('accounts.identity').providers.get('gov-x')).to.include({ clientSecret: OIDC_SECRET });
    } finally {
      await lms.close();
    }
  });

  it('changes keys with "new,old", and refuses to start with a key that opens nothing, naming the provider', async () => {
    const first = await open(KEY_1);
    const before = (await rawDocs(first).finally(() => first.close())) as unknown as Array<{ _id: string; secrets: string }>;
    let lms = await open(`${KEY_2},${KEY_1}`);
    try {
      const after = (await rawDocs(lms)) as unknown as Array<{ _id: string; secrets: string }>;
      expect(after.map((d) => d.secrets)).to.have.length(3);
      for (const d of after) expect(d.secrets).not.to.equal(before.find((b) => b._id === d._id)!.secrets);
    } finally {
      await lms.close();
    }
    // The old key is no longer needed.
    lms = await open(KEY_2);
    try {
      expect(await lms.services.get('accounts.identity').providers.get('ad-x')).to.include({ bindPassword: LDAP_PASSWORD });
    } finally {
      await lms.close();
    }
    let failure: Error | undefined;
    await open(KEY_1).then(
      (l) => l.close(),
      (err: Error) => (failure = err),
    );
    expect(failure?.message)
      .to.match(/identity provider ad-x: its stored secrets do not open/)
      .and.match(/SECRETS_KEY/);
  });

  it('a sealed value copied onto another provider does not open there', async () => {
    const box = new SecretBox([Buffer.from(KEY_1, 'hex')]);
    const sealed = await box.seal('s3cret', 'accounts.identity-provider:a');
    expect(await box.open(sealed, 'accounts.identity-provider:a')).to.equal('s3cret');
    let err: Error | undefined;
    await box.open(sealed, 'accounts.identity-provider:b').catch((e: Error) => (err = e));
    expect(err?.message).to.match(/sealed for accounts.identity-provider:a/);
    // A forged header (the right context written over) breaks the authentication tag.
    const [, ...rest] = sealed.split('.');
    const header = Buffer.from(
      JSON.stringify({
        alg: 'dir',
        enc: 'A256GCM',
        kid: JSON.parse(Buffer.from(sealed.split('.')[0], 'base64url').toString()).kid,
        ctx: 'accounts.identity-provider:b',
      }),
    ).toString('base64url');
    err = undefined;
    await box.open([header, ...rest].join('.'), 'accounts.identity-provider:b').catch((e: Error) => (err = e));
    expect(err).to.be.instanceOf(Error);
  });

  it('names a malformed SECRETS_KEY, and warns outside development when none is set', () => {
    expect(() => loadConfig({ DATA_DIR: '/tmp/identity-secrets-cfg', SECRETS_KEY: 'too-short' })).to.throw(
      /SECRETS_KEY: key 1 is not 32 bytes/,
    );
    expect(() => loadConfig({ DATA_DIR: '/tmp/identity-secrets-cfg', SECRETS_KEY: `${KEY_1},nope` })).to.throw(/SECRETS_KEY: key 2/);
    const prod = loadConfig({ DATA_DIR: '/tmp/identity-secrets-cfg', NODE_ENV: 'production' });
    expect(secretsKeyWarning(prod))
      .to.match(/SECRETS_KEY is not set/)
      .and.contain('/tmp/identity-secrets-cfg/secrets-key');
    expect(prod.secretsKeys).to.have.length(1);
    expect(secretsKeyWarning(loadConfig({ DATA_DIR: '/tmp/identity-secrets-cfg', NODE_ENV: 'production', SECRETS_KEY: KEY_1 }))).to.equal(
      undefined,
    );
    expect(secretsKeyWarning(loadConfig({ DATA_DIR: '/tmp/identity-secrets-cfg' }))).to.equal(undefined);
  });
});
