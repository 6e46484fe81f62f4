/**
 * `npm run bench:reports` — the reports plugin at national scale on the embedded engine:
 *   data: BENCH_PEOPLE servants (default 100,000) in 500 institutions, ~10 progress documents each
 *   1. dashboard JSON p95 (sequential requests over HTTP, admin and institution scopes)
 *   2. roster import of a generated BENCH_IMPORT-row CSV (default 100,000): time and peak RSS
 *   3. time for a rule change (validity 2 years) to be fully recomputed (BENCH_RECOMPUTE=0 skips it)
 * Courses, paths and progress documents come from the reports tests' provider of the catalog contract
 * (test/reports/catalog-double.ts): the same `_id`-keyed progress documents in the same engine as the
 * catalog plugin's, without importing 40 cmi5 packages first.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createLmsApp } from '../server/app';
import { loadConfig, ROOT } from '../server/core/config';
import { accountsPlugin } from '../server/plugins/accounts';
import { reportsPlugin } from '../server/plugins/reports';
import { catalogDoublePlugin } from '../test/reports/catalog-double';
import type { CourseProgress } from '../server/core/contracts/catalog';
import { DEFAULT_TIERS } from '../server/core/taxonomy';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 100_000);
const IMPORT = Number(process.env.BENCH_IMPORT ?? 100_000);
const INSTITUTIONS = Number(process.env.BENCH_INSTITUTIONS ?? 500);
const COURSES_PER_PATH = 10;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const PORT = Number(process.env.BENCH_PORT ?? 3400);
/**
 * The import process's V8 heap cap (`node --max-old-space-size`, what README recommends for large
 * imports): the import needs under 100 MB of heap, but uncapped V8 lets garbage pile up to ~500 MB
 * of RSS on a machine with memory to spare. BENCH_IMPORT_HEAP_MB=0 runs it uncapped.
 */
const HEAP_MB = Number(process.env.BENCH_IMPORT_HEAP_MB ?? 192);
const HEAP = HEAP_MB ? [`--max-old-space-size=${HEAP_MB}`] : [];
/** Set BENCH_RECOMPUTE=0 to skip part 3 (it re-reads every progress document of everyone). */
const RECOMPUTE = process.env.BENCH_RECOMPUTE !== '0';

