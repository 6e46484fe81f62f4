import { Schema, type Connection, type Model } from 'mongoose';
import type { CourseProvenance } from '../../core/contracts/catalog';

/** Text in several languages. An array, not an object keyed by language: keys may not contain '.' on FerretDB. */
export type LangMap = Array<{ lang: string; text: string }>;

export type MoveOn = 'Passed' | 'Completed' | 'CompletedAndPassed' | 'CompletedOrPassed' | 'NotApplicable';
export const MOVE_ON: readonly MoveOn[] = ['Passed', 'Completed', 'CompletedAndPassed', 'CompletedOrPassed', 'NotApplicable'];

export interface BlockNode {
  type: 'block';
  id: string;
  title: LangMap;
  description: LangMap;
  objectives?: string[];
  children: StructureNode[];
}

export interface AuNode {
  type: 'au';
  id: string;
  title: LangMap;
  description: LangMap;
  /** Absolute, or relative to the package root. */
  url: string;
  launchMethod: 'AnyWindow' | 'OwnWindow';
  moveOn: MoveOn;
  masteryScore?: number;
  launchParameters?: string;
  entitlementKey?: string;
  activityType?: string;
  objectives?: string[];
  /** SCORM only: what the SCO is given at launch (SCORM CAM `adlcp:*` of its item and resource). */
  scorm?: ScormAuData;
  /** Launchable only once this holds (SCORM prerequisites, its module's included): see prerequisites.ts. */
  prerequisites?: Prerequisite;
}

/** Node ids of the same course (units or modules) combined with and / or / not; an id holds once it is done. */
export type Prerequisite = { item: string } | { not: Prerequisite } | { all: Prerequisite[] } | { any: Prerequisite[] };

export interface ScormAuData {
  /** `sco` talks to the SCORM API; an `asset` is only shown (satisfied at registration). */
  scormType: 'sco' | 'asset';
  /** adlcp:dataFromLMS / adlcp:datafromlms → cmi.launch_data */
  launchData?: string;
  /** SCORM 2004 adlcp:completionThreshold → cmi.completion_threshold */
  completionThreshold?: number;
  /**
   * SCORM 2004 imsss:deliveryControls, set only when true (their default is false: the LMS then
   * completes, and satisfies, an attempt that ends without the SCO having said so).
   */
  completionSetByContent?: true;
  objectiveSetByContent?: true;
}

export type StructureNode = BlockNode | AuNode;

/** The package formats a course version can be in (absent on a version: cmi5, imported before formats existed). */
export type FormatId = 'cmi5' | 'scorm';

export interface Course {
  /** The course IRI (cmi5 `<course id>`). */
  _id: string;
  title: LangMap;
  description: LangMap;
  hours: number;
  /** YYYY-MM-DD from the package: when the content was last checked against its sources */
  reviewed?: string;
  tiers: string[];
  levels: string[];
  topics: string[];
  languages: string[];
  license?: string;
  credits?: string[];
  published: boolean;
  currentVersion: number;
  /** Set when the course was imported from another institution's feed. */
  provenance?: CourseProvenance;
  createdAt: Date;
  updatedAt: Date;
}

export interface CourseVersion {
  /** `${courseIri}#v${n}` */
  _id: string;
  courseId: string;
  version: number;
  /** Storage key of the package's files. */
  packageId: string;
  source: 'zip' | 'xml';
  /** cmi5 when absent. */
  format?: FormatId;
  /** The format's edition, e.g. SCORM "1.2" or "2004 4th Edition". */
  formatVersion?: string;
  importedAt: Date;
  importedBy?: string;
  /** sha256 of the imported file: the same file imported twice is recognised. */
  sha256: string;
  auCount: number;
  /** The course's top-level children, in order. */
  structure: StructureNode[];
}

const langMap = { type: [{ _id: false, lang: String, text: String }], default: [] };

const courseSchema = new Schema<Course>(
  {
    _id: { type: String, required: true },
    title: langMap,
    description: langMap,
    hours: { type: Number, default: 0, min: 0 },
    reviewed: String,
    tiers: { type: [String], default: [] },
    levels: { type: [String], default: [] },
    topics: { type: [String], default: [] },
    languages: { type: [String], default: [] },
    license: String,
    credits: { type: [String], default: undefined },
    published: { type: Boolean, default: false },
    currentVersion: { type: Number, required: true, min: 1 },
    provenance: {
      type: { _id: false, origin: String, publisher: String, originVersion: Number, license: String, sha256: String, importedAt: Date },
      default: undefined,
    },
  },
  { collection: 'catalog_courses', timestamps: true, versionKey: false },
);
// The learner catalog lists published courses; paths look courses up by tier.
courseSchema.index({ published: 1 });
courseSchema.index({ tiers: 1 });

const versionSchema = new Schema<CourseVersion>(
  {
    _id: { type: String, required: true },
    courseId: { type: String, required: true },
    version: { type: Number, required: true, min: 1 },
    packageId: { type: String, required: true },
    source: { type: String, enum: ['zip', 'xml'], required: true },
    format: { type: String, enum: ['cmi5', 'scorm'] },
    formatVersion: String,
    importedAt: { type: Date, required: true },
    importedBy: String,
    sha256: { type: String, required: true },
    auCount: { type: Number, required: true },
    // The tree is validated on import; a Mixed path keeps mongoose from re-casting thousands of nodes.
    structure: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'catalog_course_versions', versionKey: false },
);
// Versions are read by `_id` (course IRI + number); MongoDB also serves "versions of a course" by this index.
versionSchema.index({ courseId: 1, version: 1 }, { unique: true });
// The content route resolves a package to its version only in admin views; serving reads storage directly.
versionSchema.index({ packageId: 1 });

export type CourseModel = Model<Course>;
export type CourseVersionModel = Model<CourseVersion>;

export function courseModel(db: Connection): CourseModel {
  return (db.models.CatalogCourse as CourseModel) ?? db.model<Course>('CatalogCourse', courseSchema);
}

export function courseVersionModel(db: Connection): CourseVersionModel {
  return (db.models.CatalogCourseVersion as CourseVersionModel) ?? db.model<CourseVersion>('CatalogCourseVersion', versionSchema);
}
