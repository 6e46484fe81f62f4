import { Schema, type Connection, type Model } from 'mongoose';

/** One verified identity (provider + subject) linked to one account. */
export interface IdentityLink {
  _id: string; // `${provider}:${subject}`: the sign-in looks a link up by `_id` alone
  provider: string;
  subject: string;
  userId: string;
  email?: string;
  createdAt: Date;
  lastUsedAt?: Date;
}

const linkSchema = new Schema<IdentityLink>(
  {
    _id: { type: String, required: true },
    provider: { type: String, required: true },
    subject: { type: String, required: true },
    userId: { type: String, required: true },
    email: String,
    createdAt: { type: Date, required: true },
    lastUsedAt: Date,
  },
  { collection: 'accounts_identity_links', versionKey: false },
);
// The admin page lists links by provider and by account.
linkSchema.index({ provider: 1, createdAt: -1 });
linkSchema.index({ userId: 1 });

export type LinkModel = Model<IdentityLink>;
export const linkModel = (db: Connection): LinkModel =>
  (db.models.AccountsIdentityLink as LinkModel) ?? db.model<IdentityLink>('AccountsIdentityLink', linkSchema);

export const linkId = (provider: string, subject: string) => `${provider}:${subject}`;
