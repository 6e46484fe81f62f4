/**
 * Dates and times on pages: in the reader's language and the deployment's time zone (TIME_ZONE),
 * never raw UTC. One cached Intl formatter per language, zone and style.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

const STYLES = {
  day: { dateStyle: 'medium' },
  dateTime: { dateStyle: 'medium', timeStyle: 'short' },
} as const satisfies Record<string, Intl.DateTimeFormatOptions>;

export type DateStyle = keyof typeof STYLES;

/** Throws a RangeError naming the zone when Intl does not know it (checked at start-up). */
export function checkTimeZone(timeZone: string): string {
  new Intl.DateTimeFormat('en', { timeZone });
  return timeZone;
}

export function formatDate(value: Date | string | number, lang: string, timeZone: string, style: DateStyle = 'day'): string {
  const key = `${lang}|${timeZone}|${style}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(lang, { ...STYLES[style], timeZone })));
  return f.format(new Date(value));
}
