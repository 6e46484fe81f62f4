import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { HttpError } from '../../core/errors';
import type { Locks } from '../../core/locks';
import type { Logger } from '../../core/log';
import type { ApiToken, ApiTokenModel } from './store.model';

/** `lmsr_` + 32 random bytes in base64url (43 characters). */
const TOKEN_FORMAT = /^lmsr_[A-Za-z0-9_-]{43}$/;
const ID_FORMAT = /^[0-9a-f]{64}$/;
/** Characters of the token kept in clear, so people can tell their tokens apart. */
const PREFIX_LENGTH = 12;
export const MAX_TOKENS_PER_USER = 20;
/** `lastUsedAt` is written at most this often per token: a BI refresh fires many requests at once. */
const TOUCH_EVERY_MS = 60_000;

const NewToken = z.object({
  name: z
    .string({ message: 'is required' })
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(80, { message: 'must be at most 80 characters' }),
});

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Personal API tokens for BI tools (Power BI, Tableau, Excel "From Web") on the reports JSON and
 * export endpoints. A token is shown once, when created; only its SHA-256 is kept.
 */
export class ApiTokensService {
  /** When this process last wrote `lastUsedAt`, per token. */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly tokens: ApiTokenModel,
    private readonly log: Logger,
    private readonly locks: Locks,
  ) {}

  async create(userId: string, name: unknown): Promise<{ token: string; doc: ApiToken }> {
    const parsed = NewToken.safeParse({ name });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError(400, `${issue.path.join('.') || 'name'}: ${issue.message}`, { key: 'reports:tokens.nameInvalid' });
    }
    // Serialised per person (in every process) so that two concurrent requests cannot both pass the limit.
    return this.locks.exclusive(`reports.tokens|${userId}`, async () => {
      // A scan by userId: the collection holds at most 20 small documents per person.
      if ((await this.tokens.countDocuments({ userId })) >= MAX_TOKENS_PER_USER) {
        throw new HttpError(409, `At most ${MAX_TOKENS_PER_USER} API tokens per person: revoke one first`, {
          key: 'reports:tokens.tooMany',
          params: { max: MAX_TOKENS_PER_USER },
        });
      }
      const token = `lmsr_${randomBytes(32).toString('base64url')}`;
      const doc: ApiToken = {
        _id: hashToken(token),
        userId,
        name: parsed.data.name,
        prefix: token.slice(0, PREFIX_LENGTH),
        createdAt: new Date(),
      };
      await this.tokens.create(doc);
      return { token, doc };
    });
  }

  /** A person's own tokens, newest first. */
  async list(userId: string): Promise<ApiToken[]> {
    const docs = await this.tokens.find({ userId }).lean<ApiToken[]>();
    return docs.sort((a, b) => new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime());
  }

  /** Deletes one of the person's own tokens; 404 for anyone else's (which is not revealed to exist). */
  async revoke(userId: string, id: string): Promise<void> {
    const res = ID_FORMAT.test(id) ? await this.tokens.deleteOne({ _id: id, userId }) : { deletedCount: 0 };
    if (!res.deletedCount) throw new HttpError(404, 'No such API token', { key: 'reports:tokens.notFound' });
    this.touched.delete(id);
  }

  /** The owner of a valid token, or undefined. One `_id` read (plus a `lastUsedAt` write at most once a minute). */
  async authenticate(token: string): Promise<string | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    const doc = await this.tokens.findById(hashToken(token)).lean<ApiToken>();
    if (!doc) return undefined;
    await this.touch(doc);
    return doc.userId;
  }

  /** Records when a token was last used; a failure is logged, never passed on to the request. */
  private async touch(doc: ApiToken): Promise<void> {
    const now = Date.now();
    const last = Math.max(doc.lastUsedAt ? new Date(doc.lastUsedAt).getTime() : 0, this.touched.get(doc._id) ?? 0);
    if (now - last < TOUCH_EVERY_MS) return;
    if (this.touched.size >= 10_000) this.touched.clear();
    this.touched.set(doc._id, now);
    try {
      await this.tokens.updateOne({ _id: doc._id }, { $set: { lastUsedAt: new Date(now) } });
    } catch (err) {
      this.log.warn({ err, token: doc.prefix }, 'could not record when an API token was used');
    }
  }
}
