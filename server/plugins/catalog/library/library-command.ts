import type { CliCommand, Runtime } from '../../../core/plugin';
import { installLibrary } from './install-library';

/** `npm run lms -- content:install [--rebuild]` */
export const contentInstallCommand: CliCommand = {
  name: 'content:install',
  description: 'build (if changed) and install the built-in course library; idempotent',
  options: [{ flags: '--rebuild', description: 'rebuild every package even if its sources did not change', default: false }],
  async run(rt, opts) {
    const report = await installLibrary(rt, { forceBuild: Boolean(opts.rebuild), log: (l) => console.log(l) });
    const fresh = report.courses.filter((c) => !c.alreadyInstalled).length;
    console.log(`${report.courses.length} library course(s): ${fresh} new version(s), ${report.pathsAdded} path assignment(s) added.`);
    for (const e of report.errors) console.error(`error: ${e.course}: ${e.message}`);
    return report.errors.length ? 1 : 0;
  },
};

/**
 * First start: install the library unless CONTENT_LIBRARY=off. A broken course is logged,
 * never a reason for the server not to start.
 */
export async function installLibraryOnStart(rt: Runtime): Promise<void> {
  if (rt.config.env.CONTENT_LIBRARY === 'off') return;
  try {
    const report = await installLibrary(rt);
    const fresh = report.courses.filter((c) => !c.alreadyInstalled);
    if (fresh.length) rt.log.info(`Course library: installed ${fresh.map((c) => `${c.slug} v${c.version}`).join(', ')}.`);
    for (const e of report.errors) rt.log.warn(`Course library: ${e.course} not installed: ${e.message}`);
  } catch (err) {
    rt.log.error({ err }, 'Course library installation failed');
  }
}
