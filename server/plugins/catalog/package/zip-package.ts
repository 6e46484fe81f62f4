/**
 * Reads a package zip (cmi5 §14.1, SCORM's PIF; PKWARE APPNOTE, 32- and 64-bit) from a file on
 * disk, one entry at a time: nothing but the manifests asked for (cmi5.xml, imsmanifest.xml) is
 * ever held in memory. Every entry is checked before anything is stored, so a rejected package
 * leaves nothing behind.
 */
import { Transform, type Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { LocalizedProblem } from '../../../core/errors';
import { PackageError, at, packageError, ruleProblem, type Problem } from './package-error';

export interface ZipLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  maxXmlBytes: number;
}

export interface ZipInspection {
  /** Names of the file entries (directories excluded). */
  files: Set<string>;
  /** The manifests found at the zip's root, by name. */
  manifests: Map<string, Buffer>;
  /** A manifest name found only below the root, with where it was (the likely mistake of zipping a folder). */
  nested: Map<string, string>;
  uncompressedBytes: number;
}

const RULE = 'cmi5 §14.1 (zip)';
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** "Made by" hosts whose external attributes carry Unix mode bits (3 = Unix, 19 = OS X). */
const UNIX_HOSTS = new Set([3, 19]);

async function open(filePath: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(filePath, {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: true,
      autoClose: false,
      strictFileNames: true,
    });
  } catch (err) {
    throw packageError(RULE, at('upload'), 'zip.unreadable', { error: (err as Error).message }, 400);
  }
}

export function entryName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
}

/** Why an entry cannot be stored (a `catalog:package.entry.*` key and its params), or null. Names become storage keys and URL paths. */
export function entryProblem(entry: Entry, name: string): { key: string; params?: Record<string, unknown> } | null {
  if (name.includes('\\')) return { key: 'entry.backslash' };
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f]/.test(name)) return { key: 'entry.control' };
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return { key: 'entry.absolute' };
  const parts = name.replace(/\/$/, '').split('/');
  if (parts.includes('..')) return { key: 'entry.climbs' };
  if (parts.some((p) => p === '' || p === '.')) return { key: 'entry.emptySegment' };
  if (Buffer.byteLength(name) > 1024) return { key: 'entry.long' };
  if (UNIX_HOSTS.has(entry.versionMadeBy >> 8) && ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK)
    return { key: 'entry.symlink' };
  if (entry.isEncrypted()) return { key: 'entry.encrypted' };
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    return { key: 'entry.compression', params: { method: entry.compressionMethod } };
  return null;
}

async function readAll(stream: Readable, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > max) {
      stream.destroy();
      throw packageError('limit', what, 'limit.largerThan', { mb: Math.round(max / 1048576) }, 413);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** A manifest to look for at the root, and the rule an entry problem breaks in a package that has it. */
export interface ManifestSpec {
  name: string;
  rule: string;
}

/**
 * Checks every entry (names, types, limits) and reads the named manifests at the root; stores
 * nothing. Entry problems cite the rule of the first format whose manifest is there.
 */
export async function inspectZip(filePath: string, limits: ZipLimits, wanted: readonly ManifestSpec[]): Promise<ZipInspection> {
  const manifestNames = wanted.map((m) => m.name);
  const zip = await open(filePath);
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw packageError('limit', at('zip'), 'limit.entries', { n: zip.entryCount, max: limits.maxEntries }, 413);
    }
    const problems: Problem[] = [];
    const files = new Set<string>();
    const seen = new Set<string>();
    let total = 0;
    const manifests = new Map<string, Buffer>();
    const nested = new Map<string, string>();
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry);
      const where: LocalizedProblem = at('entry', { name });
      const problem = entryProblem(entry, name);
      if (problem) {
        problems.push(ruleProblem(RULE, where, problem.key, problem.params));
        if (problems.length >= 20) break;
        continue;
      }
      const key = name.replace(/\/$/, '');
      if (seen.has(key)) {
        problems.push(ruleProblem(RULE, where, 'entry.twice'));
        continue;
      }
      seen.add(key);
      if (name.endsWith('/')) continue;
      files.add(name);
      total += entry.uncompressedSize;
      if (total > limits.maxUncompressedBytes) {
        throw packageError('limit', where, 'limit.uncompressed', { mb: Math.round(limits.maxUncompressedBytes / 1048576) }, 413);
      }
      if (manifestNames.includes(name)) {
        manifests.set(name, await readAll(await zip.openReadStreamPromise(entry), limits.maxXmlBytes, name));
      } else {
        const base = name.slice(name.lastIndexOf('/') + 1).toLowerCase();
        const wanted = manifestNames.find((m) => m.toLowerCase() === base);
        if (wanted && !nested.has(wanted)) nested.set(wanted, name);
      }
    }
    if (problems.length) {
      const rule = wanted.find((m) => manifests.has(m.name))?.rule ?? RULE;
      throw new PackageError(problems.map((p) => (p.rule === RULE ? { ...p, rule } : p)));
    }
    return { files, manifests, nested, uncompressedBytes: total };
  } catch (err) {
    if (err instanceof PackageError) throw err;
    // yauzl reports corrupt archives and entries whose size differs from the directory's.
    throw packageError(RULE, at('zip'), 'zip.corrupt', { error: (err as Error).message }, 400);
  } finally {
    zip.close();
  }
}

/** Streams each file entry (already inspected) to `store`, one at a time. */
export async function eachZipFile(filePath: string, store: (name: string, body: Readable) => Promise<void>, rule = RULE): Promise<void> {
  const zip = await open(filePath);
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entryName(entry);
      if (name.endsWith('/')) continue;
      // yauzl checks sizes but not checksums: a damaged entry must not be stored as if it were fine.
      let crc = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          crc = crc32(chunk, crc);
          cb(null, chunk);
        },
        flush(cb) {
          cb(crc >>> 0 === entry.crc32 >>> 0 ? null : packageError(rule, at('entry', { name }), 'zip.crc', undefined, 400));
        },
      });
      const data = await zip.openReadStreamPromise(entry);
      data.on('error', (err) => check.destroy(err));
      await store(name, data.pipe(check));
    }
  } finally {
    zip.close();
  }
}
