import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { loadConfig } from '../../server/core/config';
import { startEngine } from '../../server/core/db/engine';
import { ROOT } from '../../server/core/config';
import { testApp } from '../helpers';

const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(args: string[], env: Record<string, string>, input?: string) {
  const res = spawnSync(tsx, ['server/cli.ts', ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent', MONGODB_URI: '', ...env },
    timeout: 120_000,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('core: embedded database', function () {
  this.timeout(180_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lms-db-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps data across a restart of the server and its engine', async () => {
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', SESSION_SECRET: 'x'.repeat(32) });
    const first = await testApp({ config, database: undefined });
    expect(first.database.engine).to.equal('ferretdb');
    await first.services.get('accounts.users').create({ email: 'persist@example.org', name: 'Persistente', password: 'una frase larga' });
    await first.close();
    expect(JSON.parse(JSON.stringify(readEngineRecord(dir)))).to.equal(null); // engine stopped, record removed

    const second = await testApp({ config });
    try {
      const u = await second.services.get('accounts.users').findByEmail('persist@example.org');
      expect(u?.name).to.equal('Persistente');
    } finally {
      await second.close();
    }
  });

  it('CLI commands reuse the engine a running server started, and leave it running', async () => {
    const server = await startEngine(dir, 'server', () => {});
    try {
      const created = cli(
        ['user:create', '--email', 'cli@example.org', '--name', 'Desde CLI', '--role', 'hr'],
        { DATA_DIR: dir },
        'una frase larga\n',
      );
      expect(created.code, created.err).to.equal(0);
      expect(created.out).to.contain('created hr cli@example.org');
      const status = cli(['db:status', '--json'], { DATA_DIR: dir });
      expect(status.code, status.err).to.equal(0);
      const parsed = JSON.parse(status.out);
      expect(parsed.address).to.contain(`:${server.port}`);
      expect(parsed.version).to.contain('FerretDB 1.24.2');
      expect(parsed.collections).to.have.property('accounts_users', 1);
      expect(readEngineRecord(dir)?.port).to.equal(server.port);
    } finally {
      await server.stop();
    }
  });

  it('finds, updates and deletes by _id without scanning the collection (through the _id index: engine/patches/030)', async () => {
    const engine = await startEngine(dir, 'test', () => {});
    const conn = await mongoose.createConnection(engine.uri, { dbName: 'idx' }).asPromise();
    try {
      const col = conn.collection<{ _id: string; n: number }>('many');
      const docs = Array.from({ length: 30_000 }, (_, n) => ({ _id: `doc-${n}`, n, pad: 'x'.repeat(200) }));
      for (let i = 0; i < docs.length; i += 5000) await col.insertMany(docs.slice(i, i + 5000));
      // Documents at the end of the table: without a usable index each of these scans 30,000
      // rows (about 100 ms here); with it, a millisecond or two even on a loaded machine.
      const times: number[] = [];
      for (let k = 0; k < 15; k++) {
        const id = `doc-${29_999 - k}`;
        const t = performance.now();
        await col.updateOne({ _id: id }, { $set: { n: -k } });
        expect((await col.findOne({ _id: id }))?.n).to.equal(-k);
        await col.deleteOne({ _id: id });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      expect(times[7], 'median ms for update + find + delete by _id').to.be.below(30);
    } finally {
      await conn.close();
      await engine.stop();
    }
  });

  it('CLI errors are clear and exit non-zero', () => {
    const bad = cli(['user:create', '--email', 'nope', '--name', 'X', '--password', 'una frase larga'], { DATA_DIR: dir });
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain('The e-mail address "nope" is not valid.');
  });

  it('a second server on the same data dir is refused', async () => {
    const server = await startEngine(dir, 'server', () => {});
    try {
      let message = '';
      await startEngine(dir, 'server', () => {}).catch((e: Error) => (message = e.message));
      expect(message).to.match(/Another server .* is already running on data dir/);
    } finally {
      await server.stop();
    }
  });

  it('npm start serves, and SIGTERM stops the server and its engine cleanly', async () => {
    const server = spawn(process.execPath, ['--require', 'tsx/cjs', 'server/index.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dir, PORT: '0', MONGODB_URI: '', PLUGINS: 'accounts', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Listening on')) resolve();
      });
      server.once('exit', () => reject(new Error(`server exited early: ${out}`)));
    });
    expect(out).to.contain('No administrator yet').and.contain('/accounts/setup/');
    const rec = readEngineRecord(dir)!;
    expect(alive(rec.pid)).to.equal(true);
    const code = await new Promise<number | null>((resolve) => {
      server.once('exit', (c) => resolve(c));
      server.kill('SIGTERM');
    });
    expect(code).to.equal(0);
    for (let i = 0; i < 50 && alive(rec.pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(rec.pid)).to.equal(false);
    expect(readEngineRecord(dir)).to.equal(null);
  });

  it('a server whose embedded engine dies stops with a clear message instead of answering wrongly', async () => {
    const server = spawn(process.execPath, ['--require', 'tsx/cjs', 'server/index.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dir, PORT: '0', MONGODB_URI: '', PLUGINS: 'accounts,lrs', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Listening on')) resolve();
      });
      server.once('exit', () => reject(new Error(`server exited early: ${out}`)));
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (c) => resolve(c)));
    process.kill(readEngineRecord(dir)!.pid, 'SIGKILL');
    expect(await exited).to.equal(1);
    expect(out).to.contain('The embedded database stopped unexpectedly');
  });

  it('the engine stops by itself when its parent process is killed', async () => {
    const script = `const { startEngine } = require('./server/core/db/engine'); startEngine(${JSON.stringify(dir)}, 'server', () => {}).then((e) => console.log(JSON.stringify({ port: e.port })));`;
    // node itself (not the tsx wrapper, which would leave its node child behind) so SIGKILL hits the engine's parent.
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    const rec = readEngineRecord(dir)!;
    expect(JSON.parse(line).port).to.equal(rec.port);
    expect(alive(rec.pid)).to.equal(true);
    child.kill('SIGKILL');
    for (let i = 0; i < 50 && alive(rec.pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(rec.pid), 'engine still running after its parent was killed').to.equal(false);
  });
});

function readEngineRecord(dir: string): { port: number; pid: number } | null {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'engine.json'), 'utf8'));
  } catch {
    return null;
  }
}
