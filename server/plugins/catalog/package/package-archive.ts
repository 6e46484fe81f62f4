/**
 * A stored course version written back as a cmi5 zip, for sharing it with other institutions.
 * Deterministic (sorted names, fixed times and modes), so the same version always gives the same
 * bytes and its SHA-256 can be published once and checked by whoever downloads it.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { PackageStore } from './package-store';

const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

export async function writePackageArchive(store: PackageStore, packageId: string, dest: string): Promise<void> {
  const names = await store.names(packageId);
  if (!names.length) throw new Error(`package ${packageId} has no files`);
  const zip = new yazl.ZipFile();
  const done = pipeline(zip.outputStream, createWriteStream(dest));
  for (const name of names) {
    // Each file is opened only when the zip reaches it: a large package never sits in memory.
    zip.addReadStreamLazy(name, { mtime: FIXED_MTIME, mode: 0o100644, compress: true }, (cb) => cb(null, store.read(packageId, name)));
  }
  zip.end();
  await done;
}
