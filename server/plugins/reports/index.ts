import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Plugin } from '../../core/plugin';
import { mountRoutes } from '../../core/routes';
import '../../core/contracts/org';
import '../../core/contracts/catalog';
import '../../core/contracts/roster';
import '../../core/contracts/indicators';
import '../../core/contracts/figures';
import { indicatorSource } from './indicators';
import { apiTokenAuth } from './api-auth';
import { ApiTokensService } from './api-tokens.service';
import type { Reports } from './bundle';
import { reportCommands } from './commands';
import { reportsPersonalData } from './personal-data';
import { DashboardService } from './dashboard.service';
import { importModel, inviteModel } from './import.model';
import { InvitesService } from './invites.service';
import { OrgService } from './org.service';
import { personModel, userLinkModel } from './person.model';
import { RecomputeService } from './recompute.service';
import { WriteGate } from './write-gate';
import { RosterDirectoryService } from './roster-directory';
import { RosterService } from './roster.service';
import { reportRoutes, uploadRoutes } from './routes';
import { ScopeGuard } from './scope';
import { SettingsService } from './settings.service';
import { apiTokenModel, auditModel, historyModel, jobModel, settingModel, summaryModel } from './store.model';
import { HistoryService } from './history.service';
import { SummaryService } from './summary.service';
import { TrainedService } from './trained.service';
import { unitModel } from './unit.model';
import { tierNames } from './tier-names';
import { DEFAULT_TIERS } from '../../core/taxonomy';

declare module '../../core/services' {
  interface Services {
    /** The plugin's own services, for its CLI commands and tests (other plugins use `org.scope`). */
    'reports.internal': Reports;
  }
}

