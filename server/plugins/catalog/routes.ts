/** The catalog's learner and path pages, launch, fetch URL and waivers as a flat table. */
import type { Request, Response } from 'express';
import { HttpError, errorText, localizedError } from '../../core/errors';
import { pageNumber } from '../../core/page-number';
import { matchesAll, queryTerms } from '../../core/search-text';
import { mayManagePerson } from '../../core/permissions';
import type { Route } from '../../core/routes';
import type { Services } from '../../core/services';
import { LEVELS } from '../../core/taxonomy';
import { LAUNCH_MODES, WAIVE_REASONS, launchModes, type LaunchMode } from './launch/cmi5';
import type { AssessmentService } from './assessment/assessment.service';
import type { LaunchService } from './launch/launch.service';
import { allAus, pick, type CourseReader } from './paths/course-reader';
import { auPositions, blockStates, returnedFrom } from './course-flow';
import { doneOf, explainPrerequisite, isMet, titleIn, titlesOf } from './prerequisites';
import type { PathsService } from './paths/paths.service';
import type { ProgressService } from './progress/progress.service';

export interface CatalogDeps {
  courses: CourseReader;
  paths: PathsService;
  progress: ProgressService;
  launch: LaunchService;
  assessments: AssessmentService;
  services: { get<K extends keyof Services & string>(name: K): Services[K]; has(name: string): boolean };
  /** BASE_URL: where lessons can be launched from. */
  baseUrl: string;
}

/** Courses per page of the catalogue. */
const CATALOG_PAGE = 20;
const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);

