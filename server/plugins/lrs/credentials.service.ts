/**
 * LRS credentials. Secrets are 32 random bytes, so a plain SHA-256 is enough to store them: slow
 * password hashes (scrypt, bcrypt) exist to resist guessing low-entropy human passwords, and
 * would cost every xAPI request tens of milliseconds for no gain against a 256-bit secret.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { localizedError } from '../../core/errors';
import type { LrsCredential, LrsCredentials } from '../../core/contracts/lrs';
import type { CredentialDoc } from './credential.model';

export const SCOPES = [
  'all',
  'all/read',
  'statements/write',
  'statements/read',
  'statements/read/mine',
  'state',
  'profile',
  'define',
] as const;

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
// Short: a credential revoked through another server process stops working within this time.
const CACHE_MS = 5_000;

const ClientInput = z.object({
  name: z.string().trim().min(1, 'name is required').max(120),
  scopes: z.array(z.enum(SCOPES)).min(1, 'at least one scope is required'),
});

export class CredentialsService implements LrsCredentials {
  /** Recently authenticated keys, so a busy client does not cost a database read per request. */
  private readonly cache = new Map<string, { doc: CredentialDoc; at: number }>();

  constructor(
    private readonly creds: Model<CredentialDoc>,
    private readonly baseUrl: string,
  ) {}

  authority(key: string, name: string): Record<string, unknown> {
    return { objectType: 'Agent', name, account: { homePage: this.baseUrl, name: key } };
  }

  /** The LMS itself, authority of statements it stores (launched, satisfied, certificates...). */
  system(): LrsCredential {
    return { id: 'lms', key: 'lms', name: 'LMS', scopes: ['all'], kind: 'client', authority: this.authority('lms', 'LMS') };
  }

  private toCredential(doc: CredentialDoc): LrsCredential {
    return {
      id: doc._id,
      key: doc._id,
      name: doc.name,
      scopes: doc.scopes,
      kind: doc.kind,
      authority: this.authority(doc._id, doc.name),
      ...(doc.launch ? { launch: JSON.parse(doc.launch) as LrsCredential['launch'] } : {}),
    };
  }

  async createClient(args: { name: string; scopes: string[] }): Promise<{ id: string; key: string; secret: string }> {
    const parsed = ClientInput.safeParse(args);
    if (!parsed.success) {
      const field = parsed.error.issues[0].path[0] === 'scopes' ? 'scopes' : 'name';
      throw localizedError(400, `lrs:admin.invalid.${field}`, { allowed: SCOPES.join(', ') });
    }
    const key = randomBytes(12).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    await this.creds.create({
      _id: key,
      name: parsed.data.name,
      secretHash: hashSecret(secret),
      scopes: parsed.data.scopes,
      kind: 'client',
      revoked: false,
      created: new Date(),
    });
    return { id: key, key, secret };
  }

  async createLaunchToken(args: {
    name: string;
    launch: NonNullable<LrsCredential['launch']>;
    ttlSeconds?: number;
  }): Promise<{ id: string; authToken: string }> {
    const key = randomBytes(12).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const ttl = args.ttlSeconds ?? 24 * 3600;
    await this.creds.create({
      _id: key,
      name: args.name,
      secretHash: hashSecret(secret),
      scopes: ['statements/write', 'statements/read/mine', 'state', 'profile'],
      kind: 'launch',
      launch: JSON.stringify(args.launch),
      expires: new Date(Date.now() + ttl * 1000),
      revoked: false,
      created: new Date(),
    });
    return { id: key, authToken: Buffer.from(`${key}:${secret}`).toString('base64') };
  }

  async revoke(id: string): Promise<void> {
    await this.creds.updateOne({ _id: id }, { $set: { revoked: true } });
    this.cache.delete(id);
  }

  /** The credential for a Basic-auth key and secret, or undefined if unknown, wrong, revoked or expired. */
  async authenticate(key: string, secret: string): Promise<LrsCredential | undefined> {
    const hit = this.cache.get(key);
    const doc = hit && Date.now() - hit.at < CACHE_MS ? hit.doc : await this.creds.findById(key).lean();
    if (!doc || doc.revoked || (doc.expires && doc.expires.getTime() < Date.now())) {
      this.cache.delete(key);
      return undefined;
    }
    if (!hit || hit.doc !== doc) {
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(key, { doc, at: Date.now() });
    }
    const a = Buffer.from(hashSecret(secret));
    const b = Buffer.from(doc.secretHash);
    return a.length === b.length && timingSafeEqual(a, b) ? this.toCredential(doc) : undefined;
  }

  async list(): Promise<Array<{ key: string; name: string; scopes: string[]; revoked: boolean; created: Date }>> {
    const docs = await this.creds.find({ kind: 'client' }).sort({ created: -1 }).limit(500).lean();
    return docs.map((d) => ({ key: d._id, name: d.name, scopes: d.scopes, revoked: d.revoked, created: d.created }));
  }

  /** Deletes the launch tokens whose actor is one of these agents (erasure); returns how many. */
  async removeLaunchTokensFor(agentKeys: Set<string>, keyOf: (agent: Record<string, unknown>) => string | undefined): Promise<number> {
    let removed = 0;
    for (const doc of await this.creds.find({ kind: 'launch' }, { launch: 1 }).lean()) {
      const actor = doc.launch ? (JSON.parse(doc.launch) as { actor?: Record<string, unknown> }).actor : undefined;
      const key = actor && keyOf(actor);
      if (!key || !agentKeys.has(key)) continue;
      await this.creds.deleteOne({ _id: doc._id });
      this.cache.delete(doc._id);
      removed++;
    }
    return removed;
  }

  /** Launch tokens expire; FerretDB has no TTL index, so they are removed by a periodic delete. */
  purgeExpired(): Promise<unknown> {
    return this.creds.deleteMany({ kind: 'launch', expires: { $lt: new Date(Date.now() - 7 * 86400_000) } });
  }
}
