/**
 * `npm run content:build [-- --force] [--src DIR] [--out DIR]`: builds every course in
 * content/courses into cmi5 packages under content/build (git-ignored).
 */
import { parseArgs } from 'node:util';
import { buildLibrary, DEFAULT_OUT, DEFAULT_SRC } from './build-library';
import { CourseSourceError } from './load-course';

const { values } = parseArgs({
  options: { force: { type: 'boolean', default: false }, src: { type: 'string' }, out: { type: 'string' } },
});

buildLibrary({ src: values.src ?? DEFAULT_SRC, out: values.out ?? DEFAULT_OUT, force: values.force, log: (l) => console.log(l) }).then(
  (m) => {
    console.log(`${m.courses.length} course package(s) in ${values.out ?? DEFAULT_OUT}`);
    if (m.errors?.length) {
      console.error(`${m.errors.length} course(s) not built, see the errors above.`);
      process.exitCode = 1;
    }
  },
  (err: unknown) => {
    if (err instanceof CourseSourceError) {
      console.error(`content:build failed:\n${err.message}`);
      process.exit(1);
    }
    throw err;
  },
);
