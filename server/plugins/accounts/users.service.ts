import type { AccountsUsers, Placement } from '../../core/contracts/accounts';
import { createHash, randomBytes } from 'node:crypto';
import { isValidObjectId, Types } from 'mongoose';
import { z } from 'zod';
import { isDuplicateKey } from '../../core/db/connect';
import { HttpError, localizedError } from '../../core/errors';
import { ROLES, type Role, type SessionUser } from '../../core/permissions';
import { LEVELS } from '../../core/taxonomy';
import { SUPPORTED_LANGUAGES } from '../../core/config';
import { matchingPage, queryTerms } from '../../core/search-text';
import { hashPassword, passwordProblem, verifyPassword } from './password';
import type { SetupModel, UserDoc, UserModel } from './user.model';

export const NewUserSchema = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  name: z.string().trim().min(1).max(200),
  role: z.enum(ROLES).default('learner'),
  password: z.string().optional(),
  nationalId: z.string().trim().max(64).optional(),
  orgUnit: z.string().trim().max(64).optional(),
  level: z.enum(LEVELS).optional(),
  tier: z.string().trim().max(64).optional(),
  language: z.enum(SUPPORTED_LANGUAGES).default('es'),
});
export type NewUser = z.input<typeof NewUserSchema>;

/** Account fields whose bad value has a locale message of its own (accounts:errors.<field>). */
const FIELD_KEYS = new Set(['email', 'name', 'role', 'nationalId', 'orgUnit', 'level', 'tier', 'language']);

/**
 * A 400 naming the first bad field in the reader's language (the admin form, the profile), with
 * the value given; zod's issues stay in `details` for API clients.
 */
function fieldError(issues: z.core.$ZodIssue[], input: object): never {
  const path = String(issues[0]?.path[0] ?? '');
  const field = FIELD_KEYS.has(path) ? path : 'input';
  const value = (input as Record<string, unknown>)[path];
  throw localizedError(400, `accounts:errors.${field}`, { value: typeof value === 'string' ? value : '' }, issues);
}

const AccountChangesSchema = z.object({
  role: z.enum(ROLES),
  orgUnit: z.string().trim().max(64),
  level: z.union([z.enum(LEVELS), z.literal('')]),
  tier: z
    .string()
    .trim()
    .max(64)
    .regex(/^[a-z0-9-]*$/),
});
/** As a form sends them: validated by updateAccount. */
export type AccountChanges = Record<keyof z.input<typeof AccountChangesSchema>, string>;

const isLevel = (l?: string): l is (typeof LEVELS)[number] => !!l && (LEVELS as readonly string[]).includes(l);

/** How long a restored session user may be reused before it is read again. */
export const SESSION_USER_TTL_MS = 5_000;

export type LoginResult = { ok: true; user: SessionUser } | { ok: false };

export interface LockoutPolicy {
  maxFailures: number;
  lockMinutes: number;
}

/** Accounts: creation, login with lockout, roles, language. No express here. */
export class UsersService implements AccountsUsers {
  constructor(
    private readonly users: UserModel,
    private readonly setup: SetupModel,
    private readonly lockout: LockoutPolicy,
    private readonly sessions: { endFor(userId: string, exceptSid?: string): Promise<number> },
  ) {}

  /** Creates an account; 400 naming the field on bad input, 409 if the email is taken. */
  async create(input: NewUser): Promise<SessionUser> {
    const parsed = NewUserSchema.safeParse(input);
    if (!parsed.success) fieldError(parsed.error.issues, input);
    const { password, ...fields } = parsed.data;
    if (password !== undefined) {
      const problem = passwordProblem(password);
      if (problem) throw new HttpError(400, problem, { key: 'accounts:errors.password' });
    }
    try {
      const doc = await this.users.create({ ...fields, passwordHash: password ? await hashPassword(password) : undefined });
      return toSessionUser(doc.toObject() as UserDoc);
    } catch (err) {
      if (isDuplicateKey(err))
        throw new HttpError(409, `email: ${fields.email} is already registered`, { key: 'accounts:errors.emailTaken' });
      throw err;
    }
  }

  async findById(id: string): Promise<SessionUser | undefined> {
    if (!isValidObjectId(id)) return undefined;
    const doc = await this.users.findById(id).lean<UserDoc>();
    return doc ? toSessionUser(doc) : undefined;
  }

