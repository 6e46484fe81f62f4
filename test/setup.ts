/**
 * Root hooks: one fresh embedded FerretDB per test run, in a temporary data dir that is removed
 * afterwards. Each test app gets its own database on it (see helpers.ts), so files are isolated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEngine, type RunningEngine } from '../server/core/db/engine';

export const testRun: { dataDir: string; engine?: RunningEngine } = {
  dataDir: mkdtempSync(path.join(os.tmpdir(), 'lms-test-')),
};

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(15 * 60_000); // the first run on a fresh machine builds FerretDB
    testRun.engine = process.env.TEST_MONGODB_URI ? undefined : await startEngine(testRun.dataDir, 'test', (m) => console.log(m));
  },
  async afterAll() {
    await testRun.engine?.stop();
    rmSync(testRun.dataDir, { recursive: true, force: true });
  },
};
