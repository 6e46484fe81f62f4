/**
 * `npm run bench:catalog-import`: cmi5 package import time and peak memory on the embedded
 * database (or MONGODB_URI), for
 *   - a 1,000-AU course structure (zip with 1,000 launch files),
 *   - packages of ~25 MB and ~100 MB (BENCH_PACKAGE_MB) of incompressible media,
 * each imported in its own child process into a fresh database, storing files in GridFS (default)
 * and, for the largest, in a directory (CATALOG_PACKAGE_DIR). The child samples its RSS every
 * 10 ms and also reports the kernel's max RSS; if import streams, peak memory stays flat as the
 * package grows.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { loadConfig } from '../server/core/config';
import { openDatabase } from '../server/core/db/connect';
import { startEngine } from '../server/core/db/engine';
import { CoursesService } from '../server/plugins/catalog/courses.service';
import { packageSettings } from '../server/plugins/catalog/package/settings';
import { courseXml, manyAus } from '../test/catalog/fixtures/packages';

const BIG_MB = Number(process.env.BENCH_PACKAGE_MB ?? 100);
const MB = 1024 * 1024;

interface ChildResult {
  ms: number;
  /** Reading one stored file back (the content route's path). */
  readMs: number;
  readBytes: number;
  peakRssMb: number;
  maxRssMb: number;
  baselineRssMb: number;
  auCount: number;
  files: number;
}

