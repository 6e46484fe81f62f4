import net from 'node:net';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser } from '../helpers';
import { reportsApp, seedOrg } from '../reports/fixtures';
import { browserSession, listen } from './outsider';

/**
 * Files and bodies an attacker (or a broken network) sends to the upload endpoints. Each answer
 * must be a 4xx naming the problem, and the process must keep serving afterwards.
 */
describe('security: hostile uploads', () => {
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let hr: Awaited<ReturnType<typeof browserSession>>;
  let admin: Awaited<ReturnType<typeof browserSession>>;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  before(async () => {
    lms = await reportsApp();
    await seedOrg(lms);
    http = await listen(lms);
    const h = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    const a = await makeUser(lms, { role: 'admin' });
    hr = await browserSession(http.base, h.email, h.password);
    admin = await browserSession(http.base, a.email, a.password);
    process.on('unhandledRejection', onRejection);
  });
  after(async () => {
    process.off('unhandledRejection', onRejection);
    await http.close();
    await lms.close();
  });

  /** Sends the headers and the first part of a multipart file, then drops the connection. */
  async function disconnectMidFile(path: string, session: typeof hr, csrfPage: string) {
    const csrf = await session.csrf(csrfPage);
    const boundary = 'xBOUNDARYx';
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="institution"\r\n\r\nINST-A\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="roster.csv"\r\nContent-Type: text/csv\r\n\r\n` +
      'employee_id,name,email,unit\n' +
      'E1,Ana,ana@a.example,A1\n'.repeat(2000);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(http.port, '127.0.0.1', () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${session.cookie()}\r\n` +
            `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10000000\r\n\r\n`,
        );
        socket.write(head, () => setTimeout(() => (socket.destroy(), resolve()), 150));
      });
      socket.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 300));
  }

  for (const [path, who, page] of [
    ['/reports/roster', 'hr', '/reports/roster'],
    ['/reports/org/import', 'admin', '/reports/org'],
  ] as const) {
    it(`survives a client that disconnects in the middle of a file sent to ${path}`, async () => {
      await disconnectMidFile(path, who === 'hr' ? hr : admin, page);
      expect(rejections.map(String)).to.deep.equal([]);
      expect((await fetch(`${http.base}/health`)).status).to.equal(200);
    });
  }

  it('answers 400 to multipart/form-data without a boundary', async () => {
    const csrf = await hr.csrf('/reports/roster');
    const res = await hr.request('/reports/roster', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data', 'x-csrf-token': csrf, accept: 'application/json' },
      body: 'x',
    });
    expect(res.status).to.equal(400);
    expect(await res.text()).to.match(/multipart|boundary/i);
  });
});
