import type { Plugin } from '../../core/plugin';
import { mountRoutes } from '../../core/routes';
import { CoursesService } from './courses.service';
import { packageRoutes } from './package/admin-routes';
import { packageCommands } from './package/commands';
import { packageSettings } from './package/settings';
import { contentInstallCommand, installLibrary, installLibraryOnStart, libraryBuildDir, libraryRoutes } from './library';
import { readManifest } from '../../../content/tools/build-library';
import { LaunchService } from './launch/launch.service';
import { sessionModels } from './launch/session.model';
import { assessmentModels } from './assessment/assessment.model';
import { AssessmentService } from './assessment/assessment.service';
import { mountAssessmentRoutes } from './assessment/assessment-routes';
import { pathModels } from './paths/paths.model';
import { PersonDeadlines, personDeadlineModel } from './paths/person-deadlines';
import { PathsService } from './paths/paths.service';
import { progressModels } from './progress/progress.model';
import { ProgressService, publicProgress, toSummary } from './progress/progress.service';
import { catalogRoutes, fetchRoutes } from './routes';
import { catalogPersonalData } from './personal-data';
import { exchangeService } from './exchange';
import { ScormRuntime } from './formats/scorm/runtime';
import { preflight, SCORM_PREFLIGHT_PATHS, scormRoutes } from './formats/scorm/routes';
import '../../core/contracts/catalog';
import '../../core/contracts/lrs';
import '../../core/contracts/org';

declare module '../../core/services' {
  interface Services {
    /** The course store itself, for the catalog's own CLI commands. */
    'catalog.courses': CoursesService;
    'catalog.paths': PathsService;
    'catalog.launch': LaunchService;
    /** Item banks and attempts of the assessments the LMS scores (the library installer stores the banks). */
    'catalog.assessments': AssessmentService;
  }
}