/** Child: import one package and report time and memory. */
async function child(file: string, uri: string, dataDir: string, packageDir?: string): Promise<void> {
  const config = loadConfig({
    MONGODB_URI: uri,
    DATA_DIR: dataDir,
    DB_NAME: `bench_import_${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'silent',
  });
  const db = await openDatabase(config, 'cli', () => {});
  const svc = new CoursesService(
    db.connection,
    packageSettings({ CATALOG_MAX_PACKAGE_MB: '1024', ...(packageDir ? { CATALOG_PACKAGE_DIR: packageDir } : {}) }),
    'http://bench',
  );
  await svc.init();
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const t = performance.now();
  const r = await svc.importPackage({ filePath: file });
  const ms = performance.now() - t;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const v = (await svc.getVersion(r.courseId, r.version))!;
  const files = await svc.store.count(v.packageId);
  // Serving: read the package's largest file back from storage, as the content route does.
  const largest = v.source === 'xml' ? 'cmi5.xml' : r.auCount > 1 ? 'player.js' : 'media/0.bin';
  const tr = performance.now();
  let bytes = 0;
  for await (const c of (await svc.openContent(v.packageId, largest))!.body()) bytes += (c as Buffer).length;
  const readMs = performance.now() - tr;
  await db.connection.dropDatabase();
  await db.close();
  const out: ChildResult = {
    ms,
    readMs,
    readBytes: bytes,
    peakRssMb: peak / MB,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    baselineRssMb: baseline / MB,
    auCount: r.auCount,
    files,
  };
  console.log(JSON.stringify(out));
}

async function bigPackage(dir: string, mb: number, name: string): Promise<string> {
  const zip = new ZipFile();
  zip.addBuffer(
    Buffer.from(courseXml({ id: `https://bench.example/courses/media-${mb}`, aus: [{ url: 'index.html', moveOn: 'Completed' }] })),
    'cmi5.xml',
  );
  zip.addBuffer(Buffer.from('<!doctype html><title>media</title><video src="media/0.bin"></video>'), 'index.html');
  const fileMb = 5;
  for (let i = 0; i < Math.ceil(mb / fileMb); i++) {
    const f = path.join(dir, `${name}-${i}.bin`);
    writeFileSync(f, randomBytes(fileMb * MB));
    // Media is stored, not deflated: it does not compress, like real video and audio.
    zip.addFile(f, `media/${i}.bin`, { compress: false });
  }
  zip.end();
  const out = path.join(dir, `${name}.zip`);
  await pipeline(zip.outputStream, createWriteStream(out));
  return out;
}

async function structurePackage(dir: string): Promise<string> {
  const zip = new ZipFile();
  const aus = manyAus(1000);
  zip.addBuffer(Buffer.from(courseXml({ id: 'https://bench.example/courses/1000-aus', aus })), 'cmi5.xml');
  for (const au of aus) zip.addBuffer(Buffer.from(`<!doctype html><title>${au.url}</title><script src="../player.js"></script>`), au.url);
  zip.addBuffer(Buffer.from('/* player */'), 'player.js');
  zip.end();
  const out = path.join(dir, '1000-aus.zip');
  await pipeline(zip.outputStream, createWriteStream(out));
  return out;
}

function runChild(file: string, uri: string, dataDir: string, packageDir?: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', __filename, '--child', file, uri, dataDir, ...(packageDir ? [packageDir] : [])],
      { cwd: path.resolve(__dirname, '..'), maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`import of ${file} failed: ${stderr || err.message}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult);
      },
    );
  });
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-catalog-import-'));
  const dataDir = path.join(work, 'data');
  const engine = process.env.MONGODB_URI ? undefined : await startEngine(dataDir, 'cli', (m) => console.log(m));
  const uri = process.env.MONGODB_URI ?? engine!.uri;
  try {
    console.log(
      `catalog import benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${process.env.MONGODB_URI ? 'MongoDB (MONGODB_URI)' : 'embedded FerretDB 1.24 on SQLite'}`,
    );
    console.log('generating packages…');
    const cases: Array<{ label: string; file: string; packageDir?: string }> = [];
    cases.push({ label: '1,000-AU zip', file: await structurePackage(work) });
    const xmlOnly = path.join(work, 'cmi5.xml');
    writeFileSync(
      xmlOnly,
      courseXml({
        id: 'https://bench.example/courses/1000-aus-xml',
        aus: manyAus(1000, (i) => `https://content.example/au${i}/index.html`),
      }),
    );
    cases.push({ label: '1,000-AU cmi5.xml (no zip)', file: xmlOnly });
    const mid = await bigPackage(work, Math.max(5, Math.round(BIG_MB / 4)), 'mid');
    const big = await bigPackage(work, BIG_MB, 'big');
    cases.push({ label: 'media package, GridFS', file: mid });
    cases.push({ label: 'media package, GridFS', file: big });
    cases.push({ label: 'media package, directory', file: big, packageDir: path.join(work, 'packages') });

    const rows: string[] = [];
    const head = `${'package'.padEnd(28)} ${'size MB'.padStart(8)} ${'AUs'.padStart(5)} ${'files'.padStart(6)} ${'import s'.padStart(8)} ${'MB/s'.padStart(6)} ${'RSS before'.padStart(10)} ${'RSS peak'.padStart(9)} ${'growth'.padStart(7)} ${'max RSS'.padStart(8)} ${'read 1 file'.padStart(18)}`;
    for (const c of cases) {
      const size = statSync(c.file).size / MB;
      const r = await runChild(c.file, uri, dataDir, c.packageDir);
      rows.push(
        `${c.label.padEnd(28)} ${size.toFixed(1).padStart(8)} ${String(r.auCount).padStart(5)} ${String(r.files).padStart(6)} ${(r.ms / 1000).toFixed(2).padStart(8)} ${(size / (r.ms / 1000)).toFixed(1).padStart(6)} ${r.baselineRssMb.toFixed(0).padStart(10)} ${r.peakRssMb.toFixed(0).padStart(9)} ${(r.peakRssMb - r.baselineRssMb).toFixed(0).padStart(7)} ${r.maxRssMb.toFixed(0).padStart(8)} ${`${(r.readBytes / MB).toFixed(1)} MB in ${r.readMs.toFixed(0)} ms`.padStart(18)}`,
      );
      console.log(rows.length === 1 ? `\n${head}\n${rows[0]}` : rows[rows.length - 1]);
    }
    console.log('\nRSS in MB. "RSS peak" = highest 10 ms sample during the import; "growth" = peak − RSS just before it;');
    console.log('"max RSS" = the kernel\'s maximum for the whole child process (includes start-up). Growth should not follow');
    console.log('the package size: the zip is streamed entry by entry into storage. "read 1 file" = reading one stored file');
    console.log('back as the content route does (media/0.bin for media packages, player.js / cmi5.xml for the 1,000-AU ones).');
  } finally {
    await engine?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  const [file, uri, dataDir, packageDir] = process.argv.slice(3);
  child(file, uri, dataDir, packageDir).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
