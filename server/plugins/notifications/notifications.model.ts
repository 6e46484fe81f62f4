import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The kinds of notification: each can be turned off by a person (preferences page, unsubscribe
 * link) and by an institution for all its people (its administrator or HR).
 */
export const KINDS = ['reminders', 'digest', 'completion', 'certificate'] as const;
export type Kind = (typeof KINDS)[number];

/**
 * notifications_deliveries: one document per e-mail the platform decided to send, `_id` = its
 * natural key (`reminder:<user>:<stage>:<due day>[:<repeat>]`, `digest:<user>:<period>`,
 * `completion:<user>:<registration>`, `certificate:<code>`), so a job run twice, an event delivered
 * again, or two processes, send it once. A failed one is retried at the next run, up to
 * MAX_ATTEMPTS, and meanwhile listed on the admin home page.
 */
export interface DeliveryDoc {
  _id: string;
  userId: string;
  kind: Kind;
  to: string;
  subject: string;
  status: 'sent' | 'failed';
  attempts: number;
  error?: string;
  lastAttemptAt: Date;
  sentAt?: Date;
}
const deliverySchema = new Schema<DeliveryDoc>(
  {
    _id: String,
    userId: { type: String, required: true },
    kind: { type: String, required: true },
    to: String,
    subject: String,
    status: { type: String, required: true },
    attempts: { type: Number, default: 0 },
    error: String,
    lastAttemptAt: Date,
    sentAt: Date,
  },
  { collection: 'notifications_deliveries', versionKey: false },
);
// The admin home lists failed ones; a person's export and erasure find theirs.
deliverySchema.index({ status: 1, lastAttemptAt: -1 });
deliverySchema.index({ userId: 1 });

/** notifications_prefs: `_id` = account id; the kinds the person turned off (absent = all on). */
export interface PrefsDoc {
  _id: string;
  off: Kind[];
  updatedAt: Date;
}
const prefsSchema = new Schema<PrefsDoc>(
  { _id: String, off: { type: [String], default: [] }, updatedAt: Date },
  { collection: 'notifications_prefs', versionKey: false },
);

/**
 * notifications_institutions: `_id` = an institution's org unit code; the kinds switched off for
 * everyone in it (absent = all on). Not personal data: it says nothing about a person.
 */
export interface InstitutionDoc {
  _id: string;
  off: Kind[];
  updatedAt: Date;
}
const institutionSchema = new Schema<InstitutionDoc>(
  { _id: String, off: { type: [String], default: [] }, updatedAt: Date },
  { collection: 'notifications_institutions', versionKey: false },
);

export function notificationModels(db: Connection) {
  return {
    institutions:
      (db.models.NotificationsInstitution as Model<InstitutionDoc>) ??
      db.model<InstitutionDoc>('NotificationsInstitution', institutionSchema),
    deliveries: (db.models.NotificationsDelivery as Model<DeliveryDoc>) ?? db.model<DeliveryDoc>('NotificationsDelivery', deliverySchema),
    prefs: (db.models.NotificationsPrefs as Model<PrefsDoc>) ?? db.model<PrefsDoc>('NotificationsPrefs', prefsSchema),
  };
}
export type NotificationModels = ReturnType<typeof notificationModels>;
