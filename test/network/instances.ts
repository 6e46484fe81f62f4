/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the servers under test are read as an outsider reads them */
/**
 * Real instances for the network tests: each a separate server process (`server/index.ts`) on
 * its own database and data dir, reached only over HTTP by clients written as outsiders write
 * them (plain fetch, a cookie jar, CSRF tokens read from the forms).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../server/core/config';
import { testDbUri } from '../helpers';

export const ADMIN_PASSWORD = 'correct horse battery';

export interface Instance {
  name: string;
  url: string;
  env: Record<string, string>;
  dataDir: string;
  stop(): Promise<void>;
  /** Runs `npm run lms -- <args>` beside the server (same database, same data dir). */
  cli(...args: string[]): { status: number | null; stdout: string; stderr: string };
}

export async function startInstance(name: string, port: number, extra: Record<string, string> = {}): Promise<Instance> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `network-${name}-`));
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    PORT: String(port),
    HOST: '127.0.0.1',
    BASE_URL: url,
    DATA_DIR: dataDir,
    MONGODB_URI: testDbUri(),
    DB_NAME: `net_${name}_${process.pid}`,
    SESSION_SECRET: `network-test-${name}-session-secret-0123456789`,
    ADMIN_EMAIL: `admin@${name}.example`,
    ADMIN_PASSWORD,
    CONTENT_LIBRARY: 'off',
    LOG_LEVEL: 'warn',
    ...extra,
  };
  const cli = (...args: string[]) => {
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['server/cli.ts', ...args], {
      cwd: ROOT,
      env: { ...env, PORT: '' },
      encoding: 'utf8',
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', 'server/index.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  if (process.env.NETWORK_TEST_LOGS) child.on('exit', () => writeFileSync(path.join(os.tmpdir(), `network-${name}.log`), out));
  // Started once it answers (start-up may log nothing at LOG_LEVEL=warn).
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${out}`);
    // Its own address file, so that another server already on the port is not taken for it.
    const up =
      existsSync(path.join(dataDir, 'server-address.json')) &&
      (await fetch(`${url}/health`)
        .then((r) => r.ok)
        .catch(() => false));
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not start in 120 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    name,
    url,
    env,
    dataDir,
    cli,
    async stop() {
      if (child.exitCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A person's browser: cookies kept, forms posted with the page's CSRF token. */
export class Browser {
  private cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly base: string) {}

  private remember(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }

  async request(p: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('Cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const send = () => fetch(this.base + p, { ...init, headers, redirect: 'manual' });
    // A kept-alive connection the server closed while we were idle (a CLI command ran meanwhile):
    // a GET is sent again on a new one, as browsers do.
    const res = await send()
      .catch((err: Error) => (!init.method || init.method === 'GET' ? send() : Promise.reject(err)))
      .catch((err: Error) => {
        throw new Error(`${init.method ?? 'GET'} ${this.base}${p}: ${err.message} (${String((err.cause as Error | undefined)?.message)})`);
      });
    this.remember(res);
    return res;
  }

  /** GETs a page and keeps its CSRF token for the next form. */
  async page(p: string): Promise<{ status: number; text: string }> {
    const res = await this.request(p, { headers: { Accept: 'text/html' } });
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.csrf = m[1];
    return { status: res.status, text };
  }

  async json(p: string): Promise<{ status: number; body: any }> {
    const res = await this.request(p, { headers: { Accept: 'application/json' } });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  /** Posts a form as JSON-accepting client (the server answers JSON instead of redirecting). */
  async post(p: string, fields: Record<string, string>): Promise<{ status: number; body: any }> {
    const res = await this.request(p, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: this.csrf, ...fields }).toString(),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      return { status: res.status, body: text.slice(0, 3000) };
    }
  }

  /** Posts a multipart upload (CSRF in the header, as the upload forms allow). */
  async upload(p: string, file: { field: string; name: string; data: Buffer; type: string }, fields: Record<string, string> = {}) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append(file.field, new Blob([new Uint8Array(file.data)], { type: file.type }), file.name);
    const res = await this.request(p, { method: 'POST', headers: { Accept: 'application/json', 'X-CSRF-Token': this.csrf }, body: form });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  async signIn(email: string, password: string): Promise<this> {
    await this.page('/accounts/login');
    const res = await this.request('/accounts/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: this.csrf, email, password }).toString(),
    });
    if (res.status !== 303)
      throw new Error(`sign-in of ${email} at ${this.base} answered ${res.status}: ${(await res.text()).slice(0, 2000)}`);
    return this;
  }
}
