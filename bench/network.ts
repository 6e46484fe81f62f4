/**
 * `npm run bench:network`: the regional network's costs on the embedded database (or
 * MONGODB_URI), in one process:
 *   - the signed course feed for N published courses (BENCH_FEED_COURSES, default 200,1000,5000):
 *     build + sign time, size, and a subscriber's verify + schema check;
 *   - the federated catalogue of 20 peers × 200 courses: the first search (index load) and p50/p95
 *     of 500 searches (words, language, tier);
 *   - indicator sets: one country's set (60 months × 3 levels × 5 tiers × decision-makers, with
 *     small groups) tabulated, suppressed and signed; then a hub with N countries
 *     (BENCH_COUNTRIES, default 10,33): the comparison page's data and the SDMX-CSV export.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../server/core/config';
import { openDatabase } from '../server/core/db/connect';
import type { IndicatorCell, IndicatorSource } from '../server/core/contracts/indicators';
import { FederatedCatalog } from '../server/plugins/network/federated';
import { buildIndicators } from '../server/plugins/network/indicators';
import { networkModels, type Published, type RemoteCourse } from '../server/plugins/network/network.model';
import { Writable } from 'node:stream';
import { writeCsv } from '../server/core/csv';
import { Observatory, type ExportSet } from '../server/plugins/network/observatory';
import { exportSets, pageCountries, removeIndicatorSet, storeIndicatorSet } from '../server/plugins/network/summaries';
import { Feed } from '../server/plugins/network/peers';
import { FEED_TYPE, Publisher } from '../server/plugins/network/publisher';
import { loadSigningKey, verify } from '../server/plugins/network/signing';

const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
const FEED_SIZES = list(process.env.BENCH_FEED_COURSES, [200, 1000, 5000]);
const COUNTRY_COUNTS = list(process.env.BENCH_COUNTRIES, [10, 33]);
const LEVELS = ['national', 'regional', 'local'];
const TIERS = ['all', 'technical', 'manager', 'decision-maker', 'ict-specialist'];
const WORDS = ['gobierno', 'digital', 'datos', 'abiertos', 'firma', 'seguridad', 'interoperabilidad', 'ciudadanía', 'proyectos', 'riesgo'];

let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pickOf = <T>(a: T[]) => a[Math.floor(rand() * a.length)];
const ms = (t: number) => performance.now() - t;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function course(i: number, prefix: string): Omit<Published, '_id'> {
  const words = Array.from({ length: 4 }, () => pickOf(WORDS)).join(' ');
  const sha = randomBytes(32).toString('hex');
  return {
    id: `https://${prefix}.example/courses/c${i}`,
    version: 1 + (i % 3),
    title: { es: `Curso ${i}: ${words}`, pt: `Curso ${i}` },
    description: { es: `Descripción del curso ${i} sobre ${words}.` },
    languages: rand() < 0.5 ? ['es', 'pt'] : ['es'],
    tiers: [pickOf(TIERS)],
    levels: LEVELS,
    topics: ['e-government'],
    hours: 1 + (i % 8),
    license: rand() < 0.8 ? 'CC BY 4.0' : 'CC BY-SA 4.0',
    sha256: sha,
    size: 100_000 + i,
    package: `packages/${sha}.zip`,
    publishedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** A country's roster counts: every cell, some of them small groups. */