export const reportsPlugin: Plugin = {
  manifest: {
    name: 'reports',
    version: '1.0.0',
    core: 1,
    description: 'Organisation, HR rosters, the "trained" rule and the 80% target dashboard',
    dependencies: ['accounts', 'catalog'],
    permissions: {
      'reports:view': { roles: ['hr', 'admin'], description: 'see the dashboard, the people behind it and export them (own org subtree)' },
      'reports:import': { roles: ['hr', 'admin'], description: 'import rosters of institutions in scope and export invitation links' },
      'reports:org': { roles: ['admin'], description: 'manage and import org units' },
      'reports:settings': { roles: ['admin'], description: 'set the trained rule and the baseline; run a recompute' },
      'reports:audit': { roles: ['admin'], description: 'read the export audit log' },
    },
    events: {
      emits: {
        'reports.person.trained': {
          description: 'a servant became trained (every required course of their tier satisfied)',
          key: (p) => `${p.userId}:${p.tier}@${new Date(p.trainedAt).getTime()}`,
        },
      },
      on: {
        'catalog.progress.changed': "re-evaluates the learner's trained verdict and moves the summaries",
        'catalog.paths.changed': 'queues a recompute of everyone',
        'accounts.demo.seed': 'a demo org tree and roster',
      },
    },
  },

  async register(ctx) {
    const db = ctx.db;
    const people = personModel(db);
    const links = userLinkModel(db);
    await Promise.all([
      unitModel(db).init(),
      people.init(),
      links.init(),
      summaryModel(db).init(),
      importModel(db).init(),
      inviteModel(db).init(),
      auditModel(db).init(),
      apiTokenModel(db).init(),
    ]);
    const org = new OrgService(unitModel(db));
    const settings = new SettingsService(settingModel(db));
    const gate = new WriteGate(db, ctx.locks);
    await gate.init();
    const summaries = new SummaryService(summaryModel(db), org, gate);
    const history = new HistoryService(historyModel(db), summaries);
    const catalog = () => ctx.services.get('catalog');
    const trained = new TrainedService(people, links, settings, summaries, catalog, ctx.hooks, ctx.locks);
    const recompute = new RecomputeService(jobModel(db), people, settings, summaries, trained, ctx.log, ctx.locks.leaseMs);
    const env = ctx.config.env;
    const invites = new InvitesService(
      inviteModel(db),
      ctx.config.sessionSecret,
      ctx.config.baseUrl,
      { url: env.SMTP_URL, from: env.MAIL_FROM },
      ctx.log,
    );
    const uploadDir = path.join(ctx.config.dataDir, 'uploads', 'reports');
    const roster = new RosterService(
      people,
      links,
      importModel(db),
      org,
      summaries,
      settings,
      trained,
      invites,
      () => ctx.services.get('accounts.users'),
      async () => (ctx.services.has('accounts.sign-in') ? ctx.services.get('accounts.sign-in').ssoOnlyUnits() : new Set<string>()),
      ctx.hooks,
      uploadDir,
      async () =>
        tierNames(
          ctx.services.has('catalog.tiers')
            ? await ctx.services.get('catalog.tiers').list()
            : DEFAULT_TIERS.map((code) => ({ code, labels: {} })),
          ctx.i18n,
        ),
    );
    const r: Reports = {
      rt: ctx,
      org,
      scope: new ScopeGuard(org),
      settings,
      summaries,
      trained,
      recompute,
      roster,
      invites,
      history,
      dashboard: new DashboardService(summaries, org, settings, people, catalog, history),
      tokens: new ApiTokensService(apiTokenModel(db), ctx.log, ctx.locks),
      audit: auditModel(db),
      uploadDir,
      maxUploadBytes: Math.max(1, Number(env.REPORTS_MAX_UPLOAD_MB) || 50) * 1024 * 1024,
    };
    ctx.services.provide('reports', 'reports.internal', r);
    // Sweeps expired training (validity rule), then records the month's figures so far (the
    // trend's month-end record).
    ctx.jobs.every({
      name: 'reports.daily',
      intervalVar: 'REPORTS_DAILY_INTERVAL',
      defaultInterval: '24h',
      firstRunAfter: '1m',
      run: async () => {
        try {
          await r.trained.sweepExpired();
        } finally {
          await r.history.snapshot();
        }
      },
    });
    ctx.declarePersonalData(
      reportsPersonalData({
        people,
        links,
        invites: inviteModel(db),
        imports: importModel(db),
        tokens: apiTokenModel(db),
        audit: auditModel(db),
      }),
    );
    ctx.services.provide('reports', 'org.scope', org);
    ctx.services.provide('reports', 'reports.figures', {
      async of(scope) {
        const d = await r.dashboard.build(scope);
        return { scope: { code: d.scope.code, name: d.scope.name }, total: d.total, trained: d.trained, share: d.share, target: d.target };
      },
    });
    ctx.services.provide('reports', 'reports.indicators', indicatorSource(people, settings));
    ctx.services.provide('reports', 'roster.directory', new RosterDirectoryService(people, links, trained));
    ctx.services.provide('reports', 'roster.invitations', {
      pending: (userId) => invites.pendingFor(userId),
      resend: (person, mail) => invites.resend(person, mail),
    });
    org.onStructureChange((reason) => void recompute.request(reason, false));

    ctx.hooks.on('catalog.progress.changed', ({ progress }) => trained.onProgress(progress.userId));
    ctx.hooks.on('catalog.paths.changed', async ({ tier }) => {
      await recompute.request(tier ? `paths:${tier}` : 'paths');
    });
    ctx.hooks.on('accounts.demo.seed', async ({ orgUnit, users }) => {
      await seedDemo(r, orgUnit, users);
    });

    // Personal API tokens for BI tools: GET /reports/api/* and /reports/export/* only.
    ctx.router.use(['/api', '/export'], apiTokenAuth(r));
    mountRoutes(ctx.router, ctx.permissions, reportRoutes(r));
    mountRoutes(ctx.root, ctx.permissions, uploadRoutes(r));
    ctx.nav({ href: '/reports', label: 'reports:nav.dashboard', permission: 'reports:view', order: 40 });
    // Roster previews nobody confirmed, and training that stops counting soon (the validity rule).
    ctx.homeFigure({
      permission: 'reports:import',
      kind: 'attention',
      label: 'reports:home.pendingImports',
      href: '/reports/roster',
      order: 30,
      count: () => importModel(db).countDocuments({ status: 'previewed' }),
    });
    ctx.homeFigure({
      permission: 'reports:view',
      kind: 'attention',
      label: 'reports:home.expiring',
      href: '/reports/people?status=trained',
      order: 40,
      count: () =>
        people.countDocuments({
          active: true,
          trained: true,
          expiresAt: { $gte: new Date(), $lte: new Date(Date.now() + 60 * 86_400_000) },
        }),
    });
    ctx.homeFigure({
      permission: 'reports:view',
      kind: 'count',
      label: 'reports:home.servants',
      href: '/reports',
      order: 55,
      count: () => people.countDocuments({ active: true }),
    });
    ctx.nav({ href: '/reports/roster', label: 'reports:nav.roster', permission: 'reports:import', order: 41 });
    ctx.nav({ href: '/reports/org', label: 'reports:nav.org', permission: 'reports:org', order: 42 });
    ctx.nav({ href: '/reports/settings', label: 'reports:nav.settings', permission: 'reports:settings', order: 43 });
    ctx.nav({ href: '/reports/tokens', label: 'reports:nav.tokens', permission: 'reports:view', order: 44 });
  },

  /** Resumes a queued recompute. */
  async start(rt) {
    const r = rt.services.get('reports.internal');
    void r.recompute.kick();
  },

  commands: reportCommands,
};

