/**
 * The app factory: config → database → i18n → express with the shared middleware → plugins in
 * dependency order. Used by the server (index.ts), the CLI (cli.ts) and the tests alike.
 */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import compression from 'compression';
import helmet from 'helmet';
import expressLayouts from 'express-ejs-layouts';
import { Passport, type PassportStatic } from 'passport';
import { csrfSync } from 'csrf-sync';
import { ROOT, SUPPORTED_LANGUAGES, loadConfig, type Config } from './core/config';
import { openDatabase, type Database } from './core/db/connect';
import type { EngineOwner } from './core/db/engine';
import { problemText } from './core/errors';
import { applyLanguage, createI18n, i18nMiddleware, isLanguage, LANG_COOKIE } from './core/i18n';
import { createLogger } from './core/log';
import { Permissions } from './core/permissions';
import { Hooks, ServiceRegistry } from './core/services';
import { PersonalDataRegistry } from './core/privacy';
import { resolvePlugins, type HomeFigure, type NavItem, type Plugin, type PluginContext, type Runtime } from './core/plugin';
import { errorHandler, notFoundHandler } from './core/error-handler';
import { Jobs } from './core/jobs';
import { SessionStore } from './core/session-store';
import { safeNext } from './core/safe-next';
import { Outbox, outboxModels } from './core/events/outbox';
import { outboxPersonalData } from './core/events/personal-data';
import { EventWorker, workerSettings } from './core/events/worker';
import { Locks, lockSettings } from './core/locks';
import { EVENTS_PERMISSION, eventAdminRoutes } from './core/events/admin-routes';
import { mountRoutes, servedRoutes, type ServedRoute } from './core/routes';
import { formatDate } from './core/dates';
import { formatNumber, formatShare } from './core/numbers';
import { allPlugins } from './plugins';

export interface AppOptions {
  config?: Config;
  /** Defaults to every plugin in server/plugins (filtered by config.plugins / PLUGINS). */
  plugins?: Plugin[];
  mode?: Runtime['mode'];
  /** An already open database (tests share one engine); otherwise one is opened. */
  database?: Database;
}

