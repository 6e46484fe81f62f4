import type { PersonalDataProvider } from '../../core/privacy';
import type { Runtime } from '../../core/plugin';
import type { UsersService } from './users.service';

/** The account itself, and the browser sessions signed in with it. */
export function accountsPersonalData(users: UsersService, sessions: Runtime['sessions']): PersonalDataProvider {
  return {
    holds: [
      { store: 'accounts_users', purpose: 'accounts:personalData.account', onErase: 'deleted' },
      { store: 'core_sessions', purpose: 'accounts:personalData.sessions', onErase: 'deleted' },
    ],
    async export(subject, archive) {
      const account = await users.record(subject.userId);
      if (account) archive.json('account', account);
    },
    async erase(subject) {
      await users.remove(subject.userId);
      await sessions.endFor(subject.userId);
    },
  };
}
