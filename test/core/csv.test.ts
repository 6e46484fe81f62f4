import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { safeCell, writeCsv } from '../../server/core/csv';

/** writeCsv formats lines itself for speed: it must write what csv-stringify writes, byte for byte. */
describe('core: writeCsv writes what csv-stringify writes', () => {
  const columns = ['text', 'number', 'empty', 'flag', 'date', 'object'];
  const rows: unknown[][] = [
    ['plain', 1, null, true, new Date(Date.UTC(2026, 11, 2, 18, 0, 0)), undefined],
    ['a, b', -2.5, undefined, false, null, ''],
    ['say "hi"', 0, '', true, null, null],
    ['two\nlines', 1e21, null, null, null, null],
    ['cr\rhere', NaN, null, null, null, null],
    ['=HYPERLINK("http://evil.example","x")', 3, null, null, null, null],
    ['+SUM(1;2)', 4, '-2+3', '@cmd', '\tx', null],
    ['ends with cr\r', 5, 'ñandú, São Paulo', null, null, null],
    ['an object', 6, null, null, null, { a: 1, b: [2, 'x,y'] }],
  ];

  it('for strings with commas, quotes, line breaks and formula starts, numbers, booleans, dates, empty cells and objects', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    async function* gen() {
      yield* rows;
    }
    expect(await writeCsv({ columns, rows: gen() }, out)).to.equal(rows.length);
    const expected = stringify(rows, {
      header: true,
      columns,
      bom: true,
      record_delimiter: 'windows',
      quote_record_delimiter: true,
      cast: { string: safeCell, date: (d: Date) => d.toISOString() },
    });
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text).to.equal(expected);
    // And it reads back: a line break inside a cell stays in its cell.
    const back = parse(text, { bom: true, columns: true, record_delimiter: '\r\n' }) as Array<Record<string, string>>;
    expect(back.map((r) => r.text)).to.deep.equal(rows.map((r) => safeCell(r[0] as string)));
  });

  it('many rows come in order across chunks', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const many = Array.from({ length: 20_000 }, (_, i) => [`row ${i}`, i]);
    expect(await writeCsv({ columns: ['a', 'b'], rows: many }, out)).to.equal(20_000);
    const lines = Buffer.concat(chunks).toString('utf8').split('\r\n');
    expect(lines[0]).to.equal('\ufeffa,b');
    expect(lines[20_000]).to.equal('row 19999,19999');
    expect(lines).to.have.length(20_002);
  });
});
