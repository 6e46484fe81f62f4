import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { HttpError, localizedError, problem } from '../../core/errors';
import { DEFAULT_TIERS, LEVELS } from '../../core/taxonomy';
import type { Hooks } from '../../core/services';
import type { Services } from '../../core/services';
import type { Person, PersonModel, UserLinkModel } from './person.model';
import type { ImportModel, RosterImport, RowError } from './import.model';
import { zodRowErrors } from './row-errors';
import { tierKey } from './tier-names';
import type { OrgService } from './org.service';
import type { SettingsService } from './settings.service';
import type { PersonState, SummaryService } from './summary.service';
import type { TrainedService } from './trained.service';
import type { InvitesService } from './invites.service';
import { detectEncoding, detectFormat, readTable, type TableEncoding } from './table-reader';
import type { Verdict } from './trained-rule';

export const ROSTER_COLUMNS = [
  'employee_id',
  'name',
  'email',
  'unit',
  'level',
  'tier',
  'position',
  'decision_maker',
  'active',
  'national_id',
] as const;
const REQUIRED_COLUMNS = ['employee_id', 'name', 'email', 'unit', 'tier'];

/** Header spellings HR offices use in es/pt/en; matched after lower-casing and removing accents. */
export const ROSTER_ALIASES: Record<string, string> = {
  id: 'employee_id',
  employee: 'employee_id',
  employeeid: 'employee_id',
  employee_number: 'employee_id',
  id_empleado: 'employee_id',
  legajo: 'employee_id',
  matricula: 'employee_id',
  codigo_empleado: 'employee_id',
  id_servidor: 'employee_id',
  full_name: 'name',
  nombre: 'name',
  nome: 'name',
  nombre_completo: 'name',
  nome_completo: 'name',
  e_mail: 'email',
  mail: 'email',
  correo: 'email',
  correo_electronico: 'email',
  unit_code: 'unit',
  unidad: 'unit',
  unidade: 'unit',
  codigo_unidad: 'unit',
  codigo_unidade: 'unit',
  government_level: 'level',
  nivel: 'level',
  nivel_gobierno: 'level',
  nivel_de_gobierno: 'level',
  nivel_governo: 'level',
  role_tier: 'tier',
  nivel_rol: 'tier',
  perfil: 'tier',
  estrato: 'tier',
  cargo: 'position',
  puesto: 'position',
  job_title: 'position',
  decisionmaker: 'decision_maker',
  decisor: 'decision_maker',
  tomador_de_decision: 'decision_maker',
  tomador_decision: 'decision_maker',
  activo: 'active',
  ativo: 'active',
  status: 'active',
  cpf: 'national_id',
  rut: 'national_id',
  run: 'national_id',
  ci: 'national_id',
  dni: 'national_id',
  cedula: 'national_id',
  curp: 'national_id',
  documento: 'national_id',
  documento_identidad: 'national_id',
  documento_de_identidad: 'national_id',
};

const YES = new Set(['1', 'true', 'yes', 'y', 'si', 's', 'sim', 'x', 'verdadero', 'verdadeiro']);
const NO = new Set(['0', 'false', 'no', 'n', 'nao', 'falso', '']);
const flag = (column: string, dflt: boolean) =>
  z.string().transform((s, ctx) => {
    const v = s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .trim()
      .toLowerCase();
    if (v === '') return dflt;
    if (YES.has(v)) return true;
    if (NO.has(v)) return false;
    ctx.addIssue({ code: 'custom', message: 'reports:rowErrors.yesNo', params: { value: s } });
    return z.NEVER;
  });

