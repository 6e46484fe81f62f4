import type { TFunction } from 'i18next';
import type { Request, Response } from 'express';
import { HttpError } from '../../core/errors';
import { record, type Reports } from './bundle';
import { writeCsv } from '../../core/csv';
import { summaryTable, writePdf, writeXlsx, type PdfFormat, type Table } from './exports';
import type { Person } from './person.model';
import type { CourseSummary } from '../../core/contracts/catalog';
import { pageNumber } from '../../core/page-number';
import '../../core/contracts/region';
import type { RegionComparison } from '../../core/contracts/region';

const PAGE = 50;
const STATUSES = ['untrained', 'trained', 'all'] as const;
type Status = (typeof STATUSES)[number];
const statusOf = (v: unknown): Status => (STATUSES.includes(v as Status) ? (v as Status) : 'untrained');
const courseTitle = (c: CourseSummary | undefined, id: string, lang: string) =>
  c ? (c.title[lang] ?? c.title.es ?? Object.values(c.title)[0] ?? id) : id;

export function dashboardHandlers(r: Reports) {
  const page = async (req: Request, res: Response) => {
    const scope = await r.scope.requested(req, req.query.unit);
    const d = await r.dashboard.build(scope);
    const root = r.scope.root(req);
    res.render('reports/dashboard', {
      title: req.t('reports:dash.title'),
      d,
      units: await r.org.outline(root),
      scope,
      region: await regionOf(r),
    });
  };

  const api = async (req: Request, res: Response) => {
    const scope = await r.scope.requested(req, req.query.unit);
    const d = await r.dashboard.build(scope);
    await record(r, req.user!, 'api:dashboard', 'json', scope);
    res.json(d);
  };

  const peopleQuery = async (req: Request) => {
    const scope = await r.scope.requested(req, req.query.unit);
    const status = statusOf(req.query.status);
    const n = pageNumber(req.query.page);
    const dm = req.query.dm === '1';
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
    const found = await r.dashboard.people(await r.scope.units(scope), {
      status,
      skip: (n - 1) * PAGE,
      limit: PAGE,
      decisionMakers: dm,
      q,
    });
    return { scope, status, page: n, dm, q, ...found };
  };

  const people = async (req: Request, res: Response) => {
    const q = await peopleQuery(req);
    // HR reads unit names; codes stay in the API and the exports' code columns.
    const units = new Map<string, string>();
    for (const code of new Set(q.people.map((p) => p.unit).filter(Boolean))) units.set(code, await r.org.name(code));
    res.render('reports/people', {
      title: req.t('reports:people.title'),
      ...q,
      pages: Math.max(1, Math.ceil(q.total / PAGE)),
      scopeName: await r.org.name(q.scope),
      unitName: (code: string) => units.get(code) ?? code,
      courseTitle: (id: string) => courseTitle(q.courses.get(id), id, req.lang),
    });
  };

  const peopleApi = async (req: Request, res: Response) => {
    const q = await peopleQuery(req);
    await record(r, req.user!, 'api:people', 'json', q.scope, q.people.length);
    res.json({
      scope: q.scope,
      status: q.status,
      page: q.page,
      pageSize: PAGE,
      total: q.total,
      people: q.people.map((p) => ({
        id: p._id,
        employeeId: p.employeeId,
        institution: p.institution,
        name: p.name,
        email: p.email,
        unit: p.unit,
        level: p.level,
        tier: p.tier,
        decisionMaker: p.decisionMaker,
        trained: p.trained,
        trainedAt: p.trainedAt,
        expiresAt: p.expiresAt,
        missing: p.missing.map((id) => ({ id, title: courseTitle(q.courses.get(id), id, req.lang) })),
        hoursShort: p.hoursShort,
      })),
    });
  };

  /** `/export/summary.csv|xlsx|pdf`, `/export/people.csv|xlsx` — scoped, streamed, audited. */
  const exportFile = async (req: Request, res: Response) => {
    const m = /^(summary|people)\.(csv|xlsx|pdf)$/.exec(String(req.params.file));
    if (!m || (m[1] === 'people' && m[2] === 'pdf'))
      throw new HttpError(404, 'Exports: summary.csv, summary.xlsx, summary.pdf, people.csv, people.xlsx');
    const [, what, format] = m;
    const scope = await r.scope.requested(req, req.query.unit);
    const stamp = new Date().toISOString().slice(0, 10);
    const name = `${what}-${scope === '*' ? 'all' : scope}-${stamp}.${format}`;
    const types = {
      csv: 'text/csv; charset=utf-8',
      xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      pdf: 'application/pdf',
    };
    let table: Table;
    if (what === 'summary') {
      const d = await r.dashboard.build(scope);
      if (format === 'pdf') {
        await record(r, req.user!, 'export:summary', format, scope);
        res.type(types.pdf).attachment(name);
        const { num, pct, dateTime } = res.locals as unknown as Pick<PdfFormat, 'num' | 'pct' | 'dateTime'>;
        return writePdf(d, req.t, { lang: req.lang, num, pct, dateTime }, res);
      }
      table = summaryTable(d, req.t, format === 'xlsx' ? 'xlsx' : 'csv');
    } else {
      const status = statusOf(req.query.status);
      // Headers, yes/no, levels, tiers, units and course titles in the officer's language (BI tools
      // that want stable codes read /reports/api/people).
      table = {
        columns: PEOPLE_COLUMNS.map((c) => req.t(`reports:export.people.${c}`)),
        rows: peopleRows(r, await r.scope.units(scope), status, req.t, req.lang),
      };
    }
    // The audit entry is written before the data leaves: an interrupted export is still recorded.
    await record(r, req.user!, `export:${what}`, format, scope);
    res.type(types[format as 'csv' | 'xlsx']).attachment(name);
    if (format === 'csv') await writeCsv(table, res);
    else await writeXlsx(table, what, res);
  };

  return { page, api, people, peopleApi, exportFile };
}

