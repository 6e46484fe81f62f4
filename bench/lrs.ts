/**
 * `npm run bench:lrs`: LRS ingest and query figures on the embedded database (or MONGODB_URI).
 *  1. ingest: statements/s for POST batches of 100 cmi5-style statements from 8 concurrent
 *     clients, beside a raw driver insertMany of the same stored documents, and their ratio;
 *  2. query: p50/p95 of GET /statements?limit=BENCH_LIMIT (default 10): newest, by agent, by verb+activity
 *     and by registration over BENCH_STATEMENTS (default 100,000) statements, beside the driver's own
 *     find of the same filter, sort and limit plus the bodies' {_id: {$in}}, and their ratio;
 *  3. {_id: {$in: [100 ids]}} on the statements, through the driver.
 * Beside each latency, the CPU time per request of the embedded engine (from /proc) and of this
 * process (server + client), which the other jobs on the machine do not inflate as they do latency.
 * Runs on a throw-away DATA_DIR; prints the machine it ran on.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLmsApp } from '../server/app';
import { loadConfig } from '../server/core/config';
import { ActivitiesService } from '../server/plugins/lrs/activities.service';
import { activityModel } from '../server/plugins/lrs/activity.model';
import { StatementsService, type StatementQuery } from '../server/plugins/lrs/statements.service';

const TOTAL = Number(process.env.BENCH_STATEMENTS ?? 100_000);
const INGEST = Number(process.env.BENCH_INGEST ?? 20_000);
const CLIENTS = 8;
const BATCH = 100;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const LIMIT = Number(process.env.BENCH_LIMIT ?? 10);

const LEARNERS = 1000;
const COURSES = 20;
const AUS = 10;
const VERBS = ['launched', 'initialized', 'progressed', 'completed', 'passed', 'failed', 'terminated'];
const CMI5 = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
const HOME = 'https://lms.example.gob';

/** One registration per learner and course, as the LMS creates them on enrolment. */
const registrations = new Map<string, string>();
const registration = (l: number, c: number) => {
  const k = `${l}:${c}`;
  if (!registrations.has(k)) registrations.set(k, randomUUID());
  return registrations.get(k)!;
};