const RowSchema = z.object({
  employee_id: z
    .string()
    .trim()
    .min(1, 'reports:rowErrors.required')
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/, 'reports:rowErrors.employeeId'),
  name: z.string().trim().min(1, 'reports:rowErrors.required').max(200, 'reports:rowErrors.tooLong'),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .min(1, 'reports:rowErrors.required')
    .email('reports:rowErrors.email')
    .max(254, 'reports:rowErrors.tooLong'),
  unit: z.string().trim().min(1, 'reports:rowErrors.required'),
  level: z.string().trim().toLowerCase().default(''),
  tier: z.string().trim().toLowerCase().min(1, 'reports:rowErrors.required'),
  position: z.string().trim().max(200, 'reports:rowErrors.tooLong').default(''),
  decision_maker: flag('decision_maker', false).default(false),
  active: flag('active', true).default(true),
  /** CPF, RUT, CI, DNI…: what a national identity provider vouches for (optional). */
  national_id: z
    .string()
    .trim()
    .regex(/^([A-Za-z0-9][A-Za-z0-9./-]{0,63})?$/, 'reports:rowErrors.nationalId')
    .default(''),
});

const MAX_SHOWN_ERRORS = 1000;
const BATCH = 2000;

export interface RosterRow {
  row: number;
  person: Omit<Person, 'trained' | 'missing' | 'hoursShort' | 'importedAt' | 'userId'>;
}

interface Existing {
  rowHash: string;
  userId?: string;
  state: PersonState & { trainedAt?: Date };
  verdict: Pick<Person, 'trained' | 'missing' | 'hoursShort'> & { trainedAt?: Date; expiresAt?: Date };
}

/**
 * Roster import in two steps. Preview streams the stored file, validates every row and reports
 * problems by row and column, writing nothing but the preview record. Confirm re-reads the same
 * file (checked by hash), refuses if any row is wrong, then upserts people by their natural key
 * in batches — re-importing the same file changes nothing.
 */
export class RosterService {
  constructor(
    private readonly people: PersonModel,
    private readonly links: UserLinkModel,
    private readonly imports: ImportModel,
    private readonly org: OrgService,
    private readonly summaries: SummaryService,
    private readonly settings: SettingsService,
    private readonly trained: TrainedService,
    private readonly invites: InvitesService,
    private readonly users: () => Services['accounts.users'],
    /** Units whose people sign in only with an identity provider (`accounts.sign-in`). */
    private readonly ssoOnlyUnits: () => Promise<Set<string>>,
    private readonly hooks: Hooks,
    private readonly uploadDir: string,
    /** Tier code by every name a roster may give it (tier-names.ts); the built-in codes without a catalog. */
    private readonly tierNames: () => Promise<Map<string, string>> = async () => new Map(DEFAULT_TIERS.map((t) => [t, t])),
  ) {}

  /** Takes ownership of an uploaded file (moved into the staging dir) and previews it. */
  async preview(args: {
    file: string;
    fileName: string;
    institution: string;
    userId: string;
    deactivateMissing?: boolean;
    encoding?: TableEncoding;
  }): Promise<RosterImport> {
    const inst = await this.org.get(args.institution);
    if (!inst || inst.kind !== 'institution') {
      await rm(args.file, { force: true });
      throw localizedError(400, 'reports:fileErrors.institution', { code: args.institution });
    }
    const id = randomBytes(12).toString('hex');
    await mkdir(this.uploadDir, { recursive: true });
    const stored = path.join(this.uploadDir, id);
    await rename(args.file, stored).catch(async () => {
      await copyFile(args.file, stored);
      await rm(args.file, { force: true });
    });
    const format = await detectFormat(stored);
    const encoding = args.encoding ?? (format === 'csv' ? await detectEncoding(stored) : 'utf-8');
    const doc: RosterImport = {
      _id: id,
      institution: args.institution,
      userId: args.userId,
      fileName: path.basename(args.fileName).slice(0, 200),
      path: stored,
      sha256: await sha256File(stored),
      format,
      encoding,
      deactivateMissing: !!args.deactivateMissing,
      status: 'previewed',
      rows: 0,
      errorCount: 0,
      problems: [],
      counts: { created: 0, changed: 0, unchanged: 0, deactivated: 0, newAccounts: 0, linkedAccounts: 0, atSignIn: 0 },
      createdAt: new Date(),
    };
    try {
      const existing = await this.existing(args.institution);
      const ssoOnly = await this.ssoOnlyUnits();
      const seen = new Set<string>();
      const emails = new Map<string, number>();
      const ssoEmails = new Set<string>();
      const scan = await this.scan(doc, (r) => {
        seen.add(r.person._id);
        emails.set(r.person.email, r.row);
        if (ssoOnly.has(r.person.unit)) ssoEmails.add(r.person.email);
        const e = existing.get(r.person._id);
        if (!e) doc.counts.created++;
        else if (e.rowHash === r.person.rowHash) doc.counts.unchanged++;
        else doc.counts.changed++;
      });
      Object.assign(doc, scan);
      if (doc.deactivateMissing) for (const [pid, e] of existing) if (!seen.has(pid) && e.state.active) doc.counts.deactivated++;
      if (!doc.errorCount) {
        const { accounts, problems } = await this.accountsFor(doc.institution, emails);
        if (problems.length) Object.assign(doc, { errorCount: problems.length, problems: problems.slice(0, MAX_SHOWN_ERRORS) });
        doc.counts.linkedAccounts = accounts.size;
        doc.counts.atSignIn = [...ssoEmails].filter((e) => !accounts.has(e)).length;
        doc.counts.newAccounts = emails.size - accounts.size - doc.counts.atSignIn;
      }
    } catch (err) {
      await rm(stored, { force: true });
      throw err;
    }
    doc.status = doc.errorCount ? 'rejected' : 'previewed';
    await this.imports.create(doc);
    return doc;
  }

