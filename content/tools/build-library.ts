/**
 * Builds every course of the library into a cmi5 package: `<out>/<slug>/` (unpacked) and
 * `<out>/<slug>.zip`, and its SCORM 1.2 export `<out>/<slug>.scorm12.zip` (scorm12.ts). Deterministic: same sources → same bytes (sorted entries, fixed
 * timestamps, no build dates). A course whose sources did not change is not rebuilt.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import yazl from 'yazl';
import { cmi5Xml } from './cmi5-xml';
import { bankDigest, itemBank, type ItemBank } from './item-bank';
import type { Lang } from './course-schema';
import { CourseSourceError, courseDirs, loadCourse, type CourseSource } from './load-course';
import { READING_WPM } from './study-time';
import { assessmentFragment, lessonFragment, pageShell } from './render-au';
import { scorm12Files } from './scorm12';

export const CONTENT_ROOT = path.join(__dirname, '..');
export const DEFAULT_SRC = path.join(CONTENT_ROOT, 'courses');
export const DEFAULT_OUT = path.join(CONTENT_ROOT, 'build');
const RUNTIME_DIR = path.join(CONTENT_ROOT, 'runtime');
const TOOLS_DIR = __dirname;

export interface BuiltCourse {
  slug: string;
  id: string;
  version: number;
  tiers: string[];
  levels: string[];
  dir: string;
  zip: string;
  /** sha256 of the zip: what the catalog compares to recognise an already-installed package */
  sha256: string;
  /** The SCORM 1.2 export (`<slug>.scorm12.zip`, scorm12.ts): same pages, imsmanifest.xml, the bank inside. */
  scorm12Zip: string;
  scorm12Sha256: string;
  /** sha256 of the sources (and of the builder): decides whether a rebuild is needed */
  sourceHash: string;
  /** derived study time (study-time.ts): what the package declares and certificates print */
  hours: number;
  lessonMinutes: number[];
  assessmentMinutes: number;
  /** date of the last review against the sources */
  reviewed: string;
  /** per language: single-answer questions whose correct option is the longest, e.g. "2/9" */
  longestCorrect: Record<string, string>;
  /** the assessment's item bank (`banks/<slug>.json`, not in the package): questions asked / in the bank */
  bank: string;
  ask: number;
  bankSize: number;
}

export interface LibraryManifest {
  courses: BuiltCourse[];
  /** Courses whose sources break the authoring format: not built, reported with file and field. */
  errors?: Array<{ dir: string; message: string }>;
}

/** Files of a folder, recursively, as sorted relative paths with forward slashes. */
function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, base));
    else out.push(path.relative(base, full).split(path.sep).join('/'));
  }
  return out.sort();
}

function hashFiles(h: ReturnType<typeof createHash>, dir: string): void {
  for (const f of listFiles(dir)) {
    h.update(`${f}\0`);
    h.update(readFileSync(path.join(dir, f)));
    h.update('\0');
  }
}

let runtimeCache: { js: string; css: string; hash: string } | undefined;

