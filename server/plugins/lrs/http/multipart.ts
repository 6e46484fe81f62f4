/**
 * multipart/mixed (RFC 2046) as xAPI uses it for attachments: the first part is the statement(s)
 * as application/json, each further part one attachment identified by X-Experience-API-Hash.
 * busboy only speaks multipart/form-data, so this small parser reads the (size-limited) body.
 */
import { HttpError } from '../../../core/errors';

export interface MimePart {
  headers: Record<string, string>;
  body: Buffer;
}

const bad = (why: string) => new HttpError(400, `multipart/mixed body: ${why}`, { details: { field: 'Content-Type' } });

export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw bad('the Content-Type has no boundary parameter');
  return m[1] ?? m[2];
}

export function parseMultipart(body: Buffer, boundary: string): MimePart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MimePart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw bad('the boundary does not occur in the body');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break; // closing delimiter
    // The rest of the delimiter line (transport padding) ends with CRLF.
    const lineEnd = body.indexOf('\r\n', pos);
    if (lineEnd < 0) throw bad('a boundary line is not terminated by CRLF');
    const headerEnd = body.indexOf('\r\n\r\n', lineEnd);
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), lineEnd);
    if (next < 0) throw bad('the closing boundary is missing');
    let headers: Record<string, string> = {};
    let content: Buffer;
    if (headerEnd >= 0 && headerEnd < next) {
      headers = parseHeaders(body.subarray(lineEnd + 2, headerEnd).toString('latin1'));
      content = body.subarray(headerEnd + 4, next);
    } else {
      // A part with no headers starts with an empty line.
      content = body.subarray(lineEnd + 4 <= next ? lineEnd + 4 : next, next);
    }
    parts.push({ headers, body: content });
    pos = next + 2;
  }
  return parts;
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    if (!line) continue;
    const i = line.indexOf(':');
    if (i <= 0) throw bad(`malformed part header "${line.slice(0, 60)}"`);
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

/** Serialises parts for a GET ?attachments=true response. */
export function buildMultipart(boundary: string, parts: MimePart[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const head = Object.entries(p.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n`), p.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