  /**
   * For session restore, which runs on every signed-in request: a short cache saves one database
   * round trip per page. Changes made through this service take effect at once in this process;
   * other server processes see a deactivation or profile change within SESSION_USER_TTL_MS.
   */
  async findActiveById(id: string): Promise<SessionUser | undefined> {
    if (!isValidObjectId(id)) return undefined;
    const now = Date.now();
    const hit = this.sessionUsers.get(id);
    if (hit && hit.until > now) return hit.user && { ...hit.user };
    const doc = await this.users.findById(id).lean<UserDoc>();
    const user = doc && doc.active ? toSessionUser(doc) : undefined;
    if (this.sessionUsers.size >= 10_000) this.sessionUsers.clear();
    this.sessionUsers.set(id, { user, until: now + SESSION_USER_TTL_MS });
    return user && { ...user };
  }

  private readonly sessionUsers = new Map<string, { user?: SessionUser; until: number }>();

  private forget(id: string): void {
    this.sessionUsers.delete(String(id));
  }

  async findByEmail(email: string): Promise<SessionUser | undefined> {
    const doc = await this.users.findOne({ email: email.trim().toLowerCase() }).lean<UserDoc>();
    return doc ? toSessionUser(doc) : undefined;
  }

  /** The account holding a national id (CPF, RUT, CI…), for linking a verified identity. */
  async findByNationalId(nationalId: string): Promise<SessionUser | undefined> {
    const v = String(nationalId).trim();
    if (!v) return undefined;
    const docs = await this.users.find({ nationalId: v }).limit(2).lean<UserDoc[]>();
    // Two accounts with one national id is a data error: link neither rather than guess.
    return docs.length === 1 ? toSessionUser(docs[0]) : undefined;
  }

  /**
   * Checks credentials. Unknown email, inactive account, locked account and wrong password all
   * give the same answer in the same time, so the login form reveals nothing about who exists.
   * The account locks after LOGIN_MAX_FAILURES failures, for every browser but those where the
   * person signed in before (`trustedDevice`, see device-cookie.ts): others' guesses do not lock
   * the person out, and those browsers have a failure count of their own.
   */
  async login(email: string, password: string, opts: { trustedDevice?: boolean } = {}): Promise<LoginResult> {
    const doc = await this.users.findOne({ email: String(email).trim().toLowerCase() }).lean<UserDoc>();
    const matches = await verifyPassword(String(password), doc?.passwordHash ?? undefined);
    if (!doc || !doc.active) return { ok: false };
    const now = new Date();
    if (opts.trustedDevice) {
      if (!matches) return { ok: false };
      await this.users.updateOne({ _id: doc._id }, { $set: { lastLoginAt: now } });
      return { ok: true, user: toSessionUser(doc) };
    }
    if (doc.lockedUntil && doc.lockedUntil > now) return { ok: false };
    if (!matches) {
      // Counted with $inc, not read-and-written: failures reaching two server processes at once both count.
      const after = await this.users
        .findOneAndUpdate({ _id: doc._id }, { $inc: { failedLogins: 1 } }, { returnDocument: 'after' })
        .lean<UserDoc>();
      if ((after?.failedLogins ?? 0) >= this.lockout.maxFailures)
        await this.users.updateOne(
          { _id: doc._id, failedLogins: { $gte: this.lockout.maxFailures } },
          { $set: { failedLogins: 0, lockedUntil: new Date(now.getTime() + this.lockout.lockMinutes * 60_000) } },
        );
      return { ok: false };
    }
    await this.users.updateOne({ _id: doc._id }, { $set: { failedLogins: 0, lastLoginAt: now }, $unset: { lockedUntil: 1 } });
    return { ok: true, user: toSessionUser(doc) };
  }

  async passwordHashOf(id: string): Promise<string | undefined> {
    const doc = await this.users.findById(id, { passwordHash: 1 }).lean<UserDoc>();
    return doc?.passwordHash ?? undefined;
  }

  /**
   * Sets a new password and ends every other browser session of the account, in every server
   * process (sessions are in the database): whoever knew the old password is signed out. The
   * session `keepSid` (the person changing their own password) stays signed in.
   */
  async setPassword(id: string, password: string, keepSid?: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new HttpError(400, problem, { key: 'accounts:errors.password' });
    this.forget(id);
    await this.users.updateOne(
      { _id: id },
      { $set: { passwordHash: await hashPassword(password), failedLogins: 0 }, $unset: { lockedUntil: 1 } },
    );
    await this.sessions.endFor(String(id), keepSid);
  }

  async updateProfile(id: string, changes: { language?: string; name?: string }): Promise<void> {
    const parsed = z
      .object({ language: z.enum(SUPPORTED_LANGUAGES).optional(), name: z.string().trim().min(1).max(200).optional() })
      .safeParse(changes);
    if (!parsed.success) fieldError(parsed.error.issues, changes);
    await this.users.updateOne({ _id: id }, { $set: parsed.data });
    this.forget(id);
  }