/** runtime.js (esbuild bundle of au.ts + @xapi/cmi5) and runtime.css, shared by every AU page. */
export function buildRuntime(): { js: string; css: string; hash: string } {
  if (runtimeCache) return runtimeCache;
  const result = buildSync({
    entryPoints: [path.join(RUNTIME_DIR, 'au.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    // The ESM build lets esbuild drop what the page does not use; the "browser" field points at a UMD bundle.
    mainFields: ['module', 'main'],
    target: 'es2020',
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  });
  const js = result.outputFiles[0].text;
  const css = readFileSync(path.join(RUNTIME_DIR, 'au.css'), 'utf8');
  const h = createHash('sha256');
  hashFiles(h, RUNTIME_DIR);
  hashFiles(h, TOOLS_DIR);
  runtimeCache = { js, css, hash: h.digest('hex') };
  return runtimeCache;
}

/** Every file of a course package, path → content. */
export function packageFiles(src: CourseSource, bank: ItemBank = itemBank(src)): Map<string, Buffer> {
  const { js, css } = buildRuntime();
  const c = src.meta;
  const files = new Map<string, Buffer>();
  const put = (p: string, s: string | Buffer) => files.set(p, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
  put('cmi5.xml', cmi5Xml(src, bankDigest(bank)));
  put('runtime.js', js);
  put('runtime.css', css);
  put(
    'LICENSE.txt',
    [`${c.title.es} (${c.id}), version ${c.version}`, `License: ${c.license}`, '', 'Credits:', ...c.credits.map((x) => `- ${x}`), ''].join(
      '\n',
    ),
  );
  const langs = c.languages as Lang[];
  const lessonKeys = src.lessons.es.map((x) => x.key);
  for (const key of c.blocks.flatMap((b) => b.aus)) {
    const fragments = new Map<Lang, string>();
    const position = key === 'assessment' ? undefined : { n: lessonKeys.indexOf(key) + 1, total: lessonKeys.length };
    for (const l of langs) {
      if (key === 'assessment') fragments.set(l, assessmentFragment(c, l, src.assessments[l]));
      else
        fragments.set(
          l,
          lessonFragment(
            c,
            l,
            src.lessons[l].find((x) => x.key === key)!,
            position!,
          ),
        );
      put(`${key}/${l}.html`, fragments.get(l)!);
    }
    const auTitle = key === 'assessment' ? src.assessments.es.title : src.lessons.es.find((x) => x.key === key)!.meta.title;
    put(
      `${key}/index.html`,
      pageShell({
        course: c,
        lang: 'es',
        kind: key === 'assessment' ? 'assessment' : 'lesson',
        fragment: fragments.get('es')!,
        auTitle,
        position,
      }),
    );
  }
  // Images shipped next to the lessons of a language.
  for (const l of langs) {
    const dir = path.join(src.dir, l);
    for (const f of listFiles(dir)) {
      if (!/\.(md|ya?ml)$/i.test(f)) put(`media/${l}/${f}`, readFileSync(path.join(dir, f)));
    }
  }
  return files;
}

// DOS timestamps are local time; building the date from local fields gives the same bytes in every time zone.
const FIXED_MTIME = new Date(2020, 0, 1, 0, 0, 0);

export async function writeZip(files: Map<string, Buffer>, target: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const name of [...files.keys()].sort()) {
    zip.addBuffer(files.get(name)!, name, { mtime: FIXED_MTIME, mode: 0o100644, compress: true });
  }
  zip.end();
  const tmp = `${target}.tmp-${process.pid}`;
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(tmp)).on('close', resolve).on('error', reject);
  });
  renameSync(tmp, target);
}

function courseSourceHash(dir: string): string {
  const h = createHash('sha256');
  h.update(buildRuntime().hash);
  hashFiles(h, dir);
  return h.digest('hex');
}

const sha256File = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

export function readManifest(out = DEFAULT_OUT): LibraryManifest | undefined {
  const f = path.join(out, 'manifest.json');
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as LibraryManifest;
  } catch {
    return undefined;
  }
}

export interface BuildOptions {
  src?: string;
  out?: string;
  /** rebuild even when sources did not change */
  force?: boolean;
  log?: (line: string) => void;
}

