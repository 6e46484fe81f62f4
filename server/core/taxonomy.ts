/**
 * Levels of government and role tiers (domain.md). Labels live in locales (core:levels.*,
 * core:tiers.*); the catalog plugin lets admins tailor which courses each tier requires.
 */
export const LEVELS = ['national', 'regional', 'local'] as const;
export type Level = (typeof LEVELS)[number];

export const DEFAULT_TIERS = ['all', 'technical', 'manager', 'decision-maker', 'ict-specialist'] as const;

export function isLevel(v: unknown): v is Level {
  return typeof v === 'string' && (LEVELS as readonly string[]).includes(v);
}
