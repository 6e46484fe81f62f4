import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../../core/log';
import type { Invite, InviteModel } from './import.model';

const VALID_DAYS = 30;

/**
 * One-time sign-up links for accounts created from rosters. The token is `id.hmac(id)`: only the
 * id is stored, so a database leak reveals no usable link, yet HR can still export pending links
 * (recomputed from the server secret) when no mail server is configured.
 */
export class InvitesService {
  private readonly mailer?: Transporter;

  constructor(
    private readonly invites: InviteModel,
    private readonly secret: string,
    private readonly baseUrl: string,
    mail: { url?: string; from?: string },
    private readonly log: Logger,
    private readonly from = mail.from ?? 'no-reply@localhost',
  ) {
    if (mail.url) this.mailer = nodemailer.createTransport(mail.url);
  }

  get mailConfigured(): boolean {
    return !!this.mailer;
  }

  private sign(id: string): string {
    return createHmac('sha256', this.secret).update(`invite:${id}`).digest('base64url');
  }

  link(id: string): string {
    return `${this.baseUrl}/reports/invite/${id}.${this.sign(id)}`;
  }

  async createMany(people: Array<Omit<Invite, '_id' | 'createdAt'>>): Promise<string[]> {
    const docs = people.map((p) => ({ ...p, _id: randomBytes(12).toString('base64url'), createdAt: new Date() }));
    if (docs.length) await this.invites.insertMany(docs, { ordered: true, lean: true });
    return docs.map((d) => d._id);
  }

  /** The invitation behind a token, if the token is authentic, unused and not expired. */
  async check(token: string): Promise<Invite | undefined> {
    const [id, sig] = String(token).split('.');
    if (!id || !sig) return undefined;
    const a = Buffer.from(sig);
    const b = Buffer.from(this.sign(id));
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    const inv = await this.invites.findById(id).lean<Invite>();
    if (!inv || inv.usedAt || Date.now() - new Date(inv.createdAt).getTime() > VALID_DAYS * 86400_000) return undefined;
    return inv;
  }

  /** Marks the invitation used first, so a replayed link can never set the password again. */
  async consume(id: string): Promise<boolean> {
    const r = await this.invites.updateOne({ _id: id, usedAt: { $exists: false } }, { $set: { usedAt: new Date() } });
    return r.modifiedCount === 1;
  }

  /** Pending invitations of some institutions (HR export when there is no mail server). */
  async pending(institutions: string[] | '*'): Promise<Array<Invite & { link: string }>> {
    const filter =
      institutions === '*' ? { usedAt: { $exists: false } } : { institution: { $in: institutions }, usedAt: { $exists: false } };
    const list = await this.invites.find(filter).sort({ institution: 1, email: 1 }).lean<Invite[]>();
    return list.map((i) => ({ ...i, link: this.link(i._id) }));
  }

  /** The person's latest pending (unused, unexpired) invitation. A scan: an admin's page, not a hot path. */
  async pendingFor(userId: string): Promise<Invite | undefined> {
    const list = await this.invites.find({ userId: String(userId), usedAt: { $exists: false } }).lean<Invite[]>();
    const fresh = list.filter((i) => Date.now() - new Date(i.createdAt).getTime() <= VALID_DAYS * 86400_000);
    return fresh.sort((a, b) => +new Date(b.createdAt) - +new Date(a.createdAt))[0];
  }

  /**
   * A new invitation for one person, replacing their pending ones (so only the newest link
   * works), e-mailed at once when a mail server is configured.
   */
  async resend(
    person: { id: string; email: string; name: string; institution: string },
    mail: { subject: string; text: (name: string, link: string) => string },
  ): Promise<{ link: string; sent: boolean }> {
    await this.invites.deleteMany({ userId: person.id, usedAt: { $exists: false } });
    const [id] = await this.createMany([{ userId: person.id, email: person.email, name: person.name, institution: person.institution }]);
    const sent = (await this.send([id], mail.subject, mail.text)) === 1;
    return { link: this.link(id), sent };
  }

  /** Sends the given invitations by email, in the background; failures stay pending for export. */
  async send(ids: string[], subject: string, text: (name: string, link: string) => string): Promise<number> {
    if (!this.mailer) return 0;
    let sent = 0;
    for (const id of ids) {
      const inv = await this.invites.findById(id).lean<Invite>();
      if (!inv || inv.sentAt || inv.usedAt) continue;
      try {
        await this.mailer.sendMail({ from: this.from, to: inv.email, subject, text: text(inv.name, this.link(id)) });
        await this.invites.updateOne({ _id: id }, { $set: { sentAt: new Date() } });
        sent++;
      } catch (err) {
        this.log.warn({ err, email: inv.email }, 'invitation email failed');
      }
    }
    return sent;
  }
}
