import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
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
  cast: { string: safeCell, date: (d: Date) => d.toISOString() },
});

export type CsvRows = AsyncIterable<unknown[]> | Iterable<unknown[]>;

/** Streams a table as CSV (UTF-8 with BOM, for Excel) into `out`; returns the number of rows. */
export async function writeCsv(table: { columns: string[]; rows: CsvRows }, out: Writable): Promise<number> {
  const csv = stringify(options(table.columns));
  csv.pipe(out);
  let n = 0;
  for await (const r of table.rows) {
    n++;
    if (!csv.write(r)) await new Promise((res) => csv.once('drain', res));
  }
  csv.end();
  await new Promise((res) => out.once('finish', res));
  return n;
}

/** A small table as CSV text (e.g. the index file inside a zip). */
export function csvText(columns: string[], rows: unknown[][]): string {
  return stringifySync(rows, options(columns));
}
