import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import type { LmsApp } from '../../server/app';
import { csvText } from '../../server/core/csv';
import { makeUser } from '../helpers';
import { HEADER, importRoster, reportsApp, seedOrg } from '../reports/fixtures';
import { browserSession, listen } from './outsider';

const HOSTILE = ['=HYPERLINK("http://evil.example","x")', '+SUM(1;2)', '-2+3', '@cmd'];

/** Text that starts like a formula comes out of every CSV as text, never as a formula. */
describe('security: spreadsheet formula injection in CSV exports', () => {
  let lms: LmsApp;
  let http: Awaited<ReturnType<typeof listen>>;
  let hr: Awaited<ReturnType<typeof browserSession>>;

  before(async () => {
    lms = await reportsApp();
    await seedOrg(lms);
    await importRoster(
      lms,
      'INST-A',
      [HEADER, ...HOSTILE.map((n, i) => `E${i},"${n.replace(/"/g, '""')}",p${i}@a.example,A1,,all,,no,yes`)].join('\n'),
    );
    http = await listen(lms);
    const h = await makeUser(lms, { role: 'hr', orgUnit: 'INST-A' });
    hr = await browserSession(http.base, h.email, h.password);
  });
  after(async () => {
    await http.close();
    await lms.close();
  });

  const cells = async (path: string) => {
    const res = await hr.request(path);
    expect(res.status, path).to.equal(200);
    return (parse(await res.text(), { bom: true, relax_column_count: true }) as string[][]).flat();
  };

  for (const path of ['/reports/export/people.csv?status=all', '/reports/roster/invitations.csv']) {
    it(`neutralises = + - @ at the start of a cell in ${path}`, async () => {
      const all = await cells(path);
      for (const name of HOSTILE) {
        expect(all, name).to.include(`'${name}`);
        expect(all, name).not.to.include(name);
      }
    });
  }

  it('the one CSV writer also neutralises a leading tab or carriage return, and leaves numbers alone', () => {
    const rows = parse(csvText(['a', 'b', 'c'], [['\tcmd', '\r=1', -5]]), { bom: true }) as string[][];
    expect(rows[1]).to.deep.equal(["'\tcmd", "'\r=1", '-5']);
  });
});
