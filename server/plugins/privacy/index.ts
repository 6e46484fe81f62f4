import type { Plugin } from '../../core/plugin';
import { envNumber } from '../../core/config';
import { mountRoutes } from '../../core/routes';
import { privacyCommands } from './commands';
import { privacyPersonalData } from './personal-data';
import { privacyModels } from './privacy.model';
import { PrivacyService } from './privacy.service';
import { privacyRoutes } from './routes';

declare module '../../core/services' {
  interface Services {
    privacy: PrivacyService;
  }
}

export const privacyPlugin: Plugin = {
  manifest: {
    name: 'privacy',
    version: '1.0.0',
    core: 1,
    description: 'Personal data: each person downloads everything held about them; admins export and erase; retention',
    dependencies: ['accounts'],
    permissions: {
      'privacy:export-own': { roles: ['learner', 'hr', 'admin'], description: 'download everything the platform holds about oneself' },
      'privacy:manage': { roles: ['admin'], description: 'export and erase any person’s data; see the privacy audit log' },
    },
  },

  async register(ctx) {
    const models = privacyModels(ctx.db);
    await Promise.all([models.erasures.init(), models.audit.init()]);
    const svc = new PrivacyService(
      models,
      ctx.personalData,
      () => ctx.services.get('accounts.users'),
      (userId) => ctx.sessions.endFor(userId),
      () => ctx.events.settled(),
      ctx.config.baseUrl,
      { days: envNumber(ctx.config.env, 'PRIVACY_RETENTION_DAYS', 730) },
      ctx.log,
    );
    ctx.services.provide('privacy', 'privacy', svc);
    ctx.declarePersonalData(privacyPersonalData(models));
    // The retention rule; each run also finishes erasures a crash or an error interrupted.
    ctx.jobs.every({
      name: 'privacy.retention',
      intervalVar: 'PRIVACY_RETENTION_INTERVAL',
      defaultInterval: '1h',
      firstRunAfter: '1m',
      run: () => svc.runRetention(),
    });
    mountRoutes(
      ctx.router,
      ctx.permissions,
      privacyRoutes(svc, () => ctx.services.get('accounts.users')),
    );
    ctx.nav({ href: '/privacy/admin', label: 'privacy:nav.admin', permission: 'privacy:manage', order: 95 });
    ctx.nav({ href: '/privacy', label: 'privacy:nav.mine', permission: 'privacy:export-own', place: 'profile' });
  },

  commands: privacyCommands,
};
