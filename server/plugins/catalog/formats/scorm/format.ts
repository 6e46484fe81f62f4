/**
 * SCORM 1.2 and 2004 (3rd/4th Edition) as a package format: a zip (SCORM's PIF) with
 * imsmanifest.xml at its root. Its runtime is in this folder too: launch with the SCORM API
 * (runtime.ts), commits of CMI data turned into progress and xAPI statements (commit.ts).
 */
import type { PackageFormat } from '../format';
import { MANIFEST, parseManifest } from './manifest';

export const scormFormat: PackageFormat = {
  id: 'scorm',
  manifestName: MANIFEST,
  zipRule: 'SCORM CAM §3.2 (PIF)',
  standalone: false,
  describe: (manifest, opts) => parseManifest(manifest, opts),
};
