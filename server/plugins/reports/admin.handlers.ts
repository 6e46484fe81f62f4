import { rm } from 'node:fs/promises';
import type { NextFunction, Request, Response } from 'express';
import { HttpError, errorText } from '../../core/errors';
import { LEVELS } from '../../core/taxonomy';
import type { Reports } from './bundle';
import { receiveUpload } from './upload';
import { detectEncoding, detectFormat, readTable } from './table-reader';
import { UNIT_KINDS } from './unit.model';
import type { RowError } from './import.model';
import type { UnitInput } from './org.service';

const ORG_ALIASES: Record<string, string> = {
  codigo: 'code',
  nombre: 'name',
  nome: 'name',
  padre: 'parent',
  pai: 'parent',
  parent_code: 'parent',
  tipo: 'kind',
  nivel: 'level',
};

/** Reads an org units file (small: held in memory) into rows for OrgService.check. */
export async function readUnitsFile(file: string): Promise<Array<{ row: number; input: UnitInput }>> {
  const format = await detectFormat(file);
  const encoding = format === 'csv' ? await detectEncoding(file) : 'utf-8';
  const rows: Array<{ row: number; input: UnitInput }> = [];
  for await (const { row, values } of readTable(file, { format, encoding, aliases: ORG_ALIASES })) {
    rows.push({
      row,
      input: {
        code: values.code ?? '',
        name: values.name ?? '',
        parent: values.parent ?? '',
        kind: (values.kind ?? '').toLowerCase() as never,
        level: (values.level ?? '').toLowerCase(),
      },
    });
    if (rows.length > 50_000) throw new HttpError(400, 'file: more than 50,000 org units');
  }
  if (!rows.length) throw new HttpError(400, 'file: no rows (is the first line the header code,name,parent,kind,level?)');
  return rows;
}

export function adminHandlers(r: Reports) {
  const orgPage = async (
    req: Request,
    res: Response,
    status = 200,
    extra: { error?: string; errors?: RowError[]; message?: string; form?: Record<string, string> } = {},
  ) => {
    res.status(status).render('reports/org', {
      title: req.t('reports:org.title'),
      units: await r.org.outline(),
      kinds: UNIT_KINDS,
      levels: LEVELS,
      form: {},
      errors: [],
      ...extra,
    });
  };

  const saveUnit = async (req: Request, res: Response) => {
    const b = req.body as Record<string, string>;
    try {
      const u = await r.org.save({
        code: b.code ?? '',
        name: b.name ?? '',
        parent: b.parent ?? '',
        kind: b.kind as never,
        level: b.level ?? '',
      });
      await orgPage(req, res, 200, { message: req.t('reports:org.saved', { code: u._id }) });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      await orgPage(req, res, err.status, { error: errorText(req.t, err), form: b });
    }
  };

  const importUnits = async (req: Request, res: Response, next: NextFunction) => {
    const up = await receiveUpload(req, r.uploadDir, r.maxUploadBytes);
    try {
      const result = await r.org.importUnits(await readUnitsFile(up.file));
      if (req.accepts(['html', 'json']) === 'json') return res.status(result.errors.length ? 400 : 200).json(result);
      if (result.errors.length)
        return orgPage(req, res, 400, {
          error: req.t('reports:org.importErrors', { count: result.errors.length }),
          errors: result.errors.slice(0, 500),
        });
      await orgPage(req, res, 200, { message: req.t('reports:org.imported', { count: result.units }) });
    } catch (err) {
      next(err);
    } finally {
      await rm(up.file, { force: true });
    }
  };

  const settingsPage = async (req: Request, res: Response, status = 200, extra: { error?: string; message?: string } = {}) => {
    res.status(status).render('reports/settings', {
      title: req.t('reports:settings.title'),
      rule: await r.settings.rule(),
      baseline: await r.settings.baseline(),
      job: await r.recompute.status(),
      ...extra,
    });
  };

  const saveRule = async (req: Request, res: Response) => {
    try {
      const changed = await r.settings.setRule(
        { minHours: req.body.minHours || 0, validityYears: req.body.validityYears || 0 },
        req.user!.email,
      );
      if (changed) await r.recompute.request('rule');
      await settingsPage(req, res, 200, { message: req.t(changed ? 'reports:settings.ruleSaved' : 'reports:settings.ruleUnchanged') });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      await settingsPage(req, res, err.status, { error: errorText(req.t, err) });
    }
  };

  const saveBaseline = async (req: Request, res: Response) => {
    try {
      await r.settings.setBaseline({ date: req.body.date }, req.user!.email);
      await settingsPage(req, res, 200, { message: req.t('reports:settings.baselineSaved') });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      await settingsPage(req, res, err.status, { error: errorText(req.t, err) });
    }
  };

  const recompute = async (req: Request, res: Response) => {
    await r.recompute.request(`requested:${req.user!.email}`);
    res.redirect(303, '/reports/settings');
  };

  const job = async (_req: Request, res: Response) => {
    res.json((await r.recompute.status()) ?? { status: 'none' });
  };

  const audit = async (req: Request, res: Response) => {
    const list = await r.audit.find().sort({ at: -1 }).limit(200).lean();
    res.render('reports/audit', { title: req.t('reports:audit.title'), list });
  };

  const showInvite = async (req: Request, res: Response) => {
    const inv = await r.invites.check(String(req.params.token));
    if (!inv) throw new HttpError(404, 'This invitation link is invalid, used or expired', { key: 'reports:invite.invalid' });
    res.render('reports/invite', { title: req.t('reports:invite.title'), inv, error: undefined });
  };

  const acceptInvite = async (req: Request, res: Response) => {
    const inv = await r.invites.check(String(req.params.token));
    if (!inv) throw new HttpError(404, 'This invitation link is invalid, used or expired', { key: 'reports:invite.invalid' });
    const password = String(req.body.password ?? '');
    if (password !== String(req.body.confirm ?? ''))
      return res
        .status(400)
        .render('reports/invite', { title: req.t('reports:invite.title'), inv, error: req.t('reports:invite.mismatch') });
    const users = r.rt.services.get('accounts.users');
    try {
      await users.setPassword(inv.userId, password); // validates the password before the link is spent
    } catch (err) {
      if (err instanceof HttpError && err.status === 400)
        return res
          .status(400)
          .render('reports/invite', { title: req.t('reports:invite.title'), inv, error: req.t('accounts:errors.password') });
      throw err;
    }
    if (!(await r.invites.consume(inv._id)))
      throw new HttpError(404, 'This invitation link was already used', { key: 'reports:invite.invalid' });
    res.redirect(303, '/accounts/login?invited=1');
  };

  return {
    orgPage: (req: Request, res: Response) => orgPage(req, res),
    saveUnit,
    importUnits,
    settingsPage: (req: Request, res: Response) => settingsPage(req, res),
    saveRule,
    saveBaseline,
    recompute,
    job,
    audit,
    showInvite,
    acceptInvite,
  };
}
