/**
 * `npm run bench:scorm` — SCORM on a real server process (`server/index.ts`) over plain HTTP, as
 * outsiders reach it, on a fresh DATA_DIR and the embedded engine:
 *   1. import of a generated ~BENCH_PACKAGE_MB (default 100) SCORM 2004 4th Edition zip through the
 *      admin's upload form (multipart POST /catalog/admin/courses): time, the server process's RSS
 *      (sampled every 10 ms from /proc, and the kernel's high-water mark), and that the package is
 *      stored once (one version, one stored file per zip entry with its bytes, a second upload of
 *      the same zip answered "already installed" with nothing added). The zip has many assets:
 *      incompressible media stored and deflated (as authoring tools export them) and thousands of
 *      small text files;
 *   2. BENCH_LEARNERS (default 20) learners at once, each launching a SCO from the course page and
 *      running its session as the player's scorm-again adapter does (player.js): the one-time start
 *      URL, then initialize, BENCH_COMMITS (default 20) commits with the whole CMI data (growing
 *      suspend_data and interactions), and terminate, one at a time per learner: p50/p95 of the
 *      commit round trip (LMSCommit) and commits/s, with the server's CPU per commit and the
 *      statements the commits stored (each commit's in one LRS write, in order).
 * BENCH_PACKAGE_MB=4 measures the commits without the long import.
 * Prints figures, ratios against the goals and the load average (before and after).
 *   nice -n 10 npm run bench:scorm
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, openAsBlob, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { createLmsApp } from '../server/app';
import { loadConfig } from '../server/core/config';
import { openDatabase } from '../server/core/db/connect';
import { startEngine } from '../server/core/db/engine';
import { manifestXml, scoHtml } from '../test/catalog/fixtures/scorm-packages';
import { csrfOf, launch, load, PASSWORD, pct, signIn, startServer, stopServer } from './http';

const PACKAGE_MB = Number(process.env.BENCH_PACKAGE_MB ?? 100);
const LEARNERS = Number(process.env.BENCH_LEARNERS ?? 20);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 4400);
const SCOS = 20;
const MB = 1024 * 1024;
const IDENTIFIER = 'org.example.bench-scorm';
/** Goals: import streamed like cmi5 (README: 100 MB media package 15.1 s, +39 MB); the AU POST goal (p95 ≤ 50 ms) for a commit. */
const CMI5_100MB = { seconds: 15.1, growthMb: 39 };
const COMMIT_P95_GOAL_MS = 50;

/** VmRSS / VmHWM of a process in MB, and its CPU seconds (user + system). */
const procStatus = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

interface Package {
  file: string;
  entries: Map<string, number>;
  courseId: string;
}

/** SCORM 2004 package: SCOS SCO pages, and ~mb of assets, half stored media, half deflated. */
async function buildPackage(dir: string, mb: number, identifier: string): Promise<Package> {
  const zip = new ZipFile();
  const entries = new Map<string, number>();
  const add = (name: string, body: Buffer, compress: boolean) => {
    zip.addBuffer(body, name, { compress });
    entries.set(name, body.length);
  };
  const items = Array.from({ length: SCOS }, (_, i) => ({ id: `sco${i + 1}`, title: `Lección ${i + 1}`, mastery: '0.8' }));
  add('imsmanifest.xml', Buffer.from(manifestXml({ edition: '2004 4th Edition', identifier, title: 'Banco SCORM', items })), true);
  for (const it of items) add(`${it.id}/index.html`, Buffer.from(scoHtml(it.title, '2004')), true);
  // Text assets (pages, scripts, styles, transcripts) compress well; a package has thousands.
  for (let i = 0; i < 2000; i++)
    add(
      `shared/text/${i}.${['html', 'js', 'css', 'txt'][i % 4]}`,
      Buffer.from(`/* recurso ${i} */\n${'contenido del curso '.repeat(200)}`),
      true,
    );
  // Media do not compress: video stored, images/audio deflated anyway (authoring tools do both).
  const half = (mb * MB) / 2;
  for (let i = 0, n = 0; n < half; i++, n += 2 * MB) add(`media/video/${i}.mp4`, randomBytes(2 * MB), false);
  for (let i = 0, n = 0; n < half; i++, n += 200 * 1024) add(`media/img/${i}.jpg`, randomBytes(200 * 1024), true);
  zip.end();
  const file = path.join(dir, `${identifier}.zip`);
  await pipeline(zip.outputStream, createWriteStream(file));
  return { file, entries, courseId: `urn:scorm:${identifier}` };
}