function source(months: string[]): IndicatorSource {
  return {
    async table() {
      const cells: IndicatorCell[] = [];
      for (const level of LEVELS)
        for (const tier of TIERS)
          for (const decisionMaker of [false, true]) {
            const servants = rand() < 0.1 ? 1 + Math.floor(rand() * 4) : 20 + Math.floor(rand() * 5000);
            let t = 0;
            const trained = Object.fromEntries(months.map((m) => [m, (t = Math.min(servants, t + Math.floor(rand() * servants * 0.03)))]));
            cells.push({ level, tier, decisionMaker, servants, trained, baselineTrained: Math.floor(servants * 0.1) });
          }
      return { rule: { minHours: 0, validityYears: 0 }, baselineDate: '2025-01-01', cells };
    },
  };
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-network-'));
  const config = loadConfig({
    ...(process.env.MONGODB_URI ? { MONGODB_URI: process.env.MONGODB_URI } : {}),
    DATA_DIR: work,
    DB_NAME: `bench_network_${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'silent',
  });
  const db = await openDatabase(config, 'cli', (m) => console.log(m));
  try {
    console.log(
      `network benchmark — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${process.env.MONGODB_URI ? 'MongoDB (MONGODB_URI)' : 'embedded FerretDB 1.24 on SQLite'}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const m = networkModels(db.connection);
    await Promise.all([m.published.init(), m.remote.init(), m.indicators.init(), m.summaries.init(), m.summaryRows.init(), m.state.init()]);
    const key = await loadSigningKey(work);
    const identity = { publisher: 'Escuela de Gobierno', country: 'PER', origin: 'https://a.example' };
    const publisher = new Publisher(m, () => undefined as never, key, identity, path.join(work, 'tmp'));

    console.log(
      `\nsigned course feed\n${'courses'.padStart(8)} ${'build+sign ms'.padStart(14)} ${'size KB'.padStart(9)} ${'KB/course'.padStart(10)} ${'verify+check ms'.padStart(16)}`,
    );
    let have = 0;
    for (const n of FEED_SIZES) {
      const docs = Array.from({ length: n - have }, (_, i) => ({
        _id: `https://a.example/courses/c${have + i}`,
        ...course(have + i, 'a'),
      }));
      for (let i = 0; i < docs.length; i += 1000) await m.published.insertMany(docs.slice(i, i + 1000));
      have = n;
      const runs: number[] = [];
      let jws: unknown;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        jws = await publisher.feed();
        runs.push(ms(t));
      }
      const size = JSON.stringify(jws).length / 1024;
      const t = performance.now();
      const parsed = Feed.parse(await verify(jws, key.publicJwk, FEED_TYPE, 'the feed'));
      const check = ms(t);
      if (parsed.courses.length !== n) throw new Error('feed lost courses');
      console.log(
        `${String(n).padStart(8)} ${Math.min(...runs)
          .toFixed(0)
          .padStart(14)} ${size.toFixed(0).padStart(9)} ${(size / n).toFixed(2).padStart(10)} ${check.toFixed(0).padStart(16)}`,
      );
    }

    const PEERS = 20;
    const PER_PEER = 200;
    const remote: RemoteCourse[] = [];
    for (let p = 0; p < PEERS; p++)
      for (let i = 0; i < PER_PEER; i++) {
        const c = course(i, `peer${p}`);
        remote.push({
          ...c,
          _id: `https://peer${p}.example|${c.id}`,
          peer: `https://peer${p}.example`,
          publisher: `Peer ${p}`,
          origin: `https://peer${p}.example`,
          packageUrl: `https://peer${p}.example/network/${c.package}`,
        });
      }
    for (let i = 0; i < remote.length; i += 1000) await m.remote.insertMany(remote.slice(i, i + 1000));
    await m.state.updateOne({ _id: 'remote' }, { $inc: { gen: 1 } }, { upsert: true });
    const federated = new FederatedCatalog(m);
    let t = performance.now();
    await federated.search({ q: 'gobierno' });
    const first = ms(t);
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < 500; i++) {
      t = performance.now();
      const r = await federated.search({
        q: rand() < 0.8 ? `${pickOf(WORDS)}${rand() < 0.3 ? ` ${pickOf(WORDS)}` : ''}` : '',
        lang: rand() < 0.3 ? 'pt' : '',
        tier: rand() < 0.3 ? pickOf(TIERS) : '',
      });
      times.push(ms(t));
      hits += r.total;
    }
    console.log(
      `\nfederated catalogue, ${PEERS} peers × ${PER_PEER} courses: first search (index load) ${first.toFixed(0)} ms; 500 searches p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms (${(hits / 500).toFixed(0)} hits on average)`,
    );

    const months = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2022, i, 1)).toISOString().slice(0, 7));
    const now = new Date(Date.UTC(2026, 11, 15));
    const builds: number[] = [];
    const sets = [];
    for (let c = 0; c < Math.max(...COUNTRY_COUNTS); c++) {
      const country = `C${String.fromCharCode(65 + Math.floor(c / 26))}${String.fromCharCode(65 + (c % 26))}`;
      t = performance.now();
      const { payload, jws } = await buildIndicators(
        source(months),
        { ...identity, country, origin: `https://${country.toLowerCase()}.example` },
        key,
        { k: 5, months: 60 },
        now,
      );
      builds.push(ms(t));
      sets.push({
        _id: `https://${country.toLowerCase()}.example`,
        country,
        publisher: `Programa ${country}`,
        generatedAt: now,
        jws,
        payload,
        verifiedAt: now,
      });
    }
    const rows = (sets[0].payload as { rows: unknown[] }).rows.length;
    const hidden = sets.reduce((s, x) => s + x.payload.rows.filter((r) => r.suppressed).length, 0) / sets.length;
    console.log(
      `\nindicator set (60 months, ${rows} rows of level × tier × decision-makers with totals): tabulate + suppress + sign p50 ${pct(builds, 50).toFixed(0)} ms, max ${Math.max(...builds).toFixed(0)} ms; ${hidden.toFixed(1)} rows suppressed on average`,
    );
    console.log(
      `\nhub\n${'countries'.padStart(10)} ${'store ms/set'.padStart(13)} ${'whole sets ms'.padStart(14)} ${'comparison page data ms'.padStart(24)} ${'SDMX-CSV ms'.padStart(12)} ${'lines'.padStart(9)} ${'MB'.padStart(6)}`,
    );
    const observatory = new Observatory(m);
    const sdmxNotes: string[] = [];
    for (const n of COUNTRY_COUNTS) {
      for (const s of await m.indicators.find({}, { _id: 1 }).lean<Array<{ _id: string }>>()) await removeIndicatorSet(m, s._id);
      t = performance.now();
      for (const s of sets.slice(0, n)) await storeIndicatorSet(m, s as never);
      const store = ms(t) / n;
      const sel = { level: 'national', tier: '_T', dm: '_T' };
      t = performance.now();
      const whole = await observatory.countries();
      Observatory.options(whole);
      Observatory.region(Observatory.compare(whole, sel));
      Observatory.trend(whole, sel);
      const wholePage = ms(t);
      const same =
        JSON.stringify(Observatory.compare(await pageCountries(m, sel), sel)) === JSON.stringify(Observatory.compare(whole, sel));
      if (!same) throw new Error('the summaries do not give the comparison the whole sets give');
      const pages: number[] = [];
      for (let r = 0; r < 5; r++) {
        t = performance.now();
        const countries = await pageCountries(m, sel);
        Observatory.summaryOptions(countries);
        Observatory.region(Observatory.compare(countries, sel));
        Observatory.trend(countries, sel);
        pages.push(ms(t));
      }
      const page = pct(pages, 50);
      // The SDMX-CSV export as the route writes it (writeCsv into a stream that counts), from the
      // whole signed sets as before and streamed from the stored rows as now: total time, time
      // to the first line, and the largest heap seen while it ran.
      const sdmx = async (sets: () => Promise<ExportSet[]>) => {
        let lines = 0;
        let bytes = 0;
        let first = 0;
        let heap = 0;
        const start = performance.now();
        const heap0 = process.memoryUsage().heapUsed;
        let writes = 0;
        const sink = new Writable({
          write(chunk: Buffer, _enc, done) {
            if (!first) first = performance.now() - start;
            bytes += chunk.length;
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
            // memoryUsage() is a system call: sampled, not at every chunk.
            if (++writes % 2000 === 0) heap = Math.max(heap, process.memoryUsage().heapUsed - heap0);
            done();
          },
        });
        await writeCsv({ columns: Observatory.sdmxColumns, rows: Observatory.sdmxRows(await sets()) }, sink);
        return { ms: performance.now() - start, first, lines, bytes, heap: Math.max(heap, process.memoryUsage().heapUsed - heap0) };
      };
      const before = await sdmx(async () => (await observatory.countries()).map((c) => Observatory.exportSet(c)));
      const after = await sdmx(() => exportSets(m));
      if (before.lines !== after.lines || before.bytes !== after.bytes)
        throw new Error(`the streamed SDMX export differs: ${after.lines} lines / ${after.bytes} B, was ${before.lines} / ${before.bytes}`);
      const lines = after.lines;
      const bytes = after.bytes;
      const sdmxLine = (r: typeof after) =>
        `${r.ms.toFixed(0)} ms (first line ${r.first.toFixed(0)} ms, heap +${(r.heap / 1024 / 1024).toFixed(0)} MB)`;
      sdmxNotes.push(`${n} countries: whole sets ${sdmxLine(before)}; streamed ${sdmxLine(after)}`);
      const sdmxMs = after.ms;
      console.log(
        `${String(n).padStart(10)} ${store.toFixed(0).padStart(13)} ${wholePage.toFixed(0).padStart(14)} ${page.toFixed(0).padStart(24)} ${sdmxMs.toFixed(0).padStart(12)} ${String(lines).padStart(9)} ${(bytes / 1024 / 1024).toFixed(1).padStart(6)}`,
      );
    }
    console.log(
      '\n"store" = one verified set written with its summary and rows; "whole sets" = the page built from every signed set, as before summaries;\n"comparison page data" = what /network/observatory reads and builds now: the summaries and one row per country, table, region and trend (median of 5);',
    );
    console.log('"SDMX-CSV" = the export streamed from the stored rows through writeCsv into a counting stream (without the network):');
    for (const line of sdmxNotes) console.log(`  ${line}`);
  } finally {
    await db.connection.dropDatabase().catch(() => {});
    await db.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
