import { rm } from 'node:fs/promises';
import type { NextFunction, Request, Response } from 'express';
import { HttpError, errorText } from '../../core/errors';
import { record, type Reports } from './bundle';
import { receiveUpload } from './upload';
import { writeCsv } from '../../core/csv';
import { ALL } from './org.service';

export function rosterHandlers(r: Reports) {
  const institutionsFor = async (req: Request) => {
    const root = r.scope.root(req);
    return (await r.org.outline(root)).filter((u) => u.kind === 'institution');
  };

  const page = async (req: Request, res: Response, status = 200, error?: string) => {
    const root = r.scope.root(req);
    const scopeInst = root === ALL ? '*' : await r.org.subtree(root);
    res.status(status).render('reports/roster', {
      title: req.t('reports:roster.title'),
      institutions: await institutionsFor(req),
      imports: await r.roster.recent(scopeInst),
      pending: (await r.invites.pending(scopeInst)).length,
      mail: r.invites.mailConfigured,
      error,
    });
  };

  const upload = async (req: Request, res: Response, next: NextFunction) => {
    const up = await receiveUpload(req, r.uploadDir, r.maxUploadBytes);
    try {
      const institution = (up.fields.institution ?? '').trim();
      if (!institution || !(await r.scope.allows(req, institution))) {
        throw new HttpError(403, `Institution ${institution || '(none)'} is outside your scope`, { key: 'core:errors.403.body' });
      }
      const encoding = up.fields.encoding === 'windows-1252' || up.fields.encoding === 'utf-8' ? up.fields.encoding : undefined;
      const imp = await r.roster.preview({
        file: up.file,
        fileName: up.fileName,
        institution,
        userId: req.user!.id,
        deactivateMissing: up.fields.deactivateMissing === '1',
        encoding,
      });
      if (req.accepts(['html', 'json']) === 'json') return res.status(201).json(imp);
      res.redirect(303, `/reports/roster/${imp._id}`);
    } catch (err) {
      await rm(up.file, { force: true });
      next(err);
    }
  };

  const load = async (req: Request) => {
    const imp = await r.roster.get(String(req.params.id));
    // Another institution's import is reported as missing, not forbidden: its existence is not shown.
    if (!imp || !(await r.scope.allows(req, imp.institution))) throw new HttpError(404, 'No such roster import');
    return imp;
  };

  const show = async (req: Request, res: Response) => {
    const imp = await load(req);
    if (req.accepts(['html', 'json']) === 'json') return res.json(imp);
    res.render('reports/roster-preview', {
      title: req.t('reports:roster.previewTitle'),
      imp,
      institutionName: await r.org.name(imp.institution),
      error: undefined,
    });
  };

  const confirm = async (req: Request, res: Response) => {
    const imp = await load(req);
    try {
      const done = await r.roster.confirm(imp._id, req.user!.id);
      const pending = (done as { pendingInvites?: string[] }).pendingInvites ?? [];
      if (pending.length && r.invites.mailConfigured) {
        void r.invites.send(pending, req.t('reports:invite.mailSubject'), (name, link) => req.t('reports:invite.mailBody', { name, link }));
      }
      if (req.accepts(['html', 'json']) === 'json') return res.json(done);
      res.redirect(303, `/reports/roster/${imp._id}`);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500 || req.accepts(['html', 'json']) === 'json') throw err;
      const again = (await r.roster.get(imp._id))!;
      res.status(err.status).render('reports/roster-preview', {
        title: req.t('reports:roster.previewTitle'),
        imp: again,
        institutionName: await r.org.name(imp.institution),
        error: errorText(req.t, err),
      });
    }
  };

  /** Pending sign-up links of the officer's institutions, for sending by other means. */
  const invitesCsv = async (req: Request, res: Response) => {
    const root = r.scope.root(req);
    const list = await r.invites.pending(root === ALL ? '*' : await r.org.subtree(root));
    await record(r, req.user!, 'export:invites', 'csv', root, list.length);
    res.type('text/csv; charset=utf-8').attachment('invitations.csv');
    await writeCsv(
      {
        columns: ['institution', 'name', 'email', 'link', 'created_at', 'sent_at'],
        rows: list.map((i) => [i.institution, i.name, i.email, i.link, i.createdAt.toISOString(), i.sentAt?.toISOString() ?? '']),
      },
      res,
    );
  };

  return { page: (req: Request, res: Response) => page(req, res), upload, show, confirm, invitesCsv };
}
