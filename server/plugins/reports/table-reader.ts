import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { HttpError } from '../../core/errors';

export type TableFormat = 'csv' | 'xlsx';
export type TableEncoding = 'utf-8' | 'windows-1252';

export interface TableRow {
  /** Row number as a person sees it in a spreadsheet: the header is row 1. */
  row: number;
  values: Record<string, string>;
}

/** A zip (xlsx) starts with "PK\x03\x04"; anything else is read as delimited text. */
export async function detectFormat(file: string): Promise<TableFormat> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.readUInt32BE(0) === 0x504b0304 ? 'xlsx' : 'csv';
  } finally {
    await fh.close();
  }
}

/**
 * Valid UTF-8 all the way through → UTF-8; otherwise the file came from a spreadsheet saved as
 * "CSV (Latin-1/Windows)" and is read as Windows-1252 (a superset of Latin-1's printable range).
 */
export async function detectEncoding(file: string): Promise<TableEncoding> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) decoder.decode(chunk as Buffer, { stream: true });
    decoder.decode();
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/** Header cells are matched case- and accent-insensitively, spaces and dashes as underscores. */
export function normaliseHeader(h: string): string {
  return h
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as { text?: unknown; result?: unknown; richText?: Array<{ text: string }>; hyperlink?: string };
    if (o.richText) return o.richText.map((r) => r.text).join('');
    if (o.text !== undefined) return cellText(o.text);
    if (o.result !== undefined) return cellText(o.result);
    return '';
  }
  return String(v).trim();
}

/**
 * Streams the rows of a CSV (comma or semicolon, detected from the header line) or of the first
 * worksheet of an XLSX, one at a time: a 100,000-row roster is never held in memory.
 * Header names are normalised and mapped through `aliases` to canonical names.
 */
export async function* readTable(
  file: string,
  opts: { format: TableFormat; encoding: TableEncoding; aliases: Record<string, string>; onHeader?: (h: string[]) => void },
): AsyncGenerator<TableRow> {
  const canon = (h: string) => {
    const n = normaliseHeader(h);
    return opts.aliases[n] ?? n;
  };
  if (opts.format === 'xlsx') {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
      sharedStrings: 'cache',
      hyperlinks: 'ignore',
      styles: 'ignore',
      worksheets: 'emit',
      entries: 'emit',
    });
    let header: string[] | undefined;
    try {
      for await (const sheet of reader) {
        for await (const r of sheet) {
          const cells = (r.values as unknown[]).slice(1).map(cellText);
          if (!header) {
            header = cells.map(canon);
            opts.onHeader?.(header);
            continue;
          }
          if (cells.every((c) => c === '')) continue;
          const values: Record<string, string> = {};
          header.forEach((h, i) => (values[h] = cells[i] ?? ''));
          yield { row: r.number, values };
        }
        break; // only the first worksheet is the roster
      }
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, `file: not a readable XLSX workbook (${(err as Error).message})`);
    }
    return;
  }
  const head = await firstLine(file, opts.encoding);
  const delimiter = (head.match(/;/g)?.length ?? 0) > (head.match(/,/g)?.length ?? 0) ? ';' : ',';
  const input = createReadStream(file).pipe(iconv.decodeStream(opts.encoding === 'utf-8' ? 'utf8' : 'win1252'));
  const parser = input.pipe(
    parse({
      bom: true,
      delimiter,
      columns: (h: string[]) => {
        const names = h.map(canon);
        opts.onHeader?.(names);
        return names;
      },
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      info: true,
      max_record_size: 64 * 1024,
    }),
  );
  try {
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      yield { row: rec.info.lines, values: rec.record };
    }
  } catch (err) {
    const e = err as { code?: string; lines?: number; message: string };
    if (e.code?.startsWith('CSV_')) throw new HttpError(400, `file: not valid CSV near line ${e.lines ?? '?'} (${e.message})`);
    throw err;
  }
}

async function firstLine(file: string, encoding: TableEncoding): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4096), 0, 4096, 0);
    return iconv.decode(buffer.subarray(0, bytesRead), encoding === 'utf-8' ? 'utf8' : 'win1252').split(/\r?\n/)[0];
  } finally {
    await fh.close();
  }
}
