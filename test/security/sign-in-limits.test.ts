import { expect } from 'chai';
import supertest from 'supertest';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, testApp } from '../helpers';

type Browser = ReturnType<typeof supertest.agent>;

/**
 * Sign-in limits count failures only, per address and per account, and a browser where the person
 * signed in before is not held back by others' failures. Behind a proxy (TRUST_PROXY) the address
 * is the client's, from X-Forwarded-For.
 */
describe('security: sign-in limits count failures, per address and per account', function () {
  this.timeout(180_000);
  let lms: LmsApp;
  before(async () => {
    lms = await testApp({ env: { LOGIN_RATE_LIMIT: '5', LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '15', TRUST_PROXY: '1' } });
  });
  after(() => lms.close());

  const browser = (): Browser => supertest.agent(lms.app);
  /** One sign-in from `address` (the proxy's X-Forwarded-For); the status of the answer. */
  async function attempt(b: Browser, address: string, email: string, password: string): Promise<number> {
    const page = await b.get('/accounts/login').set('X-Forwarded-For', address).expect(200);
    const res = await b
      .post('/accounts/login')
      .set('X-Forwarded-For', address)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email, password });
    if (res.status === 303) {
      // Signed in: sign out again, as on a shared computer (the device cookie stays).
      const profile = await b.get('/accounts/profile').expect(200);
      await b
        .post('/accounts/logout')
        .type('form')
        .send({ _csrf: csrfFrom(profile.text) })
        .expect(303);
    }
    return res.status;
  }

  it('an office behind one address signs in all day: successful sign-ins are not counted', async () => {
    const office = '203.0.113.10';
    for (let i = 0; i < 12; i++) {
      const u = await makeUser(lms);
      expect(await attempt(browser(), office, u.email, u.password), `sign-in ${i + 1}`).to.equal(303);
    }
  });

  it('failures from one address stop new sign-ins there, and nowhere else', async () => {
    const guesser = '198.51.100.7';
    for (let i = 0; i < 5; i++) expect(await attempt(browser(), guesser, `nobody${i}@example.org`, 'wrong guess wrong')).to.equal(401);
    const colleague = await makeUser(lms);
    const blocked = await browser()
      .post('/accounts/login')
      .set('X-Forwarded-For', guesser)
      .type('form')
      .send({ email: colleague.email, password: colleague.password });
    expect(blocked.status).to.be.oneOf([403, 429]); // 403: no CSRF token in this bare request
    expect(await attempt(browser(), guesser, colleague.email, colleague.password)).to.equal(429);
    expect(await attempt(browser(), '198.51.100.8', colleague.email, colleague.password)).to.equal(303);
  });

  it('failures on one account from many addresses lock it for unknown browsers, not for the person’s own', async () => {
    const u = await makeUser(lms);
    const own = browser();
    expect(await attempt(own, '192.0.2.50', u.email, u.password)).to.equal(303);
    for (let i = 0; i < 4; i++) expect(await attempt(browser(), `192.0.2.${100 + i}`, u.email, 'a wrong password')).to.equal(401);
    // The right password from an unknown browser: locked (the same answer as a wrong one).
    expect(await attempt(browser(), '192.0.2.120', u.email, u.password)).to.equal(401);
    // The person's own browser, even from the guessers' address after it is over its limit.
    for (let i = 0; i < 5; i++) await attempt(browser(), '192.0.2.100', `x${i}@example.org`, 'a wrong password');
    expect(await attempt(browser(), '192.0.2.100', u.email, u.password)).to.equal(429);
    expect(await attempt(own, '192.0.2.100', u.email, u.password)).to.equal(303);
    expect(await attempt(own, '192.0.2.51', u.email, u.password)).to.equal(303);
  });

  it('a known browser has a failure count of its own', async () => {
    const u = await makeUser(lms);
    const own = browser();
    expect(await attempt(own, '192.0.2.60', u.email, u.password)).to.equal(303);
    for (let i = 0; i < 3; i++) expect(await attempt(own, '192.0.2.60', u.email, 'a wrong password')).to.equal(401);
    const res = await attempt(own, '192.0.2.60', u.email, u.password);
    expect(res).to.equal(429);
    // The device cookie is bound to its e-mail: another account typed in that browser is an unknown browser.
    const other = await makeUser(lms);
    expect(await attempt(own, '192.0.2.61', other.email, other.password)).to.equal(303);
  });

  it('a forged or copied device cookie is no exemption', async () => {
    const u = await makeUser(lms);
    const own = browser();
    expect(await attempt(own, '192.0.2.70', u.email, u.password)).to.equal(303);
    for (let i = 0; i < 3; i++) expect(await attempt(browser(), `192.0.2.${80 + i}`, u.email, 'a wrong password')).to.equal(401);
    const forged = browser();
    forged.jar.setCookie(`lms.device=${'A'.repeat(24)}.${'B'.repeat(43)}; Path=/`, '127.0.0.1', '/');
    expect(await attempt(forged, '192.0.2.90', u.email, u.password)).to.equal(401);
  });
});
