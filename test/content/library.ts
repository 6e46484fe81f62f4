/**
 * Shared by the content tests: the library (content/courses) and the sample fixture course,
 * built once per test run (the builder itself skips courses whose sources did not change).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildLibrary, DEFAULT_OUT, DEFAULT_SRC, type BuiltCourse, type LibraryManifest } from '../../content/tools/build-library';

export const FIXTURE_SRC = path.join(__dirname, 'fixtures', 'courses');

let fixture: Promise<LibraryManifest> | undefined;
let library: Promise<LibraryManifest> | undefined;

/** The sample course, built into a fresh temp dir once per run. */
export function builtFixture(): Promise<LibraryManifest> {
  fixture ??= buildLibrary({ src: FIXTURE_SRC, out: mkdtempSync(path.join(os.tmpdir(), 'content-fixture-')) });
  return fixture;
}

/** The real library, built (or reused) in content/build. */
export function builtLibrary(): Promise<LibraryManifest> {
  library ??= buildLibrary({ src: DEFAULT_SRC, out: DEFAULT_OUT });
  return library;
}

/** Every built course: the fixture and the library courses that build. */
export async function allBuilt(): Promise<BuiltCourse[]> {
  return [...(await builtFixture()).courses, ...(await builtLibrary()).courses];
}

export const AU_PAGE = /^(lesson-\d+|assessment)\/index\.html$/;

export const gz = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;

/**
 * Bytes (gzip, as served with compression) an AU page transfers: its index.html, runtime.js,
 * runtime.css and, for a learner reading another language, the largest language fragment.
 */
export function pageWeight(courseDir: string, auKey: string, languages: string[]): number {
  const fragments = languages.filter((l) => l !== 'es').map((l) => gz(path.join(courseDir, auKey, `${l}.html`)));
  return (
    gz(path.join(courseDir, auKey, 'index.html')) +
    gz(path.join(courseDir, 'runtime.js')) +
    gz(path.join(courseDir, 'runtime.css')) +
    Math.max(0, ...fragments)
  );
}
