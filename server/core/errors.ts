import type { TFunction } from 'i18next';
import { english } from './i18n';

/**
 * An error that becomes an HTTP response. `message` is for API clients (English, names the
 * problem); `key` is a locale key shown to people in their language on HTML pages.
 */
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly options: { key?: string; params?: Record<string, unknown>; details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, message, { details });
export const forbidden = (message = 'Forbidden') => new HttpError(403, message, { key: 'core:errors.403.body' });
export const notFound = (message = 'Not found') => new HttpError(404, message, { key: 'core:errors.404.body' });
export const conflict = (message: string) => new HttpError(409, message);

/**
 * An error people read in their language: `key` (with `params`) is its locale text, and the
 * English of the same key is the message API clients and logs get.
 */
export const localizedError = (status: number, key: string, params?: Record<string, unknown>, details?: unknown) =>
  new HttpError(status, english(key, params), { key, params, details });

/** An error that says itself in the reader's language (a course package's broken rules, each named). */
interface Explains {
  explain(t: TFunction): { reason: string; details: string[] };
}
const explains = (err: unknown): err is Explains => typeof (err as Partial<Explains> | undefined)?.explain === 'function';

/** What a person reads for an error shown on a page: its locale text, else the API message. */
export const errorText = (t: TFunction, err: HttpError): string =>
  explains(err) ? err.explain(t).reason : err.options.key ? (t(err.options.key, err.options.params ?? {}) as string) : err.message;

/** One problem of many (a row of a file, a rule of a package), in the same two forms. */
export interface LocalizedProblem {
  key: string;
  params?: Record<string, unknown>;
  /** The English, for API clients, the command line and records kept from before keys. */
  message: string;
}
export const problem = (key: string, params?: Record<string, unknown>): LocalizedProblem => ({
  key,
  params,
  message: english(key, params),
});
export const problemText = (t: TFunction, p: { key?: string; params?: Record<string, unknown>; message: string }): string =>
  p.key ? (t(p.key, p.params ?? {}) as string) : p.message;
