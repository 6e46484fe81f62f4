import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { csrfFrom, makeUser, testApp } from '../helpers';
import { listen } from './outsider';

// Each is sent as written (already URL-encoded) in ?next=.
const HOSTILE = [
  '/%5Cevil.example',
  '/%5C%5Cevil.example',
  '//evil.example',
  '/%09/evil.example',
  '/%0A/evil.example',
  '/%0D%0A/evil.example',
  '%2F%2Fevil.example',
  'https://evil.example/',
  '/%5C/evil.example/path',
  'javascript:alert(1)',
];

/** Every redirect target taken from a request stays on this server, as a browser reads it. */
describe('security: open redirects', () => {
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    lms = await testApp();
    http = await listen(lms);
  });
  after(async () => {
    await http.close();
    await lms.close();
  });

  /** Where a browser would go: the Location header resolved against the page's URL. */
  const target = (res: Response, from: string) => new URL(res.headers.get('location')!, from);

  it('the language switch never sends the browser off-site', async () => {
    for (const next of HOSTILE) {
      const from = `${http.base}/lang/en?next=${next}`;
      const res = await fetch(from, { redirect: 'manual' });
      expect(res.status, next).to.equal(303);
      expect(target(res, from).origin, next).to.equal(http.base);
    }
    const res = await fetch(`${http.base}/lang/en?next=${encodeURIComponent('/catalog/my-path?tier=all#x')}`, { redirect: 'manual' });
    expect(res.headers.get('location')).to.equal('/catalog/my-path?tier=all#x');
  });

  it('sign-in never sends the browser off-site', async () => {
    const u = await makeUser(lms);
    for (const next of HOSTILE) {
      const page = await fetch(`${http.base}/accounts/login`);
      const cookie = page.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const from = `${http.base}/accounts/login`;
      const body = `_csrf=${encodeURIComponent(csrfFrom(await page.text()))}&email=${encodeURIComponent(u.email)}&password=${encodeURIComponent(u.password)}&next=${next}`;
      const res = await fetch(from, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(res.status, next).to.equal(303);
      expect(target(res, from).origin, next).to.equal(http.base);
    }
  });
});
