import type { RosterDirectory, RosterEntry, RosterKey } from '../../core/contracts/roster';
import type { Person, PersonModel, UserLinkModel } from './person.model';
import type { TrainedService } from './trained.service';

const FIELDS = { institution: 1, employeeId: 1, name: 1, email: 1, unit: 1, level: 1, tier: 1, userId: 1 } as const;

/** The rosters as the sign-in with an identity provider sees them (`roster.directory`). */
export class RosterDirectoryService implements RosterDirectory {
  constructor(
    private readonly people: PersonModel,
    private readonly links: UserLinkModel,
    private readonly trained: TrainedService,
  ) {}

  async find(units: string[], key: RosterKey, value: string): Promise<RosterEntry[]> {
    const v = String(value).trim();
    if (!v || !units.length) return [];
    const filter = { active: true, unit: { $in: units }, [key]: key === 'email' ? v.toLowerCase() : v };
    const docs = await this.people.find(filter, FIELDS).limit(10).lean<Person[]>();
    return docs.map((p) => ({
      id: p._id,
      institution: p.institution,
      employeeId: p.employeeId,
      name: p.name,
      email: p.email,
      unit: p.unit,
      level: p.level,
      tier: p.tier,
      ...(p.userId && { userId: p.userId }),
    }));
  }

  async heldElsewhere(units: string[], key: RosterKey, value: string): Promise<boolean> {
    const v = String(value).trim();
    if (!v) return false;
    return !!(await this.people.exists({ active: true, unit: { $nin: units }, [key]: key === 'email' ? v.toLowerCase() : v }));
  }

  async linkAccount(personId: string, userId: string): Promise<boolean> {
    // Conditional on no account yet, so two simultaneous first sign-ins cannot both link.
    const r = await this.people.updateOne({ _id: personId, userId: { $exists: false } }, { $set: { userId } });
    if (!r.modifiedCount) return false;
    await this.links.updateOne({ _id: userId }, { $addToSet: { people: personId } }, { upsert: true });
    await this.trained.onProgress(userId);
    return true;
  }
}
