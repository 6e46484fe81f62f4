/**
 * cmi5 as a package format: `cmi5.xml` at the zip's root (or alone, for external AUs), validated
 * by the course-structure reader. Its launch and runtime are the catalog's cmi5 launch service
 * (launch/), which maps the AU's own xAPI statements to progress in the LRS hooks.
 */
import { parseCourseStructure } from '../package/course-structure';
import type { PackageFormat } from './format';

export const cmi5Format: PackageFormat = {
  id: 'cmi5',
  manifestName: 'cmi5.xml',
  zipRule: 'cmi5 §14.1 (zip)',
  standalone: true,
  async describe(manifest, opts) {
    return { ...(await parseCourseStructure(manifest, opts)), format: 'cmi5' };
  },
};
