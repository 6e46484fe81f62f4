import { Readable } from 'node:stream';
import type { Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import yazl from 'yazl';
import { HttpError, errorText } from '../../core/errors';
import type { Permissions } from '../../core/permissions';
import type { Route } from '../../core/routes';
import type { CertificateDoc } from './certificate.model';
import { csvText } from '../../core/csv';
import type { CertificatesService, Verification } from './certificates.service';
import { formatDate } from './pdf-render';
import type { BadgeKey } from './signing-keys';
import { pageNumber } from '../../core/page-number';
import { isLanguage } from '../../core/i18n';
import type { Language } from '../../core/config';
import { titleIn } from './languages';

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const PAGE = 50;

/**
 * `?lang=es|pt|en` asks for one language (a link handed to a reader of another language); without
 * it, the viewer's own. An unknown value is ignored like any unknown language preference.
 */
function requestedLanguage(req: Request): Language {
  const asked = req.query.lang;
  if (isLanguage(asked) && asked !== req.lang) req.setLanguage(asked);
  return req.lang;
}

function wantsJson(req: Request): boolean {
  return req.query.format === 'json' || req.accepts(['html', 'json']) === 'json';
}

/** File names inside downloads: the learner's name in plain ASCII, then the code. */
function fileName(cert: CertificateDoc, ext: string): string {
  const base =
    cert.learnerName
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'certificate';
  return `${base}-${cert._id}.${ext}`;
}

export function verificationJson(v: Verification) {
  if (v.status === 'unknown') return { status: 'unknown' };
  if (v.status === 'withdrawn')
    return { status: v.status, code: v.code, kind: v.kind, institution: v.institution, withdrawnAt: v.withdrawnAt?.toISOString() };
  return {
    status: v.status,
    code: v.code,
    name: v.name,
    title: v.title,
    kind: v.kind,
    completedAt: v.completedAt.toISOString().slice(0, 10),
    issuedAt: v.issuedAt.toISOString(),
    institution: v.institution,
    ...(v.revokedAt ? { revokedAt: v.revokedAt.toISOString(), revokeReason: v.revokeReason } : {}),
    ...(v.replacedBy ? { replacedBy: v.replacedBy } : {}),
  };
}

/** Public routes outside the plugin prefix: the verification page printed on every certificate. */
export function verifyRoutes(svc: CertificatesService, limitPerMinute: number): Route[] {
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: limitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) =>
      next(new HttpError(429, 'Too many verification requests; wait a minute', { key: 'certificates:verify.tooMany' })),
  });

  const show: RequestHandler = async (req, res) => {
    // JSON answers in the issue language unless one is asked for; the page in the reader's.
    const asked = isLanguage(req.query.lang) ? requestedLanguage(req) : undefined;
    const v = await svc.verify(req.params.code, wantsJson(req) ? asked : req.lang);
    res.status(v.status === 'unknown' ? 404 : 200);
    if (wantsJson(req)) {
      res.json(verificationJson(v));
      return;
    }
    res.render('certificates/verify', { title: req.t(`certificates:verify.title`), v, date: (d: Date) => formatDate(d, req.lang) });
  };

  const form: RequestHandler = (req, res) => {
    requestedLanguage(req);
    const code = str(req.query.code).replace(/[\s-]/g, '');
    if (code) return res.redirect(303, `/verify/${encodeURIComponent(code)}`);
    res.render('certificates/verify', {
      title: req.t('certificates:verify.title'),
      v: undefined,
      date: (d: Date) => formatDate(d, req.lang),
    });
  };

  return [
    { method: 'get', path: '/verify', guard: 'public', handler: [limiter, form] },
    { method: 'get', path: '/verify/:code', guard: 'public', handler: [limiter, show] },
  ];
}

