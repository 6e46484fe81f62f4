/**
 * Numbers on pages and in PDFs: in the reader's language ("0,0 %" and "12.345" in Spanish,
 * "0.0%" and "12,345" in English), by Intl. One cached formatter per language and style.
 */
const formatters = new Map<string, Intl.NumberFormat>();

function formatter(lang: string, style: 'integer' | 'decimal' | 'percent'): Intl.NumberFormat {
  const key = `${lang}|${style}`;
  let f = formatters.get(key);
  if (!f) {
    const opts: Intl.NumberFormatOptions =
      style === 'percent'
        ? { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }
        : { maximumFractionDigits: style === 'integer' ? 0 : 1 };
    formatters.set(key, (f = new Intl.NumberFormat(lang, opts)));
  }
  return f;
}

/** A count or an amount (one decimal at most). */
export function formatNumber(n: number, lang: string): string {
  return formatter(lang, Number.isInteger(n) ? 'integer' : 'decimal').format(n);
}

/** A share 0..1 as a percentage with one decimal; "—" when there is none (nobody to count). */
export function formatShare(share: number | null | undefined, lang: string): string {
  return share === null || share === undefined || !Number.isFinite(share) ? '—' : formatter(lang, 'percent').format(share);
}
