/** The package formats the catalog knows, in detection order (a zip with both manifests is cmi5). */
import { cmi5Format } from './cmi5';
import type { PackageFormat } from './format';
import { scormFormat } from './scorm/format';

export const PACKAGE_FORMATS: readonly PackageFormat[] = [cmi5Format, scormFormat];

export * from './format';
