import { isValidObjectId } from 'mongoose';
import type { ServiceRegistry } from '../../../core/services';
import type { SessionUser } from '../../../core/permissions';
import '../../../core/contracts/org';
import type { RosterKey } from '../../../core/contracts/roster';
import { HttpError, localizedError } from '../../../core/errors';
import type { UsersService } from '../users.service';
import { linkId, type IdentityLink, type LinkModel } from './links';
import type { ProviderSettings } from './providers';

/** What a provider vouched for, after its protocol's checks (signature, audience, time, nonce…). */
export interface VerifiedIdentity {
  /** The provider's stable id of the person (OIDC `sub`, SAML NameID, LDAP entryUUID). */
  subject: string;
  email?: string;
  /** Whether the provider says it verified the e-mail address (OIDC `email_verified`; directories vouch for theirs). */
  emailVerified: boolean;
  name?: string;
  nationalId?: string;
  employeeId?: string;
}

/** Why a verified identity gets no session: each has its own message on the sign-in page. */
export type Refusal = 'noClaim' | 'outsideInstitution' | 'otherInstitution' | 'notOnRoster' | 'inactive' | 'conflict';

export type LinkOutcome = { ok: true; user: SessionUser; how: 'linked' | 'new-link' | 'created' } | { ok: false; reason: Refusal };

/**
 * Links, never captures: a verified identity reaches an account only inside the provider's org
 * units — through an existing link, an existing account found by the provider's matching claim,
 * or a new account for a person on that institution's roster (which decides unit, level and tier).
 */
export class IdentityLinker {
  constructor(
    private readonly users: UsersService,
    private readonly links: LinkModel,
    private readonly services: ServiceRegistry,
  ) {}

  /** The provider's org units with everything below them. */
  async unitsOf(p: ProviderSettings): Promise<Set<string>> {
    if (!this.services.has('org.scope')) return new Set(p.orgUnits);
    const org = this.services.get('org.scope');
    return new Set((await Promise.all(p.orgUnits.map((u) => org.subtree(u)))).flat());
  }

  async resolve(p: ProviderSettings, id: VerifiedIdentity): Promise<LinkOutcome> {
    const units = await this.unitsOf(p);
    const inside = (u: SessionUser) => !!u.orgUnit && units.has(u.orgUnit);
    const key = linkId(p.id, id.subject);

    const link = await this.links.findById(key).lean<IdentityLink>();
    if (link) {
      const user = await this.users.findActiveById(link.userId);
      if (!user) return { ok: false, reason: 'inactive' };
      // A person transferred out of the provider's institutions keeps the link but not the access.
      if (!inside(user)) return { ok: false, reason: 'outsideInstitution' };
      await this.links.updateOne({ _id: key }, { $set: { lastUsedAt: new Date() } });
      return { ok: true, user, how: 'linked' };
    }

    const value = claimValue(p.match, id);
    if (!value) return { ok: false, reason: 'noClaim' };
    const existing = await this.existingAccount(p.match, value, units);
    // A national id is one person's in the whole country: if it is another institution's person's,
    // say so (the person is neither linked nor moved; only their own HR's roster moves them).
    if (p.match === 'nationalId' && (existing ? !inside(existing) : await this.heldElsewhere(units, value)))
      return { ok: false, reason: 'otherInstitution' };
    if (existing) {
      if (!inside(existing)) return { ok: false, reason: 'outsideInstitution' };
      const user = await this.users.findActiveById(existing.id);
      if (!user) return { ok: false, reason: 'inactive' };
      await this.createLink(p, id, user);
      return { ok: true, user, how: 'new-link' };
    }
    return this.fromRoster(p, id, units);
  }

  private async existingAccount(match: ProviderSettings['match'], value: string, units: Set<string>): Promise<SessionUser | undefined> {
    if (match === 'email') return this.users.findByEmail(value);
    // Employee ids are unique only within an institution, and national ids are the rosters' to
    // give: the provider's rosters say whose it is.
    const entries = this.services.has('roster.directory') ? await this.services.get('roster.directory').find([...units], match, value) : [];
    const ids = [...new Set(entries.map((e) => e.userId).filter((u): u is string => !!u && isValidObjectId(u)))];
    if (ids.length === 1) return this.users.findById(ids[0]);
    // An account holding the national id elsewhere is found too, to be refused as another institution's.
    return match === 'nationalId' && !entries.length ? this.users.findByNationalId(value) : undefined;
  }

