/** LRS credentials: admin-created clients and cmi5 launch tokens. */
import { Schema, type Connection, type Model } from 'mongoose';

export interface CredentialDoc {
  /** The public key: Basic-auth lookups are `_id` reads. */
  _id: string;
  name: string;
  secretHash: string;
  scopes: string[];
  kind: 'client' | 'launch';
  /** Launch data as JSON text (the catalog's free `meta` may hold any keys). */
  launch?: string;
  expires?: Date;
  revoked: boolean;
  created: Date;
}

const schema = new Schema<CredentialDoc>(
  {
    _id: String,
    name: { type: String, required: true },
    secretHash: { type: String, required: true },
    scopes: [String],
    kind: { type: String, enum: ['client', 'launch'], required: true },
    launch: String,
    expires: Date,
    revoked: { type: Boolean, default: false },
    created: Date,
  },
  { collection: 'lrs_credentials', versionKey: false },
);
// The admin list shows clients newest first; expired launch tokens are purged by `expires`.
schema.index({ kind: 1, created: -1 });
schema.index({ expires: 1 });

export const credentialModel = (db: Connection): Model<CredentialDoc> =>
  (db.models.LrsCredential as Model<CredentialDoc>) ?? db.model<CredentialDoc>('LrsCredential', schema);
