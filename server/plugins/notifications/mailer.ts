import { createHmac, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import ejs from 'ejs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { i18n, TFunction } from 'i18next';
import { ROOT, SUPPORTED_LANGUAGES } from '../../core/config';
import type { Logger } from '../../core/log';
import type { Inbox, Versions } from './inbox';
import { KINDS, type DeliveryDoc, type Kind, type NotificationModels } from './notifications.model';

/** Attempts at one e-mail before it stays failed (listed for the administrator). */
export const MAX_ATTEMPTS = 5;

const MAIL_VIEW = path.join(ROOT, 'views', 'notifications', 'mail.ejs');

export interface Recipient {
  id: string;
  email: string;
  name: string;
  language: string;
  /** The person's org unit: its institution may have switched a kind off for everyone in it. */
  orgUnit?: string;
}

/** One e-mail, as words in the recipient's language; the plain-text and HTML bodies are made from it. */
export interface Message {
  kind: Kind;
  /** Natural key of this e-mail: the same key is sent once. */
  key: string;
  to: Recipient;
  subject: string;
  paragraphs: string[];
  items?: string[];
  action?: { label: string; href: string };
}

export type Outcome = 'sent' | 'already-sent' | 'turned-off' | 'failed' | 'given-up' | 'no-mail-server';

/** The same message for the person in each other language of the site, made by its builder (for the in-app list). */
export const inOtherLanguages =
  <R extends Recipient>(to: R, build: (to: R) => Message | undefined | Promise<Message | undefined>): Versions =>
  () =>
    Promise.all(SUPPORTED_LANGUAGES.filter((l) => l !== to.language).map((language) => build({ ...to, language })));

/**
 * Sends the platform's notification e-mails through nodemailer (`SMTP_URL`), each once, in the
 * recipient's language, with a plain-text and an HTML part and a one-click unsubscribe link
 * (RFC 8058 headers, so mail clients show their own "unsubscribe" button).
 */
export class Mailer {
  private readonly transport?: Transporter;

  constructor(
    private readonly m: NotificationModels,
    private readonly i18n: i18n,
    private readonly opts: { smtpUrl?: string; from: string; baseUrl: string; secret: string },
    private readonly log: Logger,
    /** The institution of an org unit (the reports plugin's org tree). */
    private readonly institutionOf: (orgUnit: string) => Promise<string | undefined>,
    /** The in-app list every notice is also kept in. */
    readonly inbox: Inbox,
  ) {
    if (opts.smtpUrl) this.transport = nodemailer.createTransport(opts.smtpUrl);
  }

  get configured(): boolean {
    return !!this.transport;
  }

  t(lang: string): TFunction {
    return this.i18n.getFixedT(lang);
  }

  private sign(userId: string, kind: string): string {
    return createHmac('sha256', this.opts.secret).update(`unsubscribe:${userId}:${kind}`).digest('base64url');
  }

  /** The link that turns one kind of e-mail off for one person, without signing in. */
  unsubscribeUrl(userId: string, kind: Kind): string {
    return `${this.opts.baseUrl}/notifications/unsubscribe/${userId}.${kind}.${this.sign(userId, kind)}`;
  }

  /** The person and kind behind an unsubscribe token, if it is authentic. */
  readToken(token: string): { userId: string; kind: Kind } | undefined {
    const [userId, kind, sig] = String(token).split('.');
    if (!userId || !sig || !(KINDS as readonly string[]).includes(kind)) return undefined;
    const a = Buffer.from(sig);
    const b = Buffer.from(this.sign(userId, kind));
    return a.length === b.length && timingSafeEqual(a, b) ? { userId, kind: kind as Kind } : undefined;
  }

  async isOff(userId: string, kind: Kind): Promise<boolean> {
    return !!(await this.m.prefs.exists({ _id: userId, off: kind }));
  }

  /** Whether the person's institution switched this kind off for everyone in it. */
  async institutionOff(orgUnit: string | undefined, kind: Kind): Promise<boolean> {
    const inst = orgUnit && (await this.institutionOf(orgUnit));
    return !!inst && !!(await this.m.institutions.exists({ _id: inst, off: kind }));
  }

  async render(msg: Message): Promise<{ text: string; html: string }> {
    const t = this.t(msg.to.language);
    const unsubscribe = this.unsubscribeUrl(msg.to.id, msg.kind);
    const preferences = `${this.opts.baseUrl}/notifications/preferences`;
    const greeting = t('notifications:mail.greeting', { name: msg.to.name });
    const footer = t(`notifications:mail.why.${msg.kind}`);
    const text = [
      greeting,
      ...msg.paragraphs,
      ...(msg.items?.length ? [msg.items.map((i) => `- ${i}`).join('\n')] : []),
      ...(msg.action ? [`${msg.action.label}: ${msg.action.href}`] : []),
      `-- \n${footer}\n${t('notifications:mail.unsubscribe')}: ${unsubscribe}\n${t('notifications:mail.preferences')}: ${preferences}`,
    ].join('\n\n');
    const html = await ejs.renderFile(MAIL_VIEW, { lang: msg.to.language, t, msg, greeting, footer, unsubscribe, preferences });
    return { text, html };
  }

  /**
   * A notice for the person: kept in their in-app list — also without a mail server and whatever
   * e-mails they turned off (their preferences choose e-mails) — and e-mailed. A kind their
   * institution switched off for everyone is neither.
   */
  async notify(msg: Message, versions: Versions): Promise<Outcome> {
    if (await this.institutionOff(msg.to.orgUnit, msg.kind)) return 'turned-off';
    await this.inbox.record(msg, versions);
    return this.deliver(msg);
  }

  /** Sends the message unless it was sent already, its kind is turned off or it failed too often. */
  async deliver(msg: Message): Promise<Outcome> {
    if (!this.transport) return 'no-mail-server';
    if ((await this.isOff(msg.to.id, msg.kind)) || (await this.institutionOff(msg.to.orgUnit, msg.kind))) return 'turned-off';
    const before = await this.m.deliveries.findById(msg.key).lean<DeliveryDoc>();
    if (before?.status === 'sent') return 'already-sent';
    if (before && before.attempts >= MAX_ATTEMPTS) return 'given-up';
    const { text, html } = await this.render(msg);
    const unsubscribe = this.unsubscribeUrl(msg.to.id, msg.kind);
    const base = { userId: msg.to.id, kind: msg.kind, to: msg.to.email, subject: msg.subject, lastAttemptAt: new Date() };
    try {
      await this.transport.sendMail({
        from: this.opts.from,
        to: msg.to.email,
        subject: msg.subject,
        text,
        html,
        headers: {
          'Content-Language': msg.to.language,
          'List-Unsubscribe': `<${unsubscribe}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      });
    } catch (err) {
      this.log.warn({ err, key: msg.key }, 'notification e-mail failed');
      await this.m.deliveries.updateOne(
        { _id: msg.key },
        { $set: { ...base, status: 'failed', error: String((err as Error).message).slice(0, 500) }, $inc: { attempts: 1 } },
        { upsert: true },
      );
      return 'failed';
    }
    await this.m.deliveries.updateOne(
      { _id: msg.key },
      { $set: { ...base, status: 'sent', sentAt: new Date() }, $unset: { error: 1 }, $inc: { attempts: 1 } },
      { upsert: true },
    );
    return 'sent';
  }

  /** E-mails that failed and are still failing (admin home), newest first. */
  async failures(limit = 20): Promise<{ count: number; recent: DeliveryDoc[] }> {
    const [count, recent] = await Promise.all([
      this.m.deliveries.countDocuments({ status: 'failed' }),
      this.m.deliveries.find({ status: 'failed' }).sort({ lastAttemptAt: -1 }).limit(limit).lean<DeliveryDoc[]>(),
    ]);
    return { count, recent };
  }
}
