import type { PersonalDataProvider } from '../privacy';
import type { Outbox } from './outbox';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The outbox holds copies of events about people while they are delivered, and the ids of
 * delivered ones (which name the person's account) for a few days. An erasure first lets pending
 * deliveries finish (so none lands after a plugin's step and writes the person back), and, as
 * its last step, forgets whatever still names them.
 */
export function outboxPersonalData(outbox: Outbox, settle: () => Promise<void>): PersonalDataProvider {
  return {
    holds: [{ store: 'core_outbox, core_outbox_done', purpose: 'core:personalData.events', onErase: 'deleted' }],
    // Transient copies of what the plugins' own exports contain.
    async export() {},
    async erase({ userId, email }) {
      await settle();
      const names = { $regex: `${escapeRegex(userId)}|${escapeRegex(email)}`, $options: 'i' };
      await outbox.m.entries.deleteMany({ $or: [{ _id: names }, { payload: names }] });
      await outbox.m.done.deleteMany({ _id: names });
    },
  };
}
