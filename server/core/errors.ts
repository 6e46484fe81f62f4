/**
 * An error that becomes an HTTP response. `message` is for API clients (English, names the
 * problem); `key` is a locale key shown to people in their language on HTML pages.
 */
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    public readonly options: { key?: string; params?: Record<string, string>; details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, message, { details });
export const forbidden = (message = 'Forbidden') => new HttpError(403, message, { key: 'core:errors.403.body' });
export const notFound = (message = 'Not found') => new HttpError(404, message, { key: 'core:errors.404.body' });
export const conflict = (message: string) => new HttpError(409, message);
