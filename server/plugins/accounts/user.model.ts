import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { ROLES } from '../../core/permissions';
import { LEVELS } from '../../core/taxonomy';
import { SUPPORTED_LANGUAGES } from '../../core/config';

const userSchema = new Schema(
  {
    email: { type: String, required: true, lowercase: true, trim: true, maxlength: 254 },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    nationalId: { type: String, trim: true, maxlength: 64 },
    /** Code of the person's org unit (institution or unit); the reports plugin owns the tree. */
    orgUnit: { type: String, trim: true, maxlength: 64 },
    level: { type: String, enum: LEVELS },
    tier: { type: String, trim: true, maxlength: 64 },
    role: { type: String, enum: ROLES, required: true, default: 'learner' },
    language: { type: String, enum: SUPPORTED_LANGUAGES, default: 'es' },
    active: { type: Boolean, default: true },
    /** When the account was last deactivated: the retention period counts from here. */
    deactivatedAt: { type: Date },
    passwordHash: { type: String },
    failedLogins: { type: Number, default: 0 },
    lockedUntil: { type: Date },
    lastLoginAt: { type: Date },
  },
  { collection: 'accounts_users', timestamps: true },
);
// Login looks users up by email; the admin list filters by role and org unit.
userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ orgUnit: 1, role: 1 });
userSchema.index({ role: 1, active: 1 });
// Sign-in with an identity provider may link by national id.
userSchema.index({ nationalId: 1 });

export type UserDoc = InferSchemaType<typeof userSchema> & { _id: import('mongoose').Types.ObjectId };
export type UserModel = Model<InferSchemaType<typeof userSchema>>;

export function userModel(db: Connection): UserModel {
  return (db.models.AccountsUser as UserModel) ?? db.model('AccountsUser', userSchema);
}

const setupSchema = new Schema(
  {
    _id: { type: String },
    tokenHash: { type: String, required: true },
    createdAt: { type: Date, default: Date.now },
  },
  { collection: 'accounts_setup', versionKey: false },
);
export type SetupModel = Model<InferSchemaType<typeof setupSchema>>;
export function setupModel(db: Connection): SetupModel {
  return (db.models.AccountsSetup as SetupModel) ?? db.model('AccountsSetup', setupSchema);
}