export function catalogRoutes(d: CatalogDeps): Route[] {
  const { courses, paths, progress, launch, assessments } = d;

  /** Learner summary, after enrolling the learner in any required course they lack. */
  const myCourses = async (user: Express.User) => {
    let lines = await progress.learnerCourses(user.id);
    const { required, added } = await paths.syncPath(user, new Set(lines.map((l) => l.courseId)));
    if (added.length) lines = await progress.learnerCourses(user.id);
    return { lines, required };
  };

  const myPath = async (req: Request, res: Response) => {
    const user = req.user!;
    const [{ lines, required }, deadlines, personalDeadline] = await Promise.all([
      myCourses(user),
      paths.deadlinesFor(user),
      paths.personDeadlines.of(user.id),
    ]);
    const byId = new Map(lines.map((l) => [l.courseId, l]));
    const requiredLines = required.map((id) => byId.get(id)).filter((l) => !!l);
    const optional = lines.filter((l) => !required.includes(l.courseId));
    const done = requiredLines.filter((l) => l.satisfied).length;
    const hoursLeft = requiredLines.filter((l) => !l.satisfied).reduce((s, l) => s + (l.hours || 0), 0);
    res.render('catalog/my-path', {
      title: req.t('catalog:myPath.title'),
      required: requiredLines,
      optional,
      done,
      hoursLeft,
      unavailable: required.length - requiredLines.length,
      deadlines,
      personalDeadline,
      now: new Date(),
      pick,
    });
  };

  const catalog = async (req: Request, res: Response) => {
    const f = {
      q: str(req.query.q).slice(0, 200),
      tier: str(req.query.tier),
      level: str(req.query.level),
      topic: str(req.query.topic),
      language: str(req.query.language),
    };
    const all = await courses.listCourses({ publishedOnly: true });
    const terms = queryTerms(f.q);
    // Title, description and topics as the person reads them (their language, else the course's).
    const topicLabel = (v: string) => req.t(`catalog:topics.${v}`, { defaultValue: v }) as string;
    const found = all.filter(
      (c) =>
        (!f.tier || c.tiers.includes(f.tier)) &&
        (!f.level || !c.levels.length || c.levels.includes(f.level)) &&
        (!f.topic || c.topics.includes(f.topic)) &&
        (!f.language || c.languages.includes(f.language)) &&
        matchesAll(terms, [pick(c.title, req.lang), pick(c.description, req.lang), ...c.topics, ...c.topics.map(topicLabel)]),
    );
    const pages = Math.max(1, Math.ceil(found.length / CATALOG_PAGE));
    const page = Math.min(pageNumber(req.query.page), pages);
    const shown = found.slice((page - 1) * CATALOG_PAGE, page * CATALOG_PAGE);
    const lines = await progress.learnerCourses(req.user!.id);
    const mine = new Map(lines.map((l) => [l.courseId, l]));
    res.render('catalog/catalog', {
      title: req.t('catalog:catalog.title'),
      courses: shown,
      found: found.length,
      total: all.length,
      page,
      pages,
      filters: f,
      tiers: (await paths.tiers()).map((t) => t._id),
      levels: LEVELS,
      topics: [...new Set(all.flatMap((c) => c.topics))].sort(),
      languages: [...new Set(all.flatMap((c) => c.languages))].sort(),
      mine,
      pick,
    });
  };

  const coursePage = async (req: Request, res: Response) => {
    const id = str(req.query.id);
    const course = id ? await courses.getCourse(id) : undefined;
    if (!course) throw new HttpError(404, `No such course ${id}`, { key: 'core:errors.404.body' });
    const enrollment = await paths.enrollment(req.user!.id, course._id);
    if (!course.published && !enrollment) throw new HttpError(403, `Course ${id} is not published`, { key: 'catalog:errors.unpublished' });
    const version = await courses.getVersion(course._id, enrollment?.courseVersion ?? course.currentVersion);
    if (!version) throw new HttpError(404, `Course ${id} has no content yet`, { key: 'core:errors.404.body' });
    const p = enrollment ? await progress.get(req.user!.id, course._id) : null;
    const auState = new Map((p?.aus ?? []).map((a) => [a.auId, a]));
    // Whose word a result is: the LMS's own scoring (item bank) or the AU's report (cmi5's trust model).
    const graded = allAus(version.structure).filter((a) => a.moveOn.includes('Passed'));
    const scored = await Promise.all(graded.map((a) => assessments.scores(course._id, version.version, a.id)));
    const scoring = !graded.length ? undefined : scored.every(Boolean) ? 'platform' : 'course';
    const from = str(req.query.from);
    // Units whose prerequisites are not met yet: shown with the reason instead of their launch form.
    const done = doneOf(p);
    const titles = titlesOf(version.structure);
    const locked = new Map(
      allAus(version.structure)
        .filter((a) => a.prerequisites && !isMet(a.prerequisites, done))
        .map((a) => [a.id, explainPrerequisite(req.t, a.prerequisites!, titleIn(titles, req.lang))]),
    );
    res.render('catalog/course', {
      locked,
      scoring,
      title: pick(course.title, req.lang),
      course,
      version,
      enrollment,
      progress: p,
      auState,
      blockState: blockStates(version.structure, auState, new Set(p?.satisfiedBlocks ?? [])),
      positions: auPositions(version.structure),
      // Back from an AU (its returnURL names it): said next to it, with the next one to do.
      returned: enrollment && from ? returnedFrom(version.structure, auState, from) : undefined,
      launchModes,
      pick,
    });
  };

  const enrol = async (req: Request, res: Response) => {
    const courseId = str(req.body.courseId);
    await paths.enrol(req.user!, courseId, 'self');
    res.redirect(303, `/catalog/course?id=${encodeURIComponent(courseId)}`);
  };

  /**
   * The lesson, its fetch URL and its LRS endpoint live at BASE_URL: opened from another address
   * (the server's IP on the office network while BASE_URL says localhost) the browser would be sent
   * to a host it cannot reach, or without its session, and nothing would happen. Say so instead.
   */
  const sameHostAsBaseUrl = (req: Request, baseUrl: string) => {
    const configured = new URL(baseUrl).hostname;
    if (req.hostname && req.hostname !== configured)
      throw new HttpError(
        409,
        `This server's public address (BASE_URL) is ${baseUrl}; lessons start only from there, not from ${req.hostname}`,
        {
          key: 'catalog:launch.wrongAddress',
          params: { baseUrl, here: req.hostname },
        },
      );
  };

  const doLaunch = async (req: Request, res: Response) => {
    const registration = str(req.body.registration);
    const auId = str(req.body.auId);
    if (!registration || !auId) throw new HttpError(400, 'registration and auId are required');
    const mode = str(req.body.launchMode);
    if (mode && !(LAUNCH_MODES as readonly string[]).includes(mode))
      throw new HttpError(400, `launchMode: must be one of ${LAUNCH_MODES.join(', ')}`);
    sameHostAsBaseUrl(req, d.baseUrl);
    const r = await launch.launch(req.user!, registration, auId, (mode || undefined) as LaunchMode | undefined);
    if (req.accepts(['html', 'json']) === 'json') return res.json(r);
    // OwnWindow and AnyWindow alike: the window (or the new one the form's target opened) goes to the AU.
    res.redirect(303, r.url);
  };

  const history = async (req: Request, res: Response) => {
    const lines = (await progress.learnerCourses(req.user!.id)).sort((a, b) => +new Date(b.updatedAt) - +new Date(a.updatedAt));
    const sessions = await launch.sessionsOf(req.user!.id, 50);
    const titles = new Map(lines.map((l) => [l.courseId, l.title]));
    res.render('catalog/history', { title: req.t('catalog:history.title'), lines, sessions, titles, pick });
  };

  /**
   * An admin acts on anyone; an HR officer only on people of their org unit (and its subtree),
   * never on an administrator or themselves (mayManagePerson).
   */
  const inScope = async (actor: Express.User, userId: string): Promise<boolean> => {
    if (actor.role === 'admin') return true;
    if (actor.role !== 'hr' || !actor.orgUnit) return false;
    const person = await d.services.get('accounts.users').findById(userId);
    if (!person?.orgUnit || !mayManagePerson(actor, person)) return false;
    const units = d.services.has('org.scope') ? await d.services.get('org.scope').subtree(actor.orgUnit) : [actor.orgUnit];
    return units.includes(person.orgUnit);
  };

  /** People the signed-in admin or HR officer may act for, found by name or e-mail words. */
  const peoplePage = async (req: Request, res: Response) => {
    const q = str(req.query.q);
    const users = d.services.get('accounts.users');
    const org = d.services.has('org.scope') ? d.services.get('org.scope') : undefined;
    const actor = req.user!;
    let people: Array<Awaited<ReturnType<typeof users.findById>> & {}> = [];
    if (actor.role === 'admin') people = (await users.list({ q, role: 'learner', limit: 100 })).users;
    else if (actor.orgUnit) {
      const units = org ? await org.subtree(actor.orgUnit) : [actor.orgUnit];
      people = (await users.list({ q, orgUnit: units, limit: 200 })).users.filter((p) => mayManagePerson(actor, p));
    }
    people = people.slice(0, 100);
    // Unit names, not codes, for the people who read this page.
    const units = new Map<string, string>();
    for (const code of new Set(people.map((p) => p.orgUnit).filter((c): c is string => !!c)))
      units.set(code, org ? await org.name(code) : code);
    // The deadlines HR set for these people; one passed with a required course missing is overdue.
    const deadlines = await paths.personDeadlines.many(people.map((p) => p.id));
    const now = new Date();
    const overdue = new Set<string>();
    for (const p of people) {
      const due = deadlines.get(p.id);
      if (!due || due >= now) continue;
      const required = await paths.requiredCourses(p.tier, p.level);
      const satisfied = (await progress.many(p.id, required)).filter((x) => x.satisfied).length;
      if (satisfied < required.length) overdue.add(p.id);
    }
    res.render('catalog/people', {
      title: req.t('catalog:people.title'),
      people,
      q,
      unitName: (c: string) => units.get(c) ?? c,
      deadlines,
      overdue,
    });
  };

  const personPage = async (req: Request, res: Response, status = 200, message?: string, error?: string, deadlineValue?: string) => {
    const userId = str(req.params.userId);
    if (!(await inScope(req.user!, userId))) throw new HttpError(403, 'This person is outside your scope', { key: 'core:errors.403.body' });
    const person = await d.services.get('accounts.users').findById(userId);
    if (!person) throw new HttpError(404, 'No such person', { key: 'core:errors.404.body' });
    const lines = await progress.learnerCourses(userId);
    const details = await Promise.all(
      lines.map(async (l) => {
        const p = await progress.get(userId, l.courseId);
        const v = p && (await courses.getVersion(l.courseId, p.courseVersion));
        return { line: l, progress: p, aus: v ? allAus(v.structure) : [] };
      }),
    );
    const [own, pathDue] = await Promise.all([paths.personDeadlines.of(userId), paths.deadlines(person.tier, person.level)]);
    const earliest = [...pathDue.values()].sort((a, b) => a.getTime() - b.getTime())[0];
    res.status(status).render('catalog/person', {
      title: person.name,
      person,
      details,
      reasons: WAIVE_REASONS,
      message,
      error,
      pick,
      deadline: { own, path: earliest, value: deadlineValue ?? (own ? own.toISOString().slice(0, 10) : '') },
    });
  };

  /** HR sets or clears the deadline of one of their own institution's people (another's: 403, nothing written). */
  const setDeadline = async (req: Request, res: Response) => {
    const userId = str(req.params.userId);
    if (!(await inScope(req.user!, userId))) throw localizedError(403, 'catalog:personDeadline.notYours');
    const due = str(req.body?.due);
    try {
      const org = d.services.has('org.scope') ? d.services.get('org.scope') : undefined;
      const unit = req.user!.orgUnit;
      const institution = unit && org ? await org.institutionOf(unit) : unit;
      await paths.personDeadlines.set(userId, due, { id: req.user!.id, institution });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      return personPage(req, res, err.status, undefined, errorText(req.t, err), due);
    }
    res.redirect(303, `/catalog/people/${encodeURIComponent(userId)}?deadline=${due ? 'set' : 'cleared'}#deadline`);
  };

  const waive = async (req: Request, res: Response) => {
    const registration = str(req.body.registration);
    const reg = await progress.registration(registration);
    if (!reg) throw new HttpError(404, `No registration ${registration}`);
    if (!(await inScope(req.user!, reg.userId)))
      throw new HttpError(403, 'This person is outside your scope', { key: 'core:errors.403.body' });
    try {
      // A waiver is confirmed explicitly: it satisfies the activity without the learner doing it.
      if (str(req.body.confirm) !== '1') throw localizedError(400, 'catalog:waive.errors.confirm');
      await launch.waive(registration, str(req.body.auId), str(req.body.reason), { comment: str(req.body.comment), by: req.user!.id });
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500 || req.accepts(['html', 'json']) === 'json') throw err;
      req.params.userId = reg.userId;
      return personPage(req, res, err.status, undefined, errorText(req.t, err));
    }
    if (req.accepts(['html', 'json']) === 'json') return res.json({ ok: true });
    res.redirect(303, `/catalog/people/${encodeURIComponent(reg.userId)}?waived=1`);
  };

  const pathsPage = async (req: Request, res: Response, status = 200, message?: string, error?: string) => {
    const tiers = await paths.tiers();
    const tier = str(req.query.tier ?? req.body?.tier) || tiers[0]?._id || 'all';
    const level = str(req.query.level ?? req.body?.level);
    const current = await paths.getPath(tier, level || undefined);
    const general = level ? await paths.getPath(tier) : current;
    res.status(status).render('catalog/paths-admin', {
      title: req.t('catalog:paths.title'),
      tiers,
      levels: LEVELS,
      tier,
      level,
      selected: new Set((current ?? general)?.courses ?? []),
      due: (current ?? general)?.dueAt ? new Date((current ?? general)!.dueAt!).toISOString().slice(0, 10) : '',
      isOverride: !!(level && current),
      courses: await courses.listCourses(),
      message,
      error,
      pick,
    });
  };

  const savePath = async (req: Request, res: Response) => {
    const level = str(req.body.level);
    try {
      if (req.body.action === 'remove-override' && level) await paths.removeOverride(str(req.body.tier), level);
      else
        await paths.setPath(
          { tier: str(req.body.tier), level: level || undefined, courses: list(req.body.courses), due: str(req.body.due) },
          req.user!.id,
        );
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) return pathsPage(req, res, err.status, undefined, errorText(req.t, err));
      throw err;
    }
    await pathsPage(req, res, 200, req.t('catalog:paths.saved'));
  };

  const applyMeta = async (req: Request, res: Response) => {
    const n = await paths.applyCourseMeta(req.user!.id);
    await pathsPage(req, res, 200, req.t('catalog:paths.metaApplied', { count: n }));
  };

  const addTier = async (req: Request, res: Response) => {
    try {
      await paths.addTier(
        str(req.body.code),
        ['es', 'pt', 'en'].map((lang) => ({ lang, text: str(req.body[`label_${lang}`]) })),
      );
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) return pathsPage(req, res, err.status, undefined, errorText(req.t, err));
      throw err;
    }
    await pathsPage(req, res, 200, req.t('catalog:paths.tierAdded'));
  };

  return [
    { method: 'get', path: '/', guard: 'catalog:learn', handler: (_req, res) => res.redirect(303, '/catalog/my-path') },
    { method: 'get', path: '/courses', guard: 'catalog:learn', handler: catalog },
    { method: 'get', path: '/my-path', guard: 'catalog:learn', handler: myPath },
    { method: 'get', path: '/course', guard: 'catalog:learn', handler: coursePage },
    { method: 'get', path: '/history', guard: 'catalog:learn', handler: history },
    { method: 'post', path: '/enrol', guard: 'catalog:learn', handler: enrol },
    { method: 'post', path: '/launch', guard: 'catalog:learn', handler: doLaunch },
    { method: 'get', path: '/people', guard: 'catalog:waive', handler: peoplePage },
    {
      method: 'get',
      path: '/people/:userId',
      guard: 'catalog:waive',
      handler: (req, res) =>
        personPage(
          req,
          res,
          200,
          req.query.waived
            ? req.t('catalog:waive.done')
            : req.query.deadline === 'set' || req.query.deadline === 'cleared'
              ? req.t(`catalog:personDeadline.${req.query.deadline}`)
              : undefined,
        ),
    },
    { method: 'post', path: '/people/:userId/deadline', guard: 'catalog:waive', handler: setDeadline },
    { method: 'post', path: '/waive', guard: 'catalog:waive', handler: waive },
    { method: 'get', path: '/admin/paths', guard: 'catalog:manage', handler: (req, res) => pathsPage(req, res) },
    { method: 'post', path: '/admin/paths', guard: 'catalog:manage', handler: savePath },
    { method: 'post', path: '/admin/paths/apply-meta', guard: 'catalog:manage', handler: applyMeta },
    { method: 'post', path: '/admin/tiers', guard: 'catalog:manage', handler: addTier },
  ];
}

/**
 * Routes outside the plugin's form router: the fetch URL is called by the AU from its own (opaque,
 * sandboxed) origin with no session and no CSRF token (cmi5 §8.2: POST, always 200 + JSON).
 */
export function fetchRoutes(launch: LaunchService): Route[] {
  const cors = (res: Response) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type');
  };
  return [
    {
      method: 'post',
      path: '/catalog/fetch/:id',
      guard: 'public',
      handler: async (req, res) => {
        cors(res);
        res.status(200).json(await launch.fetchToken(String(req.params.id)));
      },
    },
    {
      method: 'get',
      path: '/catalog/fetch/:id',
      guard: 'public',
      handler: (_req, res) => {
        // GET is not allowed (§8.2.1: it could be cached).
        cors(res);
        res.status(200).json({ 'error-code': '2', 'error-text': 'Use POST for the fetch URL.' });
      },
    },
  ];
}
