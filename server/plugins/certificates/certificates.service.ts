import { createHash } from 'node:crypto';
import type { i18n } from 'i18next';
import { z } from 'zod';
import type { Config } from '../../core/config';
import { isDuplicateKey } from '../../core/db/connect';
import { HttpError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { mayManagePerson, type SessionUser } from '../../core/permissions';
import type { Hooks, ServiceRegistry } from '../../core/services';
import { stableId } from '../../core/ids';
import type { CourseProgress, CourseSummary } from '../../core/contracts/catalog';
import type { XapiStatement } from '../../core/contracts/lrs';
import { signCredential, type IssuerInfo } from './badge';
import type { CertificateDoc, CertificateModels } from './certificate.model';
import { renderCertificatePdf } from './pdf-render';
import type { PdfSigner } from './pdf-sign';
import type { BadgeKey } from './signing-keys';
import { pickLanguage, type CertificateTemplate } from './templates';
import { everyLanguage, institutionIn, pdfInLanguage, titleIn } from './languages';
import type { Language } from '../../core/config';
import { StatusLists } from './status-list';
import { newVerificationCode, normaliseCode } from './verification-code';

/** xAPI: the registered "earned" verb (xAPI registry: achieved something, e.g. a badge or certificate). */
export const XAPI_VERB_EARNED = 'http://id.tincanapi.com/verb/earned';

interface IssueInput {
  kind: 'course' | 'path';
  userId: string;
  subjectId: string;
  subjectVersion: number;
  /** Title by language; the learner's language is printed first, the others kept for copies. */
  title: Record<string, string> | ((lang: 'es' | 'pt' | 'en') => string);
  hours: number;
  score?: number;
  completedAt: Date;
}

export interface IssueResult {
  certificate: CertificateDoc;
  created: boolean;
}

export type Verification =
  | { status: 'unknown'; code?: string }
  | { status: 'withdrawn'; code: string; kind: 'course' | 'path'; institution: string; withdrawnAt?: Date }
  | {
      status: 'valid' | 'revoked' | 'replaced';
      code: string;
      name: string;
      title: string;
      kind: 'course' | 'path';
      completedAt: Date;
      issuedAt: Date;
      institution: string;
      revokedAt?: Date;
      revokeReason?: string;
      replacedBy?: string;
    };

const ReasonSchema = z.string().trim().min(3, 'reason must be at least 3 characters').max(500, 'reason must be at most 500 characters');
const NameSchema = z.string().trim().min(1, 'name is required').max(200, 'name must be at most 200 characters');

export interface CertificatesDeps {
  models: CertificateModels;
  templates: Map<string, CertificateTemplate>;
  signer: PdfSigner;
  badgeKey: BadgeKey;
  config: Readonly<Config>;
  services: ServiceRegistry;
  i18n: i18n;
  log: Logger;
  statusLists: StatusLists;
  hooks: Hooks;
}

/** Issues, stores, verifies and manages certificates. No express here. */
export class CertificatesService {
  readonly issuer: IssuerInfo;

  constructor(private readonly d: CertificatesDeps) {
    const base = d.config.baseUrl;
    this.issuer = {
      id: `${base}/certificates/issuer.json`,
      jwksUrl: `${base}/certificates/jwks.json`,
      verifyUrl: (code) => `${base}/verify/${code}`,
    };
  }

  templateFor(orgUnit: string | undefined): CertificateTemplate {
    return (orgUnit && this.d.templates.get(orgUnit)) || this.d.templates.get('default')!;
  }

  /** catalog.course.satisfied: one certificate per learner × course × version. */
  async issueForCourse(p: { userId: string; course: CourseSummary; progress: CourseProgress }): Promise<IssueResult | undefined> {
    const score =
      typeof p.progress.score === 'number' && Number.isFinite(p.progress.score) ? Math.round(p.progress.score * 1000) / 10 : undefined;
    return this.issue({
      kind: 'course',
      userId: p.userId,
      subjectId: p.course.id,
      subjectVersion: p.course.version,
      title: p.course.title,
      hours: p.course.hours,
      score,
      completedAt: p.progress.satisfiedAt ?? p.progress.updatedAt ?? new Date(),
    });
  }

  /**
   * The learning-path certificate. The path's identity is the sorted list of its required
   * courses, so a path that later gains a course yields a new certificate once that is done too.
   */
  async issueForPath(p: { userId: string; tier: string; trainedAt: Date; courseIds: string[] }): Promise<IssueResult | undefined> {
    if (!p.courseIds.length) return undefined;
    const ids = [...new Set(p.courseIds)].sort();
    const pathHash = createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 12);
    let hours = 0;
    if (this.d.services.has('catalog')) {
      const catalog = this.d.services.get('catalog');
      for (const id of ids) hours += (await catalog.getCourse(id))?.hours ?? 0;
    }
    const tier = p.tier;
    return this.issue({
      kind: 'path',
      userId: p.userId,
      subjectId: `path:${tier}:${pathHash}`,
      subjectVersion: 1,
      title: (lang) => {
        const t = this.d.i18n.getFixedT(lang);
        return t('certificates:path.title', { tier: t(`core:tiers.${tier}`, { defaultValue: tier }) });
      },
      hours,
      completedAt: p.trainedAt,
    });
  }

  /**
   * Without the reports plugin (which decides "trained" and emits reports.person.trained), the
   * path is done when every required course of the learner's tier and level is satisfied.
   */
  async checkPath(userId: string): Promise<IssueResult | undefined> {
    if (!this.d.services.has('catalog')) return undefined;
    const user = await this.d.services.get('accounts.users').findById(userId);
    if (!user?.tier) return undefined;
    const catalog = this.d.services.get('catalog');
    const required = await catalog.requiredCourses(user.tier, user.level);
    if (!required.length) return undefined;
    const progress = await catalog.progressOf(userId, required);
    const done = new Map(progress.filter((p) => p.satisfied).map((p) => [p.courseId, p]));
    if (!required.every((id) => done.has(id))) return undefined;
    const trainedAt = new Date(Math.max(...[...done.values()].map((p) => (p.satisfiedAt ?? p.updatedAt).getTime())));
    return this.issueForPath({ userId, tier: user.tier, trainedAt, courseIds: required });
  }

  private async issue(input: IssueInput): Promise<IssueResult | undefined> {
    const { models } = this.d;
    const key = `${input.userId}:${input.subjectId}:v${input.subjectVersion}`;
    let code = newVerificationCode();
    // Two independent round trips, done together: who the learner is, and the claim on the key.
    const [user, claimError] = await Promise.all([
      this.d.services.get('accounts.users').findById(input.userId),
      models.claims.create({ _id: key, code, createdAt: new Date() }).then(
        () => undefined,
        (err: unknown) => err,
      ),
    ]);
    if (!user) {
      if (!claimError) await models.claims.deleteOne({ _id: key });
      this.d.log.warn({ userId: input.userId, subject: input.subjectId }, 'certificate not issued: no such user');
      return undefined;
    }
    if (claimError) {
      const err = claimError;
      if (!isDuplicateKey(err)) throw err;
      const claim = await models.claims.findById(key).lean();
      if (!claim) throw err;
      const existing = await models.certificates.findById(claim.code).lean<CertificateDoc>();
      if (existing) return { certificate: existing, created: false };
      // Claimed but not finished (a crash, or the same event being handled right now): finish it
      // under the claimed code; the inserts below are idempotent, so only one certificate results.
      code = claim.code;
    }
    const certificate = await this.build(code, key, input, user, user.name);
    return { certificate: await this.store(certificate), created: true };
  }

  private async build(
    code: string,
    key: string,
    input: IssueInput,
    user: SessionUser,
    name: string,
    replaces?: { code: string; reason: string },
  ) {
    const language = pickLanguage(user.language);
    const template = this.templateFor(user.orgUnit);
    const given = input.title;
    const titles = everyLanguage((l) => (typeof given === 'function' ? given(l) : given[l]), input.subjectId);
    const institutions = everyLanguage((l) => template.institution[l], template.institution.es);
    const title = titles[language];
    const institution = institutions[language];
    const issuedAt = new Date();
    const pdf = await this.renderAndSign(
      template,
      {
        kind: input.kind,
        language,
        learnerName: name,
        title,
        hours: input.hours,
        score: input.score,
        completedAt: input.completedAt,
        institution,
        code,
        verifyUrl: this.issuer.verifyUrl(code),
      },
      issuedAt,
    );
    return {
      doc: {
        _id: code,
        kind: input.kind,
        key,
        userId: input.userId,
        orgUnit: user.orgUnit,
        learnerName: name,
        language,
        subjectId: input.subjectId,
        subjectVersion: input.subjectVersion,
        title,
        titles,
        institutions,
        hours: input.hours,
        score: input.score,
        completedAt: input.completedAt,
        issuedAt,
        template: template.name,
        institution,
        signatory: template.signatory.name,
        status: 'valid' as const,
        replaces: replaces?.code,
        reissueReason: replaces?.reason,
        pdfSha256: createHash('sha256').update(pdf).digest('hex'),
        pdfBytes: pdf.length,
      },
      pdf,
    };
  }

  private async renderAndSign(
    template: CertificateTemplate,
    content: Parameters<typeof renderCertificatePdf>[1],
    signingTime: Date,
  ): Promise<Buffer> {
    const unsigned = await renderCertificatePdf(template, content);
    return this.d.signer.sign(unsigned, {
      reason: `${content.title} — ${content.code}`,
      contact: this.issuer.verifyUrl(content.code),
      signingTime,
    });
  }

  /**
   * PDF first, then the record that makes the certificate visible: a crash in between leaves
   * nothing half-issued, and a retry completes it under the same code.
   */
  private async store(built: Awaited<ReturnType<CertificatesService['build']>>): Promise<CertificateDoc> {
    const { models } = this.d;
    const doc: CertificateDoc = { ...built.doc };
    try {
      await models.pdfs.create({ _id: doc._id, pdf: built.pdf });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Another worker finished this code first: describe its PDF, not ours.
      const pdf = await this.pdf(doc._id);
      doc.pdfSha256 = createHash('sha256').update(pdf).digest('hex');
      doc.pdfBytes = pdf.length;
    }
    // The LRS is a declared dependency; only a unit-level app without it issues unrecorded.
    if (this.d.services.has('lrs.statements')) doc.xapiStatementId = stableId('earned', doc._id);
    // Its "earned" statement is recorded with the certificate and follows it (certificates.certificate.issued).
    const created = await this.d.hooks.emitWith([{ event: 'certificates.certificate.issued', payload: { code: doc._id } }], async () => {
      try {
        await models.certificates.create(doc);
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return false;
      }
    });
    return created ? doc : (await models.certificates.findById(doc._id).lean<CertificateDoc>())!;
  }

  /**
   * Issuing is recorded in the LRS ("earned", with the verification URL as the object) under an
   * id named by the code, so a delivery repeated after a crash stores it once. A certificate
   * withdrawn meanwhile (its holder erased) is not recorded.
   */
  async recordIssued(code: string): Promise<void> {
    const cert = await this.d.models.certificates.findById(code).lean<CertificateDoc>();
    if (!cert?.xapiStatementId || cert.status === 'withdrawn' || !this.d.services.has('lrs.statements')) return;
    await this.d.services.get('lrs.statements').storeAsSystem([this.earnedStatement(cert)], { once: true });
  }

  private earnedStatement(cert: CertificateDoc): XapiStatement {
    return {
      id: cert.xapiStatementId ?? undefined,
      actor: { objectType: 'Agent', name: cert.learnerName, account: { homePage: this.d.config.baseUrl, name: cert.userId } },
      verb: { id: XAPI_VERB_EARNED, display: { 'en-US': 'earned', es: 'obtuvo', 'pt-BR': 'obteve' } },
      // No inline definition: the verification URL resolves to the certificate's metadata (JSON),
      // and an LRS would otherwise store one activity definition per certificate.
      object: { objectType: 'Activity', id: this.issuer.verifyUrl(cert._id) },
      result: {
        completion: true,
        success: true,
        ...(cert.score !== undefined && cert.score !== null ? { score: { scaled: cert.score / 100 } } : {}),
      },
      ...(cert.kind === 'course' && /^[a-z][a-z0-9+.-]*:/i.test(cert.subjectId)
        ? { context: { contextActivities: { parent: [{ objectType: 'Activity', id: cert.subjectId }] } } }
        : {}),
      timestamp: new Date(cert.issuedAt).toISOString(),
    };
  }

  /** Certificates whose statement never reached the LRS (issued without it): recorded now. */
  async resendStatements(): Promise<number> {
    if (!this.d.services.has('lrs.statements')) return 0;
    const missing = await this.d.models.certificates
      .find({ xapiStatementId: { $exists: false }, status: { $ne: 'withdrawn' } }, { _id: 1 })
      .lean<CertificateDoc[]>();
    for (const cert of missing) {
      const id = stableId('earned', cert._id);
      await this.d.hooks.emitWith([{ event: 'certificates.certificate.issued', payload: { code: cert._id } }], async () => {
        await this.d.models.certificates.updateOne({ _id: cert._id }, { $set: { xapiStatementId: id } });
      });
    }
    return missing.length;
  }

  async get(codeInput: unknown): Promise<CertificateDoc | undefined> {
    const code = normaliseCode(codeInput);
    if (!code) return undefined;
    return (await this.d.models.certificates.findById(code).lean<CertificateDoc>()) ?? undefined;
  }

  /** What anyone holding the code may see: the minimum to confirm the document, in `lang` (default: as issued). */
  async verify(codeInput: unknown, lang?: Language): Promise<Verification> {
    const cert = await this.get(codeInput);
    if (!cert) return { status: 'unknown' };
    const shownIn = lang ?? pickLanguage(cert.language);
    const institution = institutionIn(cert, shownIn, this.d.templates);
    if (cert.status === 'withdrawn')
      return {
        status: 'withdrawn',
        code: cert._id,
        kind: cert.kind,
        institution,
        withdrawnAt: cert.withdrawnAt ?? undefined,
      };
    return {
      status: cert.status as 'valid' | 'revoked' | 'replaced',
      code: cert._id,
      name: cert.learnerName,
      title: titleIn(cert, shownIn),
      kind: cert.kind,
      completedAt: cert.completedAt,
      issuedAt: cert.issuedAt,
      institution,
      ...(cert.status === 'revoked' ? { revokedAt: cert.revokedAt ?? undefined, revokeReason: cert.revokeReason ?? undefined } : {}),
      ...(cert.status === 'replaced' ? { replacedBy: cert.replacedBy ?? undefined } : {}),
    };
  }

  async pdf(code: string): Promise<Buffer> {
    const pdf = await this.readPdf(code);
    if (!pdf) throw new HttpError(404, 'No PDF for this certificate', { key: 'certificates:errors.notFound' });
    return pdf;
  }

  private async readPdf(id: string): Promise<Buffer | undefined> {
    const doc = await this.d.models.pdfs.findById(id).lean();
    if (!doc) return undefined;
    const bin = doc.pdf as unknown as { buffer?: Uint8Array } | Buffer;
    return Buffer.isBuffer(bin) ? bin : Buffer.from((bin as { buffer: Uint8Array }).buffer);
  }

  /**
   * The signed PDF in `lang`: the original in the issue language, else a copy drawn with the
   * same facts (code, name, dates, hours, score) and the certificate's own template, signed and
   * kept on first request.
   */
  async pdfIn(cert: CertificateDoc, lang: Language): Promise<Buffer> {
    const template = this.d.templates.get(cert.template) ?? this.templateFor(undefined);
    const pdf = await pdfInLanguage(
      this.d.models,
      cert,
      lang,
      (id) => this.readPdf(id),
      () =>
        this.renderAndSign(
          template,
          {
            kind: cert.kind,
            language: lang,
            learnerName: cert.learnerName,
            title: titleIn(cert, lang),
            hours: cert.hours,
            score: cert.score ?? undefined,
            completedAt: cert.completedAt,
            institution: institutionIn(cert, lang, this.d.templates),
            code: cert._id,
            verifyUrl: this.issuer.verifyUrl(cert._id),
          },
          new Date(),
        ),
    );
    if (!pdf) throw new HttpError(404, 'No PDF for this certificate', { key: 'certificates:errors.notFound' });
    return pdf;
  }

  /** The Open Badges credential in `lang` (default: as issued), signed on each request. */
  async badge(cert: CertificateDoc, lang: Language = pickLanguage(cert.language)): Promise<string> {
    const words = {
      language: lang,
      title: titleIn(cert, lang),
      institution: institutionIn(cert, lang, this.d.templates),
      criteria: this.d.i18n.t(`certificates:badge.criteria.${cert.kind === 'path' ? 'path' : 'course'}`, { lng: lang }),
    };
    return signCredential(cert, this.issuer, words, this.d.badgeKey, await this.d.statusLists.entryFor(cert._id));
  }

  /** A revocation list of the badges (Bitstring Status List credential, VC-JWT). */
  statusList(list: number): Promise<string> {
    return this.d.statusLists.credential(list, this.issuer, this.d.badgeKey);
  }

  listForUser(userId: string): Promise<CertificateDoc[]> {
    return this.d.models.certificates.find({ userId }).sort({ issuedAt: -1, _id: 1 }).limit(500).lean<CertificateDoc[]>();
  }

  /** Org units the user may manage; `undefined` means every unit (admins). */
  async scopeOf(user: SessionUser): Promise<string[] | undefined> {
    if (user.role === 'admin') return undefined;
    if (user.role !== 'hr' || !user.orgUnit) return [];
    if (this.d.services.has('org.scope')) return this.d.services.get('org.scope').subtree(user.orgUnit);
    return [user.orgUnit];
  }

  /** In the manager's units, and its holder one they may manage (never an administrator or themselves). */
  async inScope(user: SessionUser, cert: CertificateDoc): Promise<boolean> {
    const scope = await this.scopeOf(user);
    if (scope === undefined) return true;
    if (!cert.orgUnit || !scope.includes(cert.orgUnit)) return false;
    const holder = await this.d.services.get('accounts.users').findById(cert.userId);
    // An erased holder's certificate (withdrawn) stays with the unit that issued it.
    return mayManagePerson(user, holder ?? { id: cert.userId, role: 'learner' });
  }

  /** Holders whose certificates a unit-scoped manager does not handle: administrators and themselves. */
  private async unmanageableHolders(user: SessionUser): Promise<string[]> {
    const admins = await this.d.services.get('accounts.users').list({ role: 'admin', limit: 200 });
    return [user.id, ...admins.users.map((a) => a.id)];
  }

  /** A certificate the user may manage, or 404 (not 403: codes outside the scope are not confirmed). */
  async manageable(user: SessionUser, codeInput: unknown): Promise<CertificateDoc> {
    const cert = await this.get(codeInput);
    if (!cert || !(await this.inScope(user, cert)))
      throw new HttpError(404, 'No such certificate in your scope', { key: 'certificates:errors.notFound' });
    return cert;
  }

  private async scopeFilter(user: SessionUser, f: { status?: string; q?: string }) {
    const scope = await this.scopeOf(user);
    const query: Record<string, unknown> = {};
    if (scope !== undefined) {
      query.orgUnit = { $in: scope };
      query.userId = { $nin: await this.unmanageableHolders(user) };
    }
    if (f.status && ['valid', 'revoked', 'replaced'].includes(f.status)) query.status = f.status;
    if (f.q?.trim()) query.learnerName = { $regex: f.q.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' };
    return query;
  }

  async listInScope(
    user: SessionUser,
    f: { status?: string; q?: string; skip?: number; limit?: number } = {},
  ): Promise<{ list: CertificateDoc[]; total: number }> {
    const query = await this.scopeFilter(user, f);
    const [list, total] = await Promise.all([
      this.d.models.certificates
        .find(query)

        .sort({ issuedAt: -1, _id: 1 })
        .skip(f.skip ?? 0)
        .limit(Math.min(f.limit ?? 50, 200))
        .lean<CertificateDoc[]>(),
      this.d.models.certificates.countDocuments(query),
    ]);
    return { list, total };
  }

  /** Every certificate in scope (for the zip), oldest first, without PDFs. */
  async allInScope(user: SessionUser, f: { status?: string; q?: string } = {}): Promise<CertificateDoc[]> {
    return this.d.models.certificates
      .find(await this.scopeFilter(user, f))
      .sort({ issuedAt: 1, _id: 1 })
      .lean<CertificateDoc[]>();
  }

  async revoke(user: SessionUser, codeInput: unknown, reasonInput: unknown): Promise<CertificateDoc> {
    const reason = parse(ReasonSchema, reasonInput, 'reason');
    const cert = await this.manageable(user, codeInput);
    const res = await this.d.models.certificates.updateOne(
      { _id: cert._id, status: 'valid' },
      { $set: { status: 'revoked', revokedAt: new Date(), revokedBy: user.id, revokeReason: reason } },
    );
    if (res.modifiedCount !== 1)
      throw new HttpError(409, `Certificate ${cert._id} is already ${cert.status}`, { key: 'certificates:errors.notValid' });
    return (await this.get(cert._id))!;
  }

  /**
   * A corrected certificate (e.g. the learner's name was misspelt): a new code and PDF; the old
   * one stays on record as "replaced by" the new one, so printed copies still lead somewhere.
   */
  async reissue(user: SessionUser, codeInput: unknown, input: { name?: unknown; reason?: unknown }): Promise<CertificateDoc> {
    const reason = parse(ReasonSchema, input.reason, 'reason');
    const name = parse(NameSchema, input.name, 'name');
    const old = await this.manageable(user, codeInput);
    if (old.status !== 'valid')
      throw new HttpError(409, `Certificate ${old._id} is ${old.status}; only a valid certificate can be reissued`, {
        key: 'certificates:errors.notValid',
      });
    const learner = await this.d.services.get('accounts.users').findById(old.userId);
    if (!learner) throw new HttpError(409, 'The learner of this certificate no longer exists');
    const code = newVerificationCode();
    const built = await this.build(
      code,
      old.key,
      {
        kind: old.kind,
        userId: old.userId,
        subjectId: old.subjectId,
        subjectVersion: old.subjectVersion,
        title: (l) => titleIn(old, l),
        hours: old.hours,
        score: old.score ?? undefined,
        completedAt: old.completedAt,
      },
      { ...learner, language: old.language, orgUnit: old.orgUnit ?? learner.orgUnit },
      name,
      { code: old._id, reason },
    );
    const fresh = await this.store(built);
    const res = await this.d.models.certificates.updateOne(
      { _id: old._id, status: 'valid' },
      { $set: { status: 'replaced', replacedBy: fresh._id, replacedAt: new Date() } },
    );
    if (res.modifiedCount !== 1) {
      // Someone revoked or reissued it meanwhile: withdraw ours so there is only one successor.
      await this.d.models.certificates.deleteOne({ _id: fresh._id });
      await this.d.models.pdfs.deleteOne({ _id: fresh._id });
      throw new HttpError(409, `Certificate ${old._id} changed while reissuing; reload and try again`, {
        key: 'certificates:errors.notValid',
      });
    }
    await this.d.models.claims.updateOne({ _id: old.key }, { $set: { code: fresh._id } });
    return fresh;
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, `${field}: ${r.error.issues[0].message}`, { key: `certificates:errors.${field}` });
  return r.data;
}
