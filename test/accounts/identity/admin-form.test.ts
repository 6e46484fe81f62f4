import { expect } from 'chai';
import type TestAgent from 'supertest/lib/agent';
import type { LmsApp } from '../../../server/app';
import { csrfFrom, makeUser, signIn } from '../../helpers';
import { englishInPage } from '../../english-detector';
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
  this.timeout(120_000);
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

  /** The alert as a person reads it (the page escapes quotes and brackets). */
  const said = (html: string) =>
    (alertOf(html) ?? '').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const ldap = (fields: Record<string, string> = {}) => ({
    ...form(),
    protocol: 'ldap',
    url: 'ldaps://dir.gov-form.example',
    bindDn: 'cn=lms,dc=gov',
    bindPassword: SECRET,
    searchBase: 'dc=gov',
    ...fields,
  });

  // The forms an administrator may get wrong, with what the page says in Spanish and Portuguese.
  const cases: Array<[Record<string, string>, { es: string; pt: string }]> = [
    [
      form({ id: '../../etc' }),
      {
        es: 'El identificador «../../etc» no es válido: use letras minúsculas, cifras o «-», empezando por letra o cifra (máximo 40).',
        pt: 'O identificador «../../etc» não é válido: use letras minúsculas, algarismos ou «-», começando por letra ou algarismo (no máximo 40).',
      },
    ],
    [
      form({ id: 'x'.repeat(41) }),
      { es: `El identificador «${'x'.repeat(41)}» no es válido`, pt: `O identificador «${'x'.repeat(41)}» não é válido` },
    ],
    [
      form({ protocol: 'kerberos' }),
      {
        es: 'Elija un protocolo: OpenID Connect, SAML 2.0 o LDAP (el formulario envió «kerberos»).',
        pt: 'Escolha um protocolo: OpenID Connect, SAML 2.0 ou LDAP (o formulário enviou «kerberos»).',
      },
    ],
    [
      form({ issuer: 'javascript:alert(1)' }),
      {
        es: 'La URL del emisor «javascript:alert(1)» no es válida: debe empezar por https:// o http://.',
        pt: 'A URL do emissor «javascript:alert(1)» não é válida: deve começar por https:// ou http://.',
      },
    ],
    [
      form({ issuer: 'file:///etc/passwd' }),
      { es: 'La URL del emisor «file:///etc/passwd» no es válida', pt: 'A URL do emissor «file:///etc/passwd» não é válida' },
    ],
    // Not a URL at all: a 400 too (the scheme check used to throw on it, a 500).
    [
      form({ issuer: 'id.gov-form.example' }),
      { es: 'La URL del emisor «id.gov-form.example» no es válida', pt: 'A URL do emissor «id.gov-form.example» não é válida' },
    ],
    [
      form({ orgUnits: 'INST-A, {"$ne":1}' }),
      {
        es: 'El código de unidad «{"$ne":1}» no es válido: use letras, cifras, «-» o «_» (máximo 64).',
        pt: 'O código de unidade «{"$ne":1}» não é válido: use letras, algarismos, «-» ou «_» (no máximo 64).',
      },
    ],
    [
      form({ orgUnits: '' }),
      {
        es: 'Indique al menos una unidad: el código de una institución o unidad cuyo personal pueda usar este proveedor.',
        pt: 'Indique pelo menos uma unidade: o código de uma instituição ou unidade cujo pessoal possa usar este provedor.',
      },
    ],
    [
      form({ label_es: 'x'.repeat(101) }),
      {
        es: 'Escriba el nombre visible en español (máximo 100 caracteres).',
        pt: 'Escreva o nome exibido em espanhol (no máximo 100 caracteres).',
      },
    ],
    [
      form({ label_pt: '   ' }),
      {
        es: 'Escriba el nombre visible en portugués (máximo 100 caracteres).',
        pt: 'Escreva o nome exibido em português (no máximo 100 caracteres).',
      },
    ],
    [
      form({ match: 'password' }),
      {
        es: '«password» no sirve para vincular cuentas: elija correo verificado, documento nacional o número de funcionario.',
        pt: '«password» não serve para vincular contas: escolha e-mail verificado, documento nacional ou matrícula funcional.',
      },
    ],
    [
      form({ attr_email: '<img src=x onerror=alert(1)>'.repeat(10) }),
      {
        es: `El nombre de dato o atributo «${'<img src=x onerror=alert(1)>'.repeat(10).slice(0, 80)}…» no es válido (máximo 200 caracteres).`,
        pt: `O nome de dado ou atributo «${'<img src=x onerror=alert(1)>'.repeat(10).slice(0, 80)}…» não é válido (no máximo 200 caracteres).`,
      },
    ],
    [
      ldap({ url: 'https://dir.gov-form.example' }),
      {
        es: 'La URL del directorio «https://dir.gov-form.example» no es válida: debe empezar por ldaps:// o ldap://.',
        pt: 'A URL do diretório «https://dir.gov-form.example» não é válida: deve começar por ldaps:// ou ldap://.',
      },
    ],
    [
      ldap({ usernameAttribute: '1uid' }),
      {
        es: 'El atributo de usuario «1uid» no es válido: una letra y luego letras, cifras o «-» (máximo 64).',
        pt: 'O atributo de usuário «1uid» não é válido: uma letra e depois letras, algarismos ou «-» (no máximo 64).',
      },
    ],
    [
      ldap({ bindPassword: '' }),
      {
        es: 'Escriba la contraseña de la cuenta de servicio (máximo 500 caracteres).',
        pt: 'Escreva a senha da conta de serviço (no máximo 500 caracteres).',
      },
    ],
    [
      { ...form(), protocol: 'saml', entryPoint: 'https://idp.gov-form.example/sso', idpIssuer: 'idp', idpCert: 'MIIB', spCert: 'MIIB' },
      {
        es: 'Falta la clave privada de este sitio para el certificado: indique ambos o ninguno.',
        pt: 'Falta a chave privada deste site para o certificado: informe os dois ou nenhum.',
      },
    ],
  ];

  for (const lang of ['es', 'pt'] as const)
    it(`refuses bad and hostile input with a 400 naming the field and the value in the page's language (${lang}), writes nothing and never echoes the secret`, async () => {
      const a = await makeUser(lms, { role: 'admin', language: lang, name: 'Ana Prueba' });
      const agent = await signIn(lms, a.email, a.password);
      const token = csrfFrom((await agent.get('/accounts/identity/admin').expect(200)).text);
      for (const [fields, expected] of cases) {
        const res = await agent
          .post('/accounts/identity/admin/providers')
          .type('form')
          .send({ _csrf: token, ...fields });
        expect(res.status, JSON.stringify(fields)).to.equal(400);
        expect(res.text).to.contain(`<html lang="${lang}"`);
        expect(said(res.text), JSON.stringify(fields)).to.contain(expected[lang]);
        // The form is filled again with what was sent: an English provider name there is the admin's own text.
        const english = englishInPage(res.text, lang).filter((p) => !p.includes('Gov of the form'));
        expect(english, JSON.stringify(fields)).to.deep.equal([]);
        expect(res.text).not.to.contain(SECRET);
        expect(res.text).not.to.contain('<img src=x');
      }
      expect(await providers().list()).to.have.length(0);
      // Arrays and objects where the form has text: a 400, not a crash.
      const odd = await agent
        .post('/accounts/identity/admin/providers')
        .type('form')
        .send(`_csrf=${encodeURIComponent(await csrf())}&id[]=a&id[]=b&protocol[$ne]=x`);
      expect(odd.status).to.be.within(400, 499);
      expect(await providers().list()).to.have.length(0);
    });

  it('API clients and English pages get the field named in English', async () => {
    const err = await providers()
      .save({
        id: 'gov-api',
        protocol: 'oidc',
        label: { es: 'a', pt: 'b', en: 'c' },
        orgUnits: ['INST-A'],
        issuer: 'file:///etc/passwd',
        clientId: 'lms',
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).to.equal('issuer: The issuer URL “file:///etc/passwd” is not valid: it must start with https:// or http://.');
    const a = await makeUser(lms, { role: 'admin', language: 'en' });
    const agent = await signIn(lms, a.email, a.password);
    const res = await agent
      .post('/accounts/identity/admin/providers')
      .type('form')
      .send({ _csrf: csrfFrom((await agent.get('/accounts/identity/admin').expect(200)).text), ...form({ orgUnits: '' }) })
      .expect(400);
    expect(said(res.text)).to.equal('Give at least one org unit: the code of an institution or unit whose people may use this provider.');
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

  for (const [lang, wrong, noLink] of [
    [
      'es',
      'El proveedor de identidad «gov-form» no usa {{protocol}}: esta dirección no es una de las suyas.',
      'Esta identidad vinculada no existe (quizás ya se quitó).',
    ],
    [
      'pt',
      'O provedor de identidade «gov-form» não usa {{protocol}}: este endereço não é um dos seus.',
      'Esta identidade vinculada não existe (talvez já tenha sido removida).',
    ],
  ] as const)
    it(`answers 404 in the page's language (${lang}) for another protocol's address of a provider and for a link that is gone`, async () => {
      const agent = newAgent(lms).set('Accept-Language', lang);
      const token = csrfFrom((await agent.get('/accounts/login').expect(200)).text);
      // gov-form is an OpenID Connect provider: its LDAP, SAML metadata, logout and ACS addresses do not exist.
      const answers: Array<[string, Promise<{ status: number; text: string }>]> = [
        ['LDAP', agent.post('/accounts/identity/ldap/gov-form').type('form').send({ _csrf: token, username: 'ana', password: 'x' })],
        ['SAML 2.0', agent.get('/accounts/identity/saml/gov-form/metadata')],
        ['SAML 2.0', agent.get('/accounts/identity/saml/gov-form/logout?SAMLRequest=x')],
        ['SAML 2.0', agent.post('/accounts/identity/saml/gov-form/logout').type('form').send({ SAMLRequest: 'x' })],
        ['SAML 2.0', agent.post('/accounts/identity/saml/gov-form/acs').type('form').send({ SAMLResponse: 'x' })],
      ];
      for (const [protocol, answer] of answers) {
        const res = await answer;
        expect(res.status, protocol).to.equal(404);
        expect(res.text).to.contain(`<html lang="${lang}"`).and.contain(wrong.replace('{{protocol}}', protocol));
        expect(englishInPage(res.text, lang)).to.deep.equal([]);
      }
      // An LDAP provider's OpenID Connect callback.
      await providers().save({
        id: 'red-form',
        protocol: 'ldap',
        label: { es: 'Red', pt: 'Rede', en: 'Network' },
        orgUnits: ['INST-A'],
        url: 'ldaps://127.0.0.1:9',
        bindDn: 'cn=lms,dc=gov',
        bindPassword: 'not-used',
        searchBase: 'dc=gov',
      });
      const callback = await agent.get('/accounts/identity/oidc/red-form/callback?code=x').expect(404);
      expect(callback.text).to.contain(wrong.replace('«gov-form»', '«red-form»').replace('{{protocol}}', 'OpenID Connect'));
      expect(englishInPage(callback.text, lang)).to.deep.equal([]);
      await providers().remove('red-form');
      const a = await makeUser(lms, { role: 'admin', language: lang, name: 'Ana Prueba' });
      const adminAgent = await signIn(lms, a.email, a.password);
      const gone = await adminAgent
        .post('/accounts/identity/admin/links/gov-form%3Ano-such-subject/delete')
        .type('form')
        .send({ _csrf: csrfFrom((await adminAgent.get('/accounts/identity/admin').expect(200)).text) })
        .expect(404);
      expect(gone.text).to.contain(noLink);
      expect(englishInPage(gone.text, lang)).to.deep.equal([]);
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
