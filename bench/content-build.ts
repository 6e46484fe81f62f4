/**
 * `npm run bench:content`: builds the whole course library from scratch (time), then prints
 * what each AU page transfers (gzip level 9, as with compression on): page + runtime.js +
 * runtime.css + the largest language fragment a pt/en learner also loads. Budget: 200 KB.
 */
import { mkdtempSync, readdirSync, existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildLibrary, DEFAULT_SRC } from '../content/tools/build-library';

const gz = (f: string) => gzipSync(readFileSync(f), { level: 9 }).length;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-content-'));
  const t0 = process.hrtime.bigint();
  const m = await buildLibrary({ src: DEFAULT_SRC, out, force: true });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const t1 = process.hrtime.bigint();
  await buildLibrary({ src: DEFAULT_SRC, out });
  const cachedMs = Number(process.hrtime.bigint() - t1) / 1e6;
  console.log(`courses built: ${m.courses.length} (${m.errors?.length ?? 0} with errors)`);
  console.log(`full build: ${ms.toFixed(0)} ms; unchanged rebuild (hash check only): ${cachedMs.toFixed(0)} ms`);
  if (!m.courses.length) return;
  const first = m.courses[0].dir;
  console.log(
    `runtime.js: ${kb(statSync(path.join(first, 'runtime.js')).size)} raw, ${kb(gz(path.join(first, 'runtime.js')))} gzip; runtime.css: ${kb(gz(path.join(first, 'runtime.css')))} gzip`,
  );
  const weights: Array<[string, number]> = [];
  for (const c of m.courses) {
    const langs = /<meta:languages>([^<]*)</.exec(readFileSync(path.join(c.dir, 'cmi5.xml'), 'utf8'))![1].split(' ');
    for (const au of readdirSync(c.dir).filter((d) => existsSync(path.join(c.dir, d, 'index.html')))) {
      const frag = Math.max(0, ...langs.filter((l) => l !== 'es').map((l) => gz(path.join(c.dir, au, `${l}.html`))));
      weights.push([
        `${c.slug}/${au}`,
        gz(path.join(c.dir, au, 'index.html')) + gz(path.join(c.dir, 'runtime.js')) + gz(path.join(c.dir, 'runtime.css')) + frag,
      ]);
    }
    console.log(`${c.slug}.zip: ${kb(statSync(c.zip).size)}`);
  }
  weights.sort((a, b) => b[1] - a[1]);
  const avg = weights.reduce((s, [, w]) => s + w, 0) / weights.length;
  console.log(
    `AU pages: ${weights.length}; transferred per page: max ${kb(weights[0][1])} (${weights[0][0]}), min ${kb(weights.at(-1)![1])}, mean ${kb(avg)}; budget 200 KB`,
  );
}

void main();
