/**
 * Boot: config → database → plugins → listen. Stops cleanly on SIGINT/SIGTERM (and stops the
 * embedded engine, which also stops by itself if this process dies).
 */
import type { Server } from 'node:http';
import { createLmsApp, type LmsApp } from './app';
import type { AddressInfo } from 'node:net';
import { loadConfig } from './core/config';
import { baseUrlWarning, operatorWarning, recordServerAddress } from './core/server-address';
import { secretsKeyWarning } from './core/secrets';

async function main(): Promise<void> {
  const config = loadConfig();
  let lms: LmsApp | undefined;
  let server: Server | undefined;
  let forgetAddress = () => {};
  const shutdown = async (signal: string, code = 0) => {
    process.exitCode = code;
    forgetAddress();
    lms?.log.info(`${signal}: stopping`);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await lms?.close();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('unhandledRejection', (err) => {
    lms?.log.fatal({ err }, 'unhandled rejection');
    void shutdown('crash', 1);
  });

  lms = await createLmsApp({ config, mode: 'server' });
  // Without its database the server could only answer with errors, or with the stale answers
  // of caches: stop, loudly, and let the service manager start it again.
  lms.database.embedded?.onUnexpectedExit((code, signal) => {
    lms?.log.fatal(`The embedded database stopped unexpectedly (${signal ?? `exit code ${code}`}); the server stops too.`);
    void shutdown('database stopped', 1);
  });
  await lms.start();
  server = lms.app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server!.once('listening', resolve);
    server!.once('error', reject);
  });
  const address = recordServerAddress(config, (server.address() as AddressInfo).port);
  forgetAddress = address.forget;
  for (const warning of [baseUrlWarning(config), secretsKeyWarning(config), operatorWarning(config)]) {
    if (!warning) continue;
    lms.log.warn(warning);
    // Also on stderr in capitals: operators read the console, not always the log.
    console.error(`\n*** WARNING: ${warning}\n`);
  }
  lms.log.info(
    `Listening on ${address.url} (database: ${lms.database.engine} at ${lms.database.address}, plugins: ${lms.plugins.map((p) => p.manifest.name).join(', ')})`,
  );
}

main().catch((err: Error) => {
  console.error(`Start-up failed: ${err.message}`);
  process.exit(1);
});