function cmi5Statement(i: number): Record<string, unknown> {
  const learner = (i * 7919) % LEARNERS;
  const course = (i * 31) % COURSES;
  const au = (i * 17) % AUS;
  const verb = VERBS[i % VERBS.length];
  const s: Record<string, unknown> = {
    id: randomUUID(),
    actor: { objectType: 'Agent', name: `Servidor ${learner}`, account: { homePage: HOME, name: `user-${learner}` } },
    verb: { id: `http://adlnet.gov/expapi/verbs/${verb}`, display: { 'en-US': verb } },
    object: {
      objectType: 'Activity',
      id: `${HOME}/courses/${course}/au/${au}`,
      definition: { name: { es: `Unidad ${au} del curso ${course}` }, type: 'http://adlnet.gov/expapi/activities/lesson' },
    },
    context: {
      registration: registration(learner, course),
      contextActivities: { grouping: [{ id: `${HOME}/courses/${course}` }], category: [{ id: CMI5 }] },
      extensions: { 'https://w3id.org/xapi/cmi5/context/extensions/sessionid': randomUUID() },
    },
    timestamp: new Date(Date.now() - (TOTAL - i) * 1000).toISOString(),
  };
  if (verb === 'passed' || verb === 'failed' || verb === 'completed' || verb === 'terminated') {
    s.result = {
      duration: `PT${(i % 3600) + 1}S`,
      ...(verb !== 'terminated' ? { score: { scaled: ((i % 100) + 1) / 100 }, success: verb !== 'failed', completion: true } : {}),
    };
  }
  return s;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (n: number) => `${n.toFixed(1)} ms`;
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

/** CPU milliseconds used so far by the embedded engine (Linux /proc; undefined elsewhere or on MONGODB_URI). */
function engineCpu(dataDir: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(path.join(dataDir, 'engine.json'), 'utf8')) as { pid: number };
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

/** Runs f n times; CPU ms per run of the engine and of this process. */
async function cpuPer(dataDir: string, n: number, f: (i: number) => Promise<void>): Promise<string> {
  const e0 = engineCpu(dataDir);
  const p0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await f(i);
  const p = process.cpuUsage(p0);
  const e1 = engineCpu(dataDir);
  const engine = e0 !== undefined && e1 !== undefined ? `engine ${((e1 - e0) / n).toFixed(1)} ms, ` : '';
  return `CPU per request: ${engine}node ${((p.user + p.system) / 1000 / n).toFixed(1)} ms`;
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lms-bench-lrs-'));
  // The LRS alone by default: other plugins' statement hooks (progress, certificates) are their cost.
  const config = loadConfig({
    PLUGINS: 'accounts,lrs',
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DB_NAME: 'bench_lrs',
    PORT: '0',
    BASE_URL: 'http://127.0.0.1',
  });
  const lms = await createLmsApp({ config, mode: 'server' });
  const server = lms.app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/xapi`;
  const { key, secret } = await lms.services.get('lrs.credentials').createClient({ name: 'bench', scopes: ['all'] });
  const headers = {
    Authorization: `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`,
    'X-Experience-API-Version': '2.0.0',
    'Content-Type': 'application/json',
  };
  const db = lms.db.db!;
  const statements = db.collection('lrs_statements');
  const bodies = db.collection<{ _id: string; raw: string }>('lrs_statement_bodies');

  console.log(
    `LRS benchmark on ${lms.database.engine === 'ferretdb' ? 'embedded FerretDB 1.24 (SQLite)' : 'MongoDB'}, plugins: ${lms.plugins.map((p) => p.manifest.name).join(', ')}`,
  );
  console.log(
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}\n`,
  );

  // 1. Ingest over HTTP: 8 clients, each posting its share of batches of 100.
  let next = 0;
  const httpCpu0 = engineCpu(dataDir);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < INGEST) {
        const start = next;
        next += BATCH;
        const batch = Array.from({ length: BATCH }, (_, j) => cmi5Statement(start + j));
        const res = await fetch(`${base}/statements`, { method: 'POST', headers, body: JSON.stringify(batch) });
        if (res.status !== 200) throw new Error(`POST failed: ${res.status} ${await res.text()}`);
      }
    }),
  );
  const httpRate = INGEST / ((performance.now() - t0) / 1000);
  const httpCpu1 = engineCpu(dataDir);

  // The engine's own limit: the same stored documents (under new ids) inserted by the driver into the
  // same collections (index fields, then bodies), with the same indexes, by 8 concurrent writers in
  // batches of 100. They stay, as statements.
  const docs = await statements.find({}).limit(INGEST).toArray();
  const texts = new Map((await bodies.find({}).toArray()).map((b) => [b._id, b.raw]));
  let k = 0;
  const driverCpu0 = engineCpu(dataDir);
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (k < docs.length) {
        const slice = docs.slice(k, k + BATCH).map((d) => ({ ...d, _id: randomUUID() as never }));
        k += BATCH;
        await bodies.insertMany(
          slice.map((d, j) => ({
            _id: d._id as unknown as string,
            raw: texts.get(docs[k - BATCH + j]._id as unknown as string)!.replace(/"id":"[0-9a-f-]{36}"/, `"id":"${d._id}"`),
          })),
          { ordered: false },
        );
        await statements.insertMany(slice, { ordered: false });
      }
    }),
  );
  const driverRate = docs.length / ((performance.now() - t1) / 1000);
  const driverCpu1 = engineCpu(dataDir);
  // The engine's CPU per statement, which the other jobs on the machine do not inflate as they do rates.
  const perStatement = (a?: number, b?: number, n = INGEST) =>
    a !== undefined && b !== undefined ? `, engine CPU ${((b - a) / n).toFixed(2)} ms a statement` : '';
  console.log(`1. ingest (POST /statements, batches of 100, 8 concurrent clients; load average ${loadavg()})`);
  console.log(`   LRS over HTTP:        ${httpRate.toFixed(0)} statements/s (${INGEST} statements${perStatement(httpCpu0, httpCpu1)})`);
  console.log(
    `   driver insertMany:    ${driverRate.toFixed(0)} statements/s (same stored documents${perStatement(driverCpu0, driverCpu1, docs.length)})`,
  );
  console.log(`   ratio LRS/driver:     ${(httpRate / driverRate).toFixed(2)}  (goal ≥ 0.5)\n`);

  // Load the rest through the same service (validation, hashing, extraction) without HTTP.
  const svc = new StatementsService(
    lms.db.model('LrsStatement') as never,
    lms.db.model('LrsStatementBody') as never,
    lms.db.model('LrsAttachment') as never,
    lms.hooks,
    new ActivitiesService(activityModel(lms.db)),
  );
  const system = {
    id: key,
    key,
    name: 'bench',
    scopes: ['all'],
    kind: 'client' as const,
    authority: { objectType: 'Agent', account: { homePage: HOME, name: key } },
  };
  for (let i = 2 * INGEST; i < TOTAL; i += 1000) {
    await svc.store(
      Array.from({ length: Math.min(1000, TOTAL - i) }, (_, j) => cmi5Statement(i + j)),
      { credential: system, family: '2.0' },
    );
    if ((i / 1000) % 20 === 0) process.stdout.write(`   loading ${i}/${TOTAL}\r`);
  }
  console.log(`   loaded ${await statements.estimatedDocumentCount()} statements\n`);

  // 2. Query shapes: the HTTP GET against the driver's find with the very same filter, sort and limit.
  const shapes: Array<{ name: string; index: string; pick: (i: number) => { params: string; q: StatementQuery } }> = [
    { name: 'newest', index: '{ voided: 1, stored: -1, _id: -1 }', pick: () => ({ params: '', q: { limit: LIMIT } }) },
    {
      name: 'agent',
      index: '{ agents: 1, voided: 1, stored: -1, _id: -1 }',
      pick: (i) => {
        const a = { account: { homePage: HOME, name: `user-${(i * 37) % LEARNERS}` } };
        return {
          params: `agent=${encodeURIComponent(JSON.stringify(a))}`,
          q: { agent: `account:${HOME}|user-${(i * 37) % LEARNERS}`, limit: LIMIT },
        };
      },
    },
    {
      name: 'verb+activity',
      index: '{ verb: 1, activity: 1, voided: 1, stored: -1, _id: -1 }',
      pick: (i) => {
        const verb = `http://adlnet.gov/expapi/verbs/${VERBS[i % VERBS.length]}`;
        const activity = `${HOME}/courses/${i % COURSES}/au/${i % AUS}`;
        return { params: `verb=${encodeURIComponent(verb)}&activity=${encodeURIComponent(activity)}`, q: { verb, activity, limit: LIMIT } };
      },
    },
    {
      name: 'registration',
      index: '{ reg: 1, voided: 1, stored: -1, _id: -1 }',
      pick: (i) => {
        const reg = [...registrations.values()][(i * 101) % registrations.size];
        return { params: `registration=${reg}`, q: { registration: reg, limit: LIMIT } };
      },
    },
  ];
  console.log(`2. query (GET /statements?limit=${LIMIT} over ${TOTAL} statements, ${SAMPLES} samples each)`);
  const only = process.env.BENCH_SHAPES?.split(',');
  for (const shape of shapes.filter((s) => !only || only.includes(s.name))) {
    const http: number[] = [];
    const driver: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const { params, q } = shape.pick(i);
      const a = performance.now();
      const res = await fetch(`${base}/statements?limit=${LIMIT}${params ? `&${params}` : ''}`, { headers });
      const body = (await res.json()) as { statements: unknown[] };
      if (res.status !== 200) throw new Error(`GET failed: ${res.status}`);
      http.push(performance.now() - a);
      const b = performance.now();
      const found = await statements
        .find(StatementsService.filter({ ...q, until: new Date() }), { projection: { stored: 1, att: 1 } })
        .sort(StatementsService.sort(q))
        .limit(LIMIT + 1)
        .toArray();
      const page = found.slice(0, LIMIT).map((d) => d._id as unknown as string);
      const texts = await bodies.find({ _id: { $in: page } }).toArray();
      driver.push(performance.now() - b);
      if (i === 0 && (texts.length !== body.statements.length || texts.length === 0)) throw new Error('driver and LRS disagree');
    }
    // CPU per request, apart from the latencies above (each way on its own, so they are not mixed).
    const httpCpu = await cpuPer(dataDir, SAMPLES, async (i) => {
      const { params } = shape.pick(i);
      await (await fetch(`${base}/statements?limit=${LIMIT}${params ? `&${params}` : ''}`, { headers })).json();
    });
    const driverCpu = await cpuPer(dataDir, SAMPLES, async (i) => {
      const { q } = shape.pick(i);
      const found = await statements
        .find(StatementsService.filter({ ...q, until: new Date() }), { projection: { stored: 1, att: 1 } })
        .sort(StatementsService.sort(q))
        .limit(LIMIT + 1)
        .toArray();
      await bodies.find({ _id: { $in: found.slice(0, LIMIT).map((d) => d._id as unknown as string) } }).toArray();
    });
    const [h50, h95, d50, d95] = [percentile(http, 50), percentile(http, 95), percentile(driver, 50), percentile(driver, 95)];
    console.log(
      `   ${shape.name.padEnd(14)} LRS p50 ${ms(h50)} p95 ${ms(h95)} | driver p50 ${ms(d50)} p95 ${ms(d95)} | ratio p50 ${(h50 / d50).toFixed(2)} p95 ${(h95 / d95).toFixed(2)} (goal p95 ≤ 50 ms at 100,000, ratio ≤ 1.5)`,
    );
    console.log(`   ${''.padEnd(14)} LRS ${httpCpu} | driver ${driverCpu}`);
    console.log(`   ${''.padEnd(14)} MongoDB index: ${shape.index}`);
  }

  // 3. The page's bodies are read by {_id: {$in}}: 100 random statement ids at a time.
  const ids = (await statements.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id as unknown as string);
  const lookups: number[] = [];
  const inCpu = await cpuPer(dataDir, SAMPLES, async () => {
    const some = Array.from({ length: 100 }, () => ids[Math.floor(Math.random() * ids.length)]);
    const a = performance.now();
    const got = await statements.find({ _id: { $in: some } } as never).toArray();
    lookups.push(performance.now() - a);
    if (got.length !== new Set(some).size) throw new Error('$in found the wrong documents');
  });
  console.log(
    `\n3. {_id: {$in: [100 ids]}} over ${ids.length} statements (driver): p50 ${ms(percentile(lookups, 50))} p95 ${ms(percentile(lookups, 95))} (goal ≤ 20 ms); ${inCpu}`,
  );
  console.log(`\nload average at the end: ${loadavg()}`);
  server.close();
  await lms.close();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
