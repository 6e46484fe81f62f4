import { z } from 'zod';

const MB = 1024 * 1024;

const Env = z.object({
  CATALOG_MAX_PACKAGE_MB: z.coerce.number().positive().default(500),
  CATALOG_MAX_UNCOMPRESSED_MB: z.coerce.number().positive().default(2048),
  CATALOG_MAX_ENTRIES: z.coerce.number().int().positive().default(20000),
  CATALOG_MAX_AUS: z.coerce.number().int().positive().default(10000),
  CATALOG_PACKAGE_DIR: z.string().min(1).optional(),
  CONTENT_ORIGIN: z.string().url().optional(),
});

export interface PackageSettings {
  /** Largest upload or package file accepted. */
  maxPackageBytes: number;
  /** Zip-bomb guard: the sum of the entries' uncompressed sizes. */
  maxUncompressedBytes: number;
  maxEntries: number;
  maxAus: number;
  maxXmlBytes: number;
  packageDir?: string;
  /** Origin AU files are served from (no trailing slash); the server's own when unset. */
  contentOrigin?: string;
}

/** The catalog's package settings from the environment; a bad value stops start-up naming the variable. */
export function packageSettings(env: Readonly<Record<string, string | undefined>>): PackageSettings {
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    throw new Error(`Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  return {
    maxPackageBytes: e.CATALOG_MAX_PACKAGE_MB * MB,
    maxUncompressedBytes: e.CATALOG_MAX_UNCOMPRESSED_MB * MB,
    maxEntries: e.CATALOG_MAX_ENTRIES,
    maxAus: e.CATALOG_MAX_AUS,
    maxXmlBytes: 50 * MB,
    packageDir: e.CATALOG_PACKAGE_DIR,
    contentOrigin: e.CONTENT_ORIGIN?.replace(/\/+$/, ''),
  };
}