  /**
   * Where people work, as their institution's roster says: unit, level of government and tier
   * (their learning path follows the last two). Only accounts whose placement differs are written.
   */
  async setPlacements(placements: Placement[]): Promise<number> {
    let changed = 0;
    for (const p of placements) {
      if (!isValidObjectId(p.id)) continue;
      const $set = { orgUnit: p.orgUnit, tier: p.tier, ...(isLevel(p.level) && { level: p.level }) };
      // By `_id` alone: the embedded engine uses an index for no other filter.
      const res = await this.users.updateOne({ _id: p.id }, { $set });
      if (res.modifiedCount) {
        changed++;
        this.forget(p.id);
      }
    }
    return changed;
  }

  /**
   * An administrator's or HR officer's change of where someone works and what they may do (who
   * may change what is the caller's rule). An empty unit, level or tier clears it. 400 with a
   * translated message naming the field, 404 for an unknown account.
   */
  async updateAccount(id: string, changes: AccountChanges): Promise<SessionUser> {
    const parsed = AccountChangesSchema.safeParse(changes);
    if (!parsed.success) {
      const field = String(parsed.error.issues[0].path[0] ?? 'role');
      throw localizedError(400, `accounts:errors.${field}`, { value: String((changes as Record<string, unknown>)[field] ?? '') });
    }
    if (!isValidObjectId(id)) throw localizedError(404, 'accounts:errors.noUser');
    const { role, orgUnit, level, tier } = parsed.data;
    const $set: Record<string, unknown> = { role };
    const $unset: Record<string, 1> = {};
    for (const [k, v] of Object.entries({ orgUnit, level, tier })) {
      if (v) $set[k] = v;
      else $unset[k] = 1;
    }
    const doc = await this.users
      .findOneAndUpdate({ _id: id }, { $set, ...(Object.keys($unset).length && { $unset }) }, { returnDocument: 'after' })
      .lean<UserDoc>();
    this.forget(id);
    if (!doc) throw localizedError(404, 'accounts:errors.noUser');
    return toSessionUser(doc);
  }

  /** Whether the account is active and has a password (an invited person has none until they set it). */
  async signInState(id: string): Promise<{ active: boolean; hasPassword: boolean }> {
    const doc = isValidObjectId(id) ? await this.users.findById(id, { active: 1, passwordHash: 1 }).lean<UserDoc>() : null;
    return { active: !!doc && doc.active !== false, hasPassword: !!doc?.passwordHash };
  }

  async setActive(id: string, active: boolean): Promise<void> {
    if (!isValidObjectId(id)) throw localizedError(404, 'accounts:errors.noUser');
    const res = await this.users.updateOne(
      { _id: id },
      active ? { $set: { active }, $unset: { deactivatedAt: 1 } } : { $set: { active, deactivatedAt: new Date() } },
    );
    this.forget(id);
    if (res.matchedCount === 0) throw localizedError(404, 'accounts:errors.noUser');
  }

  /**
   * Accounts, by e-mail. `q` finds by name or e-mail as people type them (accent- and
   * case-insensitive, every word), which takes a scan of the filtered accounts.
   */
  async list(
    filter: { q?: string; role?: string; orgUnit?: string | string[]; skip?: number; limit?: number } = {},
  ): Promise<{ users: Array<SessionUser & { active: boolean; lastLoginAt?: Date }>; total: number }> {
    const query: Record<string, unknown> = {};
    if (filter.role && (ROLES as readonly string[]).includes(filter.role)) query.role = filter.role;
    if (Array.isArray(filter.orgUnit)) query.orgUnit = { $in: filter.orgUnit };
    else if (filter.orgUnit) query.orgUnit = filter.orgUnit;
    const skip = filter.skip ?? 0;
    const limit = Math.min(filter.limit ?? 50, 200);
    const terms = queryTerms(filter.q);
    const [docs, total] = terms.length
      ? await matchingPage(
          this.users.find(query).sort({ email: 1 }).lean<UserDoc[]>().cursor() as AsyncIterable<UserDoc>,
          terms,
          (d) => [d.name, d.email],
          skip,
          limit,
        )
      : await Promise.all([
          this.users.find(query).sort({ email: 1 }).skip(skip).limit(limit).lean<UserDoc[]>(),
          this.users.countDocuments(query),
        ]);
    return { users: docs.map((d) => ({ ...toSessionUser(d), active: d.active ?? true, lastLoginAt: d.lastLoginAt ?? undefined })), total };
  }

  /**
   * The accounts holding these emails (id, role, org unit), for bulk linking (roster imports). One
   * pass over the accounts instead of one query per email, which the embedded engine cannot index.
   */
  async accountsByEmail(emails: Set<string>): Promise<Map<string, { id: string; role: Role; orgUnit?: string }>> {
    const out = new Map<string, { id: string; role: Role; orgUnit?: string }>();
    if (!emails.size) return out;
    const cursor = this.users
      .find({}, { email: 1, role: 1, orgUnit: 1 })
      .lean<Array<{ _id: unknown; email: string; role: Role; orgUnit?: string }>>()
      .cursor();
    for await (const d of cursor) {
      if (emails.has(d.email)) out.set(d.email, { id: String(d._id), role: d.role, orgUnit: d.orgUnit || undefined });
    }
    return out;
  }

