/**
 * Secrets the server must use again — an identity provider's client secret, a directory's bind
 * password, a SAML private key — are kept in the database encrypted, so that a database dump or
 * backup does not hand them out. Each is a JWE (RFC 7516, compact form, `dir` + A256GCM, by
 * `jose`) whose protected header names the key (`kid`) and what the secret is for (`ctx`): a value
 * copied onto another record does not open there.
 *
 * The keys come from SECRETS_KEY (comma-separated, the first encrypts, the others only decrypt,
 * for rotation); without it, one is generated into DATA_DIR/secrets-key — fine for one machine with
 * the embedded database, loudly warned about outside development.
 */
import { createHash } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import type { Config } from './config';

const ENC = 'A256GCM';

/** A 32-byte key from 64 hex digits or base64/base64url; undefined if it is neither. */
export function parseSecretsKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('base64url').slice(0, 11);

export class SecretBox {
  private readonly keys: Array<{ kid: string; key: Buffer }>;

  constructor(keys: Buffer[]) {
    if (!keys.length) throw new Error('SecretBox needs at least one key');
    this.keys = keys.map((key) => ({ kid: keyId(key), key }));
  }

  static fromConfig(config: Pick<Config, 'secretsKeys'>): SecretBox {
    return new SecretBox(config.secretsKeys);
  }

  /** Encrypts `value` for `context` (e.g. `accounts.identity-provider:govbr`) with the current key. */
  async seal(value: string, context: string): Promise<string> {
    const { kid, key } = this.keys[0];
    return new CompactEncrypt(Buffer.from(value, 'utf8')).setProtectedHeader({ alg: 'dir', enc: ENC, kid, ctx: context }).encrypt(key);
  }

  /** Decrypts a value sealed for `context`; throws saying why it does not open. */
  async open(sealed: string, context: string): Promise<string> {
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(sealed) as Record<string, unknown>;
    } catch {
      throw new Error('not an encrypted secret');
    }
    const entry = this.keys.find((k) => k.kid === header.kid);
    if (!entry) throw new Error(`encrypted with another key (${String(header.kid)}) than those in SECRETS_KEY`);
    if (header.ctx !== context) throw new Error(`sealed for ${String(header.ctx)}, not for ${context}`);
    const { plaintext } = await compactDecrypt(sealed, entry.key, { contentEncryptionAlgorithms: [ENC], keyManagementAlgorithms: ['dir'] });
    return Buffer.from(plaintext).toString('utf8');
  }

  /** True if `sealed` was encrypted with the current key (false: re-seal it). */
  isCurrent(sealed: string): boolean {
    try {
      return decodeProtectedHeader(sealed).kid === this.keys[0].kid;
    } catch {
      return false;
    }
  }
}

/** The start-up warning when the key was generated beside the data instead of configured. */
export function secretsKeyWarning(config: Config): string | undefined {
  if (config.env.SECRETS_KEY || (config.env.NODE_ENV ?? 'development') === 'development') return undefined;
  return (
    `SECRETS_KEY is not set: identity provider secrets are encrypted with a key generated in ${config.dataDir}/secrets-key, ` +
    'beside the data it protects, and each server process would make its own. Set SECRETS_KEY to 32 random bytes ' +
    '(e.g. `openssl rand -hex 32`), the same for every process, kept apart from database backups.'
  );
}