  async get(id: string): Promise<RosterImport | undefined> {
    return (await this.imports.findById(String(id)).lean<RosterImport>()) ?? undefined;
  }

  async recent(institutions: string[] | '*', limit = 20): Promise<RosterImport[]> {
    const filter = institutions === '*' ? {} : { institution: { $in: institutions } };
    return this.imports.find(filter, { problems: 0 }).sort({ createdAt: -1 }).limit(limit).lean<RosterImport[]>();
  }

  /** Streams and validates the file; `each` sees every valid row. Nothing is written. */
  private async scan(
    doc: RosterImport,
    each: (r: RosterRow) => void | Promise<void>,
  ): Promise<Pick<RosterImport, 'rows' | 'errorCount' | 'problems'>> {
    const units = new Set(await this.org.subtree(doc.institution));
    const ids = new Map<string, number>();
    const emails = new Map<string, number>();
    const problems: RowError[] = [];
    let errorCount = 0;
    let rows = 0;
    let header: string[] = [];
    const fail = (e: RowError) => {
      errorCount++;
      if (problems.length < MAX_SHOWN_ERRORS) problems.push(e);
    };
    const levels = new Map<string, string | undefined>();
    const tiers = await this.tierNames();
    const tierCodes = [...new Set(tiers.values())].join(', ');
    for await (const { row, values } of readTable(doc.path, {
      format: doc.format,
      encoding: doc.encoding,
      aliases: ROSTER_ALIASES,
      onHeader: (h) => (header = h),
    })) {
      if (rows === 0) {
        const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
        if (missing.length)
          throw localizedError(400, 'reports:rowErrors.missingColumns', {
            count: missing.length,
            missing: missing.join(', '),
            expected: ROSTER_COLUMNS.join(', '),
          });
      }
      rows++;
      const parsed = RowSchema.safeParse(values);
      if (!parsed.success) {
        for (const e of zodRowErrors(row, parsed.error.issues)) fail(e);
        continue;
      }
      const r = parsed.data;
      let bad = false;
      const err = (column: string, key: string, params: Record<string, unknown>) => {
        bad = true;
        fail({ row, column, ...problem(`reports:rowErrors.${key}`, params) });
      };
      if (!units.has(r.unit)) err('unit', 'unknownUnit', { unit: r.unit, institution: doc.institution });
      const tier = tiers.get(tierKey(r.tier));
      if (!tier) err('tier', 'unknownTier', { tier: r.tier, expected: tierCodes });
      let level = r.level;
      if (level && !(LEVELS as readonly string[]).includes(level)) err('level', 'unknownLevel', { level, expected: LEVELS.join(', ') });
      if (!level && units.has(r.unit)) {
        if (!levels.has(r.unit)) levels.set(r.unit, await this.org.levelOf(r.unit));
        level = levels.get(r.unit) ?? '';
        if (!level) err('level', 'noLevel', { unit: r.unit });
      }
      const firstId = ids.get(r.employee_id);
      if (firstId) err('employee_id', 'duplicateId', { id: r.employee_id, first: firstId });
      else ids.set(r.employee_id, row);
      const firstEmail = emails.get(r.email);
      if (firstEmail) err('email', 'duplicateEmail', { email: r.email, first: firstEmail });
      else emails.set(r.email, row);
      if (bad) continue;
      const fields = {
        name: r.name,
        email: r.email,
        unit: r.unit,
        level,
        tier: tier!,
        position: r.position,
        decisionMaker: r.decision_maker,
        active: r.active,
        // Only when given, so the rows of rosters without the column keep their hash.
        ...(r.national_id && { nationalId: r.national_id }),
      };
      await each({
        row,
        person: {
          _id: `${doc.institution}:${r.employee_id}`,
          institution: doc.institution,
          employeeId: r.employee_id,
          ...fields,
          position: r.position || undefined,
          rowHash: createHash('sha1').update(JSON.stringify(fields)).digest('base64url'),
        },
      });
    }
    if (rows === 0) throw localizedError(400, 'reports:rowErrors.noRows');
    return { rows, errorCount, problems };
  }

