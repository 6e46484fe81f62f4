import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../../server/core/config';
import { testDbUri } from '../helpers';
import { testRun } from '../setup';
import { builtLibrary } from './library';

describe('content library: npm run lms -- content:install', function () {
  this.timeout(240_000);
  const env: NodeJS.ProcessEnv = { ...process.env, DB_NAME: `t_${randomBytes(5).toString('hex')}`, LOG_LEVEL: 'silent' };
  const lms = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(path.join(ROOT, 'node_modules/.bin/tsx'), ['server/cli.ts', ...args], { cwd: ROOT, env }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  before(() => {
    env.MONGODB_URI = testDbUri();
    env.DATA_DIR = testRun.dataDir;
    env.CONTENT_BUILD_DIR = mkdtempSync(path.join(os.tmpdir(), 'content-cli-'));
  });

  it('installs every library course published, then reports nothing new on a second run', async () => {
    const library = await builtLibrary();
    const first = await lms('content:install');
    expect(first.stderr).to.equal('');
    expect(first.code).to.equal(0);
    expect(first.stdout).to.match(
      new RegExp(`^${library.courses.length} library course\\(s\\): ${library.courses.length} new version\\(s\\)`, 'm'),
    );

    const second = await lms('content:install');
    expect(second.code).to.equal(0);
    expect(second.stdout).to.match(
      new RegExp(`^${library.courses.length} library course\\(s\\): 0 new version\\(s\\), 0 path assignment`, 'm'),
    );

    const list = JSON.parse((await lms('course:list', '--json')).stdout) as Array<{ id: string; version: number; published: boolean }>;
    for (const c of library.courses) expect(list.find((x) => x.id === c.id)).to.include({ version: 1, published: true });
  });
});
