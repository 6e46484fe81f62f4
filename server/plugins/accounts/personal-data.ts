import type { PersonalDataProvider } from '../../core/privacy';
import type { Runtime } from '../../core/plugin';
import type { UsersService } from './users.service';
import type { Identity } from './identity/identity';

/** The account itself, the browser sessions signed in with it, its linked identities and recovery links. */
export function accountsPersonalData(users: UsersService, sessions: Runtime['sessions'], identity: Identity): PersonalDataProvider {
  return {
    holds: [
      { store: 'accounts_users', purpose: 'accounts:personalData.account', onErase: 'deleted' },
      { store: 'core_sessions', purpose: 'accounts:personalData.sessions', onErase: 'deleted' },
      { store: 'accounts_identity_links', purpose: 'accounts:personalData.identityLinks', onErase: 'deleted' },
      { store: 'accounts_password_resets', purpose: 'accounts:personalData.passwordResets', onErase: 'deleted' },
      // Keyed by a hash of an address or a browser, never by the account: nothing to export or
      // find for one person; each count is deleted when its window (at most LOGIN_LOCK_MINUTES) ends.
      { store: 'accounts_sign_in_counters', purpose: 'accounts:personalData.signInCounters', onErase: 'deleted' },
    ],
    async export(subject, archive) {
      const account = await users.record(subject.userId);
      if (account) archive.json('account', account);
      const { links } = await identity.linker.list({ userId: subject.userId, limit: 200 });
      if (links.length)
        archive.json(
          'identity-links',
          links.map(({ provider, subject: sub, createdAt, lastUsedAt }) => ({ provider, subject: sub, createdAt, lastUsedAt })),
        );
    },
    async erase(subject) {
      await identity.forget(subject.userId);
      await users.remove(subject.userId);
      await sessions.endFor(subject.userId);
    },
  };
}
