import { copyFile, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { CliCommand, Runtime } from '../../core/plugin';
import { HttpError } from '../../core/errors';
import type { RowError } from './import.model';
import { readUnitsFile } from './admin.handlers';

const reportsOf = (rt: Runtime) => rt.services.get('reports.internal');

function printErrors(errors: RowError[], total: number) {
  for (const e of errors) console.error(`  row ${e.row}, ${e.column}: ${e.message}`);
  if (total > errors.length) console.error(`  … and ${total - errors.length} more`);
}

async function guarded(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HttpError && err.status < 500) {
      console.error(`error: ${err.message}`);
      const details = err.options.details as RowError[] | undefined;
      if (Array.isArray(details)) printErrors(details, details.length);
      return 1;
    }
    throw err;
  }
}

export const reportCommands: CliCommand[] = [
  {
    name: 'roster:import',
    args: '<file>',
    description: 'preview a roster (CSV or XLSX) for an institution; with --confirm, import it',
    options: [
      { flags: '--institution <code>', description: 'institution code (org unit of kind institution)' },
      { flags: '--confirm', description: 'write the roster (without it nothing is written)', default: false },
      { flags: '--deactivate-missing', description: 'deactivate people of the institution missing from the file', default: false },
      { flags: '--encoding <enc>', description: 'utf-8 | windows-1252 (default: detected)' },
    ],
    run: (rt, o, args) =>
      guarded(async () => {
        const r = reportsOf(rt);
        if (!o.institution) throw new HttpError(400, '--institution is required');
        // The preview takes ownership of the file it reads: give it a copy, never the operator's file.
        await mkdir(r.uploadDir, { recursive: true });
        const copy = path.join(r.uploadDir, `cli-${randomBytes(6).toString('hex')}`);
        await copyFile(args[0], copy).catch((err: Error) => {
          throw new HttpError(400, `cannot read ${args[0]}: ${err.message}`);
        });
        const started = Date.now();
        const enc = o.encoding === 'utf-8' || o.encoding === 'windows-1252' ? o.encoding : undefined;
        const imp = await r.roster.preview({
          file: copy,
          fileName: path.basename(args[0]),
          institution: String(o.institution),
          userId: 'cli',
          deactivateMissing: !!o.deactivateMissing,
          encoding: enc,
        });
        console.log(`${imp.fileName}: ${imp.rows} rows (${imp.format}, ${imp.encoding}) for ${imp.institution}`);
        if (imp.errorCount) {
          console.error(`${imp.errorCount} row error(s); nothing was written:`);
          printErrors(imp.problems, imp.errorCount);
          return 1;
        }
        const c = imp.counts;
        console.log(
          `preview in ${((Date.now() - started) / 1000).toFixed(1)} s: ${c.created} new, ${c.changed} changed, ${c.unchanged} unchanged, ${c.deactivated} to deactivate; ${c.newAccounts} new accounts, ${c.linkedAccounts} existing accounts, ${c.atSignIn ?? 0} at first SSO sign-in`,
        );
        if (!o.confirm) {
          console.log('Nothing written (add --confirm to import).');
          return 0;
        }
        const done = await r.roster.confirm(imp._id, 'cli');
        const d = done.counts;
        console.log(
          `imported in ${((Date.now() - started) / 1000).toFixed(1)} s: ${d.created} new, ${d.changed} changed, ${d.unchanged} unchanged, ${d.deactivated} deactivated; ${d.newAccounts} accounts created (invitations pending: export them from /reports/roster), ${d.atSignIn ?? 0} at first SSO sign-in`,
        );
        return 0;
      }),
  },
  {
    name: 'org:import',
    args: '<file>',
    description: 'import org units from CSV or XLSX (columns code,name,parent,kind,level); all or nothing',
    run: (rt, _o, args) =>
      guarded(async () => {
        const r = reportsOf(rt);
        const result = await r.org.importUnits(await readUnitsFile(args[0]));
        if (result.errors.length) {
          console.error(`${result.errors.length} error(s); nothing was written:`);
          printErrors(result.errors.slice(0, 100), result.errors.length);
          return 1;
        }
        console.log(`${result.units} org units imported.`);
        await r.recompute.kick();
        return 0;
      }),
  },
  {
    name: 'reports:recompute',
    description: 're-evaluate "trained" for everyone and rebuild the dashboard summaries (waits until done)',
    async run(rt) {
      const r = reportsOf(rt);
      const started = Date.now();
      await r.recompute.request('command');
      await r.recompute.kick();
      const job = await r.recompute.status();
      console.log(
        `${job?.status}: ${job?.done} people evaluated, ${job?.changed} changed, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return job?.status === 'done' ? 0 : 1;
    },
  },
];