const log = (m: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'reports-bench-'));
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dataDir,
    DB_NAME: 'bench',
    LOG_LEVEL: 'warn',
    SESSION_SECRET: 'bench-session-secret-0123456789',
    PORT: String(PORT),
    BASE_URL: `http://127.0.0.1:${PORT}`,
    MONGODB_URI: process.env.BENCH_MONGODB_URI ?? '',
  });
  const lms = await createLmsApp({ config, plugins: [accountsPlugin, catalogDoublePlugin, reportsPlugin], mode: 'cli' });
  const r = lms.services.get('reports.internal');
  const cat = lms.services.get('catalog.double');
  const db = lms.db;
  try {
    log(`engine: ${lms.database.engine}; ${PEOPLE} servants, ${INSTITUTIONS} institutions, ${COURSES_PER_PATH} courses per path`);
    // Org: country → 3 levels → institutions → 4 units each.
    const levels = ['national', 'regional', 'local'];
    const units = [
      { code: 'BX', name: 'Bench country', parent: '', kind: 'country', level: '' },
      ...levels.map((l) => ({ code: `BX-${l}`, name: l, parent: 'BX', kind: 'level', level: l })),
    ];
    for (let i = 0; i < INSTITUTIONS; i++) {
      units.push({ code: `I${i}`, name: `Institution ${i}`, parent: `BX-${levels[i % 3]}`, kind: 'institution', level: '' });
      for (let u = 0; u < 4; u++) units.push({ code: `I${i}-U${u}`, name: `Unit ${u} of ${i}`, parent: `I${i}`, kind: 'unit', level: '' });
    }
    let t = Date.now();
    const org = await r.org.importUnits(units.map((input, i) => ({ row: i + 2, input: input as never })));
    if (org.errors.length) throw new Error(JSON.stringify(org.errors.slice(0, 3)));
    log(`org: ${org.units} units in ${Date.now() - t} ms`);

    for (const tier of DEFAULT_TIERS) {
      const ids = Array.from({ length: COURSES_PER_PATH }, (_, k) => `https://bench.example/${tier}/c${k}`);
      for (const id of ids) await cat.addCourse(id, 1);
      await cat.setPath(tier, ids);
    }
    await r.recompute.idle();

    // Servants and progress, generated straight into their collections (what imports and learning
    // would have produced), then one summaries-only rebuild.
    t = Date.now();
    const people = db.collection('reports_people');
    const now = Date.now();
    const YEAR = 365.25 * 86400_000;
    let progressCount = 0;
    let pBatch: Record<string, unknown>[] = [];
    let gBatch: CourseProgress[] = [];
    for (let i = 0; i < PEOPLE; i++) {
      const inst = i % INSTITUTIONS;
      const tier = DEFAULT_TIERS[i % DEFAULT_TIERS.length];
      const userId = `u${i}`;
      const trained = i % 20 < 17; // 85 %
      const satisfiedAt = new Date(now - (((i * 7919) % 1000) / 1000) * 3 * YEAR); // spread over 3 years
      const required = Array.from({ length: COURSES_PER_PATH }, (_, k) => `https://bench.example/${tier}/c${k}`);
      const done = trained ? required : required.slice(0, COURSES_PER_PATH - 1);
      for (const c of done) gBatch.push(cat.progressDoc(userId, c, satisfiedAt));
      pBatch.push({
        _id: `I${inst}:E${i}`,
        institution: `I${inst}`,
        employeeId: `E${i}`,
        name: `Servant ${i}`,
        email: `s${i}@bench.example`,
        unit: `I${inst}-U${i % 4}`,
        level: levels[inst % 3],
        tier,
        decisionMaker: tier === 'decision-maker',
        active: true,
        userId,
        rowHash: 'bench',
        trained,
        trainedAt: trained ? satisfiedAt : undefined,
        missing: trained ? [] : required.slice(COURSES_PER_PATH - 1),
        hoursShort: 0,
        importedAt: new Date(),
      });
      if (pBatch.length === 5000) {
        await people.insertMany(pBatch);
        await db.collection('reports_user_people').insertMany(pBatch.map((p) => ({ _id: p.userId as never, people: [p._id] })));
        pBatch = [];
      }
      if (gBatch.length >= 20000) {
        await cat.insertProgress(gBatch);
        progressCount += gBatch.length;
        gBatch = [];
      }
      if ((i + 1) % 20000 === 0) log(`  generated ${i + 1} servants, ${progressCount} progress documents`);
    }
    if (pBatch.length) {
      await people.insertMany(pBatch);
      await db.collection('reports_user_people').insertMany(pBatch.map((p) => ({ _id: p.userId as never, people: [p._id] })));
    }
    if (gBatch.length) await cat.insertProgress(gBatch);
    progressCount += gBatch.length;
    log(`data: ${PEOPLE} servants and ${progressCount} progress documents in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    t = Date.now();
    await r.recompute.request('bench data', false);
    await r.recompute.idle();
    log(`summaries rebuilt from ${PEOPLE} servants in ${((Date.now() - t) / 1000).toFixed(1)} s`);

    // 1. Dashboard JSON over HTTP.
    await lms.services
      .get('accounts.users')
      .create({ email: 'bench-admin@bench.example', name: 'Bench', role: 'admin', password: 'bench password 123' });
    const server = lms.app.listen(PORT, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const loginPage = await fetch(`${base}/accounts/login`);
    let cookie = (loginPage.headers.get('set-cookie') ?? '').split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1];
    const login = await fetch(`${base}/accounts/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email: 'bench-admin@bench.example', password: 'bench password 123' }),
    });
    cookie = (login.headers.get('set-cookie') ?? cookie).split(';')[0];
    const scopes = ['*', 'BX', 'BX-local', ...Array.from({ length: 20 }, (_, k) => `I${Math.floor((k * INSTITUTIONS) / 20)}`)];
    const times: number[] = [];
    let errors = 0;
    for (let i = 0; i < REQUESTS + 20; i++) {
      const s = scopes[i % scopes.length];
      const t0 = performance.now();
      let res = await fetch(`${base}/reports/api/dashboard?unit=${encodeURIComponent(s)}`, { headers: { cookie } });
      // The embedded engine sometimes answers a query with a malformed reply right after heavy
      // writes; such a request is counted as an error and retried, not hidden.
      for (let retry = 0; res.status >= 500 && retry < 3; retry++) {
        errors++;
        await new Promise((ok) => setTimeout(ok, 500));
        res = await fetch(`${base}/reports/api/dashboard?unit=${encodeURIComponent(s)}`, { headers: { cookie } });
      }
      const body = (await res.json()) as { total: number; trained: number };
      if (res.status !== 200) throw new Error(`dashboard ${res.status}: ${JSON.stringify(body)}`);
      if (i === 0) log(`  national: ${body.trained} / ${body.total} trained`);
      if (i >= 20) times.push(performance.now() - t0); // first 20 warm up
    }
    const nat = times.filter((_, i) => (i + 20) % scopes.length === 0);
    log(
      `1. dashboard JSON: ${times.length} requests, p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (national scope p95 ${pct(nat, 95).toFixed(1)} ms); ${errors} engine errors retried`,
    );
    server.close();

    // 2. Roster import of a generated file into a fresh institution.
    const csv = path.join(dataDir, 'roster.csv');
    const out = createWriteStream(csv);
    out.write('employee_id,name,email,unit,level,tier,position,decision_maker,active\n');
    for (let i = 0; i < IMPORT; i++) {
      const tier = DEFAULT_TIERS[i % DEFAULT_TIERS.length];
      if (
        !out.write(
          `N${i},Persona Número ${i},nuevo${i}@bench.example,I0-U${i % 4},,${tier},Analista,${tier === 'decision-maker' ? 'sí' : 'no'},sí\n`,
        )
      )
        await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    // The import runs as HR staff would run it on a server: the CLI in its own process (reusing this
    // engine), so its peak memory is the import's own, read from the kernel's high-water mark. A
    // one-row import first gives the same process's peak with everything loaded but no rows.
    const one = path.join(dataDir, 'one.csv');
    writeFileSync(
      one,
      `employee_id,name,email,unit,level,tier,position,decision_maker,active\nX1,Una Persona,x1@bench.example,I0-U1,,technical,,no,sí\n`,
    );
    const oneRow = await cliImport(dataDir, one);
    t = Date.now();
    const big = await cliImport(dataDir, csv);
    log(
      `2. roster import of ${IMPORT} rows (CLI, own process): ${((Date.now() - t) / 1000).toFixed(1)} s in all, preview + confirm ${big.seconds} s (preview ${big.preview} s; ${big.people} people, ${big.accounts} accounts); process peak RSS ${big.peakMb} MB (a one-row import: ${oneRow.peakMb} MB; heap cap ${HEAP_MB ? `${HEAP_MB} MB` : 'none'})`,
    );

    // 3. Rule change → background recompute of everyone.
    if (!RECOMPUTE) return;
    t = Date.now();
    await r.settings.setRule({ minHours: 0, validityYears: 2 }, 'bench');
    await r.recompute.request('bench rule change');
    await r.recompute.idle();
    const job = await r.recompute.status();
    log(
      `3. rule change recomputed: ${job?.done} people evaluated, ${job?.changed} changed, in ${((Date.now() - t) / 1000).toFixed(1)} s (${job?.status}; seconds per step: ${JSON.stringify(job?.seconds)})`,
    );
  } finally {
    await lms.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs `roster:import FILE --institution I0 --confirm` in a child process; its time and peak RSS. */
async function cliImport(dataDir: string, file: string) {
  const child = spawn(
    process.execPath,
    [...HEAP, '--import', 'tsx', 'server/cli.ts', 'roster:import', file, '--institution', 'I0', '--confirm'],
    {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir, DB_NAME: 'bench', LOG_LEVEL: 'error', MONGODB_URI: '', CONTENT_LIBRARY: 'off' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b));
  let peakKb = 0;
  const sampler = setInterval(() => {
    try {
      peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? peakKb);
    } catch {
      // the process has just exited: keep the last reading (the high-water mark only grows)
    }
  }, 100);
  const [code] = (await once(child, 'exit')) as [number];
  clearInterval(sampler);
  if (code !== 0) throw new Error(`roster:import exited with ${code}:\n${output}`);
  const m = /imported in ([\d.]+) s: (\d+) new.*?(\d+) accounts created/.exec(output);
  const preview = /preview in ([\d.]+) s/.exec(output)?.[1];
  return { seconds: m?.[1], preview, people: m?.[2], accounts: m?.[3], peakMb: Math.round(peakKb / 1024) };
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
