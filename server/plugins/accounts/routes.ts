import type { NextFunction, Request, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { PassportStatic } from 'passport';
import { HttpError, errorText } from '../../core/errors';
import type { Route } from '../../core/routes';
import { ROLES } from '../../core/permissions';
import { LEVELS, DEFAULT_TIERS } from '../../core/taxonomy';
import type { Config } from '../../core/config';
import type { UsersService } from './users.service';
import { verifyPassword } from './password';
import { isLanguage } from '../../core/i18n';
import { safeNext } from '../../core/safe-next';
import { pageNumber } from '../../core/page-number';
import type { Logger } from '../../core/log';
import type { Identity } from './identity/identity';
import { identityRoutes } from './identity/routes';
import type { DeviceCookies } from './device-cookie';
import type { SignInCounters } from './sign-in-counters';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function accountRoutes(
  users: UsersService,
  passport: PassportStatic,
  config: Config,
  identity: Identity,
  log: Logger,
  devices: DeviceCookies,
  counters: SignInCounters,
): Route[] {
  const tooMany = (minutes: number) =>
    new HttpError(429, `Too many failed sign-in attempts; wait ${minutes} minutes`, {
      key: 'accounts:login.tooMany',
      params: { minutes: String(minutes) },
    });
  /**
   * Failed sign-ins per address (LOGIN_RATE_LIMIT per 15 minutes; behind a proxy the address is
   * the client's only with TRUST_PROXY). Only failures count (answers of 400 and above): an office
   * behind one address signs in all day. A browser known for the account (device cookie) is not
   * held back by the failures of others at its address; it has its own count below. Counts are
   * in the database (sign-in-counters.ts), shared by every server process.
   */
  const loginLimiter = rateLimit({
    store: counters.store('address'),
    windowMs: 15 * 60_000,
    limit: config.login.rateLimit,
    skipSuccessfulRequests: true,
    skip: (req) => !!devices.trusted(req, req.body?.email),
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(tooMany(15)),
  });
  /** Failed sign-ins of one known browser (LOGIN_MAX_FAILURES per LOGIN_LOCK_MINUTES), instead of the account's lock-out. */
  const deviceLimiter = rateLimit({
    store: counters.store('device'),
    windowMs: config.login.lockMinutes * 60_000,
    limit: config.login.maxFailures,
    skipSuccessfulRequests: true,
    skip: (req) => !devices.trusted(req, req.body?.email),
    keyGenerator: (req) => `device:${devices.trusted(req, req.body?.email)}`,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(tooMany(config.login.lockMinutes)),
  });
  /** Other sign-in forms (a directory's password): failures per address, as above. */
  const providerLimiter = rateLimit({
    store: counters.store('directory'),
    windowMs: 15 * 60_000,
    limit: config.login.rateLimit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(tooMany(15)),
  });

  const renderLogin = async (req: Request, res: Response, status = 200, error?: string) =>
    res.status(status).render('accounts/login', {
      title: req.t('accounts:login.title'),
      error,
      // Back from an invitation that set the password: say so before asking for it.
      message: !error && str(req.query.invited) === '1' ? req.t('accounts:login.invited') : undefined,
      next: safeNext(req.body?.next ?? req.query.next),
      email: str(req.body?.email),
      providers: await identity.providersFor(req),
      recovery: identity.recovery.available,
    });

  const login = (req: Request, res: Response, next: NextFunction) => {
    if (typeof req.body?.email !== 'string' || typeof req.body?.password !== 'string') {
      return renderLogin(req, res, 400, req.t('accounts:login.missing'));
    }
    passport.authenticate('local', (err: unknown, user: Express.User | false) => {
      if (err) return next(err);
      if (!user) return renderLogin(req, res, 401, req.t('accounts:login.failed'));
      identity.passwordAllowed(user).then((allowed) => {
        // The institution requires its identity provider: a right password opens nothing.
        if (!allowed) return renderLogin(req, res, 403, req.t('accounts:identity.passwordsOff'));
        // passport ≥0.6 regenerates the session on login (no session fixation).
        req.logIn(user, (loginErr) => {
          if (loginErr) return next(loginErr);
          devices.issue(req, res, req.body.email);
          res.redirect(303, safeNext(req.body.next));
        });
      }, next);
    })(req, res, next);
  };

  const adminList = async (req: Request, res: Response) => {
    const page = pageNumber(req.query.page);
    const q = str(req.query.q);
    const { users: list, total } = await users.list({ q, skip: (page - 1) * 50, limit: 50 });
    res.render('accounts/admin-users', {
      title: req.t('accounts:admin.title'),
      list,
      total,
      page,
      pages: Math.max(1, Math.ceil(total / 50)),
      q,
      roles: ROLES,
      levels: LEVELS,
      tiers: DEFAULT_TIERS,
      form: {},
      error: undefined,
      created: str(req.query.created),
    });
  };

  const adminCreate = async (req: Request, res: Response) => {
    const b = req.body as Record<string, string>;
    try {
      const u = await users.create({
        email: str(b.email),
        name: str(b.name),
        role: (str(b.role) || 'learner') as never,
        password: str(b.password) || undefined,
        orgUnit: str(b.orgUnit) || undefined,
        level: (str(b.level) || undefined) as never,
        tier: str(b.tier) || undefined,
        language: (str(b.language) || 'es') as never,
      });
      res.redirect(303, `/accounts/admin/users?created=${encodeURIComponent(u.email)}`);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      const { users: list, total } = await users.list({ limit: 50 });
      res.status(err.status).render('accounts/admin-users', {
        title: req.t('accounts:admin.title'),
        list,
        total,
        page: 1,
        pages: Math.max(1, Math.ceil(total / 50)),
        q: '',
        roles: ROLES,
        levels: LEVELS,
        tiers: DEFAULT_TIERS,
        form: { ...b, password: '' },
        error: errorText(req.t, err),
        created: '',
      });
    }
  };

  const setActive = (active: boolean) => async (req: Request, res: Response) => {
    if (!active && req.params.id === req.user!.id)
      throw new HttpError(400, 'You cannot deactivate your own account', { key: 'accounts:admin.notSelf' });
    await users.setActive(String(req.params.id), active);
    res.redirect(303, '/accounts/admin/users');
  };

  const profile = async (req: Request, res: Response, status = 200, message?: string, error?: string) =>
    res.status(status).render('accounts/profile', {
      title: req.t('accounts:profile.title'),
      message,
      error,
      // Where the institution requires its identity provider there is no password to change.
      passwords: await identity.passwordAllowed(req.user!),
    });

  const saveProfile = async (req: Request, res: Response) => {
    const lang = str(req.body.language);
    await users.updateProfile(req.user!.id, { language: lang });
    if (isLanguage(lang)) {
      req.user!.language = lang;
      // The saved profile language replaces a choice made from the footer in this session.
      delete req.session.lang;
      req.setLanguage(lang);
    }
    await profile(req, res, 200, req.t('accounts:profile.saved'));
  };

  const changePassword = async (req: Request, res: Response) => {
    if (!(await identity.passwordAllowed(req.user!))) return profile(req, res, 403, undefined, req.t('accounts:profile.passwordsOff'));
    const current = await users.passwordHashOf(req.user!.id);
    if (!(await verifyPassword(str(req.body.current), current)))
      return profile(req, res, 400, undefined, req.t('accounts:profile.wrongPassword'));
    if (str(req.body.password) !== str(req.body.confirm)) return profile(req, res, 400, undefined, req.t('accounts:profile.mismatch'));
    try {
      await users.setPassword(req.user!.id, str(req.body.password), req.sessionID);
    } catch (err) {
      if (err instanceof HttpError && err.status === 400) return profile(req, res, 400, undefined, req.t('accounts:errors.password'));
      throw err;
    }
    await profile(req, res, 200, req.t('accounts:profile.passwordChanged'));
  };

  const showSetup = async (req: Request, res: Response) => {
    if (!(await users.checkSetupToken(String(req.params.token))))
      throw new HttpError(404, 'Setup link is invalid or already used', { key: 'accounts:setup.invalid' });
    res.render('accounts/setup', { title: req.t('accounts:setup.title'), token: req.params.token, error: undefined, form: {} });
  };

  const doSetup = async (req: Request, res: Response, next: NextFunction) => {
    const b = req.body as Record<string, string>;
    try {
      const admin = await users.createFirstAdmin(String(req.params.token), {
        email: str(b.email),
        name: str(b.name),
        password: str(b.password),
        language: req.lang,
      });
      req.logIn(admin, (err) => (err ? next(err) : res.redirect(303, '/')));
    } catch (err) {
      if (!(err instanceof HttpError) || err.status !== 400) throw err;
      res.status(400).render('accounts/setup', {
        title: req.t('accounts:setup.title'),
        token: req.params.token,
        error: errorText(req.t, err),
        form: { ...b, password: '' },
      });
    }
  };

  return [
    { method: 'get', path: '/login', guard: 'public', handler: (req, res) => (req.user ? res.redirect(303, '/') : renderLogin(req, res)) },
    { method: 'post', path: '/login', guard: 'public', handler: [loginLimiter, deviceLimiter, login] },
    {
      method: 'post',
      path: '/logout',
      guard: 'public',
      handler: async (req, res, next) => {
        // Signed in through a provider that supports it: its session ends too (RP-initiated / single logout).
        const to = (await identity.logoutUrl(req)) ?? '/accounts/login';
        req.logout((err) => (err ? next(err) : req.session.destroy(() => res.redirect(303, to))));
      },
    },
    { method: 'get', path: '/profile', guard: 'user', handler: (req, res) => profile(req, res) },
    { method: 'post', path: '/profile', guard: 'user', handler: saveProfile },
    { method: 'post', path: '/profile/password', guard: 'user', handler: changePassword },
    { method: 'get', path: '/admin/users', guard: 'accounts:manage', handler: adminList },
    { method: 'post', path: '/admin/users', guard: 'accounts:manage', handler: adminCreate },
    { method: 'post', path: '/admin/users/:id/deactivate', guard: 'accounts:manage', handler: setActive(false) },
    { method: 'post', path: '/admin/users/:id/activate', guard: 'accounts:manage', handler: setActive(true) },
    { method: 'get', path: '/setup/:token', guard: 'public', handler: showSetup },
    { method: 'post', path: '/setup/:token', guard: 'public', handler: doSetup },
    ...identityRoutes(identity, log, providerLimiter),
  ];
}
