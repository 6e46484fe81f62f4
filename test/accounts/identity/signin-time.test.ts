import { expect } from 'chai';
import type { LmsApp } from '../../../server/app';
import { alertOf, identityApp, identityOf, newAgent } from './fixtures';
import { TestIdp } from './saml-idp';

const users = { ana: { nameID: 'persistent-ana-timer', email: 'ana@a.gov', name: 'Ana Souza' } };
const ACS = 'http://127.0.0.1/accounts/identity/saml/idp-timer/acs';

describe('accounts: IDENTITY_SIGNIN_MINUTES, the time a person may take at the provider', function () {
  this.timeout(60_000);
  let lms: LmsApp;
  let idp: TestIdp;

  before(async () => {
    // 0.02 minutes: an answer later than 1.2 s is refused.
    lms = await identityApp({ IDENTITY_SIGNIN_MINUTES: '0.02' });
    idp = await TestIdp.start('timer', users);
    await identityOf(lms).providers.save({
      id: 'idp-timer',
      protocol: 'saml',
      label: { es: 'IdP', pt: 'IdP', en: 'IdP' },
      orgUnits: ['INST-A'],
      entryPoint: `${idp.url}/sso`,
      idpIssuer: idp.entityId,
      idpCert: idp.cert,
    });
    idp.trust((await newAgent(lms).get('/accounts/identity/saml/idp-timer/metadata').expect(200)).text, ACS);
  });
  after(async () => {
    await lms?.close();
    idp?.close();
  });

  async function answerFromIdp() {
    const agent = newAgent(lms);
    const start = await agent.get('/accounts/identity/idp-timer/start?next=/accounts/profile').expect(303);
    const form = await (await fetch(`${start.headers.location}&as=ana`)).text();
    const field = (n: string) => new RegExp(`name="${n}" value="([^"]*)"`).exec(form)?.[1] ?? '';
    return {
      agent,
      send: () =>
        agent
          .post(new URL(ACS).pathname)
          .type('form')
          .send({ SAMLResponse: field('SAMLResponse'), RelayState: field('RelayState') }),
    };
  }

  it('refuses an answer that comes after the time, then signs in one that comes in time', async () => {
    const late = await answerFromIdp();
    await new Promise((r) => setTimeout(r, 1_600));
    const refused = await late.send();
    expect(refused.status).to.equal(401);
    expect(alertOf(refused.text)).to.match(/Vuelva a intentarlo desde el principio/);
    await late.agent.get('/accounts/profile').expect(303);

    const prompt = await answerFromIdp();
    const res = await prompt.send();
    expect(res.status, res.text).to.equal(303);
    expect((await prompt.agent.get('/accounts/profile').expect(200)).text).to.contain('ana@a.gov');
  });

  it('stops start-up on a value that is not a positive number, naming the variable', async () => {
    for (const [name, value] of [
      ['IDENTITY_SIGNIN_MINUTES', 'ten'],
      ['IDENTITY_SIGNIN_MINUTES', '0'],
      ['PASSWORD_RESET_MINUTES', '-5'],
      ['PASSWORD_RESET_RATE_LIMIT', 'many'],
    ]) {
      const err = await identityApp({ [name]: value }).then(
        async (l) => void (await l.close()),
        (e: Error) => e,
      );
      expect(err?.message, `${name}=${value}`).to.contain(`${name} must be a positive number (got "${value}")`);
    }
  });
});
