/**
 * The embedded default database: FerretDB 1.24.2 (SQLite handler) built from the Go module
 * proxy into .cache/ and run as a child process bound to 127.0.0.1.
 *
 * One engine per data dir. Its address is recorded in DATA_DIR/engine.json so that CLI commands
 * run while the server is up reuse it instead of opening the same SQLite files a second time.
 * The child watches its stdin: when this process ends in any way (exit, crash, SIGKILL) the pipe
 * closes and the engine stops by itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../config';

export const ENGINE_VERSION = '1.24.2';
const ENGINE_SRC = path.join(ROOT, 'engine');
const CACHE_DIR = path.join(ROOT, '.cache', 'ferretdb');
const PATCHES_DIR = path.join(ENGINE_SRC, 'patches');
const FERRETDB_MODULE = `github.com/FerretDB/FerretDB@v${ENGINE_VERSION}`;
/** Our Go sources and our patches to FerretDB (engine/patches/NNN-purpose.patch, applied in order). */
function engineSources(): string[] {
  const own = readdirSync(ENGINE_SRC).filter((f) => /\.go$|^go\.(mod|sum)$/.test(f));
  const patches = existsSync(PATCHES_DIR) ? readdirSync(PATCHES_DIR).filter((f) => f.endsWith('.patch')) : [];
  return [...own.sort(), ...patches.sort().map((f) => path.join('patches', f))];
}
/** Named by a hash of our Go sources and patches too, so a change to engine/ builds a new binary. */
const SOURCE_HASH = createHash('sha256')
  .update(
    engineSources()
      .map((f) => `${f}\0${readFileSync(path.join(ENGINE_SRC, f), 'utf8')}`)
      .join('\0'),
  )
  .digest('hex')
  .slice(0, 8);
export const ENGINE_BINARY = path.join(CACHE_DIR, `lms-ferretdb-${ENGINE_VERSION}-${SOURCE_HASH}`);

export type EngineOwner = 'server' | 'cli' | 'test';

interface EngineRecord {
  pid: number;
  port: number;
  uri: string;
  version: string;
  owner: EngineOwner;
  ownerPid: number;
  startedAt: string;
}

export interface RunningEngine {
  uri: string;
  port: number;
  version: string;
  /** true when this process started the engine (and will stop it). */
  owned: boolean;
  /** Called if an engine this process started exits without being stopped. */
  onUnexpectedExit(fn: (code: number | null, signal: string | null) => void): void;
  stop(): Promise<void>;
}

/** Builds the engine once into .cache/ (a few minutes the first time). */
export function ensureEngineBinary(log: (msg: string) => void = (m) => console.log(m)): string {
  if (existsSync(ENGINE_BINARY)) return ENGINE_BINARY;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new Error(
      'The embedded database (FerretDB) must be built with Go, and Go was not found on PATH. ' +
        'Install Go 1.24+ (https://go.dev/dl/), or set MONGODB_URI to use an existing MongoDB.',
    );
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  log(`Building the embedded database FerretDB ${ENGINE_VERSION} with ${go.stdout.trim()} (first run only, a few minutes)…`);
  const tmp = `${ENGINE_BINARY}.tmp-${process.pid}`;
  const started = Date.now();
  const buildDir = `${ENGINE_BINARY}.build-${process.pid}`;
  try {
    prepareBuildTree(buildDir);
    run('go', ['build', '-trimpath', '-o', tmp, '.'], path.join(buildDir, 'main'));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  renameSync(tmp, ENGINE_BINARY);
  // Binaries built from earlier sources are of no further use.
  for (const f of readdirSync(CACHE_DIR)) {
    const file = path.join(CACHE_DIR, f);
    if (f.startsWith('lms-ferretdb-') && file !== ENGINE_BINARY && !f.includes('.tmp-') && !f.includes('.build-'))
      rmSync(file, { force: true });
  }
  log(`FerretDB ${ENGINE_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s → ${path.relative(ROOT, ENGINE_BINARY)}`);
  return ENGINE_BINARY;
}

/**
 * The tree we build: FerretDB's module as the Go module proxy served it (checked against
 * engine/go.sum), copied and patched with engine/patches/*.patch in order, and our main with a
 * `replace` pointing at that copy. FerretDB's source never enters our repository.
 */
function prepareBuildTree(buildDir: string): void {
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(path.join(buildDir, 'main'), { recursive: true });
  const download = run('go', ['mod', 'download', '-json', FERRETDB_MODULE], ENGINE_SRC);
  const moduleDir = (JSON.parse(download) as { Dir?: string }).Dir;
  if (!moduleDir) throw new Error(`go mod download did not report the directory of ${FERRETDB_MODULE}`);
  const ferretdb = path.join(buildDir, 'ferretdb');
  cpSync(moduleDir, ferretdb, { recursive: true });
  // The module cache is read-only; the copy must be writable for the patches.
  run('chmod', ['-R', 'u+w', ferretdb], buildDir);
  for (const f of engineSources()) {
    if (f.startsWith('patches')) {
      run('patch', ['-p1', '--forward', '--batch', '--quiet', '-d', ferretdb, '-i', path.join(ENGINE_SRC, f)], buildDir);
    } else {
      cpSync(path.join(ENGINE_SRC, f), path.join(buildDir, 'main', f));
    }
  }
  run('go', ['mod', 'edit', `-replace=github.com/FerretDB/FerretDB=${ferretdb}`], path.join(buildDir, 'main'));
}

/** Runs a build step, printing its output only when it fails. */
function run(cmd: string, args: string[], cwd: string): string {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CGO_ENABLED: '0' } });
  if (res.error || res.status !== 0) {
    const output = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim();
    throw new Error(`Building the embedded database failed at \`${cmd} ${args.join(' ')}\`: ${res.error?.message ?? output}`);
  }
  return res.stdout;
}

