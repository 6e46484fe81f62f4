import type { i18n } from 'i18next';
import { SUPPORTED_LANGUAGES } from '../../core/config';
import type { CatalogTier } from '../../core/contracts/catalog';
import { fold } from '../../core/search-text';

const key = (s: string) => fold(s).replace(/\s+/g, ' ').trim();

/**
 * How a roster may name a tier: its code, or its name in any of the site's languages, as HR
 * writes it in a spreadsheet ("Técnico / profesional", "tecnico", "Gestores"): case, accents and
 * spacing do not matter, and each part of a name written "A / B" counts alone. A name two tiers
 * share is ambiguous and names neither (the row is refused, asking for the code).
 */
export function tierNames(tiers: CatalogTier[], i18n: i18n): Map<string, string> {
  const byName = new Map<string, string>();
  const ambiguous = new Set<string>();
  const add = (name: string, code: string) => {
    const k = key(name);
    if (!k || ambiguous.has(k)) return;
    const had = byName.get(k);
    if (had && had !== code) {
      byName.delete(k);
      ambiguous.add(k);
    } else byName.set(k, code);
  };
  for (const t of tiers) {
    const names = [...Object.values(t.labels)];
    for (const lng of SUPPORTED_LANGUAGES) {
      const label = i18n.t(`core:tiers.${t.code}`, { lng, defaultValue: '' });
      if (label) names.push(label);
    }
    for (const n of names) {
      add(n, t.code);
      const parts = n.split('/');
      if (parts.length > 1) for (const p of parts) add(p, t.code);
    }
  }
  // A code is always itself, whatever a label elsewhere says.
  for (const t of tiers) {
    ambiguous.delete(key(t.code));
    byName.set(key(t.code), t.code);
  }
  return byName;
}

export const tierKey = key;
