import type { Plugin } from '../../core/plugin';
import '../../core/contracts/accounts';
import '../../core/contracts/catalog';
import '../../core/contracts/certificates';
import '../../core/contracts/org';
import '../../core/contracts/figures';
import { parseDuration } from '../../core/jobs';
import { mountRoutes } from '../../core/routes';
import { onCertificateIssued, onCourseSatisfied } from './completion';
import { sendDigests } from './digest';
import { Mailer } from './mailer';
import { Inbox, inboxModel } from './inbox';
import { inboxRoutes } from './inbox-routes';
import { institutionRoutes } from './institutions';
import { notificationModels } from './notifications.model';
import { notificationsPersonalData } from './personal-data';
import { sendReminders } from './reminders';
import { notificationRoutes, unsubscribeRoutes } from './routes';

declare module '../../core/services' {
  interface Services {
    notifications: Mailer;
  }
}

/** A duration setting; a bad one stops start-up naming the variable. */
function duration(env: Readonly<Record<string, string | undefined>>, name: string, fallback: string): number {
  const ms = parseDuration(env[name] ?? fallback);
  if (!ms) throw new Error(`${name} must be a duration such as 3d, 24h or 90m (got "${env[name]}").`);
  return ms;
}

export const notificationsPlugin: Plugin = {
  manifest: {
    name: 'notifications',
    version: '1.0.0',
    core: 1,
    description:
      'E-mail and an in-app list: deadline reminders to servants, the weekly HR digest, completion and certificate notices; preferences and unsubscribe',
    dependencies: ['accounts', 'catalog', 'reports'],
    permissions: {
      'notifications:preferences': {
        roles: ['learner', 'hr', 'admin'],
        description: 'see one’s own notifications and choose which e-mails one receives',
      },
      'notifications:admin': { roles: ['admin'], description: 'see the e-mails the mail server refused' },
      'notifications:institutions': { roles: ['hr', 'admin'], description: 'switch kinds of notification off for a whole institution' },
    },
    events: {
      on: {
        'catalog.course.satisfied': 'e-mails the learner that the course is completed (once per registration)',
        'certificates.certificate.issued': 'e-mails the holder that the certificate is ready (once per certificate)',
      },
    },
  },

  async register(ctx) {
    const m = notificationModels(ctx.db);
    const inbox = new Inbox(inboxModel(ctx.db), ctx.config.baseUrl);
    await Promise.all([m.deliveries.init(), m.prefs.init(), m.institutions.init(), inbox.init()]);
    const env = ctx.config.env;
    const mailer = new Mailer(
      m,
      ctx.i18n,
      {
        smtpUrl: env.SMTP_URL || undefined,
        from: env.MAIL_FROM ?? 'no-reply@localhost',
        baseUrl: ctx.config.baseUrl,
        secret: ctx.config.sessionSecret,
      },
      ctx.log,
      (unit) => ctx.services.get('org.scope').institutionOf(unit),
      inbox,
    );
    ctx.services.provide('notifications', 'notifications', mailer);
    ctx.declarePersonalData(notificationsPersonalData(m, inboxModel(ctx.db)));
    const reminders = {
      beforeMs: duration(env, 'NOTIFY_REMIND_BEFORE', '7d'),
      overdueEveryMs: duration(env, 'NOTIFY_OVERDUE_EVERY', '7d'),
      timeZone: ctx.config.timeZone,
      baseUrl: ctx.config.baseUrl,
    };
    // One sender at a time across the processes sharing the database: each e-mail is sent once.
    ctx.jobs.every({
      name: 'notifications.reminders',
      intervalVar: 'NOTIFY_REMINDERS_INTERVAL',
      defaultInterval: '24h',
      firstRunAfter: '5m',
      run: () =>
        ctx.locks.exclusive('notifications.send', () =>
          sendReminders(ctx.services.get('accounts.users'), ctx.services.get('catalog'), mailer, reminders),
        ),
    });
    const completion = { timeZone: ctx.config.timeZone, baseUrl: ctx.config.baseUrl };
    ctx.hooks.on('catalog.course.satisfied', async (p) => {
      await onCourseSatisfied({ users: ctx.services.get('accounts.users'), mailer, settings: completion }, p);
    });
    // Without the certificates plugin nobody emits this event and the handler never runs.
    ctx.hooks.on('certificates.certificate.issued', async ({ code }) => {
      await onCertificateIssued(
        {
          users: ctx.services.get('accounts.users'),
          catalog: ctx.services.get('catalog'),
          certificate: (c) => ctx.services.get('certificates.directory').issued(c),
          mailer,
          settings: completion,
        },
        code,
      );
    });
    const digestEveryMs = duration(env, 'NOTIFY_DIGEST_INTERVAL', '7d');
    ctx.jobs.every({
      name: 'notifications.digest',
      intervalVar: 'NOTIFY_DIGEST_INTERVAL',
      defaultInterval: '7d',
      firstRunAfter: '5m',
      run: () =>
        ctx.locks.exclusive('notifications.send', () =>
          sendDigests(ctx.services.get('accounts.users'), ctx.services.get('reports.figures'), mailer, {
            everyMs: digestEveryMs,
            baseUrl: ctx.config.baseUrl,
          }),
        ),
    });
    mountRoutes(ctx.router, ctx.permissions, notificationRoutes(m, mailer));
    mountRoutes(ctx.router, ctx.permissions, inboxRoutes(inbox));
    ctx.nav({
      href: '/notifications/inbox',
      label: 'notifications:nav.inbox',
      permission: 'notifications:preferences',
      order: 5,
      count: { of: (user) => inbox.unread(user.id), label: 'notifications:nav.unread' },
    });
    mountRoutes(
      ctx.router,
      ctx.permissions,
      institutionRoutes(m, () => ctx.services.get('org.scope')),
    );
    ctx.nav({
      href: '/notifications/institutions',
      label: 'notifications:nav.institutions',
      permission: 'notifications:institutions',
      order: 95,
    });
    ctx.homeFigure({
      permission: 'notifications:admin',
      kind: 'attention',
      label: 'notifications:home.failed',
      href: '/notifications/admin/failed',
      order: 20,
      count: async () => (await mailer.failures(1)).count,
    });
    mountRoutes(ctx.root, ctx.permissions, unsubscribeRoutes(m, mailer));
    ctx.nav({
      href: '/notifications/preferences',
      label: 'notifications:nav.preferences',
      permission: 'notifications:preferences',
      place: 'profile',
    });
  },
};
