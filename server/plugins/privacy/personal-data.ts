import type { PersonalDataProvider } from '../../core/privacy';
import type { PrivacyModels } from './privacy.model';
import { erasureId } from './privacy.service';

/** This plugin's own records about people: the privacy audit log (exports and erasures). */
export function privacyPersonalData(m: PrivacyModels): PersonalDataProvider {
  return {
    holds: [{ store: 'privacy_audit', purpose: 'privacy:personalData.audit', onErase: 'pseudonymised' }],
    async export({ userId }, archive) {
      const entries = await m.audit
        .find({ $or: [{ subject: userId }, { actorId: userId }] }, { _id: 0 })
        .sort({ at: 1 })
        .lean();
      // What the person did to someone else's data names that someone: only the action is theirs.
      archive.json(
        'audit',
        entries.map((e) => (e.subject === userId ? e : { ...e, subject: undefined })),
      );
    },
    async erase({ userId, pseudonym }) {
      await m.audit.updateMany({ subject: userId }, { $set: { subject: erasureId(userId) } });
      await m.audit.updateMany({ actorId: userId }, { $set: { actorId: pseudonym } });
    },
  };
}