  async idsByEmail(emails: Set<string>): Promise<Map<string, string>> {
    return new Map([...(await this.accountsByEmail(emails))].map(([email, a]) => [email, a.id]));
  }

  /**
   * Creates password-less learner accounts in bulk (the person sets a password through an
   * invitation). Returns email → id for every account created or found already registered.
   */
  async createInvited(inputs: NewUser[]): Promise<Map<string, { id: string; created: boolean }>> {
    const now = new Date();
    const docs = inputs.map((i) => {
      const parsed = NewUserSchema.safeParse({ ...i, role: 'learner', password: undefined });
      if (!parsed.success) fieldError(parsed.error.issues, i);
      const { password: _pw, ...fields } = parsed.data;
      // Already validated above; lean inserts skip mongoose's per-document work (100,000-row rosters).
      return { _id: new Types.ObjectId(), ...fields, active: true, failedLogins: 0, createdAt: now, updatedAt: now };
    });
    const out = new Map<string, { id: string; created: boolean }>();
    try {
      const created = await this.users.insertMany(docs, { ordered: false, lean: true });
      for (const d of created) out.set(d.email, { id: String(d._id), created: true });
    } catch (err) {
      // Someone registered meanwhile: keep what was inserted, link the rest.
      const inserted = (err as { insertedDocs?: Array<{ email: string; _id: unknown }> }).insertedDocs;
      if (!isDuplicateKey((err as { writeErrors?: Array<{ err?: unknown }> }).writeErrors?.[0]?.err ?? err) && !inserted) throw err;
      for (const d of inserted ?? []) out.set(d.email, { id: String(d._id), created: true });
    }
    const rest = new Set(docs.map((d) => d.email).filter((e) => !out.has(e)));
    for (const [email, id] of await this.idsByEmail(rest)) out.set(email, { id, created: false });
    return out;
  }

  /**
   * Accounts deactivated before `cutoff` (retention). An account deactivated before the date was
   * recorded counts from its last change.
   */
  async deactivatedBefore(cutoff: Date, limit = 100): Promise<SessionUser[]> {
    const docs = await this.users
      .find({
        active: false,
        $or: [{ deactivatedAt: { $lte: cutoff } }, { deactivatedAt: { $exists: false }, updatedAt: { $lte: cutoff } }],
      })
      .limit(limit)
      .lean<UserDoc[]>();
    return docs.map(toSessionUser);
  }

  /** The whole account as stored, for the person's data export; only the password hash is left out. */
  async record(id: string): Promise<Record<string, unknown> | undefined> {
    if (!isValidObjectId(id)) return undefined;
    const doc = await this.users.findById(id, { passwordHash: 0, __v: 0 }).lean<Record<string, unknown>>();
    return doc ?? undefined;
  }

  /** Deletes the account (erasure). Idempotent. */
  async remove(id: string): Promise<void> {
    if (!isValidObjectId(id)) return;
    await this.users.deleteOne({ _id: id });
    this.forget(id);
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.users.countDocuments({ role: 'admin', active: true })) > 0;
  }

  /** First start with no admin: a one-time setup token (only its hash is stored). */
  async createSetupToken(): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.setup.replaceOne(
      { _id: 'first-admin' },
      { _id: 'first-admin', tokenHash: sha256(token), createdAt: new Date() },
      { upsert: true },
    );
    return token;
  }

  async checkSetupToken(token: string): Promise<boolean> {
    const doc = await this.setup.findById('first-admin').lean();
    return !!doc && doc.tokenHash === sha256(String(token)) && !(await this.hasAdmin());
  }

  /** Consumes the token: deleted before the admin is created, so it can never be replayed. */
  async createFirstAdmin(token: string, input: NewUser): Promise<SessionUser> {
    if (!(await this.checkSetupToken(token)))
      throw new HttpError(404, 'Setup link is invalid or already used', { key: 'accounts:setup.invalid' });
    await this.setup.deleteOne({ _id: 'first-admin' });
    return this.create({ ...input, role: 'admin' });
  }
}

export function toSessionUser(d: UserDoc): SessionUser {
  return {
    id: String(d._id),
    email: d.email,
    name: d.name,
    role: d.role,
    language: d.language ?? 'es',
    orgUnit: d.orgUnit ?? undefined,
    level: d.level ?? undefined,
    tier: d.tier ?? undefined,
  };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
