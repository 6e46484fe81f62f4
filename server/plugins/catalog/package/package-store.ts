/**
 * Where the files of imported packages live, so that every server process can serve them:
 * in the database (GridFS layout, the default) or in a directory (CATALOG_PACKAGE_DIR, e.g. a
 * shared volume). Files of a package are immutable once stored; a package is removed whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Connection, mongo } from 'mongoose';
import mime from 'mime-types';

export interface StoredFile {
  size: number;
  contentType: string;
  etag: string;
  lastModified: Date;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface PackageStore {
  readonly kind: 'gridfs' | 'directory';
  put(packageId: string, name: string, body: Readable): Promise<number>;
  /** Writes what put() may have buffered; an import calls it once after its last file. */
  flush(packageId: string): Promise<void>;
  stat(packageId: string, name: string): Promise<StoredFile | null>;
  read(packageId: string, name: string, range?: ByteRange): Readable;
  /** Removes every file of the package (idempotent). */
  remove(packageId: string): Promise<void>;
  /** Number of files stored for a package (admin views, tests). */
  count(packageId: string): Promise<number>;
  /** Paths of every file of a package, sorted (to rebuild the package as a zip). */
  names(packageId: string): Promise<string[]>;
}

export const contentTypeOf = (name: string) => mime.contentType(path.posix.basename(name)) || 'application/octet-stream';

const PACKAGE_ID = /^[a-z0-9-]{8,64}$/;
function assertPackageId(id: string) {
  if (!PACKAGE_ID.test(id)) throw new Error(`invalid package id "${id}"`);
}

/**
 * GridFS's collections and fields (`<bucket>.files` / `<bucket>.chunks`, `files_id`, `n`), so
 * MongoDB tools read them, but with natural-key `_id`s: `<package>/<path>` for a file and
 * `<package>/<path>#<n>` for its chunks: serving a file is a few `_id` lookups, with no second
 * index on `files_id` to keep (the driver's GridFSBucket finds chunks by `files_id`).
 */
export class GridFsPackageStore implements PackageStore {
  readonly kind = 'gridfs' as const;
  static readonly CHUNK_SIZE = 255 * 1024;
  /**
   * Documents are written in batches (chunks before the file documents that describe them):
   * a 1,000-AU package is mostly small files, and one round trip per document dominated its import.
   */
  private static readonly BATCH_BYTES = 4 * 1024 * 1024;
  private static readonly BATCH_DOCS = 500;
  private readonly batches = new Map<string, { chunks: GridChunk[]; files: GridFile[]; bytes: number }>();

  constructor(
    private readonly db: Connection,
    private readonly bucket = 'catalog_packages',
  ) {}

  private get files() {
    return this.db.db!.collection<GridFile>(`${this.bucket}.files`);
  }

  private get chunks() {
    return this.db.db!.collection<GridChunk>(`${this.bucket}.chunks`);
  }

  /** The indexes MongoDB's own GridFS readers expect. */
  async init(): Promise<void> {
    await this.files.createIndex({ filename: 1, uploadDate: 1 });
    await this.chunks.createIndex({ files_id: 1, n: 1 }, { unique: true });
    await this.files.createIndex({ 'metadata.packageId': 1 });
  }

