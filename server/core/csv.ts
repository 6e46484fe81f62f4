import type { Writable } from 'node:stream';
import { stringify as stringifySync } from 'csv-stringify/sync';

/**
 * Every CSV the server writes goes through here. A text cell that starts with =, +, -, @, a tab or
 * a carriage return is run as a formula by spreadsheets (names and e-mails come from rosters and
 * users: "=HYPERLINK(…)" in a name would open a link or run a command in HR's Excel), so such a
 * cell is prefixed with an apostrophe, which spreadsheets show as text (OWASP "CSV injection").
 * Numbers the server computes are written as they are.
 */
export function safeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

const options = (columns: string[]) => ({
  header: true,
  columns,
  bom: true,
  record_delimiter: 'windows' as const,
  // A cell with a line break is quoted (RFC 4180): with a record delimiter set, csv-stringify
  // would otherwise leave "a\nb" bare, and readers split the row there.
  quote_record_delimiter: true,
  cast: { string: safeCell, date: (d: Date) => d.toISOString() },
});

export type CsvRows = AsyncIterable<unknown[]> | Iterable<unknown[]>;

/** A cell as csv-stringify writes it with `options`; undefined for types it formats otherwise. */
function cellText(v: unknown): string | undefined {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    const s = safeCell(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  }
  if (typeof v === 'boolean') return v ? '1' : '';
  if (v instanceof Date) return v.toISOString();
  return undefined;
}

const CHUNK = 64 * 1024;

/**
 * Streams a table as CSV (UTF-8 with BOM, for Excel) into `out`; returns the number of rows.
 * Lines of strings, numbers, booleans, dates and empty cells are written here, as csv-stringify
 * writes them (a test holds the two to the same bytes), gathered into 64 KB chunks: an export of
 * 855,000 lines spent most of its time in csv-stringify's per-record stream. Any other cell (an
 * object) has its row formatted by csv-stringify itself.
 */
export async function writeCsv(table: { columns: string[]; rows: CsvRows }, out: Writable): Promise<number> {
  let gone = false;
  const closed = () => (gone = true);
  out.once('close', closed);
  const send = async (text: string) => {
    if (out.write(text) || gone || out.destroyed) return;
    // Wait for the reader, or for it to go away (then nothing more is written).
    await new Promise<void>((res) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        res();
      };
      out.once('drain', done);
      out.once('close', done);
    });
  };
  const line = (row: unknown[]) => {
    const cells = row.map(cellText);
    return cells.every((c) => c !== undefined)
      ? `${cells.join(',')}\r\n`
      : stringifySync([row], { ...options(table.columns), header: false, bom: false });
  };
  let chunk = `\ufeff${line(table.columns)}`;
  let n = 0;
  for await (const r of table.rows) {
    if (gone || out.destroyed) break;
    n++;
    chunk += line(r);
    if (chunk.length >= CHUNK) {
      await send(chunk);
      chunk = '';
    }
  }
  out.off('close', closed);
  if (gone || out.destroyed) return n;
  await send(chunk);
  await new Promise<void>((res) => {
    out.once('finish', res);
    out.end();
  });
  return n;
}

/** A small table as CSV text (e.g. the index file inside a zip). */
export function csvText(columns: string[], rows: unknown[][]): string {
  return stringifySync(rows, options(columns));
}
