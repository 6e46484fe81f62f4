/**
 * The catalog's part of a person's data: enrolments, progress, launch sessions and the "my path"
 * summary. Erasure moves enrolments, progress and sessions to the erasure's pseudonym (so course
 * and "trained" figures, and any recompute of them, stay true) and deletes the rest.
 */
import type { Model } from 'mongoose';
import type { PersonalDataProvider } from '../../core/privacy';
import type { FetchDoc, SessionDoc } from './launch/session.model';
import type { AttemptDoc } from './assessment/assessment.model';
import type { EnrollmentDoc } from './paths/paths.model';
import type { PersonDeadlineDoc } from './paths/person-deadlines';
import type { LearnerDoc, ProgressDoc, RegistrationDoc } from './progress/progress.model';

interface Models {
  enrollments: Model<EnrollmentDoc>;
  progress: Model<ProgressDoc>;
  registrations: Model<RegistrationDoc>;
  learners: Model<LearnerDoc>;
  sessions: Model<SessionDoc>;
  fetches: Model<FetchDoc>;
  attempts: Model<AttemptDoc>;
  personDeadlines: Model<PersonDeadlineDoc>;
}

export function catalogPersonalData(m: Models): PersonalDataProvider {
  /**
   * Documents keyed `${userId}:${courseId}` become `${pseudonym}:${courseId}`: write the new one,
   * then drop the old, so a crash at any point leaves something a re-run finishes. Enrolments'
   * registrations are unique: the old document's is first moved aside (a `~` suffix a re-run strips).
   */
  async function rekey<T extends { _id: string; userId: string; registration?: string }>(
    model: Model<T>,
    userId: string,
    pseudonym: string,
    uniqueRegistration = false,
  ) {
    for (const doc of await model.find({ userId } as never).lean<T[]>()) {
      const _id = doc._id.startsWith(`${userId}:`) ? `${pseudonym}${doc._id.slice(userId.length)}` : doc._id;
      const registration = doc.registration?.replace(/~$/, '');
      if (uniqueRegistration && registration && !doc.registration!.endsWith('~'))
        await model.updateOne({ _id: doc._id } as never, { $set: { registration: `${registration}~` } } as never);
      await model.replaceOne({ _id } as never, { ...doc, _id, userId: pseudonym, ...(registration && { registration }) } as never, {
        upsert: true,
      });
      if (_id !== doc._id) await model.deleteOne({ _id: doc._id } as never);
    }
  }

  return {
    holds: [
      { store: 'catalog_enrollments', purpose: 'catalog:personalData.enrollments', onErase: 'pseudonymised' },
      { store: 'catalog_progress', purpose: 'catalog:personalData.progress', onErase: 'pseudonymised' },
      { store: 'catalog_sessions, catalog_registrations', purpose: 'catalog:personalData.sessions', onErase: 'pseudonymised' },
      { store: 'catalog_learners, catalog_fetch', purpose: 'catalog:personalData.summary', onErase: 'deleted' },
      { store: 'catalog_attempts', purpose: 'catalog:personalData.attempts', onErase: 'pseudonymised' },
      { store: 'catalog_person_deadlines', purpose: 'catalog:personalData.deadline', onErase: 'deleted' },
    ],

    async export({ userId }, archive) {
      archive.json('enrollments', await m.enrollments.find({ userId }).sort({ createdAt: 1 }).lean());
      archive.json('progress', await m.progress.find({ userId }).sort({ _id: 1 }).lean());
      const sessions = await m.sessions.find({ userId }, { credentialId: 0, 'scorm.commitKeyHash': 0 }).sort({ launchedAt: 1 }).lean();
      archive.json('sessions', sessions);
      archive.json('assessment-attempts', await m.attempts.find({ userId }).sort({ createdAt: 1 }).lean());
      const learner = await m.learners.findById(userId).lean();
      if (learner) archive.json('my-path', JSON.parse(learner.courses) as unknown);
      archive.json('deadline', await m.personDeadlines.findById(userId).lean());
    },

    async erase({ userId, pseudonym }) {
      const sessions = await m.sessions.find({ userId }, { _id: 1 }).lean();
      // A pending fetch URL would still hand out the person's launch token.
      if (sessions.length) await m.fetches.deleteMany({ sessionId: { $in: sessions.map((s) => s._id) } });
      await m.sessions.updateMany({ userId }, { $set: { userId: pseudonym } });
      await m.attempts.updateMany({ userId }, { $set: { userId: pseudonym } });
      await m.registrations.updateMany({ userId }, { $set: { userId: pseudonym } });
      await rekey(m.enrollments, userId, pseudonym, true);
      await rekey(m.progress, userId, pseudonym);
      await m.learners.deleteOne({ _id: userId });
      await m.personDeadlines.deleteOne({ _id: userId });
    },
  };
}
