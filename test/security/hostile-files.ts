import { Readable } from 'node:stream';
import yazl from 'yazl';

/** Collects a zip written with yazl. */
function zipOf(entries: Array<{ name: string; data: Buffer | Readable }>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (Buffer.isBuffer(e.data)) zip.addBuffer(e.data, e.name, { compressionLevel: 1 });
    else zip.addReadStream(e.data, e.name, { compressionLevel: 1 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const WORKBOOK =
  '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' +
  'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Roster" sheetId="1" r:id="rId1"/></sheets></workbook>';
const RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>';

/** A worksheet whose cells are shared strings 0, 1, 2, … in `rows` rows of `cols` columns. */
function sheet(rows: number, cols: number): string {
  const col = (i: number) => String.fromCharCode(65 + i);
  let s = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>';
  for (let r = 1; r <= rows; r++) {
    s += `<row r="${r}">`;
    for (let c = 0; c < cols; c++) s += `<c r="${col(c)}${r}" t="s"><v>${((r - 1) * cols + c) % 50}</v></c>`;
    s += '</row>';
  }
  return s + '</sheetData></worksheet>';
}

/** `count` shared strings of `length` characters each, generated as the zip is written. */
function sharedStrings(count: number, length: number): Readable {
  const text = 'A'.repeat(length);
  let i = 0;
  return new Readable({
    read() {
      if (i === 0)
        this.push('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">');
      let chunk = '';
      for (let k = 0; k < 1000 && i < count; k++, i++) chunk += `<si><t>${text}${i}</t></si>`;
      if (chunk) this.push(chunk);
      if (i >= count) {
        this.push('</sst>');
        this.push(null);
      }
    },
  });
}

/** An XLSX workbook: `strings` shared strings of `length` characters, a `rows` × `cols` sheet. */
export function xlsx(opts: { strings: number; length: number; rows: number; cols: number; extraEntries?: number }): Promise<Buffer> {
  return zipOf([
    { name: 'xl/workbook.xml', data: Buffer.from(WORKBOOK) },
    { name: 'xl/_rels/workbook.xml.rels', data: Buffer.from(RELS) },
    { name: 'xl/sharedStrings.xml', data: sharedStrings(opts.strings, opts.length) },
    { name: 'xl/worksheets/sheet1.xml', data: Buffer.from(sheet(opts.rows, opts.cols)) },
    ...Array.from({ length: opts.extraEntries ?? 0 }, (_, i) => ({ name: `xl/media/image${i}.png`, data: Buffer.from('x') })),
  ]);
}

/** Rewrites the central directory so that entry `name` claims to expand to only `size` bytes. */
export function understate(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = out.lastIndexOf(Buffer.from('PK\x05\x06')); i >= 0; i--) {
    if (out.readUInt32LE(i) !== 0x02014b50) continue;
    const nameLength = out.readUInt16LE(i + 28);
    if (out.subarray(i + 46, i + 46 + nameLength).toString() === name) {
      out.writeUInt32LE(size, i + 24);
      return out;
    }
  }
  throw new Error(`no central directory entry ${name}`);
}
