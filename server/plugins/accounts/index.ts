import { Strategy as LocalStrategy } from 'passport-local';
import type { Plugin } from '../../core/plugin';
import type { SessionUser } from '../../core/permissions';
import { mountRoutes } from '../../core/routes';
import { accountRoutes } from './routes';
import { adminUserRoutes } from './admin-user';
import { accountCommands } from './commands';
import { accountsPersonalData } from './personal-data';
import { setupModel, userModel } from './user.model';
import { UsersService } from './users.service';
import { Identity } from './identity/identity';
import { samlPostRoutes } from './identity/routes';
import { DeviceCookies } from './device-cookie';
import { SignInCounters } from './sign-in-counters';

declare module '../../core/services' {
  interface Services {
    /** The whole service, for this plugin's own start-up and commands (others use `accounts.users`). */
    'accounts.internal': UsersService;
    /** Identity providers, links and account recovery (for tests and commands of this plugin). */
    'accounts.identity': Identity;
  }
  interface HookEvents {
    /** demo:seed ran: other plugins add their demo data for these users. */
    'accounts.demo.seed': { orgUnit: string; users: SessionUser[]; at: Date };
  }
}

export const accountsPlugin: Plugin = {
  manifest: {
    name: 'accounts',
    version: '1.0.0',
    core: 1,
    description: 'People, roles, sign-in, profile and language',
    permissions: {
      'accounts:manage': { roles: ['admin'], description: 'list, create and deactivate user accounts' },
      'accounts:people': {
        roles: ['hr', 'admin'],
        description: "change an account's unit, level and tier (HR: own org subtree; role: admins) and resend its invitation",
      },
    },
    events: {
      emits: {
        'accounts.demo.seed': {
          description: 'demo:seed created the demo users; other plugins add their demo data',
          key: (p) => `${p.orgUnit}@${p.at.getTime()}`,
        },
      },
    },
  },

  async register(ctx) {
    const svc = new UsersService(userModel(ctx.db), setupModel(ctx.db), ctx.config.login, ctx.sessions);
    await userModel(ctx.db).init(); // unique email index before the first write
    ctx.services.provide('accounts', 'accounts.users', svc);
    ctx.services.provide('accounts', 'accounts.internal', svc);

    const devices = new DeviceCookies(ctx.config.sessionSecret, ctx.config.secureCookies);
    ctx.passport.use(
      new LocalStrategy({ usernameField: 'email', passwordField: 'password', passReqToCallback: true }, (req, email, password, done) => {
        const trustedDevice = !!devices.trusted(req, email);
        svc.login(email, password, { trustedDevice }).then((r) => done(null, r.ok ? r.user : false), done);
      }),
    );
    ctx.passport.serializeUser((user, done) => done(null, user.id));
    ctx.passport.deserializeUser((id: string, done) => {
      svc.findActiveById(id).then((u) => done(null, u ?? false), done);
    });

    const identity = await Identity.create(ctx, svc);
    ctx.declarePersonalData(accountsPersonalData(svc, ctx.sessions, identity));
    ctx.services.provide('accounts', 'accounts.identity', identity);
    ctx.services.provide('accounts', 'accounts.sign-in', { ssoOnlyUnits: () => identity.ssoOnlyUnits() });
    samlPostRoutes(ctx.root, identity, ctx.log);
    const counters = new SignInCounters(ctx.db);
    mountRoutes(ctx.router, ctx.permissions, accountRoutes(svc, ctx.passport, ctx.config, identity, ctx.log, devices, counters));
    mountRoutes(ctx.router, ctx.permissions, adminUserRoutes(svc, ctx.services));
    ctx.jobs.every({
      name: 'accounts.sign-in-counters-purge',
      intervalVar: 'LOGIN_COUNTERS_PURGE_INTERVAL',
      defaultInterval: '1h',
      run: () => counters.purgeExpired(),
    });
    ctx.nav({ href: '/accounts/admin/users', label: 'accounts:nav.users', permission: 'accounts:manage', order: 90 });
    ctx.homeFigure({
      permission: 'accounts:manage',
      kind: 'count',
      label: 'accounts:home.active',
      href: '/accounts/admin/users',
      order: 60,
      count: () => ctx.db.collection('accounts_users').countDocuments({ active: { $ne: false } }),
    });
    ctx.nav({ href: '/accounts/identity/admin', label: 'accounts:nav.identity', permission: 'accounts:manage', order: 91 });
    ctx.nav({ href: '/accounts/profile', label: 'accounts:nav.profile', order: 99 });
  },

  /** First start: create the admin from ADMIN_EMAIL/ADMIN_PASSWORD, or print a one-time setup link. */
  async start(rt) {
    const svc = rt.services.get('accounts.internal');
    if (await svc.hasAdmin()) return;
    const { adminEmail, adminPassword } = rt.config;
    if (adminEmail && adminPassword) {
      const existing = await svc.findByEmail(adminEmail);
      if (!existing) await svc.create({ email: adminEmail, name: 'Administrator', role: 'admin', password: adminPassword });
      rt.log.info(`First admin ${adminEmail} created from ADMIN_EMAIL/ADMIN_PASSWORD.`);
      return;
    }
    const token = await svc.createSetupToken();
    const link = `${rt.config.baseUrl}/accounts/setup/${token}`;
    // Printed on stdout on purpose: the operator who started the server needs it, once.
    console.log(`\nNo administrator yet. Create the first one here (link works once):\n  ${link}\n`);
  },

  commands: accountCommands,
};
