/**
 * The reports plugin's part of a person's data: their roster rows, invitations, API tokens and
 * what the audit log records them doing. Erasure turns each roster row into an anonymous row
 * (unit, level, tier, trained and its dates, under the erasure's pseudonym) instead of deleting
 * it, so the dashboard's totals, its history and any later recompute stay true.
 */
import type { PersonalDataProvider } from '../../core/privacy';
import type { ImportModel, InviteModel } from './import.model';
import type { Person, PersonModel, UserLinkModel } from './person.model';
import type { ApiTokenModel, AuditModel } from './store.model';

interface Models {
  people: PersonModel;
  links: UserLinkModel;
  invites: InviteModel;
  imports: ImportModel;
  tokens: ApiTokenModel;
  audit: AuditModel;
}

export function reportsPersonalData(m: Models): PersonalDataProvider {
  return {
    holds: [
      { store: 'reports_people', purpose: 'reports:personalData.roster', onErase: 'anonymised' },
      { store: 'reports_invites', purpose: 'reports:personalData.invites', onErase: 'deleted' },
      { store: 'reports_api_tokens', purpose: 'reports:personalData.tokens', onErase: 'deleted' },
      { store: 'reports_audit, reports_imports', purpose: 'reports:personalData.audit', onErase: 'pseudonymised' },
    ],

    async export({ userId }, archive) {
      archive.json('roster', await m.people.find({ userId }).sort({ _id: 1 }).lean());
      archive.json('invitations', await m.invites.find({ userId }).sort({ createdAt: 1 }).lean());
      // The token's hash is its `_id`: not exported, it would only help someone guess the token.
      archive.json('api-tokens', await m.tokens.find({ userId }, { _id: 0 }).sort({ createdAt: 1 }).lean());
      archive.json('audit', await m.audit.find({ userId }, { _id: 0 }).sort({ at: 1 }).lean());
      // Roster files the person uploaded: what and when only; their row errors are about other people.
      archive.json(
        'roster-uploads',
        await m.imports
          .find({ userId }, { _id: 0, institution: 1, fileName: 1, status: 1, rows: 1, counts: 1, createdAt: 1, confirmedAt: 1 })
          .sort({ createdAt: 1 })
          .lean(),
      );
    },

    async erase({ userId, pseudonym }) {
      for (const row of await m.people.find({ userId }).lean<Person[]>()) {
        const _id = `${row.institution}:${pseudonym}`;
        const { position: _p, nationalId: _n, ...kept } = row;
        // The new anonymous row first, then its link, then the old row: every point of a crash is resumable.
        await m.people.replaceOne(
          { _id },
          { ...kept, _id, employeeId: pseudonym, name: '', email: '', userId: pseudonym, rowHash: '' },
          { upsert: true },
        );
        await m.links.updateOne({ _id: pseudonym }, { $addToSet: { people: _id } }, { upsert: true });
        await m.people.deleteOne({ _id: row._id });
      }
      // The old link named only the rows just replaced (their new ids are under the pseudonym).
      await m.links.deleteOne({ _id: userId });
      await m.invites.deleteMany({ userId });
      await m.tokens.deleteMany({ userId });
      await m.audit.updateMany({ userId }, { $set: { userId: pseudonym, email: '' } });
      await m.imports.updateMany({ userId }, { $set: { userId: pseudonym } });
    },
  };
}
