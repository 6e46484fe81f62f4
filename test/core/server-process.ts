import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../../server/core/config';
import { freePort } from '../helpers';

/** `npm start` on the test database, as a separate process (that can be killed). */
export async function startServer(env: Record<string, string>, port?: number): Promise<{ child: ChildProcess; base: string }> {
  port ??= await freePort();
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'server/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', CONTENT_LIBRARY: 'off', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (
      await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { child, base };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

/** Stops a started server (SIGTERM: it finishes what it is delivering) and waits for it. */
export async function stopServer(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
