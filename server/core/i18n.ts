import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type Resource, type TFunction } from 'i18next';
import type { NextFunction, Request, Response } from 'express';
import { DEFAULT_LANGUAGE, ROOT, SUPPORTED_LANGUAGES, type Language } from './config';

export const LOCALES_DIR = path.join(ROOT, 'locales');

/** Loads every locales/<lang>/<namespace>.json (one namespace per plugin, plus `core`). */
export async function createI18n(dir = LOCALES_DIR): Promise<i18n> {
  return loadI18n(dir);
}

/** The same, synchronously (the resources are files read up front). */
function loadI18n(dir: string): i18n {
  const resources: Resource = {};
  const namespaces = new Set<string>();
  for (const lng of SUPPORTED_LANGUAGES) {
    resources[lng] = {};
    const lngDir = path.join(dir, lng);
    if (!existsSync(lngDir)) continue;
    for (const file of readdirSync(lngDir).filter((f) => f.endsWith('.json'))) {
      const ns = file.replace(/\.json$/, '');
      namespaces.add(ns);
      resources[lng][ns] = JSON.parse(readFileSync(path.join(lngDir, file), 'utf8'));
    }
  }
  const instance = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources,
    lng: DEFAULT_LANGUAGE,
    fallbackLng: DEFAULT_LANGUAGE,
    supportedLngs: [...SUPPORTED_LANGUAGES],
    ns: [...namespaces],
    defaultNS: 'core',
    interpolation: { escapeValue: false }, // EJS escapes with <%= %>
    returnNull: false,
  });
  return instance;
}

let englishT: TFunction | undefined;

/**
 * The English of a locale key: the message API clients, logs and the command line get for a
 * problem whose key people read in their own language (one source for both: the locale files).
 */
export function english(key: string, params?: Record<string, unknown>): string {
  englishT ??= loadI18n(LOCALES_DIR).getFixedT('en');
  return englishT(key, params ?? {}) as string;
}

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (SUPPORTED_LANGUAGES as readonly string[]).includes(v);
}

/** Cookie used to remember an anonymous visitor's choice. */
export const LANG_COOKIE = 'lms.lang';

function cookieLanguage(req: Request): Language | undefined {
  const m = /(?:^|;\s*)lms\.lang=([a-z]{2})/.exec(req.headers.cookie ?? '');
  return m && isLanguage(m[1]) ? m[1] : undefined;
}

/**
 * Language: a choice made in this session (footer links), the user's profile, the visitor's
 * cookie, Accept-Language, then Spanish.
 */
export function detectLanguage(req: Request): Language {
  if (req.user && isLanguage(req.session?.lang)) return req.session.lang;
  if (req.user && isLanguage(req.user.language)) return req.user.language;
  const fromCookie = cookieLanguage(req);
  if (fromCookie) return fromCookie;
  const accepted = req.acceptsLanguages(...SUPPORTED_LANGUAGES);
  return isLanguage(accepted) ? accepted : DEFAULT_LANGUAGE;
}

declare module 'express-session' {
  interface SessionData {
    /** Language picked from the footer while signed in; the profile keeps the default. */
    lang?: Language;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      lang: Language;
      t: TFunction;
      /** Switches the language of the rest of this response (e.g. right after a profile change). */
      setLanguage(lang: Language): void;
    }
  }
}

/** Gives the request its language (`req.t`, `res.locals.t`); also used by the error handler. */
export function applyLanguage(instance: i18n, req: Request, res: Response): void {
  req.setLanguage = (lang: Language) => {
    req.lang = lang;
    req.t = instance.getFixedT(lang);
    res.locals.lang = lang;
    res.locals.t = req.t;
    if (!res.headersSent) res.setHeader('Content-Language', lang);
  };
  req.setLanguage(detectLanguage(req));
}

export function i18nMiddleware(instance: i18n) {
  return (req: Request, res: Response, next: NextFunction) => {
    applyLanguage(instance, req, res);
    next();
  };
}
