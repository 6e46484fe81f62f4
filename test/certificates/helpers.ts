import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LmsApp } from '../../server/app';
import type { CourseProgress, CourseSummary } from '../../server/core/contracts/catalog';
import { accountsPlugin } from '../../server/plugins/accounts';
import { catalogPlugin } from '../../server/plugins/catalog';
import { certificatesPlugin } from '../../server/plugins/certificates';
import { lrsPlugin } from '../../server/plugins/lrs';
import { testApp } from '../helpers';

export const run = promisify(execFile);

/** The certificates plugin with the real plugins it depends on, on a fresh database. */
export function certificatesApp(env: Record<string, string> = {}): Promise<LmsApp> {
  return testApp({ plugins: [accountsPlugin, lrsPlugin, catalogPlugin, certificatesPlugin], env });
}

export function course(overrides: Partial<CourseSummary> = {}): CourseSummary {
  return {
    id: `https://example.org/courses/${Math.random().toString(36).slice(2, 10)}`,
    version: 1,
    title: {
      es: 'Seguridad de la información en la administración pública',
      pt: 'Segurança da informação na administração pública',
      en: 'Information security in public administration',
    },
    hours: 12,
    tiers: ['all'],
    levels: ['local'],
    ...overrides,
  };
}

/** What the catalog emits when a learner's course becomes satisfied. */
export function satisfied(userId: string, c: CourseSummary, score?: number) {
  const now = new Date('2026-03-03T15:00:00Z');
  const progress: CourseProgress = {
    _id: `${userId}:${c.id}`,
    userId,
    courseId: c.id,
    courseVersion: c.version,
    registration: '6a0d2a8e-0d3b-4b8e-9a43-6a3f8f1a2b11',
    status: 'satisfied',
    satisfied: true,
    satisfiedAt: now,
    score,
    timeSpentSeconds: 3600,
    updatedAt: now,
  };
  return { userId, course: c, progress };
}

/** Runs `fn` with the PDF written to a temporary file (poppler tools read files). */
export async function withPdfFile<T>(pdf: Buffer, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cert-test-'));
  try {
    const file = path.join(dir, 'c.pdf');
    writeFileSync(file, pdf);
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** pdfsig's verdict on the first signature ("Signature is Valid.", "Digest Mismatch.", ...). */
export async function pdfsigVerdict(pdf: Buffer): Promise<string> {
  return withPdfFile(pdf, async (file) => {
    const out = await run('pdfsig', [file]).then(
      (r) => r.stdout,
      (e: { stdout?: string }) => e.stdout ?? '',
    );
    return /Signature Validation: (.+)/.exec(out)?.[1]?.trim() ?? `no signature found: ${out}`;
  });
}

export { binaryParser } from '../helpers';
