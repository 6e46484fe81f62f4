/**
 * The xAPI data types every part of a statement is built from. Each check throws an HttpError 400
 * whose message names the offending property by its path (e.g. `statement.context.registration`),
 * so a client can find its mistake without reading our code.
 */
import { HttpError } from '../../../core/errors';
import { isLosslessNumber, numberOf } from '../exact-json';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = Record<string, unknown>;

/** The xAPI version family the request speaks: some rules differ between 1.0.x and 2.0.x. */
export type Family = '1.0' | '2.0';

export function invalid(path: string, problem: string): HttpError {
  return new HttpError(400, `${path}: ${problem}`, { details: { field: path } });
}

/** A JSON object (a number read with its exact text, exact-json.ts, is not one). */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

export function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw invalid(path, 'must be a JSON object');
  return v;
}

/** Unknown properties are rejected (the spec forbids them; silently dropping would change the data). */
export function allowOnly(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw invalid(`${path}.${k}`, 'is not an allowed property here');
    if (o[k] === null) throw invalid(`${path}.${k}`, 'must not be null');
  }
}

export function required(o: Obj, path: string, keys: readonly string[]): void {
  for (const k of keys) if (o[k] === undefined) throw invalid(`${path}.${k}`, 'is required');
}

export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalid(path, 'must be a string');
  return v;
}

export function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, 'must be true or false');
  return v;
}

/** A JSON number (read as a plain or an exact number), as the double it stands for. */
export function num(v: unknown, path: string): number {
  const n = isLosslessNumber(v) ? numberOf(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(path, 'must be a finite number');
  return n;
}

export function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(path, 'must be an array');
  return v;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);
export function uuid(v: unknown, path: string): string {
  if (!isUuid(v)) throw invalid(path, 'must be a UUID (RFC 4122)');
  return v;
}

// RFC 3987 in practice: a scheme, then no whitespace or characters IRIs never contain.
const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$/u;
export const isIri = (v: unknown): v is string => typeof v === 'string' && IRI.test(v);
export function iri(v: unknown, path: string): string {
  if (!isIri(v)) throw invalid(path, 'must be an absolute IRI (e.g. http://example.org/verbs/x)');
  return v;
}

/** An IRL is an IRI meant to be dereferenced: http(s) or another scheme with an authority. */
export function irl(v: unknown, path: string): string {
  if (!isIri(v) || !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]/.test(v)) throw invalid(path, 'must be an absolute URL');
  return v;
}

// RFC 5646 (BCP 47): language[-extlang][-script][-region](-variant)*(-extension)*[-privateuse], or grandfathered/private.
const LANG_TAG =
  /^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-(?:[A-Za-z\d]{5,8}|\d[A-Za-z\d]{3}))*(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z\d]{2,8})+)*(?:-x(?:-[A-Za-z\d]{1,8})+)?|x(?:-[A-Za-z\d]{1,8})+|i-[A-Za-z]{2,8})$/;
export const isLangTag = (v: unknown): v is string => typeof v === 'string' && LANG_TAG.test(v);

export function langMap(v: unknown, path: string): void {
  const m = obj(v, path);
  for (const [k, val] of Object.entries(m)) {
    if (!isLangTag(k)) throw invalid(`${path}.${k}`, 'key must be an RFC 5646 language tag');
    if (typeof val !== 'string') throw invalid(`${path}.${k}`, 'must be a string');
  }
}

const DURATION =
  /^P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/;
export function duration(v: unknown, path: string): void {
  if (typeof v !== 'string' || !DURATION.test(v) || /T$/.test(v) || (/W/.test(v) && !/^P\d+(?:[.,]\d+)?W$/.test(v)))
    throw invalid(path, 'must be an ISO 8601 duration (e.g. PT1H30M)');
}

// ISO 8601 / RFC 3339 date-time. 2.0 requires the offset; "-00:00" means "unknown offset" and is refused.
const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?([Zz]|[+-]\d\d(?::?\d\d)?)?$/;
export function timestamp(v: unknown, path: string, family: Family): Date {
  const m = typeof v === 'string' ? TIMESTAMP.exec(v) : null;
  if (!m) throw invalid(path, 'must be an ISO 8601 timestamp (e.g. 2024-05-01T12:00:00.000Z)');
  const [, , mo, d, h, mi, s = '0', , tz] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +s > 60) throw invalid(path, 'is not a valid date-time');
  if (tz === '-00' || tz === '-00:00' || tz === '-0000') throw invalid(path, 'must not use the offset -00:00');
  if (family === '2.0' && !tz) throw invalid(path, 'must include a time zone offset (xAPI 2.0)');
  const date = new Date(tz ? (v as string) : `${v}Z`);
  if (Number.isNaN(date.getTime())) throw invalid(path, 'is not a valid date-time');
  return date;
}

// Internet media type: type "/" subtype, optional parameters.
const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(?:[^;"\s]+|"[^"]*"))*$/;
export function mediaType(v: unknown, path: string): void {
  if (typeof v !== 'string' || !MEDIA_TYPE.test(v)) throw invalid(path, 'must be an Internet media type (e.g. application/pdf)');
}

export function extensions(v: unknown, path: string): void {
  const m = obj(v, path);
  for (const k of Object.keys(m)) if (!isIri(k)) throw invalid(`${path}.${k}`, 'extension keys must be IRIs');
}

/** objectType, when present, must be exactly the expected value (values are case sensitive). */
export function objectType(o: Obj, path: string, allowed: readonly string[]): string | undefined {
  if (o.objectType === undefined) return undefined;
  if (typeof o.objectType !== 'string' || !allowed.includes(o.objectType)) {
    throw invalid(`${path}.objectType`, `must be ${allowed.map((a) => `"${a}"`).join(' or ')}`);
  }
  return o.objectType;
}
