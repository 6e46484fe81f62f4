/**
 * The package-format seam: what the catalog needs of a course package format, so that cmi5,
 * SCORM (and later a plain resource or LTI) are each one folder. The catalog's own machinery
 * (zip checks, storage, versions, registrations, progress, moveOn, certificates) is shared; a
 * format only says how to recognise its packages, what they contain, how one of their units is
 * launched and how what it reports becomes progress.
 */
import type { SessionUser } from '../../../core/permissions';
import type { AuNode, CourseVersion, FormatId } from '../course.model';
import type { LaunchMode } from '../launch/cmi5';
import type { ParsedCourse } from '../package/course-structure';

export type { FormatId };

export interface DescribeOptions {
  source: 'zip' | 'xml';
  /** Names of the files in the zip (launch files must be among them). */
  files?: ReadonlySet<string>;
  maxAus?: number;
}

/** A parsed package: the course, its units as a structure of blocks and AUs, and its format. */
export interface DescribedCourse extends ParsedCourse {
  format: FormatId;
  formatVersion?: string;
}

export interface PackageFormat {
  readonly id: FormatId;
  /** Detect: the file at the zip's root that marks a package of this format. */
  readonly manifestName: string;
  /** The rule a zip entry problem breaks in this format (named in rejections). */
  readonly zipRule: string;
  /** Whether a manifest without a zip can be imported (cmi5 §14.2: a cmi5.xml of external AUs). */
  readonly standalone: boolean;
  /**
   * Validate and describe: checks the manifest against the format's rules (a PackageError naming
   * the rule and the place) and returns the course with its AUs/SCOs. Nothing is stored yet.
   */
  describe(manifest: Buffer, opts: DescribeOptions): Promise<DescribedCourse>;
}

/** What a format's launch is given once the catalog has checked the registration, the AU and the mode. */
export interface LaunchRequest {
  user: Pick<SessionUser, 'id' | 'language'> & { name?: string };
  registration: string;
  courseId: string;
  version: CourseVersion;
  au: AuNode;
  launchMode: LaunchMode;
}

export interface LaunchAnswer {
  url: string;
  launchMethod: 'AnyWindow' | 'OwnWindow';
  sessionId: string;
  launchMode: LaunchMode;
}

/** Launch and runtime of one format; mapping runtime data to progress is the format's own (see each). */
export interface FormatRuntime {
  /** Opens a session of the AU and answers the URL the browser goes to. Runs inside the registration's lock. */
  launch(r: LaunchRequest): Promise<LaunchAnswer>;
}

/** The format of a stored version (versions from before formats existed are cmi5). */
export const formatOf = (v: Pick<CourseVersion, 'format'>): FormatId => v.format ?? 'cmi5';