export interface LmsApp extends Runtime {
  app: express.Express;
  plugins: Plugin[];
  /** Every route of every plugin's route table, with its full path and guard. */
  routes: ServedRoute[];
  database: Database;
  /** Server-only start tasks of every plugin (first-start setup, background jobs). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function createLmsApp(opts: AppOptions = {}): Promise<LmsApp> {
  const config = opts.config ?? loadConfig();
  const mode = opts.mode ?? 'server';
  const log = createLogger(config.logLevel, 'lms', mode === 'cli');
  // Resolve plugins before touching the database: a bad PLUGINS value fails fast.
  const plugins = resolvePlugins(opts.plugins ?? allPlugins, config.plugins);

  const owner: EngineOwner = mode === 'server' ? 'server' : mode === 'cli' ? 'cli' : 'test';
  const database = opts.database ?? (await openDatabase(config, owner, (m) => log.info(m)));
  const closers: Array<() => Promise<void> | void> = [];
  if (!opts.database) closers.push(() => database.close());

  try {
    const i18n = await createI18n();
    const services = new ServiceRegistry();
    const hooks = new Hooks();
    const eventSettings = workerSettings(config.env);
    const outbox = new Outbox(outboxModels(database.connection), eventSettings.leaseMs);
    await outbox.init();
    const worker = new EventWorker(outbox, hooks, eventSettings, log.child({ core: 'events' }));
    hooks.attach(outbox, worker, eventSettings.pollMs);
    const locks = new Locks(database.connection, lockSettings(config.env), log.child({ core: 'locks' }));
    await locks.init();
    const permissions = new Permissions();
    permissions.declare('core', {
      [EVENTS_PERMISSION]: { roles: ['admin'], description: 'see failed event deliveries and retry them' },
    });
    const passport = new Passport() as PassportStatic;
    const routes: ServedRoute[] = [];
    const nav: NavItem[] = [{ href: '/admin/events', label: 'core:events.nav', permission: EVENTS_PERMISSION, order: 95 }];
    const homeFigures: HomeFigure[] = [];
    const jobs = new Jobs(config.env, log);
    const personalData = new PersonalDataRegistry();
    // First in the registry, so its erase step runs last (see privacy.ts).
    personalData.provide(
      'core',
      outboxPersonalData(outbox, () => worker.drain()),
    );
    const store = new SessionStore({
      client: database.connection.getClient() as never,
      dbName: config.dbName,
      collectionName: 'core_sessions',
      // FerretDB has no TTL indexes, so expired sessions are removed by our job below. Not by
      // connect-mongo's autoRemove 'interval': its deleteMany is sent unacknowledged (write concern 0).
      autoRemove: 'disabled',
      touchAfter: 300,
    });
    closers.push(() => store.close());
    const sessions = {
      endFor: (userId: string, exceptSid?: string) => store.endFor(userId, exceptSid),
      endWhere: (match: Parameters<SessionStore['endWhere']>[0]) => store.endWhere(match),
    };
    const events = { outbox, worker, settled: () => worker.drain() };
    const runtime: Runtime = {
      config,
      log,
      db: database.connection,
      services,
      hooks,
      jobs,
      events,
      locks,
      i18n,
      mode,
      personalData,
      sessions,
    };
    // FerretDB has no TTL indexes: delivered outbox ids are forgotten by a periodic deleteMany.
    jobs.every({
      name: 'core.outbox-prune',
      intervalVar: 'EVENTS_PRUNE_INTERVAL',
      defaultInterval: '1h',
      run: () => outbox.prune(eventSettings.keepDays),
    });

    const app = express();
    app.disable('x-powered-by');
    if (config.trustProxy) app.set('trust proxy', /^\d+$/.test(config.trustProxy) ? Number(config.trustProxy) : config.trustProxy);
    app.set('views', path.join(ROOT, 'views'));
    app.set('view engine', 'ejs');
    app.set('layout', 'layout');
    app.use(
      helmet({
        contentSecurityPolicy: {
          directives: {
            'img-src': ["'self'", 'data:'],
            'frame-src': ["'self'", ...(config.env.CONTENT_ORIGIN ? [config.env.CONTENT_ORIGIN] : [])],
            // The launch form redirects to the package's page on the content origin; browsers check form-action on redirects too.
            'form-action': ["'self'", ...(config.env.CONTENT_ORIGIN ? [config.env.CONTENT_ORIGIN] : [])],
            // Only ask browsers to upgrade to HTTPS when the server is actually served over HTTPS.
            'upgrade-insecure-requests': config.secureCookies ? [] : null,
          },
        },
        strictTransportSecurity: config.secureCookies,
      }),
    );
    app.use(compression());
    app.use(expressLayouts);
    app.use('/static', express.static(path.join(ROOT, 'public'), { maxAge: config.production ? '7d' : 0, index: false }));
    // Every other answer may carry personal data (pages, exports, statements, invitation links):
    // no browser or proxy keeps a copy. A route serving something public and unchanging (course
    // package files, the issuer's keys) says so itself.
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Cache-Control', 'no-store');
      next();
    });

    const sessionDocs = database.connection.getClient().db(config.dbName).collection('core_sessions');
    jobs.every({
      name: 'core.sessions-cleanup',
      intervalVar: 'SESSION_CLEANUP_INTERVAL',
      defaultInterval: '10m',
      run: () => sessionDocs.deleteMany({ expires: { $lt: new Date() } }),
    });
    app.use(
      session({
        name: 'lms.sid',
        secret: config.sessionSecret,
        store,
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, maxAge: 8 * 3600_000 },
      }),
    );
    app.use(passport.initialize());
    app.use(passport.session());
    app.use(i18nMiddleware(i18n));

    const { csrfSynchronisedProtection, generateToken } = csrfSync({
      getTokenFromRequest: (req) =>
        (req.body as Record<string, string> | undefined)?._csrf ?? (req.headers['x-csrf-token'] as string | undefined),
    });
    /** The links a person may follow in one place, in their order. */
    const navOf = (user: NonNullable<Request['user']>, place: NavItem['place']) =>
      nav
        .filter((n) => (n.place ?? 'main') === place && (!n.permission || permissions.allows(user, n.permission)))
        .sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
    /** What every page's layout reads. */
    const pageLocals = (req: Request, res: Response) => {
      res.locals.user = req.user;
      res.locals.currentPath = req.path;
      res.locals.languages = SUPPORTED_LANGUAGES;
      res.locals.baseUrl = config.baseUrl;
      res.locals.csrfToken = () => (req.session ? generateToken(req) : '');
      res.locals.can = (perm: string) => permissions.allows(req.user, perm);
      res.locals.nav = (place: NavItem['place'] = 'main') => (req.user ? navOf(req.user, place) : []);
      // Counts beside links (unread notifications), filled in for the signed-in person by the middleware below.
      res.locals.navCounts ??= new Map<string, number>();
      res.locals.title = '';
      res.locals.operator = config.operator;
      res.locals.privacyNotice = plugins.some((p) => p.manifest.name === 'privacy');
      // In the language of the page (read when called: a profile change switches it mid-request).
      res.locals.day = (d: Date | string | number) => formatDate(d, req.lang, config.timeZone, 'day');
      res.locals.dateTime = (d: Date | string | number) => formatDate(d, req.lang, config.timeZone, 'dateTime');
      // Counts and shares in the language of the page ("0,0 %" in Spanish, "0.0%" in English).
      res.locals.num = (n: number) => formatNumber(n, req.lang);
      res.locals.pct = (share: number | null | undefined) => formatShare(share, req.lang);
      // A problem (row error, package rule) in the language of the page.
      res.locals.explain = (p: Parameters<typeof problemText>[1]) => problemText(req.t, p);
    };
    app.use((req: Request, res: Response, next: NextFunction) => {
      pageLocals(req, res);
      next();
    });
    // A failing count leaves its link without a number rather than the page without content.
    app.use(async (req: Request, res: Response, next: NextFunction) => {
      if (!req.user || !['GET', 'POST'].includes(req.method)) return next();
      const counts = res.locals.navCounts as Map<string, number>;
      await Promise.all(
        navOf(req.user, 'main')
          .filter((n) => n.count)
          .map((n) =>
            n.count!.of(req.user!).then(
              (c) => void counts.set(n.href, c),
              (err: unknown) => log.warn({ err, href: n.href }, 'navigation count failed'),
            ),
          ),
      );
      next();
    });
    const bodyLimit = '1mb';
    const forms = [
      express.urlencoded({ extended: false, limit: bodyLimit }),
      express.json({ limit: bodyLimit }),
      csrfSynchronisedProtection,
    ];