export const catalogPlugin: Plugin = {
  manifest: {
    name: 'catalog',
    version: '1.0.0',
    core: 1,
    description: 'Courses (cmi5 and SCORM 1.2/2004 packages), learning paths per tier and level, launch and progress',
    dependencies: ['accounts', 'lrs'],
    permissions: {
      'catalog:manage': { roles: ['admin'], description: 'import and publish courses, assign them to tiers and levels' },
      'catalog:waive': { roles: ['admin', 'hr'], description: "waive a learner's AU (HR: only people in their org unit)" },
      'catalog:learn': { roles: ['learner', 'hr', 'admin'], description: 'browse the catalog, enrol, launch courses' },
    },
    events: {
      emits: {
        'catalog.progress.changed': {
          description: "a learner's progress in a course changed",
          key: (p) => `${p.progress._id}@${new Date(p.progress.updatedAt).getTime()}`,
        },
        'catalog.course.satisfied': {
          description: 'a course became satisfied for a learner (once per registration)',
          key: (p) => `${p.progress._id}:v${p.course.version}:${p.progress.registration}`,
        },
        'catalog.paths.changed': {
          description: 'a learning path changed',
          key: (p) => `${p.tier ?? '*'}@${p.at.getTime()}`,
        },
      },
      on: {
        'lrs.statements.validate': 'cmi5 rules for AU sessions (launch token, verb order); 403 on a breach',
        'lrs.document.validate': 'AUs may not write LMS.LaunchData',
        'lrs.statements.stored': "an AU session's statements move its progress (moveOn, satisfied statements)",
        'accounts.demo.seed': 'installs the course library and gives the demo learners their path',
      },
    },
  },

  async register(ctx) {
    const { baseUrl } = ctx.config;
    const settings = packageSettings(ctx.config.env);
    const courses = new CoursesService(ctx.db, settings, baseUrl);
    await courses.init();
    const pm = progressModels(ctx.db);
    const lm = pathModels(ctx.db);
    const sm = sessionModels(ctx.db);
    const am = assessmentModels(ctx.db);
    // Unique indexes must exist before the first write (enrolment registrations).
    await Promise.all([lm.enrollments.init(), pm.progress.init(), sm.sessions.init(), am.attempts.init()]);
    const assessments = new AssessmentService(am, sm.sessions, baseUrl);

    const progress = new ProgressService(pm, courses, () => ctx.services.get('lrs.statements'), ctx.hooks, baseUrl, ctx.locks);
    const personDeadlines = new PersonDeadlines(personDeadlineModel(ctx.db));
    await personDeadlines.init();
    const paths = new PathsService(lm, courses, progress, ctx.hooks, personDeadlines);
    const scorm = new ScormRuntime(
      sm,
      courses,
      progress,
      { statements: () => ctx.services.get('lrs.statements'), documents: () => ctx.services.get('lrs.documents') },
      baseUrl,
      settings.contentOrigin,
    );
    const launch = new LaunchService(
      sm,
      courses,
      paths,
      progress,
      assessments,
      {
        statements: () => ctx.services.get('lrs.statements'),
        documents: () => ctx.services.get('lrs.documents'),
        credentials: () => ctx.services.get('lrs.credentials'),
        undelivered: (registration) => ctx.hooks.undelivered('lrs.statements.stored', registration),
      },
      baseUrl,
      { scorm },
    );
    await paths.seedTiers();

    ctx.services.provide('catalog', 'catalog.courses', courses);
    ctx.services.provide('catalog', 'catalog.paths', paths);
    ctx.services.provide('catalog', 'catalog.launch', launch);
    ctx.services.provide('catalog', 'catalog.assessments', assessments);
    ctx.jobs.every({
      name: 'catalog.fetch-cleanup',
      intervalVar: 'CATALOG_FETCH_CLEANUP_INTERVAL',
      defaultInterval: '1h',
      run: () => launch.cleanFetches(),
    });
    ctx.services.provide('catalog', 'catalog', {
      async getCourse(id) {
        const c = await courses.getCourse(id);
        return c ? toSummary(c) : undefined;
      },
      requiredCourses: (tier, level) => paths.requiredCourses(tier, level),
      deadlines: (tier, level) => paths.deadlines(tier, level),
      deadlinesFor: (person) => paths.deadlinesFor(person),
      personDeadlines: (userIds) => personDeadlines.many(userIds),
      async progressOf(userId, courseIds) {
        return (await progress.many(userId, courseIds)).map(publicProgress);
      },
      satisfiedProgress: () => progress.satisfied(),
    });
    ctx.services.provide('catalog', 'catalog.exchange', exchangeService(courses));
    ctx.services.provide('catalog', 'catalog.tiers', {
      list: async () =>
        (await paths.tiers()).map((t) => ({ code: t._id, labels: Object.fromEntries((t.label ?? []).map((l) => [l.lang, l.text])) })),
    });

    ctx.declarePersonalData(
      catalogPersonalData({
        ...pm,
        enrollments: lm.enrollments,
        ...sm,
        attempts: am.attempts,
        personDeadlines: personDeadlineModel(ctx.db),
      }),
    );

    ctx.hooks.on('lrs.statements.validate', (p) => launch.validateStatements(p));
    // Only AU sessions' batches move progress: other clients' ingest is never queued for catalog.
    ctx.hooks.on('lrs.statements.stored', (p) => launch.statementsStored(p), { when: (p) => p.credential.kind === 'launch' });
    ctx.hooks.on('lrs.document.validate', (p) => launch.validateDocument(p));
    ctx.hooks.on('accounts.demo.seed', async ({ users }) => {
      const learners = users.filter((u) => u.role === 'learner');
      // demo:seed may run before the first server start, which is when the library is installed.
      if (ctx.config.env.CONTENT_LIBRARY !== 'off' && (await courses.listCourses()).length === 0) {
        await installLibrary(ctx, { log: (l) => console.log(`catalog: ${l}`) });
      }
      await paths.applyCourseMeta();
      for (const u of learners) {
        if ((await paths.requiredCourses(u.tier, u.level)).length === 0) {
          // No course names this tier yet: a newcomer still sees a path with the published courses.
          const published = (await courses.listCourses({ publishedOnly: true })).slice(0, 5).map((c) => c._id);
          if (published.length) await paths.setPath({ tier: 'all', courses: published });
        }
        const { required } = await paths.syncPath(u, new Set());
        console.log(`catalog: ${u.email} has ${required.length} required course(s) in their path`);
      }
    });

    for (const r of fetchRoutes(launch)) ctx.root[r.method](r.path, r.handler as never);
    mountAssessmentRoutes(ctx.root, assessments, () => ctx.services.get('lrs.credentials'));
    // SCORM's name for the learner (cmi.core.student_name / cmi.learner_name): the account's name.
    const learnerName = async (userId: string) => (await ctx.services.get('accounts.users').findById(userId))?.name ?? '';
    for (const r of scormRoutes(scorm, learnerName, {
      baseUrl,
      contentOrigin: settings.contentOrigin,
      title: (lng) => ctx.i18n.t('catalog:scorm.frameTitle', { lng }),
    }))
      ctx.root[r.method](r.path, ...([] as never[]).concat(r.handler as never));
    for (const p of SCORM_PREFLIGHT_PATHS) ctx.root.options(p, preflight);
    ctx.root.options('/catalog/fetch/:id', (_req, res) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
      res.status(204).end();
    });
    mountRoutes(
      ctx.router,
      ctx.permissions,
      catalogRoutes({ courses, paths, progress, launch, assessments, services: ctx.services, baseUrl: ctx.config.baseUrl }),
    );
    const pkg = packageRoutes(courses, {
      baseUrl,
      settings,
      // The CSRF check alone: package uploads are multipart, which the plugin router does not parse.
      csrf: ctx.forms[ctx.forms.length - 1],
      tierOptions: async () => (await paths.tiers()).map((t) => t._id),
      librarySlug: (courseId) => readManifest(libraryBuildDir(ctx.config.env))?.courses.find((c) => c.id === courseId)?.slug,
    });
    mountRoutes(ctx.router, ctx.permissions, pkg.routes);
    mountRoutes(ctx.root, ctx.permissions, pkg.rootRoutes);
    mountRoutes(ctx.router, ctx.permissions, libraryRoutes(libraryBuildDir(ctx.config.env)));
    ctx.nav({ href: '/catalog/my-path', label: 'catalog:nav.myPath', permission: 'catalog:learn', order: 10 });
    ctx.homeFigure({
      permission: 'catalog:manage',
      kind: 'count',
      label: 'catalog:home.published',
      href: '/catalog/admin/courses',
      order: 65,
      count: async () => (await courses.listCourses({ publishedOnly: true })).length,
    });
    ctx.nav({ href: '/catalog/courses', label: 'catalog:nav.catalog', permission: 'catalog:learn', order: 20 });
    ctx.nav({ href: '/catalog/history', label: 'catalog:nav.history', permission: 'catalog:learn', order: 30 });
    ctx.nav({ href: '/catalog/people', label: 'catalog:nav.people', permission: 'catalog:waive', order: 50 });
    ctx.nav({ href: '/catalog/admin/courses', label: 'catalog:nav.adminCourses', permission: 'catalog:manage', order: 60 });
    ctx.nav({ href: '/catalog/admin/paths', label: 'catalog:nav.paths', permission: 'catalog:manage', order: 70 });
  },

  async start(rt) {
    await installLibraryOnStart(rt);
  },

  commands: [...packageCommands, contentInstallCommand],
};
