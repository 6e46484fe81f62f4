/**
 * `npm run bench:events` — what follows a statement, off the request, and one vs two server
 * processes on one database (the embedded engine). Real server processes (`server/index.ts`),
 * learners signed in through the login form, AUs written as outsiders (plain fetch), and:
 *   1. an AU's `completed` that satisfies a course (and so issues a signed PDF certificate) sent by
 *      BENCH_LEARNERS learners at once to one process: the POST's latency (it answers once progress
 *      and the satisfied statement are recorded, not after the PDF) and the time from the POST to
 *      the certificate existing;
 *   2. LRS ingest (8 clients, batches of 10) for BENCH_SECONDS against one process, then spread
 *      over two;
 *   3. "my path" (BENCH_LEARNERS signed-in learners, autocannon) against one process, then two.
 * Prints figures, the two-to-one ratios and the machine's load average (before and after).
 *   BENCH_LEARNERS=20 BENCH_SECONDS=10 npm run bench:events
 * BENCH_ONLY=certificate runs part 1 alone (a quick look at the follow-up's latency).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createLmsApp } from '../server/app';
import { loadConfig } from '../server/core/config';
import { openDatabase } from '../server/core/db/connect';
import { startEngine } from '../server/core/db/engine';
import { ThirdPartyAu } from '../test/catalog/third-party-au';
import { launch, load, PASSWORD, pct, signIn, startServer, stopServer } from './http';

const LEARNERS = Number(process.env.BENCH_LEARNERS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PORTS = [Number(process.env.BENCH_PORT ?? 4300), Number(process.env.BENCH_PORT ?? 4300) + 1];
const COURSE = 'https://lms.example.gov/courses/bench-events';
const AU = `${COURSE}/au/1`;

/** 8 clients posting batches of 10 statements for SECONDS, spread over `bases`. */
async function ingest(bases: string[], auth: string): Promise<number> {
  let stored = 0;
  const end = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 8 }, async (_, c) => {
      for (let n = 0; Date.now() < end; n++) {
        const batch = Array.from({ length: 10 }, (_, i) => ({
          id: randomUUID(),
          actor: { mbox: `mailto:servidor${(c * 7 + i) % 500}@bench.example.gov` },
          verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
          object: {
            id: `https://lms.example.gov/activities/page-${(n + i) % 200}`,
            definition: { name: { es: `Página ${(n + i) % 200}` } },
          },
        }));
        const res = await fetch(`${bases[n % bases.length]}/xapi/statements`, {
          method: 'POST',
          headers: { Authorization: auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' },
          body: JSON.stringify(batch),
        });
        if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`);
        stored += batch.length;
      }
    }),
  );
  return stored / SECONDS;
}

async function myPath(bases: string[], cookies: string[]): Promise<number> {
  const runs = await Promise.all(
    bases.map((base, b) =>
      autocannon({
        url: `${base}/catalog/my-path`,
        connections: Math.max(1, Math.floor(cookies.length / bases.length)),
        duration: SECONDS,
        requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: cookies[b % cookies.length] } }) }],
      }),
    ),
  );
  for (const r of runs) if (r.non2xx) throw new Error(`my path: ${r.non2xx} answers not 2xx`);
  return runs.reduce((s, r) => s + r.requests.average, 0);
}

async function main() {
  console.log(`machine: ${os.cpus().length} cores, load average ${load()} (1 / 5 / 15 min)`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-events-'));
  const engine = await startEngine(dataDir, 'test', (m) => console.error(m));
  const env = {
    DATA_DIR: dataDir,
    MONGODB_URI: engine.uri,
    DB_NAME: 'bench_events',
    LOG_LEVEL: 'warn',
    SESSION_SECRET: 'bench-secret-0123456789',
    LOGIN_RATE_LIMIT: '100000',
    NODE_ENV: 'production',
    CONTENT_LIBRARY: 'off',
    BASE_URL: `http://127.0.0.1:${PORTS[0]}`,
  };
  const config = loadConfig(env);
  const database = await openDatabase(config, 'test', () => {});
  const lms = await createLmsApp({ config, database, mode: 'test' });
  const children: ChildProcess[] = [];
  try {
    const file = path.join(dataDir, 'cmi5.xml');
    writeFileSync(
      file,
      `<?xml version="1.0" encoding="utf-8"?><courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"><course id="${COURSE}"><title><langstring lang="es">Gobierno digital</langstring></title><description><langstring lang="es">Curso</langstring></description></course><au id="${AU}" moveOn="Completed"><title><langstring lang="es">Unidad 1</langstring></title><description><langstring lang="es">Unidad</langstring></description><url>https://au.example.gov/1.html</url></au></courseStructure>`,
    );
    const courses = lms.services.get('catalog.courses');
    const { courseId } = await courses.importPackage({ filePath: file, originalName: 'cmi5.xml' });
    await courses.setPublished(courseId, true);
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: [courseId] });
    const users = lms.services.get('accounts.users');
    const learners: Array<{ id: string; email: string }> = [];
    for (let i = 0; i < LEARNERS; i++)
      learners.push(
        await users.create({ email: `l${i}@bench.example.gov`, name: `Servidora ${i}`, tier: 'all', level: 'local', password: PASSWORD }),
      );
    const { key, secret } = await lms.services.get('lrs.credentials').createClient({ name: 'bench', scopes: ['all'] });
    const auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
    await lms.events.worker.stop(); // only the server processes deliver

    const bases = PORTS.map((p) => `http://127.0.0.1:${p}`);
    children.push(await startServer(PORTS[0], env));

    // 1. The statement that satisfies the course, every learner at once, one process.
    const cookies = await Promise.all(learners.map((u) => signIn(bases[0], u.email)));
    for (const cookie of cookies) await fetch(`${bases[0]}/catalog/my-path`, { headers: { cookie } }).then((r) => r.text());
    const aus = await Promise.all(cookies.map(async (c) => new ThirdPartyAu(await launch(bases[0], c, COURSE, AU)).start()));
    for (const au of aus) await au.send(au.statement('initialized'));
    const certificates = lms.db.collection('certificates_certificates');
    const postMs: number[] = [];
    const certMs: number[] = [];
    await Promise.all(
      aus.map(async (au, i) => {
        const t0 = performance.now();
        const r = await au.send(au.statement('completed', { completion: true, duration: 'PT10M' }));
        postMs.push(performance.now() - t0);
        if (r.status !== 204) throw new Error(`completed: ${r.status} ${r.text}`);
        while (!(await certificates.countDocuments({ userId: learners[i].id }))) await new Promise((ok) => setTimeout(ok, 10));
        certMs.push(performance.now() - t0);
      }),
    );
    console.log(`1. cmi5 "completed" that satisfies a course and issues a certificate, ${LEARNERS} learners at once, one process`);
    console.log(`   POST latency p50 ${pct(postMs, 50).toFixed(0)} ms, p95 ${pct(postMs, 95).toFixed(0)} ms (no PDF signing in it)`);
    console.log(`   POST → certificate exists: p50 ${pct(certMs, 50).toFixed(0)} ms, p95 ${pct(certMs, 95).toFixed(0)} ms\n`);

    // 2 and 3 with one process, then two.
    if (process.env.BENCH_ONLY === 'certificate') return;
    const ingestOne = await ingest([bases[0]], auth);
    const pathOne = await myPath([bases[0]], cookies);
    children.push(await startServer(PORTS[1], env));
    const ingestTwo = await ingest(bases, auth);
    const pathTwo = await myPath(bases, cookies);
    console.log(`2. LRS ingest (8 clients, batches of 10, ${SECONDS} s)`);
    console.log(
      `   one process ${ingestOne.toFixed(0)} statements/s, two ${ingestTwo.toFixed(0)}/s, ratio ${(ingestTwo / ingestOne).toFixed(2)}\n`,
    );
    console.log(`3. "my path", ${LEARNERS} connections, ${SECONDS} s`);
    console.log(`   one process ${pathOne.toFixed(0)} req/s, two ${pathTwo.toFixed(0)} req/s, ratio ${(pathTwo / pathOne).toFixed(2)}\n`);
    console.log(`load average after: ${load()}`);
  } finally {
    for (const c of children) await stopServer(c);
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