  async put(packageId: string, name: string, body: Readable): Promise<number> {
    assertPackageId(packageId);
    const id = `${packageId}/${name}`;
    const hash = createHash('sha256');
    const size = GridFsPackageStore.CHUNK_SIZE;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let n = 0;
    let length = 0;
    const flush = async (final: boolean) => {
      while (pendingBytes >= size || (final && pendingBytes > 0)) {
        const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
        const data = all.subarray(0, Math.min(size, all.length));
        const rest = all.subarray(data.length);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
        await this.queue(packageId, { _id: `${id}#${n}`, files_id: id, n, data: Buffer.from(data) });
        n++;
      }
    };
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      hash.update(buf);
      length += buf.length;
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes >= size) await flush(false);
    }
    await flush(true);
    // The file document is written last: its presence means every chunk is there.
    await this.queue(packageId, undefined, {
      _id: id,
      filename: id,
      length,
      chunkSize: size,
      uploadDate: new Date(),
      metadata: { packageId, contentType: contentTypeOf(name), sha256: hash.digest('hex') },
    });
    return length;
  }

  private async queue(packageId: string, chunk?: GridChunk, file?: GridFile): Promise<void> {
    let b = this.batches.get(packageId);
    if (!b) this.batches.set(packageId, (b = { chunks: [], files: [], bytes: 0 }));
    if (chunk) {
      b.chunks.push(chunk);
      b.bytes += (chunk.data as Buffer).length;
    }
    if (file) b.files.push(file);
    if (b.bytes >= GridFsPackageStore.BATCH_BYTES || b.chunks.length + b.files.length >= GridFsPackageStore.BATCH_DOCS)
      await this.flush(packageId);
  }

  async flush(packageId: string): Promise<void> {
    const b = this.batches.get(packageId);
    if (!b) return;
    this.batches.delete(packageId);
    if (b.chunks.length) await this.chunks.insertMany(b.chunks);
    if (b.files.length) await this.files.insertMany(b.files);
  }

  async stat(packageId: string, name: string): Promise<StoredFile | null> {
    const f = await this.files.findOne({ _id: `${packageId}/${name}` });
    if (!f) return null;
    return { size: f.length, contentType: f.metadata.contentType, etag: `"${f.metadata.sha256.slice(0, 32)}"`, lastModified: f.uploadDate };
  }

  read(packageId: string, name: string, range?: ByteRange): Readable {
    const id = `${packageId}/${name}`;
    const chunks = this.chunks;
    const files = this.files;
    return Readable.from(
      (async function* () {
        const f = await files.findOne({ _id: id });
        if (!f) throw new Error(`no stored file ${id}`);
        const start = range?.start ?? 0;
        const end = Math.min(range?.end ?? f.length - 1, f.length - 1);
        if (end < start) return;
        const first = Math.floor(start / f.chunkSize);
        const last = Math.floor(end / f.chunkSize);
        const fetch = (n: number) => {
          const p = n <= last ? chunks.findOne({ _id: `${id}#${n}` }) : Promise.resolve(null);
          // A read-ahead the client no longer waits for (it hung up) must not become an unhandled rejection.
          p.catch(() => {});
          return p;
        };
        // One chunk is read ahead while the previous one is sent: each read is a database round trip.
        let next = fetch(first);
        for (let n = first; n <= last; n++) {
          const c = await next;
          next = fetch(n + 1);
          if (!c) throw new Error(`stored file ${id} is missing chunk ${n}`);
          const data = Buffer.isBuffer(c.data)
            ? c.data
            : Buffer.from(c.data.buffer.buffer, c.data.buffer.byteOffset, c.data.buffer.byteLength);
          const from = n * f.chunkSize;
          yield data.subarray(Math.max(0, start - from), Math.min(data.length, end - from + 1));
        }
      })(),
      { objectMode: false },
    );
  }

  async remove(packageId: string): Promise<void> {
    assertPackageId(packageId);
    this.batches.delete(packageId);
    // Chunks first: a file document never outlives its chunks.
    await this.chunks.deleteMany({ _id: { $regex: `^${packageId}/` } });
    await this.files.deleteMany({ _id: { $regex: `^${packageId}/` } });
  }

  count(packageId: string): Promise<number> {
    return this.files.countDocuments({ _id: { $regex: `^${packageId}/` } });
  }

  async names(packageId: string): Promise<string[]> {
    assertPackageId(packageId);
    // A range on the string `_id` (`<package>/` … `<package>0`): answered from the `_id` index.
    const docs = await this.files.find({ _id: { $gt: `${packageId}/`, $lt: `${packageId}0` } }, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => d._id.slice(packageId.length + 1)).sort();
  }
}

interface GridFile {
  _id: string;
  filename: string;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  metadata: { packageId: string; contentType: string; sha256: string };
}

interface GridChunk {
  _id: string;
  files_id: string;
  n: number;
  data: Buffer | mongo.Binary;
}

/** Files under `<root>/<packageId>/<path>`: a local or shared (NFS, SMB) directory. */
export class DirectoryPackageStore implements PackageStore {
  readonly kind = 'directory' as const;

  constructor(private readonly root: string) {
    this.root = path.resolve(root);
  }

  private file(packageId: string, name: string): string {
    assertPackageId(packageId);
    const full = path.resolve(this.root, packageId, ...name.split('/'));
    // Names were validated on import; this guards the serving path against anything else.
    if (!full.startsWith(path.join(this.root, packageId) + path.sep)) throw new Error(`path "${name}" escapes the package`);
    return full;
  }

  async put(packageId: string, name: string, body: Readable): Promise<number> {
    const target = this.file(packageId, name);
    await mkdir(path.dirname(target), { recursive: true });
    let length = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        length += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(body, counter, createWriteStream(target, { flags: 'wx' }));
    return length;
  }

  async flush(): Promise<void> {}

  async stat(packageId: string, name: string): Promise<StoredFile | null> {
    let full: string;
    try {
      full = this.file(packageId, name);
    } catch {
      return null;
    }
    const s = await stat(full).catch(() => null);
    if (!s?.isFile()) return null;
    return {
      size: s.size,
      contentType: contentTypeOf(name),
      etag: `"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`,
      lastModified: s.mtime,
    };
  }

  read(packageId: string, name: string, range?: ByteRange): Readable {
    return createReadStream(this.file(packageId, name), range ? { start: range.start, end: range.end } : {});
  }

  async remove(packageId: string): Promise<void> {
    assertPackageId(packageId);
    await rm(path.join(this.root, packageId), { recursive: true, force: true });
  }

  async count(packageId: string): Promise<number> {
    assertPackageId(packageId);
    const entries = await readdir(path.join(this.root, packageId), { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile()).length;
  }

  async names(packageId: string): Promise<string[]> {
    const base = path.join(this.root, packageId);
    assertPackageId(packageId);
    const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(base, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
  }
}

/** A directory when CATALOG_PACKAGE_DIR is set; otherwise files go to the database. */
export function createPackageStore(db: Connection, packageDir?: string): PackageStore {
  return packageDir ? new DirectoryPackageStore(packageDir) : new GridFsPackageStore(db);
}
