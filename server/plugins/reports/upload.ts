import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request } from 'express';
import { HttpError, localizedError } from '../../core/errors';

export interface Upload {
  file: string;
  fileName: string;
  fields: Record<string, string>;
}

const ALLOWED = /\.(csv|txt|xlsx)$/i;

/**
 * Streams one multipart file to a temporary file, refusing it past `maxBytes`. Multipart bodies
 * skip the shared form parsers, so the CSRF token (a field sent before the file, or the
 * x-csrf-token header) is checked here, before a byte of the file is kept.
 */
export async function receiveUpload(req: Request, dir: string, maxBytes: number): Promise<Upload> {
  if (!req.is('multipart/form-data')) throw localizedError(400, 'reports:fileErrors.multipart');
  await mkdir(dir, { recursive: true });
  const expected = (req.session as unknown as { csrfToken?: string } | undefined)?.csrfToken;
  const csrfOk = (token: unknown) => {
    if (typeof token !== 'string' || !expected) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const fields: Record<string, string> = {};
  let result: { file: string; fileName: string } | undefined;
  let failure: HttpError | undefined;
  const tmp = path.join(dir, `upload-${randomBytes(8).toString('hex')}`);
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 10_000 } });
  } catch (err) {
    // e.g. multipart/form-data without a boundary parameter
    throw localizedError(400, 'reports:fileErrors.malformed', { detail: (err as Error).message });
  }
  const writes: Array<Promise<void>> = [];
  bb.on('field', (name, value) => (fields[name] = value));
  bb.on('file', (_name, stream, info) => {
    // A body cut off mid-file errors this stream as well as the form (the pipeline below reports
    // it): with no listener here, a part we skip would raise an uncaught error and end the process.
    stream.on('error', () => {});
    const csrf = csrfOk(fields._csrf) || csrfOk(req.headers['x-csrf-token']);
    if (!csrf) failure ??= new HttpError(403, 'Invalid or missing CSRF token: reload the form and try again', { key: 'core:errors.csrf' });
    else if (!ALLOWED.test(info.filename ?? '')) failure ??= localizedError(400, 'reports:fileErrors.type', { name: info.filename || '—' });
    if (failure) {
      stream.resume();
      return;
    }
    result = { file: tmp, fileName: info.filename ?? 'roster' };
    stream.on('limit', () => (failure ??= localizedError(413, 'reports:fileErrors.tooLarge', { mb: Math.round(maxBytes / 1048576) })));
    // Handled at once: a client that disconnects mid-file rejects this before the body pipeline
    // below settles, and an unhandled rejection would end the process.
    writes.push(
      pipeline(stream, createWriteStream(tmp)).catch((err: Error) => {
        failure ??= localizedError(400, 'reports:fileErrors.interrupted', { detail: err.message });
      }),
    );
  });
  try {
    await pipeline(req, bb);
  } catch (err) {
    failure ??= localizedError(400, 'reports:fileErrors.interrupted', { detail: (err as Error).message });
  }
  await Promise.all(writes);
  if (failure || !result) {
    await rm(tmp, { force: true });
    if (!failure && !csrfOk(fields._csrf) && !csrfOk(req.headers['x-csrf-token']))
      throw new HttpError(403, 'Invalid or missing CSRF token', { key: 'core:errors.csrf' });
    throw failure ?? localizedError(400, 'reports:fileErrors.noFile');
  }
  return { ...result, fields };
}
