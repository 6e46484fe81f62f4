/**
 * `npm run bench:catalog-my-path` — the learner's "my path" page with 30 required courses under
 * 20 concurrent signed-in users, on the embedded FerretDB. Seeds 30 courses (imported through the
 * real cmi5 importer) on the "all" path, signs 20 learners in through the login form, opens each
 * one's path once (auto-enrolment, not measured), then runs autocannon with 20 connections.
 * Prints server time (p50/p95/p99, measured around the app) and client latency and req/s.
 *   BENCH_SECONDS=15 BENCH_COURSES=30 BENCH_USERS=20 npm run bench:catalog-my-path
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { createLmsApp } from '../server/app';
import { loadConfig } from '../server/core/config';
import { openDatabase } from '../server/core/db/connect';
import { startEngine } from '../server/core/db/engine';
import { accountsPlugin } from '../server/plugins/accounts';
import { catalogPlugin } from '../server/plugins/catalog';
import { lrsPlugin } from '../server/plugins/lrs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const COURSES = Number(process.env.BENCH_COURSES ?? 30);
const USERS = Number(process.env.BENCH_USERS ?? 20);
const PASSWORD = 'correct horse battery staple';

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function courseXml(i: number): string {
  const id = `https://lms.example.gov/courses/bench-${i}`;
  const au = (n: number) =>
    `<au id="${id}/au/${n}" moveOn="Completed"><title><langstring lang="es">Unidad ${n}</langstring></title><description><langstring lang="es">Unidad</langstring></description><url>https://au.example.gov/${i}/${n}.html</url></au>`;
  return `<?xml version="1.0" encoding="utf-8"?><courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"><course id="${id}"><title><langstring lang="es">Curso de gobierno digital ${i + 1}</langstring><langstring lang="pt">Curso de governo digital ${i + 1}</langstring></title><description><langstring lang="es">Curso</langstring></description></course>${[1, 2, 3, 4].map(au).join('')}</courseStructure>`;
}

/** Signs in through the login form like a browser does; returns the session cookie. */
async function signIn(base: string, email: string): Promise<string> {
  const page = await fetch(`${base}/accounts/login`);
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  const res = await fetch(`${base}/accounts/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email, password: PASSWORD }),
  });
  if (res.status !== 303) throw new Error(`sign-in of ${email} failed: ${res.status}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

async function main() {
  // As in production: Express caches compiled templates only when NODE_ENV is production.
  process.env.NODE_ENV = 'production';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-my-path-'));
  const engine = await startEngine(dataDir, 'test', (m) => console.error(m));
  const config = loadConfig({
    DATA_DIR: dataDir,
    MONGODB_URI: engine.uri,
    DB_NAME: 'bench_my_path',
    LOG_LEVEL: 'warn',
    SESSION_SECRET: 'bench-secret-0123456789',
    LOGIN_RATE_LIMIT: '100000',
    NODE_ENV: 'production',
  });
  const database = await openDatabase(config, 'test', () => {});
  const lms = await createLmsApp({ config, database, plugins: [accountsPlugin, lrsPlugin, catalogPlugin], mode: 'test' });
  const serverMs: number[] = [];
  let measuring = false;
  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    if (measuring) res.on('finish', () => serverMs.push(performance.now() - t0));
    lms.app(req, res);
  });
  try {
    const courses = lms.services.get('catalog.courses');
    const ids: string[] = [];
    for (let i = 0; i < COURSES; i++) {
      const file = path.join(dataDir, `c${i}.xml`);
      writeFileSync(file, courseXml(i));
      const { courseId } = await courses.importPackage({ filePath: file, originalName: 'cmi5.xml' });
      await courses.setPublished(courseId, true);
      ids.push(courseId);
    }
    await lms.services.get('catalog.paths').setPath({ tier: 'all', courses: ids });

    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const users = lms.services.get('accounts.users');
    const cookies: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const email = `learner${i}@bench.example.gov`;
      await users.create({
        email,
        name: `Servidora ${i}`,
        role: 'learner',
        tier: 'technical',
        level: 'local',
        orgUnit: 'MUNI',
        password: PASSWORD,
      });
      const cookie = await signIn(base, email);
      // First visit enrols the learner in the 30 courses (writes; not measured).
      const first = await fetch(`${base}/catalog/my-path`, { headers: { cookie } });
      const html = await first.text();
      if (first.status !== 200 || !html.includes(`0 de ${COURSES} cursos requeridos cumplidos`))
        throw new Error(`my path of ${email}: ${first.status}`);
      cookies.push(cookie);
    }

    // One learner alone, request after request: the page's own cost, next to a core page for scale.
    const sequential = async (url: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        const r = await fetch(`${base}${url}`, { headers: { cookie: cookies[0] } });
        await r.text();
        ms.push(performance.now() - t0);
      }
      return pct(
        ms.sort((a, b) => a - b),
        50,
      );
    };
    const alone = await sequential('/catalog/my-path');
    const profile = await sequential('/accounts/profile');

    // Warm-up: JIT, template cache, connection pool.
    await autocannon({ url: `${base}/catalog/my-path`, connections: USERS, duration: 3, headers: { cookie: cookies[0] } });
    measuring = true;
    let next = 0;
    const result = await autocannon({
      url: `${base}/catalog/my-path`,
      connections: USERS,
      duration: SECONDS,
      // Each connection is one signed-in learner.
      setupClient: (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] }),
    });
    measuring = false;
    const sorted = [...serverMs].sort((a, b) => a - b);

    // The same 20 learners as people use a page: each asks for it about once a second.
    serverMs.length = 0;
    measuring = true;
    next = 0;
    const paced = await autocannon({
      url: `${base}/catalog/my-path`,
      connections: USERS,
      overallRate: USERS,
      duration: SECONDS,
      setupClient: (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] }),
    });
    measuring = false;
    const pacedSorted = [...serverMs].sort((a, b) => a - b);
    const non2xx = result.non2xx + result.errors + paced.non2xx + paced.errors;
    console.log(
      `catalog "my path" — ${COURSES} required courses per learner, ${USERS} concurrent signed-in learners, ${SECONDS}s, embedded FerretDB 1.24`,
    );
    const line = (ms: number[]) =>
      `p50 ${pct(ms, 50).toFixed(1)}  p95 ${pct(ms, 95).toFixed(1)}  p99 ${pct(ms, 99).toFixed(1)}  max ${ms[ms.length - 1].toFixed(1)}`;
    console.log(`one learner alone:   my path p50 ${alone.toFixed(1)} ms (the core's profile page: ${profile.toFixed(1)} ms)`);
    console.log(`saturated — 20 connections, each sends its next request as soon as the last is answered:`);
    console.log(`  requests ${result.requests.total}, throughput ${result.requests.average.toFixed(1)} req/s`);
    console.log(`  server time (ms):    ${line(sorted)}`);
    console.log(`  client latency (ms): p50 ${result.latency.p50}  p97.5 ${result.latency.p97_5}  p99 ${result.latency.p99}`);
    console.log(`paced — 20 learners, one page per learner per second (${paced.requests.total} requests):`);
    console.log(`  server time (ms):    ${line(pacedSorted)}`);
    console.log(`  client latency (ms): p50 ${paced.latency.p50}  p97.5 ${paced.latency.p97_5}  p99 ${paced.latency.p99}`);
    console.log(`errors / non-2xx:    ${non2xx}`);
    console.log(
      `goal p95 server time <= 50 ms: saturated ${pct(sorted, 95) <= 50 ? 'met' : 'NOT met'}, paced ${pct(pacedSorted, 95) <= 50 ? 'met' : 'NOT met'}`,
    );
    if (non2xx) process.exitCode = 1;
  } finally {
    // Requests autocannon abandoned at the end finish before the database closes.
    await new Promise((r) => setTimeout(r, 1000));
    await new Promise((r) => server.close(r));
    await lms.close();
    await database.close();
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
