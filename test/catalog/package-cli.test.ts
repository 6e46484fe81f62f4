import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../../server/core/config';
import { testDbUri } from '../helpers';
import { testRun } from '../setup';
import { COURSE, courseXml, META, validZip, writeZip } from './fixtures/packages';

describe('catalog: course:import and course:list commands', function () {
  this.timeout(240_000);
  let dir: string;
  const env = { ...process.env, MONGODB_URI: '', DB_NAME: `t_${randomBytes(5).toString('hex')}`, DATA_DIR: '', LOG_LEVEL: 'silent' };

  const lms = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(path.join(ROOT, 'node_modules/.bin/tsx'), ['server/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  before(() => {
    env.MONGODB_URI = testDbUri();
    env.DATA_DIR = testRun.dataDir;
    dir = mkdtempSync(path.join(os.tmpdir(), 'catalog-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and prints the course id when the package is accepted, and lists it as JSON', async () => {
    const zip = await validZip(dir, 'ok.zip', { id: `${COURSE}/cli`, meta: META });
    const r = await lms('course:import', zip);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.equal(`${COURSE}/cli (version 1, 1 AU)`);
    const list = await lms('course:list', '--json');
    expect(list.code).to.equal(0);
    const courses = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    expect(courses.map((c) => c.id)).to.include(`${COURSE}/cli`);
    expect(courses.find((c) => c.id === `${COURSE}/cli`)).to.include({ version: 1, published: false, hours: 3 });
  });

  it('exits non-zero with the rule and the place when the package is rejected', async () => {
    const bad = await writeZip(path.join(dir, 'bad.zip'), [{ name: 'content/cmi5.xml', data: courseXml({ id: `${COURSE}/cli-bad` }) }]);
    const r = await lms('course:import', bad);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/cmi5 §14: cmi5\.xml must be at the root of the zip, but it was found at "content\/cmi5\.xml"/);
    const missing = await lms('course:import', path.join(dir, 'nope.zip'));
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/no such file/);
    const list = JSON.parse((await lms('course:list', '--json')).stdout) as Array<{ id: string }>;
    expect(list.map((c) => c.id)).to.not.include(`${COURSE}/cli-bad`);
  });
});
