/**
 * `npm run content:preview [-- --port 3360]`: builds the library and serves it, so a training
 * officer can read every page in a browser before installing. Pages open without an LMS, so
 * they say progress is not recorded; everything else works as for learners.
 */
import { parseArgs } from 'node:util';
import { buildLibrary, DEFAULT_OUT } from './build-library';
import { dirServer } from './serve-content';

const { values } = parseArgs({ options: { port: { type: 'string', default: '3360' } } });

async function main(): Promise<void> {
  const m = await buildLibrary({ log: (l) => console.log(l) });
  const server = await dirServer({ build: DEFAULT_OUT }, Number(values.port));
  console.log(`\nPreview at ${server.url}/build/<course>/<lesson-1|...|assessment>/index.html :`);
  for (const c of m.courses) console.log(`  ${server.url}/build/${c.slug}/lesson-1/index.html`);
  for (const e of m.errors ?? []) console.error(`not built: ${e.message}`);
  console.log('Ctrl+C to stop.');
}

void main();
