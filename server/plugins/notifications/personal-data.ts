import type { Model } from 'mongoose';
import type { PersonalDataProvider } from '../../core/privacy';
import type { NoticeDoc } from './inbox';
import type { NotificationModels } from './notifications.model';

/** The e-mails sent to a person (to whom, subject, when, whether it failed), their in-app notices and their preferences. */
export function notificationsPersonalData(m: NotificationModels, inbox: Model<NoticeDoc>): PersonalDataProvider {
  return {
    holds: [
      { store: 'notifications_deliveries', purpose: 'notifications:personalData.deliveries', onErase: 'deleted' },
      { store: 'notifications_prefs', purpose: 'notifications:personalData.prefs', onErase: 'deleted' },
      { store: 'notifications_inbox', purpose: 'notifications:personalData.inbox', onErase: 'deleted' },
    ],
    async export({ userId }, archive) {
      archive.json('deliveries', await m.deliveries.find({ userId }).sort({ lastAttemptAt: 1 }).lean());
      archive.json('preferences', await m.prefs.findById(userId).lean());
      archive.json('notices', await inbox.find({ userId }).sort({ createdAt: 1, _id: 1 }).lean());
    },
    async erase({ userId }) {
      await m.deliveries.deleteMany({ userId });
      await m.prefs.deleteOne({ _id: userId });
      await inbox.deleteMany({ userId });
    },
  };
}
