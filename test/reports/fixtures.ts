import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accountsPlugin } from '../../server/plugins/accounts';
import { reportsPlugin } from '../../server/plugins/reports';
import type { LmsApp } from '../../server/app';
import { testApp } from '../helpers';
import { catalogDoublePlugin } from './catalog-double';

/** An app with accounts, the catalog contract provider and reports, on a fresh database. */
export const reportsApp = (env: Record<string, string> = {}) =>
  testApp({ plugins: [accountsPlugin, catalogDoublePlugin, reportsPlugin], env });

export const reportsOf = (lms: LmsApp) => lms.services.get('reports.internal');

const dir = mkdtempSync(path.join(os.tmpdir(), 'reports-test-'));
let n = 0;
/** Writes a file for an import (the preview takes ownership of it). */
export function tmpFile(content: string | Buffer, ext = 'csv'): string {
  const f = path.join(dir, `f${n++}.${ext}`);
  writeFileSync(f, content);
  return f;
}

/** country → national level → INST-A (units A1, A2); country → local level → INST-B (units B1, B2). */
export async function seedOrg(lms: LmsApp): Promise<void> {
  const rows = [
    ['XC', 'República de Prueba', '', 'country', ''],
    ['XC-NAT', 'Gobierno nacional', 'XC', 'level', 'national'],
    ['XC-LOC', 'Gobiernos locales', 'XC', 'level', 'local'],
    ['INST-A', 'Ministerio A', 'XC-NAT', 'institution', ''],
    ['A1', 'Unidad A1', 'INST-A', 'unit', ''],
    ['A2', 'Unidad A2', 'INST-A', 'unit', ''],
    ['INST-B', 'Municipio B', 'XC-LOC', 'institution', ''],
    ['B1', 'Unidad B1', 'INST-B', 'unit', ''],
    ['B2', 'Unidad B2', 'INST-B', 'unit', ''],
  ];
  const r = await reportsOf(lms).org.importUnits(
    rows.map(([code, name, parent, kind, level], i) => ({ row: i + 2, input: { code, name, parent, kind: kind as never, level } })),
  );
  if (r.errors.length) throw new Error(JSON.stringify(r.errors));
}

export const HEADER = 'employee_id,name,email,unit,level,tier,position,decision_maker,active';

/** Preview + confirm through the service, failing loudly on row errors. */
export async function importRoster(lms: LmsApp, institution: string, csv: string, opts: { deactivateMissing?: boolean } = {}) {
  const r = reportsOf(lms);
  const imp = await r.roster.preview({
    file: tmpFile(csv),
    fileName: 'roster.csv',
    institution,
    userId: 'test',
    deactivateMissing: opts.deactivateMissing,
  });
  if (imp.errorCount) throw new Error(JSON.stringify(imp.problems.slice(0, 5)));
  return r.roster.confirm(imp._id, 'test');
}

/** Resolves to the error a promise rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}