  private async heldElsewhere(units: Set<string>, nationalId: string): Promise<boolean> {
    if (!this.services.has('roster.directory')) return false;
    const roster = this.services.get('roster.directory');
    // Someone on this institution's roster too (two posts) is this institution's person.
    if ((await roster.find([...units], 'nationalId', nationalId)).length) return false;
    return roster.heldElsewhere([...units], 'nationalId', nationalId);
  }

  /** Just-in-time account: only for exactly one active person on one of the provider's rosters. */
  private async fromRoster(p: ProviderSettings, id: VerifiedIdentity, units: Set<string>): Promise<LinkOutcome> {
    if (!this.services.has('roster.directory')) return { ok: false, reason: 'notOnRoster' };
    const roster = this.services.get('roster.directory');
    // The roster person by the provider's matching claim, else by a verified e-mail address.
    const claim = p.match !== 'email' ? claimValue(p.match, id) : undefined;
    const email = id.emailVerified ? id.email : undefined;
    if (!claim && !email) return { ok: false, reason: 'noClaim' };
    const entries = await roster.find([...units], claim ? (p.match as RosterKey) : 'email', claim ?? email!);
    if (entries.length !== 1) return { ok: false, reason: 'notOnRoster' };
    const entry = entries[0];
    let user: SessionUser | undefined;
    if (entry.userId) {
      user = await this.users.findActiveById(entry.userId);
      if (!user) return { ok: false, reason: 'inactive' };
    } else {
      try {
        user = await this.users.create({
          email: entry.email,
          name: entry.name,
          orgUnit: entry.unit,
          level: entry.level as never,
          tier: entry.tier,
          ...(id.nationalId && { nationalId: id.nationalId }),
        });
      } catch (err) {
        // The roster's address belongs to an account elsewhere: never take it over.
        if (err instanceof HttpError && err.status === 409) return { ok: false, reason: 'conflict' };
        throw err;
      }
      if (!(await roster.linkAccount(entry.id, user.id))) return { ok: false, reason: 'conflict' };
    }
    if (!user.orgUnit || !units.has(user.orgUnit)) return { ok: false, reason: 'outsideInstitution' };
    await this.createLink(p, id, user);
    return { ok: true, user, how: entry.userId ? 'new-link' : 'created' };
  }

  private async createLink(p: ProviderSettings, id: VerifiedIdentity, user: SessionUser): Promise<void> {
    const now = new Date();
    await this.links.updateOne(
      { _id: linkId(p.id, id.subject) },
      {
        $setOnInsert: { provider: p.id, subject: id.subject, userId: user.id, email: user.email, createdAt: now },
        $set: { lastUsedAt: now },
      },
      { upsert: true },
    );
  }

  async list(
    filter: { provider?: string; userId?: string; skip?: number; limit?: number } = {},
  ): Promise<{ links: IdentityLink[]; total: number }> {
    const q: Record<string, string> = {};
    if (filter.provider) q.provider = filter.provider;
    if (filter.userId) q.userId = filter.userId;
    const [links, total] = await Promise.all([
      this.links
        .find(q)
        .sort({ createdAt: -1, _id: 1 })
        .skip(filter.skip ?? 0)
        .limit(Math.min(filter.limit ?? 50, 200))
        .lean<IdentityLink[]>(),
      this.links.countDocuments(q),
    ]);
    return { links, total };
  }

  async remove(id: string): Promise<void> {
    const r = await this.links.deleteOne({ _id: String(id) });
    if (!r.deletedCount) throw localizedError(404, 'accounts:identity.noLink');
  }
}

function claimValue(match: ProviderSettings['match'], id: VerifiedIdentity): string | undefined {
  if (match === 'email') return id.emailVerified ? id.email?.trim().toLowerCase() || undefined : undefined;
  return (match === 'nationalId' ? id.nationalId : id.employeeId)?.trim() || undefined;
}
