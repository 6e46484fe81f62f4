/**
 * `npm run bench:certificates` — issues N certificates (default 1,000) end to end: render the
 * PDF (pdfkit, embedded font subset, QR), sign it (CMS, RSA-2048), store it with its record
 * and claim in the embedded FerretDB, and record the xAPI statement in the LRS. Prints
 * certificates/second (one process; sequential and with a few issues in flight) and PDF sizes.
 *   BENCH_N=1000 BENCH_CONCURRENCY=8 npm run bench:certificates
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLmsApp } from '../server/app';
import { loadConfig } from '../server/core/config';
import { openDatabase } from '../server/core/db/connect';
import { startEngine } from '../server/core/db/engine';
import { accountsPlugin } from '../server/plugins/accounts';
import { catalogPlugin } from '../server/plugins/catalog';
import { certificatesPlugin } from '../server/plugins/certificates';
import { lrsPlugin } from '../server/plugins/lrs';
import { renderCertificatePdf } from '../server/plugins/certificates/pdf-render';
import { PdfSigner } from '../server/plugins/certificates/pdf-sign';
import { loadPdfSigningIdentity } from '../server/plugins/certificates/signing-keys';
import { loadTemplates } from '../server/plugins/certificates/templates';

const N = Number(process.env.BENCH_N ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const USERS = 100;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-cert-'));
  const engine = await startEngine(dataDir, 'test', (m) => console.error(m));
  const config = loadConfig({
    DATA_DIR: dataDir,
    MONGODB_URI: engine.uri,
    DB_NAME: 'bench_certificates',
    LOG_LEVEL: 'warn',
    SESSION_SECRET: 'bench-secret-0123456789',
    BASE_URL: 'https://lms.example.gov',
  });
  const database = await openDatabase(config, 'test', () => {});
  const lms = await createLmsApp({
    config,
    database,
    plugins: [accountsPlugin, lrsPlugin, catalogPlugin, certificatesPlugin],
    mode: 'test',
  });
  try {
    const users = lms.services.get('accounts.users');
    const svc = lms.services.get('certificates');
    const people: Array<{ id: string }> = [];
    const names = [
      'José Ñúñez da Conceição',
      'María Fernanda Gómez Peña',
      'João Antônio Simões',
      'Anaïs Désirée Lefèvre',
      'Christopher Williams-Brown',
    ];
    for (let i = 0; i < USERS; i++) {
      people.push(
        await users.create({
          email: `bench${i}@example.org`,
          name: `${names[i % names.length]} ${i}`,
          orgUnit: i % 2 ? 'DEMO-MUNI' : 'OTHER',
          language: (['es', 'pt', 'en'] as const)[i % 3],
        }),
      );
    }
    const events = Array.from({ length: N }, (_, i) => {
      const user = people[i % USERS];
      const courseNo = Math.floor(i / USERS);
      const course = {
        id: `https://lms.example.gov/courses/c${courseNo}`,
        version: 1,
        title: {
          es: `Gobierno digital y ciudadanía, módulo ${courseNo + 1}`,
          pt: `Governo digital e cidadania, módulo ${courseNo + 1}`,
          en: `Digital government and citizenship, module ${courseNo + 1}`,
        },
        hours: 8 + (courseNo % 5) * 2,
        tiers: ['all'],
        levels: ['local'],
      };
      const at = new Date(Date.UTC(2026, 2, 1 + (i % 28)));
      return {
        userId: user.id,
        course,
        progress: {
          _id: `${user.id}:${course.id}`,
          userId: user.id,
          courseId: course.id,
          courseVersion: 1,
          registration: '00000000-0000-4000-8000-000000000000',
          status: 'satisfied' as const,
          satisfied: true,
          satisfiedAt: at,
          score: 0.7 + (i % 30) / 100,
          timeSpentSeconds: 3600,
          updatedAt: at,
        },
      };
    });

    // Warm-up (JIT, font parsing caches, first inserts), not counted.
    await svc.issueForCourse({ ...events[0], course: { ...events[0].course, id: 'https://lms.example.gov/courses/warm-up' } });

    const half = Math.floor(N / 2);
    const t0 = performance.now();
    for (const e of events.slice(0, half)) await svc.issueForCourse(e);
    await lms.events.settled();
    const seqSeconds = (performance.now() - t0) / 1000;

    const t1 = performance.now();
    const rest = events.slice(half);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < rest.length) await svc.issueForCourse(rest[next++]);
      }),
    );
    await lms.events.settled(); // the "earned" statements (through the outbox) count too
    const parSeconds = (performance.now() - t1) / 1000;

    // The CPU part alone (render + sign, no database), to tell it apart from storage.
    const tpl = loadTemplates().get('DEMO-MUNI')!;
    const signer = new PdfSigner(loadPdfSigningIdentity(config), '');
    const M = Math.min(N, 300);
    const t2 = performance.now();
    for (let i = 0; i < M; i++) {
      const pdf = await renderCertificatePdf(tpl, {
        kind: 'course',
        language: 'es',
        learnerName: `José Ñúñez da Conceição ${i}`,
        title: 'Gobierno digital y ciudadanía',
        hours: 12,
        score: 91.5,
        completedAt: new Date(),
        institution: 'Municipalidad de Demostración',
        code: 'A'.repeat(32),
        verifyUrl: `https://lms.example.gov/verify/${'A'.repeat(32)}`,
      });
      await signer.sign(pdf, { reason: 'bench', contact: 'bench', signingTime: new Date() });
    }
    const cpuSeconds = (performance.now() - t2) / 1000;

    const docs = await lms.db
      .collection('certificates_certificates')
      .find({}, { projection: { pdfBytes: 1 } })
      .toArray();
    const sizes = docs.map((d) => d.pdfBytes as number).sort((a, b) => a - b);
    const issued = docs.length - 1;
    const total = seqSeconds + parSeconds;
    console.log(`certificates issued:          ${issued} (PDF + signature + storage + xAPI statement, embedded FerretDB)`);
    console.log(`sequential (${half}):             ${(half / seqSeconds).toFixed(1)} certificates/s`);
    console.log(`${CONCURRENCY} in flight (${rest.length}):          ${(rest.length / parSeconds).toFixed(1)} certificates/s`);
    console.log(`overall:                      ${(N / total).toFixed(1)} certificates/s (${total.toFixed(1)} s for ${N})`);
    console.log(
      `PDF + signature only (${M}):   ${(M / cpuSeconds).toFixed(1)} certificates/s (${((cpuSeconds * 1000) / M).toFixed(1)} ms each, no storage)`,
    );
    console.log(
      `PDF size median / p95 / max:  ${(percentile(sizes, 50) / 1024).toFixed(1)} KB / ${(percentile(sizes, 95) / 1024).toFixed(1)} KB / ${(sizes[sizes.length - 1] / 1024).toFixed(1)} KB`,
    );
    if (issued !== N) throw new Error(`expected ${N} certificates, found ${issued}`);
  } finally {
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
