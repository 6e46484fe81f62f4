/**
 * JSON that keeps every number exactly as sent. xAPI extensions are arbitrary JSON, and JavaScript
 * numbers are doubles: `JSON.parse` turns 12345678901234567890 into 12345678901234567000,
 * 1.0000000000000001 into 1 and 1e400 into Infinity (stored as null). The LRS therefore reads
 * request bodies and stored statements keeping such numbers as lossless-json's LosslessNumber
 * (which holds the text), writes that text back verbatim, and hands the other plugins ordinary
 * numbers (toPlain).
 */
import { isLosslessNumber, parse, stringify, type LosslessNumber } from 'lossless-json';

export { isLosslessNumber };

/**
 * What looks like a number token: after `:`, `[`, `,` or at the start. Inside a string such a run
 * is a false alarm, which only sends the text to the slower exact parser.
 */
const NUMBER_TOKEN = /(?:^|[:[,])\s*(-?\d[\d.eE+-]*)/g;

/** Whether JSON.parse and JSON.stringify give back every number of `text` exactly (written as a double prints). */
function numbersRoundTrip(text: string): boolean {
  for (const m of text.matchAll(NUMBER_TOKEN)) if (String(Number(m[1])) !== m[1]) return false;
  return true;
}

/**
 * Parses JSON keeping every number exactly. Numbers a double prints back unchanged (0.85, 100,
 * 12.5) stay plain numbers: JSON.parse is then used, ~50× faster than an exact parser on large
 * bodies. Any other (12345678901234567890, 1e400, 2.50) becomes a LosslessNumber holding its
 * text. Throws SyntaxError on bad JSON.
 */
export function parseExact(text: string): unknown {
  return numbersRoundTrip(text) ? JSON.parse(text) : parse(text);
}

/** Whether a parsed value holds a LosslessNumber anywhere (walked with a stack). */
function holdsExact(root: unknown): boolean {
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (isLosslessNumber(v)) return true;
    for (const c of Array.isArray(v) ? v : Object.values(v)) if (typeof c === 'object' && c !== null) stack.push(c);
  }
  return false;
}

/** Serialises a value parsed by parseExact, each number written as it was sent (`space` indents, as JSON.stringify's). */
export function stringifyExact(v: unknown, space?: number): string {
  return (holdsExact(v) ? stringify(v, undefined, space) : JSON.stringify(v, undefined, space)) ?? 'null';
}

/** The number a LosslessNumber stands for (a double, possibly rounded or infinite). */
export function numberOf(v: LosslessNumber): number {
  return parseFloat(v.value);
}

/**
 * The same value with ordinary numbers, for code that computes with them (other plugins, the
 * outbox): rounded as JSON.parse would, and a number beyond a double's range becomes null, as
 * JSON.stringify writes Infinity (a database document cannot hold it).
 */
export function toPlain<T = unknown>(v: unknown): T {
  if (isLosslessNumber(v)) {
    const n = numberOf(v);
    return (Number.isFinite(n) ? n : null) as T;
  }
  if (Array.isArray(v)) return v.map((x) => toPlain(x)) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out as T;
  }
  return v as T;
}

/** A stored statement (or document) as ordinary values. */
export const parsePlain = <T = unknown>(text: string): T => toPlain<T>(parseExact(text));