  /**
   * The existing accounts the rows name by e-mail. A roster never takes over an account placed
   * outside its institution (another institution's servant, HR officer or an administrator): it
   * would give this institution's HR that person's records, waivers and certificates. Each such row
   * is an error naming the address, so nothing is written; an administrator moves accounts.
   * Accounts with no (known) unit are taken only if they are learners.
   */
  private async accountsFor(
    institution: string,
    emails: Map<string, number>,
  ): Promise<{ accounts: Map<string, { id: string; role: string }>; problems: RowError[] }> {
    const accounts = await this.users().accountsByEmail(new Set(emails.keys()));
    const units = new Set(await this.org.subtree(institution));
    const problems: RowError[] = [];
    for (const [email, a] of accounts) {
      const placed = !!a.orgUnit && !!(await this.org.get(a.orgUnit));
      if (placed ? units.has(a.orgUnit!) : a.role === 'learner') continue;
      problems.push({
        row: emails.get(email)!,
        column: 'email',
        ...problem('reports:rowErrors.accountOutside', { email, institution }),
      });
    }
    problems.sort((x, y) => x.row - y.row);
    return { accounts, problems };
  }

  /** What the institution's roster holds now (only what a comparison needs). */
  private async existing(institution: string): Promise<Map<string, Existing>> {
    const out = new Map<string, Existing>();
    const cursor = this.people
      .find(
        { institution },
        {
          rowHash: 1,
          userId: 1,
          active: 1,
          unit: 1,
          institution: 1,
          level: 1,
          tier: 1,
          decisionMaker: 1,
          trained: 1,
          trainedAt: 1,
          expiresAt: 1,
          missing: 1,
          hoursShort: 1,
        },
      )
      .lean<Person[]>()
      .cursor({ batchSize: 2000 });
    for await (const p of cursor) {
      out.set(p._id, {
        rowHash: p.rowHash,
        userId: p.userId,
        state: {
          active: p.active,
          unit: p.unit,
          institution: p.institution,
          level: p.level,
          tier: p.tier,
          decisionMaker: p.decisionMaker,
          trained: p.trained,
          trainedAt: p.trainedAt,
        },
        verdict: { trained: p.trained, trainedAt: p.trainedAt, expiresAt: p.expiresAt, missing: p.missing, hoursShort: p.hoursShort },
      });
    }
    return out;
  }