    // Language switch for everyone (signed-in users also save it on their profile page).
    app.get('/lang/:code', (req, res) => {
      const code = req.params.code;
      if (isLanguage(code)) {
        res.cookie(LANG_COOKIE, code, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 86400_000 });
        // Signed in, the profile language would win over the cookie: the choice holds for this session.
        if (req.user && req.session) req.session.lang = code;
      }
      res.redirect(303, safeNext(req.query.next));
    });
    app.get('/health', (_req, res) => {
      res.json({ status: 'ok', engine: database.engine });
    });

    for (const plugin of plugins) {
      const { name } = plugin.manifest;
      try {
        permissions.declare(name, plugin.manifest.permissions);
        hooks.declare(name, plugin.manifest.events);
        const router = express.Router();
        if (plugin.manifest.forms !== false) router.use(...forms);
        const root = express.Router();
        const ctx: PluginContext = {
          ...runtime,
          hooks: hooks.forPlugin(name),
          name,
          log: log.child({ plugin: name }),
          router,
          root,
          permissions,
          can: (perm?: string) => permissions.guard(perm),
          forms,
          passport,
          nav: (item) => nav.push(item),
          homeFigure: (figure) => homeFigures.push(figure),
          declarePersonalData: (provider) => personalData.provide(name, provider),
          onClose: (fn) => closers.push(fn),
        };
        await plugin.register(ctx);
        if (plugin.manifest.personalData === false && personalData.has(name))
          throw new Error('its manifest says personalData: false, yet it declared personal data');
        if (plugin.manifest.personalData !== false && !personalData.has(name))
          throw new Error(
            'it must declare the personal data it keeps (ctx.declarePersonalData) or say personalData: false in its manifest',
          );
        app.use(root);
        app.use(plugin.manifest.prefix ?? `/${name}`, router);
        routes.push(...servedRoutes(name, '', root), ...servedRoutes(name, plugin.manifest.prefix ?? `/${name}`, router));
      } catch (err) {
        throw new Error(`Plugin "${name}" failed to load: ${(err as Error).message}`, { cause: err });
      }
    }

    const coreRouter = express.Router();
    coreRouter.use(...forms);
    mountRoutes(coreRouter, permissions, eventAdminRoutes(outbox));
    app.use('/admin/events', coreRouter);
    routes.push(...servedRoutes('core', '/admin/events', coreRouter));
    // Every process delivers after-events (CLI commands deliver theirs before exiting instead),
    // unless told to only serve requests (EVENTS_WORKER=off) while other processes deliver.
    if (mode !== 'cli' && config.env.EVENTS_WORKER !== 'off') worker.start();
    closers.push(() => worker.stop());

    // Deliveries that failed for good are the core's own line of the administrator's home page.
    homeFigures.push({
      permission: EVENTS_PERMISSION,
      kind: 'attention',
      label: 'core:home.failedEvents',
      href: '/admin/events',
      order: 10,
      count: async () => (await outbox.listFailed()).length,
    });
    app.get('/', async (req, res) => {
      if (!req.user) return res.redirect(303, services.has('accounts.users') ? '/accounts/login' : '/health');
      // The administrator's home says what needs attention first; others get their links.
      const mine = req.user.role === 'admin' ? homeFigures.filter((f) => permissions.allows(req.user, f.permission)) : [];
      const figures = (await Promise.all(mine.map(async (f) => ({ ...f, value: await f.count() })))).sort(
        (a, b) => (a.order ?? 50) - (b.order ?? 50),
      );
      res.render('home', {
        title: req.t('core:home.title'),
        attention: figures.filter((f) => f.kind === 'attention' && f.value > 0),
        calm: figures.filter((f) => f.kind === 'attention' && f.value === 0),
        counts: figures.filter((f) => f.kind === 'count'),
      });
    });
    // Pages of the site itself: the accessibility statement and the help for each role.
    app.get('/accessibility', (req, res) => {
      res.render('core/accessibility', { title: req.t('core:accessibility.title'), host: new URL(config.baseUrl).host });
    });
    app.get('/help', (req, res) => {
      res.render('core/help', { title: req.t('core:help.title') });
    });
    app.use(notFoundHandler);
    // A request that failed before the middleware above (e.g. its session could not be read)
    // still gets a translated error page.
    app.use(
      errorHandler(log, (req, res) => {
        if (!req.t) applyLanguage(i18n, req, res);
        if (!res.locals.nav) pageLocals(req, res);
      }),
    );

    // Closers run last-registered first: jobs stop before anything they use is closed.
    closers.push(async () => {
      jobs.stop();
      await jobs.idle();
    });

    let closing: Promise<void> | undefined;
    return {
      ...runtime,
      app,
      plugins,
      routes,
      database,
      async start() {
        for (const p of plugins) {
          try {
            await p.start?.(runtime);
          } catch (err) {
            throw new Error(`Plugin "${p.manifest.name}" failed to start: ${(err as Error).message}`, { cause: err });
          }
        }
        jobs.start();
      },
      close() {
        return (closing ??= (async () => {
          for (const fn of closers.reverse()) {
            try {
              await fn();
            } catch (err) {
              log.warn({ err }, 'error while closing');
            }
          }
        })());
      },
    };
  } catch (err) {
    for (const fn of closers.reverse()) await Promise.resolve(fn()).catch(() => {});
    throw err;
  }
}