/**
 * "Your country vs the region", when the network plugin offers one: the scope's figures beside the
 * region's by the groups the indicator sets carry (on a unit's dashboard, the unit's groups beside
 * the region's national ones — countries publish no units). Whatever goes wrong there, the
 * dashboard renders and says the regional figure is unavailable.
 */
async function regionOf(r: Reports): Promise<RegionComparison | undefined> {
  if (!r.rt.services.has('network.region')) return undefined;
  try {
    return await r.rt.services.get('network.region').compare();
  } catch (err) {
    r.rt.log.warn({ err: (err as Error).message }, 'reports: the regional figure could not be read');
    return { source: 'hubs', hubs: [], region: null };
  }
}

const PEOPLE_COLUMNS = [
  'institution',
  'employeeId',
  'name',
  'email',
  'unit',
  'level',
  'tier',
  'decisionMaker',
  'trained',
  'trainedAt',
  'missing',
  'hoursShort',
  'deadline',
  'overdue',
] as const;

/** People read from the cursor before their personal deadlines are looked up together. */
const DEADLINE_BATCH = 500;

async function* peopleRows(r: Reports, units: string[] | '*', status: Status, t: TFunction, lang: string): AsyncIterable<unknown[]> {
  const catalog = r.rt.services.get('catalog');
  const titles = new Map<string, string>();
  const title = async (id: string) => {
    if (!titles.has(id)) titles.set(id, courseTitle(await catalog.getCourse(id), id, lang));
    return titles.get(id)!;
  };
  const names = new Map<string, string>();
  const unitName = async (code: string) => {
    if (!names.has(code)) names.set(code, await r.org.name(code));
    return names.get(code)!;
  };
  const yes = (v: boolean | undefined) => t(v ? 'reports:export.people.yes' : 'reports:export.people.no');
  const filter: Record<string, unknown> = { active: true };
  if (units !== '*') filter.unit = { $in: units };
  if (status !== 'all') filter.trained = status === 'trained';
  const people = r.rt.db.model<Person>('ReportsPerson');
  const now = new Date();
  const row = async (p: Person, due: Date | undefined) => [
    await unitName(p.institution),
    p.employeeId,
    p.name,
    p.email,
    await unitName(p.unit),
    t(`core:levels.${p.level}`, { defaultValue: p.level }),
    t(`core:tiers.${p.tier}`, { defaultValue: p.tier }),
    yes(p.decisionMaker),
    yes(p.trained),
    p.trainedAt ? new Date(p.trainedAt).toISOString().slice(0, 10) : '',
    (await Promise.all((p.missing ?? []).map(title))).join('; '),
    p.hoursShort ?? 0,
    // The deadline HR set for the person (catalog), and whether it passed before they were trained.
    due ? due.toISOString().slice(0, 10) : '',
    due ? yes(!p.trained && due < now) : '',
  ];
  let batch: Person[] = [];
  const flush = async function* () {
    const ids = batch.map((p) => p.userId).filter((id): id is string => !!id);
    const deadlines = await catalog.personDeadlines(ids);
    for (const p of batch) yield await row(p, p.userId ? deadlines.get(p.userId) : undefined);
    batch = [];
  };
  for await (const p of people.find(filter).sort({ _id: 1 }).lean<Person[]>().cursor({ batchSize: 1000 })) {
    batch.push(p);
    if (batch.length >= DEADLINE_BATCH) yield* flush();
  }
  yield* flush();
}
