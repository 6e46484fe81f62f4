import { createHash, randomBytes } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import nodemailer, { type Transporter } from 'nodemailer';
import type { TFunction } from 'i18next';
import type { Logger } from '../../../core/log';
import { HttpError } from '../../../core/errors';
import type { SessionUser } from '../../../core/permissions';
import type { UsersService } from '../users.service';
import { passwordProblem } from '../password';

interface ResetDoc {
  _id: string; // SHA-256 of the token: a database leak reveals no usable link
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date;
}
const resetSchema = new Schema<ResetDoc>(
  { _id: String, userId: { type: String, required: true }, createdAt: Date, expiresAt: Date, usedAt: Date },
  { collection: 'accounts_password_resets', versionKey: false },
);
// Links per account in the last hour (the per-account limit).
resetSchema.index({ userId: 1, createdAt: -1 });
export type ResetModel = Model<ResetDoc>;
export const resetModel = (db: Connection): ResetModel =>
  (db.models.AccountsPasswordReset as ResetModel) ?? db.model<ResetDoc>('AccountsPasswordReset', resetSchema);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface RecoveryOptions {
  baseUrl: string;
  smtpUrl?: string;
  from: string;
  /** How long a link works. */
  ttlMs: number;
  /** Links one account may receive per hour. */
  perAccountPerHour: number;
}

/**
 * "Forgot password": a single-use, expiring link by e-mail. The request answers the same whether
 * or not the address has an account (the work happens after the answer), and people whose
 * institution requires sign-in with its identity provider get no link.
 */
export class RecoveryService {
  private readonly mailer?: Transporter;

  constructor(
    private readonly resets: ResetModel,
    private readonly users: UsersService,
    private readonly passwordAllowed: (u: SessionUser) => Promise<boolean>,
    private readonly t: (lang: string) => TFunction,
    private readonly log: Logger,
    private readonly opts: RecoveryOptions,
  ) {
    if (opts.smtpUrl) this.mailer = nodemailer.createTransport(opts.smtpUrl);
  }

  get available(): boolean {
    return !!this.mailer;
  }

  /** Starts the recovery in the background and returns at once, whatever the address. */
  request(email: string): void {
    if (!this.mailer) return;
    void this.send(String(email)).catch((err) => this.log.error({ err }, 'password reset mail failed'));
  }

  /** Resolves when done; the request handler does not wait for it (tests do). */
  async send(email: string): Promise<boolean> {
    const user = await this.users.findByEmail(email);
    if (!user || !(await this.users.findActiveById(user.id)) || !(await this.passwordAllowed(user))) return false;
    const now = new Date();
    const recent = await this.resets.countDocuments({ userId: user.id, createdAt: { $gt: new Date(now.getTime() - 3600_000) } });
    if (recent >= this.opts.perAccountPerHour) return false;
    const token = randomBytes(32).toString('base64url');
    await this.resets.create({ _id: sha256(token), userId: user.id, createdAt: now, expiresAt: new Date(now.getTime() + this.opts.ttlMs) });
    const t = this.t(user.language);
    const link = `${this.opts.baseUrl}/accounts/password/reset/${token}`;
    const minutes = Math.max(1, Math.round(this.opts.ttlMs / 60_000));
    await this.mailer!.sendMail({
      from: this.opts.from,
      to: user.email,
      subject: t('accounts:recovery.mailSubject'),
      text: t('accounts:recovery.mailText', { name: user.name, link, minutes, interpolation: { escapeValue: false } }),
    });
    return true;
  }

  /** The account a link is for, if the link is unused and not expired. */
  async check(token: string): Promise<string | undefined> {
    const doc = await this.resets.findById(sha256(String(token))).lean<ResetDoc>();
    return doc && !doc.usedAt && doc.expiresAt > new Date() ? doc.userId : undefined;
  }

  /** Sets the new password and uses the link up (first, so it can never be replayed). */
  async reset(token: string, password: string): Promise<SessionUser> {
    const problem = passwordProblem(String(password));
    if (problem) throw new HttpError(400, problem, { key: 'accounts:errors.password' });
    const now = new Date();
    const doc = await this.resets
      .findOneAndUpdate({ _id: sha256(String(token)), usedAt: { $exists: false }, expiresAt: { $gt: now } }, { $set: { usedAt: now } })
      .lean<ResetDoc>();
    if (!doc) throw new HttpError(410, 'This link is invalid, expired or already used', { key: 'accounts:recovery.invalid' });
    const user = await this.users.findActiveById(doc.userId);
    if (!user || !(await this.passwordAllowed(user)))
      throw new HttpError(410, 'This link is invalid, expired or already used', { key: 'accounts:recovery.invalid' });
    await this.users.setPassword(user.id, String(password));
    // Any other link sent to this account stops working too.
    await this.resets.updateMany({ userId: user.id, usedAt: { $exists: false } }, { $set: { usedAt: now } });
    return user;
  }
}