function recordPath(dataDir: string): string {
  return path.join(dataDir, 'engine.json');
}

function readRecord(dataDir: string): EngineRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(dataDir), 'utf8')) as EngineRecord;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The engine already running on this data dir, if any. */
export async function findRunningEngine(dataDir: string): Promise<EngineRecord | undefined> {
  const rec = readRecord(dataDir);
  if (!rec) return undefined;
  if (alive(rec.pid) && (await portOpen(rec.port))) return rec;
  return undefined;
}

/**
 * Starts (or reuses) the engine for a data dir.
 * - A CLI command reuses whatever engine runs on the data dir.
 * - A server reuses nothing owned by another server (two servers on one data dir is a mistake),
 *   waits briefly for a CLI's engine to go away, then starts its own.
 */
export async function startEngine(dataDir: string, owner: EngineOwner, log: (m: string) => void): Promise<RunningEngine> {
  mkdirSync(dataDir, { recursive: true });
  let running = await findRunningEngine(dataDir);
  if (running && owner !== 'server') {
    return {
      uri: running.uri,
      port: running.port,
      version: running.version,
      owned: false,
      onUnexpectedExit: () => {},
      stop: async () => {},
    };
  }
  if (running && running.owner === 'server') {
    throw new Error(
      `Another server (pid ${running.ownerPid}) is already running on data dir ${dataDir}; stop it first or use another DATA_DIR.`,
    );
  }
  for (let i = 0; running && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 300));
    running = await findRunningEngine(dataDir);
  }
  if (running) throw new Error(`A command (pid ${running.ownerPid}) still holds the database in ${dataDir}.`);

  const binary = ensureEngineBinary(log);
  const child = spawn(binary, ['-dir', path.join(dataDir, 'ferretdb'), '-log-level', 'error'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const info = await readAnnouncement(child);
  const rec: EngineRecord = {
    pid: info.pid,
    port: info.port,
    uri: info.uri,
    version: info.version,
    owner,
    ownerPid: process.pid,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(recordPath(dataDir), JSON.stringify(rec, null, 2));

  let stopped: Promise<void> | undefined;
  const exitHandlers: Array<(code: number | null, signal: string | null) => void> = [];
  child.once('exit', (code, signal) => {
    if (stopped) return;
    const current = readRecord(dataDir);
    if (current?.pid === rec.pid) rmSync(recordPath(dataDir), { force: true });
    for (const fn of exitHandlers) fn(code, signal);
  });
  const stop = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => {
      const current = readRecord(dataDir);
      if (current?.pid === rec.pid) rmSync(recordPath(dataDir), { force: true });
      // A child killed by a signal has a signalCode and no exitCode.
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }));
  // Last resort on a synchronous exit path: never leave the engine or a stale record behind.
  process.once('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const current = readRecord(dataDir);
    if (current?.pid === rec.pid) rmSync(recordPath(dataDir), { force: true });
  });
  return { uri: rec.uri, port: rec.port, version: rec.version, owned: true, onUnexpectedExit: (fn) => exitHandlers.push(fn), stop };
}

function readAnnouncement(child: ChildProcess): Promise<{ uri: string; port: number; pid: number; version: string }> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('The embedded database did not start within 30 s.')), 30_000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`Unexpected output from the embedded database: ${line}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The embedded database exited at start (code ${code}).`));
    });
  });
}