/** Builds (or reuses) every course. Throws CourseSourceError naming the file at fault. */
export async function buildLibrary(opts: BuildOptions = {}): Promise<LibraryManifest> {
  const src = opts.src ?? DEFAULT_SRC;
  const out = opts.out ?? DEFAULT_OUT;
  const log = opts.log ?? (() => {});
  mkdirSync(out, { recursive: true });
  const previous = new Map((readManifest(out)?.courses ?? []).map((c) => [c.slug, c]));
  const courses: BuiltCourse[] = [];
  const errors: Array<{ dir: string; message: string }> = [];
  for (const dir of courseDirs(src)) {
    const sourceHash = courseSourceHash(dir);
    const before = previous.get(path.basename(dir).replace(/^\d+-/, ''));
    const zip = before && path.join(out, `${before.slug}.zip`);
    const reusable =
      before?.sourceHash === sourceHash &&
      !!before.bank &&
      existsSync(path.join(out, before.bank)) &&
      !!before.scorm12Zip &&
      existsSync(path.join(out, before.scorm12Zip)) &&
      !!zip &&
      existsSync(zip);
    if (!opts.force && before && zip && reusable && sha256File(zip) === before.sha256) {
      courses.push({
        ...before,
        dir: path.join(out, before.slug),
        zip,
        bank: path.join(out, before.bank),
        scorm12Zip: path.join(out, before.scorm12Zip),
      });
      log(`unchanged ${before.slug}`);
      continue;
    }
    let course: CourseSource;
    try {
      course = loadCourse(dir);
    } catch (err) {
      // One unfinished course must not keep the others from being built and installed.
      if (!(err instanceof CourseSourceError)) throw err;
      errors.push({ dir: path.relative(CONTENT_ROOT, dir), message: err.message });
      log(`error ${err.message}`);
      continue;
    }
    const slug = course.meta.slug;
    const bank = itemBank(course);
    const files = packageFiles(course, bank);
    const target = path.join(out, slug);
    rmSync(target, { recursive: true, force: true });
    for (const [name, data] of files) {
      mkdirSync(path.dirname(path.join(target, name)), { recursive: true });
      writeFileSync(path.join(target, name), data);
    }
    const zipFile = path.join(out, `${slug}.zip`);
    await writeZip(files, zipFile);
    const scormZip = path.join(out, `${slug}.scorm12.zip`);
    await writeZip(scorm12Files(course, bank, files), scormZip);
    // The key stays out of the package (and of the public download): the installer gives it to the LMS.
    const bankFile = path.join(out, 'banks', `${slug}.json`);
    mkdirSync(path.dirname(bankFile), { recursive: true });
    writeFileSync(bankFile, JSON.stringify(bank, null, 1) + '\n');
    const built: BuiltCourse = {
      slug,
      id: course.meta.id,
      version: course.meta.version,
      tiers: course.meta.tiers,
      levels: course.meta.levels,
      dir: target,
      zip: zipFile,
      sha256: sha256File(zipFile),
      scorm12Zip: scormZip,
      scorm12Sha256: sha256File(scormZip),
      sourceHash,
      hours: course.studyTime.hours,
      lessonMinutes: course.studyTime.lessonMinutes,
      assessmentMinutes: course.studyTime.assessmentMinutes,
      reviewed: course.meta.reviewed,
      longestCorrect: Object.fromEntries(Object.entries(course.reports).map(([l, r]) => [l, `${r.longestCorrect}/${r.single}`])),
      bank: bankFile,
      ask: bank.ask,
      bankSize: bank.items.length,
    };
    courses.push(built);
    log(`built ${slug}: ${files.size} files, ${statSync(zipFile).size} bytes, sha256 ${built.sha256.slice(0, 12)}`);
    log(
      `  ${built.hours} h: ${course.studyTime.words} words at ${READING_WPM} words/min (lessons ${built.lessonMinutes.join(' + ')} min,` +
        ` assessment ${built.assessmentMinutes} min: ${built.ask} questions asked from a bank of ${built.bankSize}, 1 min each);` +
        ` reviewed ${built.reviewed}; correct option longest: ` +
        Object.entries(built.longestCorrect)
          .map(([l, x]) => `${l} ${x}`)
          .join(', '),
    );
  }
  const manifest: LibraryManifest = {
    courses: courses.map((c) => ({
      ...c,
      dir: path.relative(out, c.dir),
      zip: path.relative(out, c.zip),
      scorm12Zip: path.relative(out, c.scorm12Zip),
      bank: path.relative(out, c.bank),
    })),
    errors,
  };
  // Renamed into place: a server reading it (download route) never sees half a file.
  const tmpManifest = path.join(out, `manifest.json.tmp-${process.pid}`);
  writeFileSync(tmpManifest, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(tmpManifest, path.join(out, 'manifest.json'));
  return { courses, errors };
}