/** demo:seed: a real org tree above the demo institution and a small roster imported the normal way. */
async function seedDemo(r: Reports, institution: string, users: Array<{ email: string; name: string; role: string; tier?: string }>) {
  await r.org.importUnits(
    [
      { code: 'DEMO', name: 'País de demostración', parent: '', kind: 'country' as const, level: '' },
      { code: 'DEMO-LOCAL', name: 'Gobiernos locales', parent: 'DEMO', kind: 'level' as const, level: 'local' },
      { code: institution, name: 'Municipalidad de demostración', parent: 'DEMO-LOCAL', kind: 'institution' as const, level: 'local' },
      { code: `${institution}-ADM`, name: 'Administración y finanzas', parent: institution, kind: 'unit' as const, level: '' },
      { code: `${institution}-TIC`, name: 'Tecnologías de la información', parent: institution, kind: 'unit' as const, level: '' },
    ].map((input, i) => ({ row: i + 2, input })),
  );
  const learner = users.find((u) => u.role === 'learner');
  const rows = [
    ['employee_id', 'name', 'email', 'unit', 'level', 'tier', 'position', 'decision_maker', 'active'],
    ...(learner
      ? [
          [
            'M-001',
            learner.name,
            learner.email,
            `${institution}-ADM`,
            'local',
            learner.tier ?? 'all',
            'Asistente administrativa',
            'no',
            'yes',
          ],
        ]
      : []),
    ['M-002', 'Carlos Alcalde Pérez', 'alcalde@demo.example', institution, 'local', 'decision-maker', 'Alcalde', 'yes', 'yes'],
    ['M-003', 'María Concejal Rojas', 'concejal@demo.example', institution, 'local', 'decision-maker', 'Concejala', 'yes', 'yes'],
    ['M-004', 'Jorge Tesorero Díaz', 'tesoreria@demo.example', `${institution}-ADM`, 'local', 'manager', 'Jefe de tesorería', 'no', 'yes'],
    [
      'M-005',
      'Ana Sistemas Gómez',
      'sistemas@demo.example',
      `${institution}-TIC`,
      'local',
      'ict-specialist',
      'Encargada de sistemas',
      'no',
      'yes',
    ],
    ['M-006', 'Pedro Técnico Silva', 'tecnico@demo.example', `${institution}-TIC`, 'local', 'technical', 'Técnico de soporte', 'no', 'yes'],
    ['M-007', 'Rosa Atención Vega', 'atencion@demo.example', `${institution}-ADM`, 'local', 'all', 'Atención ciudadana', 'no', 'yes'],
    ['M-008', 'Luis Archivo Mora', 'archivo@demo.example', `${institution}-ADM`, 'local', 'all', 'Archivo', 'no', 'yes'],
  ];
  await mkdir(r.uploadDir, { recursive: true });
  const file = path.join(r.uploadDir, `demo-${randomBytes(4).toString('hex')}.csv`);
  await writeFile(file, rows.map((cells) => cells.join(',')).join('\n') + '\n', 'utf8');
  const imp = await r.roster.preview({ file, fileName: 'demo-roster.csv', institution, userId: 'demo:seed' });
  if (!imp.errorCount) await r.roster.confirm(imp._id, 'demo:seed');
}
