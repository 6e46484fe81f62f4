import type { PersonalDataProvider } from '../../core/privacy';
import type { NotificationModels } from './notifications.model';

/** The e-mails sent to a person (to whom, subject, when, whether it failed) and their preferences. */
export function notificationsPersonalData(m: NotificationModels): PersonalDataProvider {
  return {
    holds: [
      { store: 'notifications_deliveries', purpose: 'notifications:personalData.deliveries', onErase: 'deleted' },
      { store: 'notifications_prefs', purpose: 'notifications:personalData.prefs', onErase: 'deleted' },
    ],
    async export({ userId }, archive) {
      archive.json('deliveries', await m.deliveries.find({ userId }).sort({ lastAttemptAt: 1 }).lean());
      archive.json('preferences', await m.prefs.findById(userId).lean());
    },
    async erase({ userId }) {
      await m.deliveries.deleteMany({ userId });
      await m.prefs.deleteOne({ _id: userId });
    },
  };
}
