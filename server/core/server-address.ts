/**
 * Where the running server answers. Without BASE_URL the server only knows "localhost:PORT", which
 * goes into launch URLs, QR codes, invitations and setup links; outside development that is almost
 * always wrong, so start-up says so loudly. The started server also records its address in the
 * data dir, so that commands run beside it (demo:seed, user:create) print the real port.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config';

const FILE = 'server-address.json';

export function baseUrlWarning(config: Config): string | undefined {
  if (config.env.BASE_URL || (config.env.NODE_ENV ?? 'development') === 'development') return undefined;
  return (
    `BASE_URL is not set: links, QR codes, invitations and lesson launches will point to ${config.baseUrl}, ` +
    'which people on other computers cannot open. Set BASE_URL to the address people use (e.g. https://aprende.example.gob).'
  );
}

/** Outside development, a site that does not say who runs it (footer, privacy notice) is warned about. */
export function operatorWarning(config: Config): string | undefined {
  if (config.operator.name || (config.env.NODE_ENV ?? 'development') === 'development') return undefined;
  return (
    'OPERATOR_NAME is not set: the footer, the privacy notice and the accessibility statement cannot say which institution ' +
    'runs this site. Set OPERATOR_NAME and OPERATOR_EMAIL (and PRIVACY_CONTACT_EMAIL for the data-protection officer).'
  );
}

/** Written once the server listens (with the port it really got); `forget` removes it at stop. */
export function recordServerAddress(config: Config, port: number): { url: string; forget: () => void } {
  const file = path.join(config.dataDir, FILE);
  const url = config.env.BASE_URL ? config.baseUrl : `http://localhost:${port}`;
  writeFileSync(file, JSON.stringify({ url, pid: process.pid }) + '\n');
  return { url, forget: () => rmSync(file, { force: true }) };
}

/** For commands: the running server's address when BASE_URL is not set. */
export function runningServerUrl(dataDir: string): string | undefined {
  const file = path.join(path.resolve(dataDir), FILE);
  if (!existsSync(file)) return undefined;
  try {
    const { url, pid } = JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number };
    process.kill(pid, 0); // throws when that server is gone
    return url;
  } catch {
    return undefined;
  }
}
