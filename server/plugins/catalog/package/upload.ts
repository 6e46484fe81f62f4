/**
 * Receives one uploaded package (multipart/form-data) straight onto disk with a size limit, never
 * holding it in memory. A multipart form bypasses the router's urlencoded/JSON parsers, so the CSRF
 * token is checked here, from the `_csrf` field (which the form sends before the file) or header.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from '../../../core/errors';

export interface ReceivedUpload {
  filePath: string;
  originalName: string;
  fields: Record<string, string>;
  /** Removes the temporary file. */
  cleanup(): Promise<void>;
}

export async function receiveUpload(
  req: Request,
  res: Response,
  opts: { field: string; maxBytes: number; csrf: RequestHandler },
): Promise<ReceivedUpload> {
  if (!req.is('multipart/form-data')) throw new HttpError(415, `Send the package as multipart/form-data in the field "${opts.field}"`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'catalog-upload-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const fields: Record<string, string> = {};
  const checkCsrf = () =>
    new Promise<void>((resolve, reject) => {
      req.body = { ...fields };
      opts.csrf(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
    });
  try {
    const received = await new Promise<{ filePath: string; originalName: string } | null>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        // busboy flags a file that reaches its limit exactly: the limit is one byte past the largest accepted size.
        bb = busboy({
          headers: req.headers,
          limits: { files: 1, fields: 20, fieldSize: 64 * 1024, fileSize: Math.floor(opts.maxBytes) + 1 },
        });
      } catch (err) {
        return reject(new HttpError(400, `Malformed upload: ${(err as Error).message}`));
      }
      let file: Promise<{ filePath: string; originalName: string }> | null = null;
      bb.on('field', (name, value) => {
        fields[name] = value;
      });
      bb.on('file', (name, stream, info) => {
        // A body cut off mid-file errors this stream as well as the form (reported below): with no
        // listener here, while the CSRF check runs or for a part we skip, it would end the process.
        stream.on('error', () => {});
        // A form submitted without choosing a file still sends an empty, nameless part.
        if (name !== opts.field || file || !info.filename) {
          stream.resume();
          return;
        }
        const filePath = path.join(dir, 'package');
        let truncated = false;
        stream.on('limit', () => {
          truncated = true;
        });
        file = checkCsrf()
          .then(() => pipeline(stream, createWriteStream(filePath)))
          .then(() => {
            if (truncated)
              throw new HttpError(413, `The package is larger than ${Math.round(opts.maxBytes / 1048576)} MB (CATALOG_MAX_PACKAGE_MB)`);
            return { filePath, originalName: path.basename(info.filename || 'package') };
          })
          .catch((err) => {
            stream.resume();
            throw err;
          });
        // Keep busboy going while the CSRF check runs; errors surface when the form ends.
        file.catch(() => {});
      });
      bb.on('error', (err) => reject(new HttpError(400, `Malformed upload: ${(err as Error).message}`)));
      bb.on('close', () => {
        if (!file) return resolve(null);
        file.then(resolve, reject);
      });
      // A client that hangs up mid-upload must not leave this promise (and the temp file) waiting forever.
      req.once('close', () => {
        if (!req.complete) reject(new HttpError(400, 'The upload was interrupted before it finished'));
      });
      req.pipe(bb);
    });
    if (!received) {
      await checkCsrf();
      throw new HttpError(400, `Choose a cmi5 package (.zip or cmi5.xml) to upload in the field "${opts.field}"`, {
        key: 'catalog:import.noFile',
      });
    }
    return { ...received, fields, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
