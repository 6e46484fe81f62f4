import path from 'node:path';
import type { CliCommand } from '../../../core/plugin';
import { HttpError } from '../../../core/errors';
import { PackageError } from './package-error';

/** `course:import FILE` and `course:list`: exit 0 with the course id when accepted, 1 with the reason when not. */
export const packageCommands: CliCommand[] = [
  {
    name: 'course:import',
    description:
      'import a course package: cmi5 (.zip, or a cmi5.xml referencing external AUs) or SCORM 1.2/2004 (.zip), detected from its manifest; a known course gets a new version',
    args: '<file>',
    options: [{ flags: '--json', description: 'print the result as JSON' }],
    async run(rt, o, args) {
      const file = path.resolve(args[0]);
      try {
        const r = await rt.services.get('catalog.courses').importPackage({ filePath: file, originalName: path.basename(file) });
        if (o.json) console.log(JSON.stringify(r));
        else if (r.alreadyInstalled) console.log(`${r.courseId} (version ${r.version} already installed, nothing changed)`);
        else if (r.format === 'scorm')
          console.log(`${r.courseId} (version ${r.version}, SCORM, ${r.auCount} SCO${r.auCount === 1 ? '' : 's'})`);
        else console.log(`${r.courseId} (version ${r.version}, ${r.auCount} AU${r.auCount === 1 ? '' : 's'})`);
        return 0;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          console.error(`error: no such file ${file}`);
          return 2;
        }
        if (!(err instanceof HttpError)) throw err;
        console.error(`error: ${err.message}`);
        if (err instanceof PackageError && err.problems.length > 1)
          for (const d of err.options.details as string[]) console.error(`  - ${d}`);
        return 1;
      }
    },
  },
  {
    name: 'course:list',
    description: 'list installed courses',
    options: [{ flags: '--json', description: 'machine-readable output' }],
    async run(rt, o) {
      const courses = await rt.services.get('catalog.courses').listCourses();
      if (o.json) {
        console.log(
          JSON.stringify(
            courses.map((c) => ({
              id: c._id,
              title: c.title,
              version: c.currentVersion,
              published: c.published,
              hours: c.hours,
              tiers: c.tiers,
              levels: c.levels,
              topics: c.topics,
              languages: c.languages,
            })),
            null,
            2,
          ),
        );
        return 0;
      }
      if (!courses.length) console.log('no courses installed');
      for (const c of courses) {
        const title = (c.title.find((t) => t.lang.startsWith('es')) ?? c.title[0])?.text ?? '';
        console.log(`${c.published ? 'published  ' : 'unpublished'}  v${String(c.currentVersion).padEnd(3)} ${c._id}  ${title}`);
      }
      return 0;
    },
  },
];