/** The admin's upload form, as the browser sends it (multipart, the file streamed from disk). */
async function upload(base: string, cookie: string, file: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const csrf = csrfOf(await (await fetch(`${base}/catalog/admin/courses`, { headers: { cookie } })).text());
  const form = new FormData();
  form.set('_csrf', csrf);
  form.set('package', await openAsBlob(file, { type: 'application/zip' }), path.basename(file));
  const res = await fetch(`${base}/catalog/admin/courses`, { method: 'POST', headers: { cookie, accept: 'application/json' }, body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The CMI data scorm-again sends on commit n (sendFullCommit, JSON): all of it, growing. */
function cmiAt(n: number, last: boolean): Record<string, unknown> {
  return {
    completion_status: last ? 'completed' : 'incomplete',
    success_status: last ? 'passed' : 'unknown',
    exit: last ? 'normal' : '',
    location: `page-${n}`,
    progress_measure: String(Math.min(1, n / COMMITS)),
    score: last ? { scaled: '0.9', raw: '90', min: '0', max: '100' } : {},
    session_time: `PT${n * 30}S`,
    suspend_data: JSON.stringify({ page: n, answers: Array.from({ length: n }, (_, i) => `respuesta ${i}: ${'x'.repeat(40)}`) }),
    interactions: Array.from({ length: Math.floor(n / 2) }, (_, i) => ({
      id: `q${i + 1}`,
      type: 'choice',
      learner_response: String.fromCharCode(97 + (i % 4)),
      result: i % 3 ? 'correct' : 'incorrect',
    })),
  };
}

async function main() {
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}, load average ${load()} (1 / 5 / 15 min)`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'scorm-bench-'));
  const engine = await startEngine(path.join(dataDir, 'data'), 'test', (m) => console.error(m));
  const env = {
    DATA_DIR: path.join(dataDir, 'data'),
    MONGODB_URI: engine.uri,
    DB_NAME: 'bench_scorm',
    LOG_LEVEL: 'warn',
    SESSION_SECRET: 'bench-secret-0123456789',
    LOGIN_RATE_LIMIT: '100000',
    NODE_ENV: 'production',
    CONTENT_LIBRARY: 'off',
    CATALOG_MAX_PACKAGE_MB: String(Math.max(500, PACKAGE_MB * 2)),
    BASE_URL: `http://127.0.0.1:${PORT}`,
  };
  const config = loadConfig(env);
  const database = await openDatabase(config, 'test', () => {});
  const lms = await createLmsApp({ config, database, mode: 'test' });
  let server: ChildProcess | undefined;
  try {
    console.log('generating the packages…');
    const users = lms.services.get('accounts.users');
    await users.create({ email: 'admin@bench.example.gov', name: 'Admin', role: 'admin', password: PASSWORD });
    const learners: Array<{ id: string; email: string }> = [];
    for (let i = 0; i < LEARNERS; i++)
      learners.push(
        await users.create({ email: `l${i}@bench.example.gov`, name: `Servidora ${i}`, tier: 'all', level: 'local', password: PASSWORD }),
      );
    await lms.events.worker.stop(); // only the server process delivers

    // 1. Import through the upload form: a small package, then the large one, each on a fresh server process.
    const small = await buildPackage(dataDir, Math.max(2, Math.round(PACKAGE_MB / 20)), `${IDENTIFIER}-small`);
    const big = await buildPackage(dataDir, PACKAGE_MB, IDENTIFIER);
    const courses = lms.services.get('catalog.courses');
    const base = `http://127.0.0.1:${PORT}`;
    const importOnce = async (pkg: Package) => {
      server = await startServer(PORT, env);
      const pid = server.pid!;
      const { file, entries } = pkg;
      const zipMb = statSync(file).size / MB;
      const rawBytes = [...entries.values()].reduce((s, n) => s + n, 0);
      const rawMb = rawBytes / MB;
      const adminCookie = await signIn(base, 'admin@bench.example.gov');
      const before = procStatus(pid, 'VmRSS');
      const hwmBefore = procStatus(pid, 'VmHWM');
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, procStatus(pid, 'VmRSS'))), 10);
      const cpu0 = cpuSeconds(pid);
      const t0 = performance.now();
      const first = await upload(base, adminCookie, file);
      const importMs = performance.now() - t0;
      clearInterval(sampler);
      const importCpu = cpuSeconds(pid) - cpu0;
      peak = Math.max(peak, procStatus(pid, 'VmRSS'));
      const hwm = procStatus(pid, 'VmHWM');
      if (first.status !== 201) throw new Error(`upload: ${first.status} ${JSON.stringify(first.body)}`);
      const versions = await courses.listVersions(pkg.courseId);
      const stored = await lms.db
        .collection<{ _id: string; length: number }>('catalog_packages.files')
        .find({ _id: { $regex: `^${versions[0].packageId}/` } }, { projection: { length: 1 } })
        .toArray();
      const storedBytes = stored.reduce((s, f) => s + f.length, 0);
      const allFiles = await lms.db.collection('catalog_packages.files').countDocuments();
      const second = await upload(base, adminCookie, file);
      const allFilesAfter = await lms.db.collection('catalog_packages.files').countDocuments();
      const versionsAfter = (await courses.listVersions(pkg.courseId)).length;
      const once =
        versions.length === 1 &&
        stored.length === entries.size &&
        storedBytes === rawBytes &&
        second.status === 200 &&
        second.body.alreadyInstalled === true &&
        allFilesAfter === allFiles &&
        versionsAfter === 1;
      console.log(
        `\n1. SCORM 2004 import through the upload form, fresh server process: ${zipMb.toFixed(1)} MB zip, ${entries.size} entries (${rawMb.toFixed(1)} MB uncompressed), ${SCOS} SCOs`,
      );
      console.log(
        `   time ${(importMs / 1000).toFixed(2)} s (${(zipMb / (importMs / 1000)).toFixed(1)} MB/s), server CPU ${importCpu.toFixed(1)} s`,
      );
      console.log(
        `   server RSS before ${before.toFixed(0)} MB, peak ${peak.toFixed(0)} MB (growth ${(peak - before).toFixed(0)} MB = ${((peak - before) / zipMb).toFixed(2)} × the zip), high-water mark ${hwmBefore.toFixed(0)} → ${hwm.toFixed(0)} MB`,
      );
      console.log(
        `   stored once: ${once ? 'yes' : 'NO'} — ${versions.length} version, ${stored.length} files / ${entries.size} entries, ${(storedBytes / MB).toFixed(1)} MB / ${rawMb.toFixed(1)} MB; second upload ${second.status} alreadyInstalled=${String(second.body.alreadyInstalled)}, files ${allFiles} → ${allFilesAfter}`,
      );
      console.log(`   load average ${load()}`);
      return { importMs, growthMb: peak - before, zipMb };
    };
    const s1 = await importOnce(small);
    await stopServer(server);
    const s2 = await importOnce(big);
    console.log(
      `\n   growth ${s1.growthMb.toFixed(0)} MB at ${s1.zipMb.toFixed(0)} MB, ${s2.growthMb.toFixed(0)} MB at ${s2.zipMb.toFixed(0)} MB: ratio ${(s2.growthMb / s1.growthMb).toFixed(2)} for ${(s2.zipMb / s1.zipMb).toFixed(0)} × the size (streamed: ≈ 1)`,
    );
    console.log(
      `   vs cmi5 100 MB media import (README, ${CMI5_100MB.seconds} s, +${CMI5_100MB.growthMb} MB): time ratio ${(s2.importMs / 1000 / CMI5_100MB.seconds).toFixed(2)}, growth ratio ${(s2.growthMb / CMI5_100MB.growthMb).toFixed(2)}`,
    );
    const pid = server!.pid!;
    const course = big.courseId;

    // 2. Learners' sessions.
    await courses.setPublished(course, true);
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [course] });
    const cookies = await Promise.all(learners.map((u) => signIn(base, u.email)));
    for (const cookie of cookies) await fetch(`${base}/catalog/my-path`, { headers: { cookie } }).then((r) => r.text());
    const sessions: Array<{ key: string; commitUrl: string }> = [];
    for (const [i, cookie] of cookies.entries()) {
      const url = new URL(await launch(base, cookie, course, `${course}/item_sco${(i % SCOS) + 1}`), base);
      // The SCO page (with the API scripts injected), then the player's one-time start request.
      const page = await fetch(url);
      if (page.status !== 200 || !(await page.text()).includes('/catalog/scorm/player.js')) throw new Error(`SCO page: ${page.status}`);
      const res = await fetch(`${base}/catalog/scorm/start/${url.searchParams.get('lms-scorm')}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '',
      });
      if (res.status !== 200) throw new Error(`start: ${res.status} ${await res.text()}`);
      sessions.push((await res.json()) as { key: string; commitUrl: string });
    }
    const commitMs: number[] = [];
    const terminateMs: number[] = [];
    const send = async (s: { key: string; commitUrl: string }, seq: number, event: string, cmi?: unknown) => {
      const t = performance.now();
      const res = await fetch(s.commitUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ key: s.key, seq, event, at: new Date().toISOString(), ...(cmi ? { cmi } : {}) }),
      });
      const body = (await res.json()) as { applied?: boolean };
      if (res.status !== 200 || body.applied !== true) throw new Error(`${event} ${seq}: ${res.status} ${JSON.stringify(body)}`);
      return performance.now() - t;
    };
    const loadBefore = load();
    const cpu1 = cpuSeconds(pid);
    const t1 = performance.now();
    await Promise.all(
      sessions.map(async (s) => {
        await send(s, 1, 'initialize');
        for (let n = 1; n <= COMMITS; n++) commitMs.push(await send(s, n + 1, 'commit', cmiAt(n, false)));
        terminateMs.push(await send(s, COMMITS + 2, 'terminate', cmiAt(COMMITS, true)));
      }),
    );
    const runS = (performance.now() - t1) / 1000;
    const runCpu = cpuSeconds(pid) - cpu1;
    const requests = sessions.length * (COMMITS + 2);
    // Each learner's SCO passed (the session's last commit), read from the progress documents.
    const progressDocs = await lms.db
      .collection<{ registration: string; aus: Array<{ passed: boolean; completed: boolean }> }>('catalog_progress')
      .find({ _id: { $in: learners.map((u) => `${u.id}:${course}`) } as never })
      .toArray();
    const passedScos = progressDocs.filter((p) => p.aus.some((a) => a.passed && a.completed)).length;
    // What the commits stored (the SCORM profile's statements and the LMS's satisfied ones): each commit's in one LRS write.
    const statementsStored = await lms.db
      .collection('lrs_statements')
      .countDocuments({ reg: { $in: progressDocs.map((p) => p.registration.toLowerCase()) } });
    const p95 = pct(commitMs, 95);
    console.log(
      `\n2. ${LEARNERS} learners at once, each: start, initialize, ${COMMITS} commits, terminate (closed loop, one at a time each)`,
    );
    console.log(
      `   commit p50 ${pct(commitMs, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (max ${Math.max(...commitMs).toFixed(1)}); terminate p50 ${pct(terminateMs, 50).toFixed(1)} / p95 ${pct(terminateMs, 95).toFixed(1)} ms`,
    );
    console.log(
      `   ${(commitMs.length / runS).toFixed(1)} commits/s (${(requests / runS).toFixed(1)} requests/s incl. initialize/terminate), server CPU ${((runCpu / requests) * 1000).toFixed(1)} ms a request`,
    );
    console.log(`   p95 vs the AU POST goal (${COMMIT_P95_GOAL_MS} ms): ratio ${(p95 / COMMIT_P95_GOAL_MS).toFixed(2)}`);
    console.log(
      `   SCOs completed and passed afterwards (progress): ${passedScos} / ${LEARNERS}; ${statementsStored} statements stored (${(statementsStored / requests).toFixed(1)} a request; each commit's in one LRS write)`,
    );
    console.log(`   load average before ${loadBefore}, after ${load()}`);
  } finally {
    await stopServer(server);
    await lms.close();
    await database.close();
    await engine.stop?.();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
