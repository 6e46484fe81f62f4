import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { HttpError, localizedError } from '../../core/errors';
import { guardedXlsx, XLSX_LIMITS, type XlsxLimits } from './xlsx-guard';

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

function cellText(v: unknown, strings: readonly string[]): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as { text?: unknown; result?: unknown; richText?: Array<{ text: string }>; sharedString?: number };
    if (o.sharedString !== undefined) return (strings[o.sharedString] ?? '').trim();
    if (o.richText) return o.richText.map((r) => r.text).join('');
    if (o.text !== undefined) return cellText(o.text, strings);
    if (o.result !== undefined) return cellText(o.result, strings);
    return '';
  }
  return String(v).trim();
}

/**
 * The first worksheet's rows, from the guarded parts of the workbook (see xlsx-guard.ts). Shared
 * strings are emitted one by one rather than cached by the reader, so their number and size are
 * counted as they arrive, and so are the cells.
 */
async function* readXlsx(
  file: string,
  limits: XlsxLimits,
  canon: (h: string) => string,
  onHeader?: (h: string[]) => void,
): AsyncGenerator<TableRow> {
  const guard = await guardedXlsx(file, limits);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(guard.stream, {
    sharedStrings: 'emit',
    hyperlinks: 'ignore',
    styles: 'ignore',
    worksheets: 'emit',
    entries: 'ignore',
  });
  const strings: string[] = [];
  let chars = 0;
  let cellCount = 0;
  let header: string[] | undefined;
  const check = () => {
    const f = guard.failure();
    if (f) throw f;
  };
  try {
    const events = reader.parse() as AsyncIterator<{ index?: number; text?: unknown; eventType?: string; value?: unknown }>;
    for (let ev = await events.next(); !ev.done; ev = await events.next()) {
      check();
      const item = ev.value;
      if (item.index !== undefined) {
        const text = cellText(item.text, strings);
        chars += text.length;
        if (strings.length >= limits.strings) throw localizedError(400, 'reports:fileErrors.strings', { max: limits.strings });
        if (chars > limits.stringChars) throw localizedError(400, 'reports:fileErrors.chars', { max: limits.stringChars });
        strings.push(text);
        continue;
      }
      if (item.eventType !== 'worksheet') continue;
      for await (const r of item.value as AsyncIterable<ExcelJS.Row>) {
        check();
        const raw = (r.values as unknown[]).slice(1);
        cellCount += raw.length;
        if (cellCount > limits.cells) throw localizedError(400, 'reports:fileErrors.cells', { max: limits.cells });
        const cells = raw.map((v) => cellText(v, strings));
        if (!header) {
          header = cells.map(canon);
          onHeader?.(header);
          continue;
        }
        if (cells.every((c) => c === '')) continue;
        const values: Record<string, string> = {};
        header.forEach((h, i) => (values[h] = cells[i] ?? ''));
        yield { row: r.number, values };
      }
    }
    check();
  } catch (err) {
    const f = guard.failure();
    if (f) throw f;
    if (err instanceof HttpError) throw err;
    throw localizedError(400, 'reports:fileErrors.notXlsx', { detail: (err as Error).message });
  } finally {
    guard.close();
    guard.stream.destroy();
  }
}

/**
 * Streams the rows of a CSV (comma or semicolon, detected from the header line) or of the first
 * worksheet of an XLSX, one at a time: a 100,000-row roster is never held in memory.
 * Header names are normalised and mapped through `aliases` to canonical names.
 */
export async function* readTable(
  file: string,
  opts: {
    format: TableFormat;
    encoding: TableEncoding;
    aliases: Record<string, string>;
    onHeader?: (h: string[]) => void;
    limits?: XlsxLimits;
  },
): AsyncGenerator<TableRow> {
  const canon = (h: string) => {
    const n = normaliseHeader(h);
    return opts.aliases[n] ?? n;
  };
  if (opts.format === 'xlsx') {
    yield* readXlsx(file, opts.limits ?? XLSX_LIMITS, canon, opts.onHeader);
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
    if (e.code?.startsWith('CSV_')) throw localizedError(400, 'reports:fileErrors.csv', { line: e.lines ?? '?', detail: e.message });
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
