import '../../core/contracts/certificates';
import type { Plugin } from '../../core/plugin';
import { mountRoutes } from '../../core/routes';
import { SUPPORTED_LANGUAGES } from '../../core/config';
import { StatusLists } from './status-list';
import { certificateModels } from './certificate.model';
import { CertificatesService } from './certificates.service';
import { certificateCommands } from './commands';
import { certificatesPersonalData } from './personal-data';
import { renderCertificatePdf } from './pdf-render';
import { PdfSigner } from './pdf-sign';
import { certificateRoutes, verifyRoutes } from './routes';
import { loadBadgeKey, loadPdfSigningIdentity } from './signing-keys';
import { loadTemplates, type CertificateTemplate } from './templates';

declare module '../../core/services' {
  interface Services {
    certificates: CertificatesService;
  }
}

/**
 * Draws every template once in every language, so a template that pdfkit cannot render (a
 * corrupt logo, say) stops start-up with its name rather than failing a learner's certificate.
 */
async function dryRun(templates: Map<string, CertificateTemplate>): Promise<void> {
  for (const tpl of templates.values()) {
    for (const language of SUPPORTED_LANGUAGES) {
      try {
        await renderCertificatePdf(tpl, {
          kind: 'course',
          language,
          learnerName: 'José Ñúñez da Conceição',
          title: 'Seguridad de la información',
          hours: 10,
          score: 95,
          completedAt: new Date(0),
          institution: tpl.institution[language],
          code: 'A'.repeat(32),
          verifyUrl: 'http://localhost/verify/' + 'A'.repeat(32),
        });
      } catch (err) {
        throw new Error(`Certificate template "${tpl.name}" cannot be rendered in ${language}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
}

export const certificatesPlugin: Plugin = {
  manifest: {
    name: 'certificates',
    version: '1.0.0',
    core: 1,
    description: 'Signed PDF certificates and Open Badges, issued on completion, verifiable by anyone',
    dependencies: ['accounts', 'lrs', 'catalog'],
    permissions: {
      'certificates:view-own': { roles: ['learner', 'hr', 'admin'], description: 'see and download one’s own certificates' },
      'certificates:manage': {
        roles: ['hr', 'admin'],
        description: 'list, revoke, reissue and bulk-download certificates within one’s scope',
      },
    },
    events: {
      emits: {
        'certificates.certificate.issued': {
          description: 'a certificate was issued (once per certificate)',
          key: (p) => p.code,
        },
      },
      on: {
        'certificates.certificate.issued': 'records the "earned" statement in the LRS (its id named by the code)',
        'catalog.course.satisfied': 'issues the course certificate (signed PDF, badge, earned statement)',
        'reports.person.trained': 'issues the learning-path certificate',
      },
    },
  },

  async register(ctx) {
    const templates = loadTemplates(ctx.config.env.CERT_TEMPLATES_DIR || undefined);
    await dryRun(templates);
    const identity = loadPdfSigningIdentity(ctx.config);
    const badgeKey = loadBadgeKey(ctx.config);
    if (identity.development)
      ctx.log.warn(
        'certificates: signing with a self-signed development certificate (set CERT_P12_FILE / CERT_P12_PASSPHRASE for a real one)',
      );
    const models = certificateModels(ctx.db);
    await Promise.all([models.certificates.init(), models.claims.init(), models.pdfs.init()]);
    const svc = new CertificatesService({
      models,
      templates,
      signer: new PdfSigner(identity, ctx.config.env.CERT_SIGN_LOCATION ?? ''),
      badgeKey,
      config: ctx.config,
      services: ctx.services,
      i18n: ctx.i18n,
      log: ctx.log,
      statusLists: new StatusLists(ctx.db, models.certificates, ctx.config.baseUrl),
      hooks: ctx.hooks,
    });
    ctx.services.provide('certificates', 'certificates', svc);
    ctx.services.provide('certificates', 'certificates.directory', {
      issued: async (code) => {
        const c = await svc.get(code);
        return (
          c && {
            code: c._id,
            kind: c.kind,
            userId: c.userId,
            subjectId: c.subjectId,
            title: c.title,
            titles: c.titles ?? undefined,
            hours: c.hours,
            issuedAt: c.issuedAt,
            status: c.status,
          }
        );
      },
    });
    ctx.declarePersonalData(certificatesPersonalData(models, svc));

    ctx.hooks.on('catalog.course.satisfied', async (p) => {
      await svc.issueForCourse(p);
      // With the reports plugin, "trained" is its decision (reports.person.trained).
      if (!ctx.services.has('org.scope')) await svc.checkPath(p.userId);
    });
    ctx.hooks.on('reports.person.trained', async (p) => void (await svc.issueForPath(p)));
    ctx.hooks.on('certificates.certificate.issued', ({ code }) => svc.recordIssued(code));

    const limit = Number(ctx.config.env.CERT_VERIFY_RATE_LIMIT ?? 60);
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error('CERT_VERIFY_RATE_LIMIT must be a positive integer (requests per minute per address)');
    mountRoutes(ctx.root, ctx.permissions, verifyRoutes(svc, limit));
    mountRoutes(ctx.router, ctx.permissions, certificateRoutes(svc, ctx.permissions, badgeKey));
    ctx.nav({ href: '/certificates/mine', label: 'certificates:nav.mine', permission: 'certificates:view-own', order: 40 });
    ctx.nav({ href: '/certificates/manage', label: 'certificates:nav.manage', permission: 'certificates:manage', order: 80 });
    ctx.homeFigure({
      permission: 'certificates:manage',
      kind: 'count',
      label: 'certificates:home.valid',
      href: '/certificates/manage',
      order: 70,
      count: () => ctx.db.collection('certificates_certificates').countDocuments({ status: 'valid' }),
    });
  },

  commands: certificateCommands,
};
