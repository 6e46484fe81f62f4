import { Schema, type Connection, type Model } from 'mongoose';
import { SUPPORTED_LANGUAGES, type Language } from '../../core/config';
import { localizedError } from '../../core/errors';
import type { Kind } from './notifications.model';
import type { Message } from './mailer';

/** What a notice says, in one language. */
export interface NoticeText {
  subject: string;
  paragraphs: string[];
  items?: string[];
  action?: { label: string; href: string };
}

/**
 * notifications_inbox: the in-app list, one document per notice, `_id` = the e-mail's natural
 * key (a notice is recorded once, however often its event or job runs). The text is kept in every
 * language of the site, so the list reads in the language of the page, not the one of the day
 * it was sent.
 */
export interface NoticeDoc {
  _id: string;
  userId: string;
  kind: Kind;
  createdAt: Date;
  readAt?: Date;
  text: Partial<Record<Language, NoticeText>>;
}
const noticeSchema = new Schema<NoticeDoc>(
  {
    _id: String,
    userId: { type: String, required: true },
    kind: { type: String, required: true },
    createdAt: { type: Date, required: true },
    readAt: Date,
    text: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'notifications_inbox', versionKey: false },
);
// A person's list, newest first, and their unread count (read on every page they open).
noticeSchema.index({ userId: 1, createdAt: -1, _id: 1 });
noticeSchema.index({ userId: 1, readAt: 1 });

export const inboxModel = (db: Connection): Model<NoticeDoc> =>
  (db.models.NotificationsNotice as Model<NoticeDoc>) ?? db.model<NoticeDoc>('NotificationsNotice', noticeSchema);

/** A notice as shown: its text in the page's language. */
export interface Notice {
  id: string;
  kind: Kind;
  createdAt: Date;
  read: boolean;
  text: NoticeText;
}

/** The same message in each language of the site (the one given included). */
export type Versions = () => Promise<Array<Message | undefined>> | Array<Message | undefined>;

export class Inbox {
  constructor(
    private readonly model: Model<NoticeDoc>,
    /** The site's own address: links in a notice lead within the site, whatever host it is opened by. */
    private readonly baseUrl: string,
  ) {}

  init() {
    return this.model.init();
  }

  private local(href: string): string {
    return href.startsWith(this.baseUrl) ? href.slice(this.baseUrl.length) || '/' : href;
  }

  private textOf(m: Message): NoticeText {
    return {
      subject: m.subject,
      paragraphs: m.paragraphs,
      ...(m.items?.length ? { items: m.items } : {}),
      ...(m.action ? { action: { label: m.action.label, href: this.local(m.action.href) } } : {}),
    };
  }

  /** Records the notice once (its key); a second call for the same key changes nothing, read or not. */
  async record(msg: Message, versions: Versions, now = new Date()): Promise<void> {
    if (await this.model.exists({ _id: msg.key })) return;
    const text: NoticeDoc['text'] = {};
    for (const v of [msg, ...(await versions())])
      if (v && v.key === msg.key && (SUPPORTED_LANGUAGES as readonly string[]).includes(v.to.language))
        text[v.to.language as Language] ??= this.textOf(v);
    await this.model.updateOne(
      { _id: msg.key },
      { $setOnInsert: { userId: msg.to.id, kind: msg.kind, createdAt: now, text } },
      { upsert: true },
    );
  }

  /** One person's notices, newest first, in `lang` (else the language it was sent in). */
  async list(userId: string, lang: string, page: { skip: number; limit: number }): Promise<{ notices: Notice[]; total: number }> {
    const [docs, total] = await Promise.all([
      this.model.find({ userId }).sort({ createdAt: -1, _id: 1 }).skip(page.skip).limit(page.limit).lean<NoticeDoc[]>(),
      this.model.countDocuments({ userId }),
    ]);
    const notices = docs.map((d) => ({
      id: d._id,
      kind: d.kind,
      createdAt: d.createdAt,
      read: !!d.readAt,
      text: d.text[lang as Language] ?? Object.values(d.text)[0]!,
    }));
    return { notices, total };
  }

  unread(userId: string): Promise<number> {
    return this.model.countDocuments({ userId, readAt: null });
  }

  /** Marks one of the person's own notices read; another person's, or none, is a 404 (nothing said about it). */
  async markRead(userId: string, id: string, now = new Date()): Promise<void> {
    const r = await this.model.updateOne({ _id: String(id), userId, readAt: null }, { $set: { readAt: now } });
    // Already read keeps its first reading time.
    if (!r.matchedCount && !(await this.model.exists({ _id: String(id), userId })))
      throw localizedError(404, 'notifications:inbox.noNotice');
  }

  async markAllRead(userId: string, now = new Date()): Promise<number> {
    return (await this.model.updateMany({ userId, readAt: null }, { $set: { readAt: now } })).modifiedCount;
  }
}
