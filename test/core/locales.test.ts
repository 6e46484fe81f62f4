import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT, SUPPORTED_LANGUAGES } from '../../server/core/config';
import { LOCALES_DIR } from '../../server/core/i18n';

function keys(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix];
  return Object.entries(obj).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function load(lng: string, ns: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(LOCALES_DIR, lng, `${ns}.json`), 'utf8'));
}

function walk(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

/** i18next plural forms (key_one, key_other…) are one key for this comparison. */
const base = (k: string) => k.replace(/_(zero|one|two|few|many|other)$/, '');

describe('core: locale files', () => {
  const namespaces = readdirSync(path.join(LOCALES_DIR, 'es')).map((f) => f.replace(/\.json$/, ''));

  it('every namespace has the same keys in es, pt and en', () => {
    for (const ns of namespaces) {
      const es = new Set(keys(load('es', ns)).map(base));
      for (const lng of SUPPORTED_LANGUAGES.filter((l) => l !== 'es')) {
        const other = new Set(keys(load(lng, ns)).map(base));
        expect(
          [...es].filter((k) => !other.has(k)),
          `${lng}/${ns}.json lacks`,
        ).to.deep.equal([]);
        expect(
          [...other].filter((k) => !es.has(k)),
          `${lng}/${ns}.json has extra`,
        ).to.deep.equal([]);
      }
    }
  });

  it('every text with a {{count}} has plural forms in every language (no "1 errores")', () => {
    const bare: string[] = [];
    for (const lng of SUPPORTED_LANGUAGES)
      for (const ns of namespaces) {
        const flat = new Map<string, unknown>();
        const walkObj = (o: unknown, p = ''): void => {
          if (typeof o !== 'object' || o === null) return void flat.set(p, o);
          for (const [k, v] of Object.entries(o)) walkObj(v, p ? `${p}.${k}` : k);
        };
        walkObj(load(lng, ns));
        for (const [k, v] of flat) {
          if (typeof v !== 'string' || !v.includes('{{count}}')) continue;
          if (k === base(k)) bare.push(`${lng}/${ns}: ${k}`);
          else if (!flat.has(`${base(k)}_one`) || !flat.has(`${base(k)}_other`)) bare.push(`${lng}/${ns}: ${k} (one and other)`);
        }
      }
    expect(bare).to.deep.equal([]);
  });

  it('every literal key used in views and server code exists in the locale files', () => {
    const known = new Set<string>();
    for (const ns of namespaces) for (const k of keys(load('es', ns))) known.add(`${ns}:${base(k)}`);
    const files = [...walk(path.join(ROOT, 'views'), '.ejs'), ...walk(path.join(ROOT, 'server'), '.ts')];
    const missing: string[] = [];
    for (const file of files) {
      const src = readFileSync(file, 'utf8');
      // t('ns:key'), and keys written as data (problem('ns:a.b'), schema messages): 'ns:a.b'.
      const literal = new RegExp(`'((?:${namespaces.join('|')}):[A-Za-z][A-Za-z0-9_-]*\\.[A-Za-z0-9_.-]+)'`, 'g');
      for (const m of [...src.matchAll(/\bt\(\s*'([a-z-]+:[A-Za-z0-9_.-]+)'/g), ...src.matchAll(literal)]) {
        if (m[1].endsWith('.')) continue; // a prefix completed at run time, e.g. 'core:tiers.' + tier
        // A list read with { returnObjects: true } is known by its items (key.0, key.1…).
        if (!known.has(base(m[1])) && !known.has(`${m[1]}.0`) && !known.has(`${m[1]}.0.q`))
          missing.push(`${path.relative(ROOT, file)}: ${m[1]}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
