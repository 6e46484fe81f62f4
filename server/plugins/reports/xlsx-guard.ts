import { PassThrough, Transform, type Readable } from 'node:stream';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { HttpError, localizedError } from '../../core/errors';

/** Limits on what one XLSX upload may expand to (a zip of 2 MB can hold gigabytes of XML). */
export interface XlsxLimits {
  /** Total uncompressed bytes of the parts that are read. */
  uncompressedBytes: number;
  /** Entries in the zip's central directory. */
  entries: number;
  /** Shared strings (distinct cell texts). */
  strings: number;
  /** Characters in all shared strings together. */
  stringChars: number;
  /** Cells of the worksheet. */
  cells: number;
}

export const XLSX_LIMITS: XlsxLimits = {
  uncompressedBytes: 100 * 1024 * 1024,
  entries: 1000,
  strings: 2_000_000,
  stringChars: 50_000_000,
  cells: 10_000_000,
};

const PARTS = /^(?:_rels\/\.rels|xl\/_rels\/workbook\.xml\.rels|xl\/workbook\.xml|xl\/sharedStrings\.xml)$/;
const SHEET = /^xl\/worksheets\/sheet(\d+)\.xml$/;

const bad = (key: string, params?: Record<string, unknown>) => localizedError(400, `reports:fileErrors.${key}`, params);

/**
 * The parts of an XLSX that the workbook reader needs, rebuilt as a new zip stream from the
 * checked entries. The streaming reader (ExcelJS, through unzipper) trusts each entry's local
 * header and inflates without bound; here the central directory is authoritative (yauzl, sizes
 * validated as they inflate), the entry count and the total uncompressed size are limited, and
 * only the workbook, its relations, the shared strings and the first worksheet are passed on,
 * uncompressed. Past a limit the stream is cut short and `failure()` names the limit: the caller
 * reports that instead of whatever the cut-off XML makes the reader say.
 */
export async function guardedXlsx(
  file: string,
  limits: XlsxLimits,
): Promise<{ stream: Readable; failure: () => HttpError | undefined; close: () => void }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (err, z) =>
      err ? reject(bad('notXlsx', { detail: err.message })) : resolve(z),
    ),
  );
  const close = () => zip.close();
  let failure: HttpError | undefined;
  try {
    if (zip.entryCount > limits.entries) throw bad('tooManyParts', { parts: zip.entryCount, max: limits.entries });
    const wanted = new Map<string, yauzl.Entry>();
    let sheet: { n: number; entry: yauzl.Entry } | undefined;
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        const m = SHEET.exec(e.fileName);
        if (m && (!sheet || Number(m[1]) < sheet.n)) sheet = { n: Number(m[1]), entry: e };
        else if (PARTS.test(e.fileName)) {
          if (wanted.has(e.fileName)) return reject(bad('twoParts', { name: e.fileName }));
          wanted.set(e.fileName, e);
        }
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', (err: Error) => reject(bad('notXlsx', { detail: err.message })));
      zip.readEntry();
    });
    if (!sheet) throw bad('noSheet');
    // Shared strings before the sheet, as the reader expects them.
    const entries = [...wanted.values(), sheet.entry];
    const declared = entries.reduce((n, e) => n + e.uncompressedSize, 0);
    if (declared > limits.uncompressedBytes) throw tooLarge(limits);

    // One entry at a time: yauzl serialises reads on the file, and a read stream destroyed while
    // another's read is queued crashes inside it. Nothing is destroyed here: past a limit the
    // bytes are dropped (yauzl itself stops an entry that inflates past its declared size).
    const out = new yazl.ZipFile();
    const slots = entries.map(() => new PassThrough());
    let total = 0;
    const feed = (i: number) => {
      if (i >= entries.length) return;
      if (failure) return slots.slice(i).forEach((s) => s.end());
      const e = entries[i];
      zip.openReadStream(e, (err, src) => {
        if (err) {
          failure ??= bad('damaged', { name: e.fileName, detail: err.message });
          return feed(i);
        }
        const counted = new Transform({
          transform(chunk: Buffer, _enc, done) {
            total += chunk.length;
            if (total > limits.uncompressedBytes) failure ??= tooLarge(limits);
            done(null, failure ? undefined : chunk);
          },
        });
        src.on('error', (er) => {
          failure ??= bad('damaged', { name: e.fileName, detail: er.message });
          counted.end();
        });
        counted.on('end', () => feed(i + 1));
        src.pipe(counted).pipe(slots[i]);
      });
    };
    entries.forEach((e, i) => out.addReadStream(slots[i], e.fileName, { compress: false }));
    feed(0);
    out.end();
    out.outputStream.on('end', close);
    return { stream: out.outputStream as unknown as Readable, failure: () => failure, close };
  } catch (err) {
    close();
    throw err;
  }
}

const tooLarge = (limits: XlsxLimits) => bad('bomb', { mb: Math.round(limits.uncompressedBytes / 1048576) });
