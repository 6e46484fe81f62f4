import net from 'node:net';
import { expect } from 'chai';
import type { LmsApp } from '../../server/app';
import { makeUser } from '../helpers';
import { reportsApp, seedOrg, tmpFile } from '../reports/fixtures';
import { browserSession, listen } from './outsider';
import { understate, xlsx } from './hostile-files';
import { readTable } from '../../server/plugins/reports/table-reader';
import { XLSX_LIMITS } from '../../server/plugins/reports/xlsx-guard';

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

  /** Uploads a roster file through the page's form, as a browser does. */
  async function uploadRoster(file: Buffer, name: string) {
    const form = new FormData();
    form.append('_csrf', await hr.csrf('/reports/roster'));
    form.append('institution', 'INST-A');
    form.append('file', new Blob([new Uint8Array(file)]), name);
    const res = await hr.request('/reports/roster', { method: 'POST', body: form, headers: { accept: 'application/json' } });
    return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
  }
  const message = (b: { error?: { message: string } }) => b.error?.message ?? JSON.stringify(b);

  it('refuses an XLSX whose shared strings expand past the limit, without holding them (zip bomb)', async () => {
    const bomb = await xlsx({ strings: 150_000, length: 1000, rows: 2, cols: 3 });
    expect(bomb.length).to.be.below(2 * 1024 * 1024); // 150 MB of XML in a small file
    const { status, body } = await uploadRoster(bomb, 'bomb.xlsx');
    expect(status, message(body)).to.equal(400);
    expect(message(body)).to.match(/expands to more than 100 MB/);
    expect((await fetch(`${http.base}/health`)).status).to.equal(200);
  });

  it('refuses a bomb whose central directory understates its size, as soon as it inflates past it', async () => {
    const bomb = understate(await xlsx({ strings: 150_000, length: 1000, rows: 2, cols: 3 }), 'xl/sharedStrings.xml', 4096);
    const { status, body } = await uploadRoster(bomb, 'liar.xlsx');
    expect(status, message(body)).to.equal(400);
    expect(message(body)).to.match(/sharedStrings\.xml is damaged/);
  });

  it('refuses an XLSX with more zip entries than a workbook has', async () => {
    const many = await xlsx({ strings: 3, length: 5, rows: 2, cols: 3, extraEntries: 1001 });
    const { status, body } = await uploadRoster(many, 'many.xlsx');
    expect(status, message(body)).to.equal(400);
    expect(message(body)).to.match(/1005 parts \(at most 1000\)/);
  });

  it('counts shared strings, their characters and cells while streaming', async () => {
    const read = async (file: Buffer, limits: Partial<typeof XLSX_LIMITS>) => {
      try {
        for await (const _ of readTable(tmpFile(file, 'xlsx'), {
          format: 'xlsx',
          encoding: 'utf-8',
          aliases: {},
          limits: { ...XLSX_LIMITS, ...limits },
        }));
        return 'read';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const book = await xlsx({ strings: 100, length: 10, rows: 50, cols: 4 });
    expect(await read(book, {})).to.equal('read');
    expect(await read(book, { strings: 99 })).to.match(/more than 99 distinct texts/);
    expect(await read(book, { stringChars: 500 })).to.match(/more than 500 characters/);
    expect(await read(book, { cells: 150 })).to.match(/more than 150 cells/);
  });
});
