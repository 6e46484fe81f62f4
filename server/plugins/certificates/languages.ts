/**
 * A certificate in the reader's language. The record keeps its title and institution in es, pt
 * and en from the moment it was issued; the PDF is signed once per language and kept, so every
 * language's copy is a stable, verifiable document under the one code. The issue language's PDF
 * stays the original (`pdfSha256` describes it).
 */
import { SUPPORTED_LANGUAGES, type Language } from '../../core/config';
import { isDuplicateKey } from '../../core/db/connect';
import type { CertificateDoc, CertificateModels } from './certificate.model';
import type { CertificateTemplate } from './templates';

export type PerLanguage = Record<Language, string>;

/** Every language filled: a missing translation falls back to Spanish, then to any. */
export function everyLanguage(pick: (lang: Language) => string | undefined, fallback: string): PerLanguage {
  const raw = Object.fromEntries(SUPPORTED_LANGUAGES.map((l) => [l, pick(l)?.trim() || undefined]));
  const any = raw.es ?? Object.values(raw).find(Boolean) ?? fallback;
  return Object.fromEntries(SUPPORTED_LANGUAGES.map((l) => [l, raw[l] ?? any])) as PerLanguage;
}

/** The certificate's title in `lang` (older records, without translations, keep their one title). */
export function titleIn(cert: Pick<CertificateDoc, 'title' | 'titles'>, lang: Language): string {
  return cert.titles?.[lang] || cert.title;
}

export function institutionIn(
  cert: Pick<CertificateDoc, 'institution' | 'institutions' | 'template'>,
  lang: Language,
  templates: Map<string, CertificateTemplate>,
): string {
  return cert.institutions?.[lang] || templates.get(cert.template)?.institution[lang] || cert.institution;
}

export const copyId = (code: string, lang: Language) => `${code}.${lang}`;

/** Every PDF document of a certificate: the original and its copies (erasure deletes them all). */
export const pdfIds = (code: string) => [code, ...SUPPORTED_LANGUAGES.map((l) => copyId(code, l))];

/**
 * The signed PDF of `cert` in `lang`: the original in its issue language; otherwise the stored
 * copy, rendered and signed on first request. Two first requests at once both render, the first
 * insert wins and both hand out the stored one.
 */
export async function pdfInLanguage(
  models: CertificateModels,
  cert: CertificateDoc,
  lang: Language,
  read: (id: string) => Promise<Buffer | undefined>,
  renderAndSign: () => Promise<Buffer>,
): Promise<Buffer | undefined> {
  if (lang === cert.language) return read(cert._id);
  const id = copyId(cert._id, lang);
  const stored = await read(id);
  if (stored) return stored;
  const pdf = await renderAndSign();
  try {
    await models.pdfs.create({ _id: id, pdf });
    return pdf;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return read(id);
  }
}
