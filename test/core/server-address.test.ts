import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../../server/core/config';
import { testDbUri } from '../helpers';

describe('core: the server address without BASE_URL', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lms-address-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('warns loudly at start outside development, and commands beside the server print its real port', async () => {
    const env = {
      ...process.env,
      DATA_DIR: dir,
      PORT: '0', // a port the system chooses: nothing but the running server can know it
      MONGODB_URI: testDbUri(),
      DB_NAME: `addr_${process.pid}`,
      PLUGINS: 'accounts',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ADMIN_EMAIL: 'admin@address.example',
      ADMIN_PASSWORD: 'correct horse battery',
      BASE_URL: '',
    };
    delete (env as Record<string, string | undefined>).BASE_URL;
    const server = spawn(process.execPath, ['--require', 'tsx/cjs', 'server/index.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    server.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Listening on (http:\/\/localhost:\d+)/.exec(out);
          if (m) resolve(m[1]);
        });
        server.once('exit', () => reject(new Error(`server exited early: ${out}${err}`)));
      });
      expect(url).to.not.equal('http://localhost:0');
      // The warnings are written to stderr before the server listens, but stdout and stderr are
      // separate pipes: under load the "Listening" line can be read first.
      for (let i = 0; i < 100 && !(err.includes('BASE_URL is not set') && err.includes('SECRETS_KEY is not set')); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(err).to.contain('*** WARNING: BASE_URL is not set');
      expect(err).to.contain('*** WARNING: SECRETS_KEY is not set');
      const health = await fetch(`${url}/health`);
      expect(health.status).to.equal(200);

      const seed = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['server/cli.ts', 'demo:seed'], {
        cwd: ROOT,
        env: { ...env, PORT: '' },
        encoding: 'utf8',
      });
      expect(seed.status, seed.stderr).to.equal(0);
      expect(seed.stdout).to.contain(`Sign in at ${url}/accounts/login`);
    } finally {
      await new Promise((resolve) => {
        server.once('exit', resolve);
        server.kill('SIGTERM');
      });
    }
    // Stopped, it no longer claims the address.
    expect(existsSync(path.join(dir, 'server-address.json'))).to.equal(false);
  });

  it('says nothing in development', () => {
    const res = spawnSync(
      process.execPath,
      [
        '--require',
        'tsx/cjs',
        '-e',
        "const {loadConfig}=require('./server/core/config');const {baseUrlWarning}=require('./server/core/server-address');console.log(String(baseUrlWarning(loadConfig({DATA_DIR: process.argv[1]}))))",
        dir,
      ],
      { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } },
    );
    expect(res.stdout.trim()).to.equal('undefined');
  });
});