  /** Writes a previewed import. Refuses (409) if the file changed or any row is wrong now. */
  async confirm(id: string, byUserId: string): Promise<RosterImport> {
    const doc = await this.get(id);
    if (!doc) throw new HttpError(404, 'No such roster import');
    if (doc.status !== 'previewed') throw localizedError(409, 'reports:fileErrors.notPending');
    if ((await sha256File(doc.path).catch(() => '')) !== doc.sha256) throw localizedError(409, 'reports:fileErrors.gone');

    // Pass 1: validate everything again (units or other rows may have changed since the preview).
    const emails = new Map<string, number>();
    const scanned = await this.scan(doc, (r) => void emails.set(r.person.email, r.row));
    const { accounts, problems } = scanned.errorCount
      ? { accounts: new Map(), problems: [] }
      : await this.accountsFor(doc.institution, emails);
    const check = problems.length ? { ...scanned, errorCount: problems.length, problems: problems.slice(0, MAX_SHOWN_ERRORS) } : scanned;
    if (check.errorCount) {
      await this.imports.updateOne({ _id: id }, { $set: { status: 'rejected', ...check } });
      throw localizedError(409, 'reports:roster.hasErrors', { count: check.errorCount }, check.problems.slice(0, 50));
    }

    const users = this.users();
    const accountIds = new Map([...accounts].map(([email, a]) => [email, a.id]));
    // Only learners follow the roster: an HR officer's or admin's placement is their scope of rights.
    const fixedPlacement = new Set([...accounts.values()].filter((a) => a.role !== 'learner').map((a) => a.id));
    accounts.clear();
    emails.clear(); // 100,000 addresses not needed any more (the rows are streamed again below)
    const existing = await this.existing(doc.institution);
    const ssoOnly = await this.ssoOnlyUnits();
    const rule = await this.settings.rule();
    const facts = this.trained.facts();
    const now = new Date();
    const counts = { created: 0, changed: 0, unchanged: 0, deactivated: 0, newAccounts: 0, linkedAccounts: 0, atSignIn: 0 };
    const seen = new Set<string>();
    const inviteIds: string[] = [];
    const announce: Array<{ p: Person; v: Verdict }> = [];
    let batch: RosterRow[] = [];

    const flush = async () => {
      const rows = batch;
      batch = [];
      // Through the write gate: a summaries rebuild running meanwhile must know these people moved.
      await this.summaries.gate.write(
        rows.map((r) => r.person._id),
        async () => {
          // Where an identity provider requires SSO, nobody is invited to set a password: the person
          // stays on the roster without an account until their first sign-in creates it from here.
          const noAccount = rows.filter((r) => !accountIds.has(r.person.email));
          const missingAccounts = noAccount.filter((r) => !ssoOnly.has(r.person.unit));
          counts.atSignIn += noAccount.length - missingAccounts.length;
          const created = new Set<string>();
          if (missingAccounts.length) {
            const made = await users.createInvited(
              missingAccounts.map((r) => ({
                email: r.person.email,
                name: r.person.name,
                orgUnit: r.person.unit,
                level: r.person.level as never,
                tier: r.person.tier,
              })),
            );
            for (const [email, a] of made) {
              accountIds.set(email, a.id);
              if (a.created) created.add(email);
            }
            counts.newAccounts += created.size;
            inviteIds.push(
              ...(await this.invites.createMany(
                missingAccounts
                  .filter((r) => created.has(r.person.email))
                  .map((r) => ({
                    userId: accountIds.get(r.person.email)!,
                    email: r.person.email,
                    name: r.person.name,
                    institution: doc.institution,
                  })),
              )),
            );
          }
          const tally = this.summaries.tally();
          const inserts: Person[] = [];
          const updates: Array<{ id: string; update: Record<string, unknown> }> = [];
          const newLinks: Array<{ _id: string; people: string[] }> = [];
          const linkUpdates: Array<{ id: string; update: Record<string, unknown>; upsert: boolean }> = [];
          const placements: Parameters<Services['accounts.users']['setPlacements']>[0] = [];
          await Promise.all(
            rows.map(async ({ person }) => {
              const before = existing.get(person._id);
              const userId = accountIds.get(person.email);
              if (before && before.rowHash === person.rowHash && before.userId === userId) {
                counts.unchanged++;
                return;
              }
              if (before) counts.changed++;
              else counts.created++;
              if (userId && !created.has(person.email)) {
                if (before?.userId !== userId) counts.linkedAccounts++;
                // The roster is the source of truth for where someone works: their account (and so
                // their learning path) follows a new unit, level or tier.
                if (!fixedPlacement.has(userId))
                  placements.push({ id: userId, orgUnit: person.unit, level: person.level, tier: person.tier });
              }
              // New accounts have no progress yet; anyone else is evaluated against their (new) tier.
              const v = await facts.verdict(
                { userId, tier: person.tier, level: person.level },
                rule,
                now,
                created.has(person.email) || !userId ? [] : undefined,
              );
              const after: Person = {
                ...person,
                userId,
                trained: v.trained,
                trainedAt: v.trainedAt,
                expiresAt: v.expiresAt,
                missing: v.missing,
                hoursShort: v.hoursShort,
                evaluatedAt: now,
                importedAt: now,
              };
              const $unset: Record<string, 1> = {};
              for (const k of ['position', 'nationalId', 'trainedAt', 'expiresAt', 'userId'] as const)
                if (after[k] === undefined) $unset[k] = 1;
              const $set = Object.fromEntries(Object.entries(after).filter(([k, val]) => k !== '_id' && val !== undefined));
              if (before) updates.push({ id: person._id, update: Object.keys($unset).length ? { $set, $unset } : { $set } });
              else inserts.push(Object.fromEntries(Object.entries(after).filter(([, val]) => val !== undefined)) as unknown as Person);
              if (before?.userId !== userId) {
                if (userId && created.has(person.email)) newLinks.push({ _id: userId, people: [person._id] });
                else if (userId) linkUpdates.push({ id: userId, update: { $addToSet: { people: person._id } }, upsert: true });
                if (before?.userId) linkUpdates.push({ id: before.userId, update: { $pull: { people: person._id } }, upsert: false });
              }
              await tally.change(before?.state, after);
              if (v.trained && !before?.state.trained) announce.push({ p: after, v });
            }),
          );
          if (inserts.length) await this.people.insertMany(inserts, { ordered: true, lean: true });
          await this.people.bulkWrite(updates.map((u) => ({ updateOne: { filter: { _id: u.id }, update: u.update } })));
          if (newLinks.length) await this.links.insertMany(newLinks, { ordered: true, lean: true });
          await this.links.bulkWrite(
            linkUpdates.map((u) => ({ updateOne: { filter: { _id: u.id }, update: u.update, upsert: u.upsert } })),
          );
          await users.setPlacements(placements);
          await this.summaries.apply(tally);
        },
      );
    };

    await this.scan(doc, async (r) => {
      if (doc.deactivateMissing) seen.add(r.person._id);
      batch.push(r);
      if (batch.length >= BATCH) await flush();
    });
    if (batch.length) await flush();

    if (doc.deactivateMissing) {
      const gone = [...existing].filter(([pid, e]) => !seen.has(pid) && e.state.active);
      for (let i = 0; i < gone.length; i += BATCH) {
        const part = gone.slice(i, i + BATCH);
        await this.summaries.gate.write(
          part.map(([pid]) => pid),
          async () => {
            await this.people.updateMany({ _id: { $in: part.map(([pid]) => pid) } }, { $set: { active: false, importedAt: now } });
            const tally = this.summaries.tally();
            for (const [, e] of part) await tally.change(e.state, { ...e.state, active: false });
            await this.summaries.apply(tally);
          },
        );
      }
      counts.deactivated = gone.length;
    }

    const result = { status: 'confirmed' as const, counts, confirmedAt: now };
    await this.imports.updateOne({ _id: id }, { $set: { ...result, confirmedBy: byUserId } });
    await rm(doc.path, { force: true });
    for (const { p, v } of announce) await this.trained.announce(p, v);
    return { ...doc, ...result, pendingInvites: inviteIds } as RosterImport & { pendingInvites: string[] };
  }
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