export function certificateRoutes(svc: CertificatesService, permissions: Permissions, badgeKey: BadgeKey): Route[] {
  /** Owner, or a manager whose scope covers the certificate; anything else is "not found". */
  const readable = async (req: Request): Promise<CertificateDoc> => {
    const cert = await svc.get(req.params.code);
    const user = req.user!;
    if (cert && (cert.userId === user.id || (permissions.allows(user, 'certificates:manage') && (await svc.inScope(user, cert)))))
      return cert;
    throw new HttpError(404, 'No such certificate', { key: 'certificates:errors.notFound' });
  };

  /**
   * The PDF and the badge are handed out only while the certificate is valid: a revoked, replaced
   * or withdrawn one would still look valid on paper (its signature stays intact). Its
   * verification page says what became of it.
   */
  const downloadable = async (req: Request): Promise<CertificateDoc> => {
    const cert = await readable(req);
    if (cert.status !== 'valid')
      throw new HttpError(410, `Certificate ${cert._id} is ${cert.status}: its PDF and badge are no longer handed out`, {
        key: 'certificates:errors.noLongerValid',
        params: { code: cert._id },
      });
    return cert;
  };

  const downloadPdf: RequestHandler = async (req, res) => {
    const cert = await downloadable(req);
    const lang = requestedLanguage(req);
    const pdf = await svc.pdfIn(cert, lang);
    res.type('application/pdf');
    res.setHeader('Content-Language', lang);
    res.setHeader('Content-Disposition', `attachment; filename="${fileName(cert, lang === cert.language ? 'pdf' : `${lang}.pdf`)}"`);
    res.send(pdf);
  };

  const downloadBadge: RequestHandler = async (req, res) => {
    const cert = await downloadable(req);
    const lang = requestedLanguage(req);
    const jwt = await svc.badge(cert, lang);
    res.type('application/vc+jwt');
    res.setHeader('Content-Language', lang);
    res.setHeader('Content-Disposition', `attachment; filename="${fileName(cert, 'jwt')}"`);
    res.send(jwt);
  };

  const mine: RequestHandler = async (req, res) => {
    const list = await svc.listForUser(req.user!.id);
    res.render('certificates/mine', {
      title: req.t('certificates:mine.title'),
      list,
      titleOf: (c: CertificateDoc) => titleIn(c, req.lang),
      date: (d: Date) => formatDate(d, req.lang),
    });
  };

  const manageList: RequestHandler = async (req, res) => {
    const page = pageNumber(req.query.page);
    const filter = { status: str(req.query.status), q: str(req.query.q).slice(0, 100) };
    const { list, total } = await svc.listInScope(req.user!, { ...filter, skip: (page - 1) * PAGE, limit: PAGE });
    res.render('certificates/manage', {
      title: req.t('certificates:manage.title'),
      list,
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE)),
      filter,
      date: (d: Date) => formatDate(d, req.lang),
    });
  };

  const renderDetail = async (req: Request, res: Response, cert: CertificateDoc, status = 200, error?: string, message?: string) => {
    res.status(status).render('certificates/detail', {
      title: req.t('certificates:detail.title'),
      cert,
      error,
      message,
      form: { name: str(req.body?.name) || cert.learnerName, reason: str(req.body?.reason) },
      date: (d: Date) => formatDate(d, req.lang),
    });
  };

  /** Lifecycle forms re-render with the problem named; the JSON clients get the HttpError as is. */
  const lifecycle =
    (action: (req: Request) => Promise<CertificateDoc>, messageKey: string): RequestHandler =>
    async (req, res) => {
      try {
        const result = await action(req);
        if (wantsJson(req)) return res.json({ code: result._id, status: result.status, replaces: result.replaces ?? undefined });
        res.redirect(303, `/certificates/manage/${result._id}?done=${messageKey}`);
      } catch (err) {
        if (!(err instanceof HttpError) || err.status >= 500 || err.status === 404 || wantsJson(req)) throw err;
        const cert = await svc.manageable(req.user!, req.params.code);
        await renderDetail(req, res, cert, err.status, errorText(req.t, err));
      }
    };

  const revoke = lifecycle((req) => svc.revoke(req.user!, req.params.code, req.body?.reason), 'revoked');
  const reissue = lifecycle(
    (req) => svc.reissue(req.user!, req.params.code, { name: req.body?.name, reason: req.body?.reason }),
    'reissued',
  );

  const detailWithMessage: RequestHandler = async (req, res) => {
    const cert = await svc.manageable(req.user!, req.params.code);
    const done = str(req.query.done);
    await renderDetail(
      req,
      res,
      cert,
      200,
      undefined,
      ['revoked', 'reissued'].includes(done) ? req.t(`certificates:detail.${done}`) : undefined,
    );
  };

  /** Every valid PDF in the officer's scope (filtered like the list), streamed as a zip; the index lists all. */
  const bulkZip: RequestHandler = async (req, res) => {
    const filter = { status: str(req.query.status) || 'valid', q: str(req.query.q).slice(0, 100) };
    const certs = await svc.allInScope(req.user!, filter);
    const zip = new yazl.ZipFile();
    res.type('application/zip');
    res.setHeader('Content-Disposition', `attachment; filename="certificates-${new Date().toISOString().slice(0, 10)}.zip"`);
    zip.outputStream.pipe(res);
    const index: unknown[][] = [];
    for (const c of certs) {
      index.push([c._id, c.learnerName, c.title, c.hours, c.completedAt.toISOString().slice(0, 10), c.status, c.orgUnit ?? '']);
      if (c.status !== 'valid') continue;
      // Each PDF is read from the database only when the zip reaches it (streaming, so a whole
      // institution's certificates never sit in memory at once). PDFs are already compressed.
      let started = false;
      const lazy = new Readable({
        read() {
          if (started) return;
          started = true;
          svc.pdf(c._id).then(
            (pdf) => {
              this.push(pdf);
              this.push(null);
            },
            (err: Error) => this.destroy(err),
          );
        },
      });
      zip.addReadStream(lazy, fileName(c, 'pdf'), { compress: false, mtime: c.issuedAt });
    }
    const columns = ['code', 'name', 'title', 'hours', 'completed', 'status', 'org_unit'];
    zip.addBuffer(Buffer.from(csvText(columns, index), 'utf8'), 'index.csv', { mtime: new Date() });
    zip.end();
  };

  /** The badges' revocation list: public, refreshed by verifiers within minutes. */
  const statusList: RequestHandler = async (req, res) => {
    const list = Number(req.params.list);
    if (!/^\d{1,6}$/.test(String(req.params.list))) throw new HttpError(404, 'No such status list');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/vc+jwt').send(await svc.statusList(list));
  };

  const publicKeys: RequestHandler = (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.json({ keys: [badgeKey.publicJwk] });
  };

  const issuerProfile: RequestHandler = (req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.json({
      '@context': ['https://www.w3.org/2018/credentials/v1', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
      id: svc.issuer.id,
      type: ['Profile'],
      name: svc.templateFor(undefined).institution[req.lang],
      url: new URL(svc.issuer.id).origin,
      ...(badgeKey.development ? { description: 'Development issuer: keys generated on first start, not for production use.' } : {}),
      publicKey: [
        { id: `${svc.issuer.id}#${badgeKey.kid}`, type: 'JsonWebKey2020', controller: svc.issuer.id, publicKeyJwk: badgeKey.publicJwk },
      ],
      jwks_uri: svc.issuer.jwksUrl,
    });
  };

  return [
    { method: 'get', path: '/mine', guard: 'certificates:view-own', handler: mine },
    { method: 'get', path: '/issuer.json', guard: 'public', handler: issuerProfile },
    { method: 'get', path: '/jwks.json', guard: 'public', handler: publicKeys },
    { method: 'get', path: '/status/:list', guard: 'public', handler: statusList },
    { method: 'get', path: '/manage', guard: 'certificates:manage', handler: manageList },
    { method: 'get', path: '/manage/export.zip', guard: 'certificates:manage', handler: bulkZip },
    { method: 'get', path: '/manage/:code', guard: 'certificates:manage', handler: detailWithMessage },
    { method: 'post', path: '/manage/:code/revoke', guard: 'certificates:manage', handler: revoke },
    { method: 'post', path: '/manage/:code/reissue', guard: 'certificates:manage', handler: reissue },
    { method: 'get', path: '/:code/pdf', guard: 'certificates:view-own', handler: downloadPdf },
    { method: 'get', path: '/:code/badge', guard: 'certificates:view-own', handler: downloadBadge },
  ];
}
