import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import supertest from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createLmsApp, type AppOptions, type LmsApp } from '../server/app';
import { ROOT, loadConfig, type Config } from '../server/core/config';
import { openDatabase } from '../server/core/db/connect';
import { testRun } from './setup';

/** The shared test engine's address (or TEST_MONGODB_URI to run the suite against a real MongoDB). */
export function testDbUri(): string {
  const uri = process.env.TEST_MONGODB_URI ?? testRun.engine?.uri;
  if (!uri) throw new Error('test engine not started');
  return uri;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: testRun.dataDir,
    MONGODB_URI: testDbUri(),
    DB_NAME: `t_${randomBytes(5).toString('hex')}`,
    LOG_LEVEL: 'silent',
    SESSION_SECRET: 'test-session-secret-0123456789',
    BASE_URL: 'http://127.0.0.1',
    ...env,
  });
}

/** A whole app on its own fresh database. Pass `config` to reopen an existing database. */
export async function testApp(opts: Partial<AppOptions> & { env?: Record<string, string> } = {}): Promise<LmsApp> {
  const config = opts.config ?? testConfig(opts.env);
  const database = opts.database ?? (await openDatabase(config, 'test', () => {}));
  const lms = await createLmsApp({ ...opts, config, database, mode: 'test' });
  const close = lms.close.bind(lms);
  lms.close = async () => {
    await close();
    if (!opts.database) await database.close();
  };
  return lms;
}

/** Waits until every after-event recorded so far is delivered (the outbox is drained), never a sleep. */
export function settled(lms: Pick<LmsApp, 'events'>): Promise<void> {
  return lms.events.settled();
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in page');
  return m[1];
}

/** A cookie-keeping client signed in as `email`. */
export async function signIn(lms: LmsApp, email: string, password: string): Promise<TestAgent> {
  const agent = supertest.agent(lms.app);
  const page = await agent.get('/accounts/login').expect(200);
  const res = await agent
    .post('/accounts/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email, password });
  if (res.status !== 303) throw new Error(`sign-in of ${email} failed with ${res.status}`);
  return agent;
}

/** Creates a user directly through the accounts service and returns its credentials. */
export async function makeUser(
  lms: LmsApp,
  fields: {
    role?: 'learner' | 'hr' | 'admin';
    email?: string;
    name?: string;
    orgUnit?: string;
    tier?: string;
    level?: 'national' | 'regional' | 'local';
    language?: 'es' | 'pt' | 'en';
  } = {},
) {
  const email = fields.email ?? `u${randomBytes(4).toString('hex')}@example.org`;
  const password = 'correct horse battery';
  const user = await lms.services.get('accounts.users').create({ name: 'Test Person', ...fields, email, password });
  return { ...user, password };
}

/** supertest parser that keeps a binary body (PDF, zip, JWT download) as a Buffer. */
export const binaryParser = (res: unknown, cb: (err: Error | null, body: Buffer) => void) => {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
};

/**
 * A loopback port free right now. Tests that must know their address before the server starts
 * (BASE_URL, a second origin) take one of these instead of a fixed number, so two runs of the
 * suite on one machine never collide.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Runs `npm run lms -- <args>` on the shared test engine (a fresh database unless DB_NAME is given). */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['server/cli.ts', ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: {
      ...process.env,
      DATA_DIR: testRun.dataDir,
      MONGODB_URI: testDbUri(),
      DB_NAME: `t_${randomBytes(5).toString('hex')}`,
      LOG_LEVEL: 'silent',
      ...env,
    },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
