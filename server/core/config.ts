import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkTimeZone } from './dates';
import { parseSecretsKey } from './secrets';

/** Repository root: everything (views, locales, engine source, content) is found from here. */
export const ROOT = path.resolve(__dirname, '..', '..');

const LANGUAGES = ['es', 'pt', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const SUPPORTED_LANGUAGES: readonly Language[] = LANGUAGES;
export const DEFAULT_LANGUAGE: Language = 'es';

/**
 * Times on pages are shown in one zone per deployment. UTC−5 without daylight saving (Bogotá,
 * Lima, Quito, Panamá) is the zone of the largest group of the region's Spanish-speaking
 * administrations; every other deployment sets TIME_ZONE.
 */
export const DEFAULT_TIME_ZONE = 'America/Bogota';

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  BASE_URL: z.string().url().optional(),
  MONGODB_URI: z.string().optional(),
  DB_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('lms'),
  DATA_DIR: z.string().default('./data'),
  PLUGINS: z.string().optional(),
  SESSION_SECRET: z.string().min(16).optional(),
  SECRETS_KEY: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.string().optional(),
  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().min(10).optional(),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
  LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(20),
  NODE_ENV: z.string().default('development'),
  TIME_ZONE: z.string().default(DEFAULT_TIME_ZONE),
  OPERATOR_NAME: z.string().trim().max(200).optional(),
  OPERATOR_EMAIL: z.string().trim().email().optional(),
  OPERATOR_URL: z.string().trim().url().optional(),
  OPERATOR_ADDRESS: z.string().trim().max(300).optional(),
  PRIVACY_CONTACT_EMAIL: z.string().trim().email().optional(),
});

/**
 * Who runs the site: the institution named in the footer, the privacy notice (the controller of
 * the personal data) and the accessibility statement, and the addresses people write to.
 */
export interface Operator {
  name?: string;
  email?: string;
  url?: string;
  address?: string;
  /** Where requests about personal data go (the data-protection officer); defaults to `email`. */
  privacyEmail?: string;
}

export interface Config {
  port: number;
  host: string;
  baseUrl: string;
  mongodbUri?: string;
  dbName: string;
  dataDir: string;
  plugins?: string[];
  sessionSecret: string;
  /** Keys of the secrets kept encrypted in the database (core/secrets.ts): the first encrypts. */
  secretsKeys: Buffer[];
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  trustProxy?: string;
  adminEmail?: string;
  adminPassword?: string;
  login: { maxFailures: number; lockMinutes: number; rateLimit: number };
  secureCookies: boolean;
  production: boolean;
  /** IANA zone of the times shown on pages and in exports meant for people. */
  timeZone: string;
  operator: Operator;
  /** The raw environment, for plugins that parse their own settings. */
  env: Readonly<Record<string, string | undefined>>;
}

/** A number ≥ `min` from the environment, or start-up stops naming the variable and its value. */
export function envNumber(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min} (got "${raw}")`);
  return n;
}

/** Reads the configuration from the environment; a bad value stops start-up naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const baseUrl = (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    port: e.PORT,
    host: e.HOST,
    baseUrl,
    mongodbUri: e.MONGODB_URI || undefined,
    dbName: e.DB_NAME,
    dataDir,
    plugins: e.PLUGINS
      ? e.PLUGINS.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
    sessionSecret: e.SESSION_SECRET ?? persistentSecret(dataDir, 'session-secret'),
    secretsKeys: secretsKeys(e.SECRETS_KEY, dataDir),
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    adminEmail: e.ADMIN_EMAIL,
    adminPassword: e.ADMIN_PASSWORD,
    login: { maxFailures: e.LOGIN_MAX_FAILURES, lockMinutes: e.LOGIN_LOCK_MINUTES, rateLimit: e.LOGIN_RATE_LIMIT },
    secureCookies: baseUrl.startsWith('https://'),
    production: e.NODE_ENV === 'production',
    timeZone: validTimeZone(e.TIME_ZONE),
    operator: {
      name: e.OPERATOR_NAME || undefined,
      email: e.OPERATOR_EMAIL || undefined,
      url: e.OPERATOR_URL || undefined,
      address: e.OPERATOR_ADDRESS || undefined,
      privacyEmail: e.PRIVACY_CONTACT_EMAIL || e.OPERATOR_EMAIL || undefined,
    },
    env: { ...env },
  };
}

function secretsKeys(text: string | undefined, dataDir: string): Buffer[] {
  if (!text?.trim()) return [parseSecretsKey(persistentSecret(dataDir, 'secrets-key'))!];
  return text.split(',').map((part, i) => {
    const key = parseSecretsKey(part);
    if (!key) throw new Error(`Invalid configuration: SECRETS_KEY: key ${i + 1} is not 32 bytes as 64 hex digits or base64`);
    return key;
  });
}

function validTimeZone(zone: string): string {
  try {
    return checkTimeZone(zone);
  } catch {
    throw new Error(`Invalid configuration: TIME_ZONE: "${zone}" is not an IANA time zone (e.g. America/Bogota, America/Sao_Paulo)`);
  }
}

/**
 * A random secret created once and kept in the data dir, so sessions survive restarts
 * without anyone having to invent a secret for a first install.
 */
export function persistentSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
