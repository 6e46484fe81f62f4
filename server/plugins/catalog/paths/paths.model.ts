import { Schema, type Connection, type Model } from 'mongoose';

/** catalog_tiers: the role tiers of this deployment (seeded from core DEFAULT_TIERS), `_id` = tier code. */
export interface TierDoc {
  _id: string;
  order: number;
  /** Labels for tiers an admin adds; the default tiers use core:tiers.* strings. */
  label: Array<{ lang: string; text: string }>;
}
const tierSchema = new Schema<TierDoc>(
  {
    _id: { type: String, required: true },
    order: { type: Number, default: 50 },
    label: { type: [{ _id: false, lang: String, text: String }], default: [] },
  },
  { collection: 'catalog_tiers', versionKey: false },
);
tierSchema.index({ order: 1 });

/**
 * catalog_paths: the required courses of a tier (`_id` = tier) or of a tier at one level of
 * government (`_id` = `tier:level`, which overrides the general one). Read by `_id` only.
 */
export interface PathDoc {
  _id: string;
  tier: string;
  level?: string;
  courses: string[];
  /** The date by which the people of this path must have satisfied its courses (end of that day). */
  dueAt?: Date;
  updatedAt: Date;
  updatedBy?: string;
}
const pathSchema = new Schema<PathDoc>(
  {
    _id: { type: String, required: true },
    tier: { type: String, required: true },
    level: { type: String },
    courses: { type: [String], default: [] },
    dueAt: { type: Date },
    updatedAt: { type: Date, default: Date.now },
    updatedBy: { type: String },
  },
  { collection: 'catalog_paths', versionKey: false },
);
// The admin page lists all paths of a tier; reports list paths that contain a course.
pathSchema.index({ tier: 1, level: 1 });
pathSchema.index({ courses: 1 });

/** catalog_enrollments: `_id` = `${userId}:${courseId}`; the version is fixed when the learner enrols. */
export interface EnrollmentDoc {
  _id: string;
  userId: string;
  courseId: string;
  courseVersion: number;
  registration: string;
  source: 'path' | 'self';
  createdAt: Date;
}
const enrollmentSchema = new Schema<EnrollmentDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    courseId: { type: String, required: true },
    courseVersion: { type: Number, required: true },
    registration: { type: String, required: true },
    source: { type: String, enum: ['path', 'self'], required: true },
    createdAt: { type: Date, default: Date.now },
  },
  { collection: 'catalog_enrollments', versionKey: false },
);
// Per-course lists (admin, reports) and registration lookups on MongoDB.
enrollmentSchema.index({ courseId: 1, userId: 1 });
enrollmentSchema.index({ registration: 1 }, { unique: true });

export function pathModels(db: Connection) {
  return {
    tiers: (db.models.CatalogTier as Model<TierDoc>) ?? db.model<TierDoc>('CatalogTier', tierSchema),
    paths: (db.models.CatalogPath as Model<PathDoc>) ?? db.model<PathDoc>('CatalogPath', pathSchema),
    enrollments: (db.models.CatalogEnrollment as Model<EnrollmentDoc>) ?? db.model<EnrollmentDoc>('CatalogEnrollment', enrollmentSchema),
  };
}
export type PathModels = ReturnType<typeof pathModels>;
