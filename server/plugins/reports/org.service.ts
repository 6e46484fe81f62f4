import { z } from 'zod';
import { localizedError, problem } from '../../core/errors';
import { LEVELS } from '../../core/taxonomy';
import type { OrgScope } from '../../core/contracts/org';
import { UNIT_CODE, UNIT_KINDS, type OrgUnit, type UnitKind, type UnitModel } from './unit.model';
import type { RowError } from './import.model';
import { zodRowErrors } from './row-errors';

/** The scope of the national programme (admins): every unit. */
export const ALL = '*';

const RANK: Record<UnitKind, number> = { country: 0, level: 1, institution: 2, unit: 3 };

export const UnitInput = z.object({
  code: z.string().trim().regex(UNIT_CODE, 'reports:rowErrors.unitCode'),
  name: z.string().trim().min(1, 'reports:rowErrors.required').max(200, 'reports:rowErrors.tooLong'),
  parent: z
    .string()
    .trim()
    .transform((s) => s || null)
    .nullable()
    .default(null),
  kind: z.enum(UNIT_KINDS, { message: 'reports:rowErrors.oneOf' }),
  level: z
    .string()
    .trim()
    .transform((s) => s || undefined)
    .pipe(z.enum(LEVELS, { message: 'reports:rowErrors.oneOf' }).optional())
    .optional(),
});
export type UnitInput = z.input<typeof UnitInput>;

interface Tree {
  units: Map<string, OrgUnit>;
  children: Map<string, string[]>;
  /** The newest `updatedAt` in it, and when that was last compared with the database's. */
  newest: number;
  checkedAt: number;
}

/**
 * The organisation tree (country → level of government → institution → units). The whole tree is
 * small (thousands of units), so it is cached in memory and every scope question is answered from
 * it; writes invalidate it, and every ORG_CHECK_MS a process compares the newest unit's `updatedAt`
 * with its tree's (one indexed read), so another process's edit shows up within that time.
 */
const ORG_CHECK_MS = 2_000;

export class OrgService implements OrgScope {
  private tree?: Promise<Tree>;
  private readonly listeners: Array<(reason: string) => void> = [];

  constructor(private readonly units: UnitModel) {}

  onStructureChange(fn: (reason: string) => void) {
    this.listeners.push(fn);
  }

  private async newest(): Promise<number> {
    const u = await this.units.findOne({}, { updatedAt: 1 }).sort({ updatedAt: -1 }).lean<OrgUnit>();
    return u?.updatedAt ? new Date(u.updatedAt).getTime() : 0;
  }

  invalidate() {
    this.tree = undefined;
  }

  private async load(): Promise<Tree> {
    if (this.tree) {
      const t = await this.tree;
      if (Date.now() - t.checkedAt < ORG_CHECK_MS) return t;
      if ((await this.newest()) === t.newest) {
        t.checkedAt = Date.now();
        return t;
      }
    }
    this.tree = (async () => {
      const units = new Map<string, OrgUnit>();
      const children = new Map<string, string[]>();
      for (const u of await this.units.find().lean<OrgUnit[]>()) units.set(u._id, u);
      for (const u of units.values()) {
        const key = u.parent ?? ALL;
        children.set(key, [...(children.get(key) ?? []), u._id]);
      }
      let newest = 0;
      for (const u of units.values()) newest = Math.max(newest, u.updatedAt ? new Date(u.updatedAt).getTime() : 0);
      return { units, children, newest, checkedAt: Date.now() };
    })();
    return this.tree.catch((err) => {
      this.tree = undefined;
      throw err;
    });
  }

  async get(code: string): Promise<OrgUnit | undefined> {
    return (await this.load()).units.get(code);
  }

  async all(): Promise<OrgUnit[]> {
    return [...(await this.load()).units.values()];
  }

  async subtree(code: string): Promise<string[]> {
    const t = await this.load();
    if (code !== ALL && !t.units.has(code)) return [code];
    const out: string[] = [];
    const stack = [code];
    while (stack.length) {
      const c = stack.pop()!;
      if (c !== ALL) out.push(c);
      stack.push(...(t.children.get(c) ?? []));
    }
    return out;
  }

  async name(code: string): Promise<string> {
    if (code === ALL) return ALL;
    return (await this.get(code))?.name ?? code;
  }

  /** The unit, its parents up to the country, then ALL: every scope a person of this unit counts in. */
  async scopesOf(code: string): Promise<string[]> {
    const t = await this.load();
    const out: string[] = [];
    let c: string | null | undefined = code;
    while (c && !out.includes(c)) {
      out.push(c);
      c = t.units.get(c)?.parent;
    }
    out.push(ALL);
    return out;
  }

  /** Whether `code` is inside `scope` (ALL contains everything). */
  async within(scope: string, code: string): Promise<boolean> {
    return scope === ALL || (await this.scopesOf(code)).includes(scope);
  }

  async kindOf(code: string): Promise<UnitKind | 'all'> {
    return code === ALL ? 'all' : ((await this.get(code))?.kind ?? 'unit');
  }

  /** Level of government of a unit: its own or its nearest ancestor's. */
  async levelOf(code: string): Promise<string | undefined> {
    const t = await this.load();
    for (const c of await this.scopesOf(code)) {
      const l = t.units.get(c)?.level;
      if (l) return l;
    }
    return undefined;
  }

  async institutionOf(code: string): Promise<string | undefined> {
    const t = await this.load();
    return (await this.scopesOf(code)).find((c) => t.units.get(c)?.kind === 'institution');
  }

  /** Institutions inside a scope, for the institution breakdown. */
  async institutionsIn(scope: string): Promise<string[]> {
    const t = await this.load();
    return (await this.subtree(scope)).filter((c) => t.units.get(c)?.kind === 'institution');
  }

  async save(input: UnitInput): Promise<OrgUnit> {
    const { units, errors } = await this.check([{ row: 0, input }]);
    if (errors.length) {
      const [first] = errors;
      throw localizedError(400, first.key ?? 'reports:rowErrors.invalid', { column: first.column, ...first.params }, errors);
    }
    await this.write(units);
    return units[0];
  }

  /**
   * Validates a whole set of units against the current tree and each other (parents may come later
   * in a file). Nothing is written here: the caller writes only when there are no errors.
   */
  async check(rows: Array<{ row: number; input: UnitInput }>): Promise<{ units: OrgUnit[]; errors: RowError[] }> {
    const t = await this.load();
    const errors: RowError[] = [];
    const incoming = new Map<string, OrgUnit & { row: number }>();
    for (const { row, input } of rows) {
      const parsed = UnitInput.safeParse(input);
      if (!parsed.success) {
        errors.push(...zodRowErrors(row, parsed.error.issues));
        continue;
      }
      const u = parsed.data;
      if (incoming.has(u.code)) {
        errors.push({
          row,
          column: 'code',
          ...problem('reports:rowErrors.duplicateCode', { code: u.code, first: incoming.get(u.code)!.row }),
        });
        continue;
      }
      incoming.set(u.code, { _id: u.code, name: u.name, parent: u.parent, kind: u.kind, level: u.level, row });
    }
    const find = (c: string) => incoming.get(c) ?? t.units.get(c);
    for (const u of incoming.values()) {
      if (u.kind === 'country') {
        if (u.parent) errors.push({ row: u.row, column: 'parent', ...problem('reports:rowErrors.countryParent') });
        continue;
      }
      if (!u.parent) {
        errors.push({ row: u.row, column: 'parent', ...problem('reports:rowErrors.needsParent', { kind: u.kind }) });
        continue;
      }
      const parent = find(u.parent);
      if (!parent) {
        errors.push({ row: u.row, column: 'parent', ...problem('reports:rowErrors.unknownParent', { parent: u.parent }) });
        continue;
      }
      if (RANK[parent.kind] > RANK[u.kind] || (RANK[parent.kind] === RANK[u.kind] && u.kind !== 'unit')) {
        errors.push({
          row: u.row,
          column: 'kind',
          ...problem('reports:rowErrors.badPlace', { kind: u.kind, parentKind: parent.kind, parent: parent._id }),
        });
        continue;
      }
      if (u.kind === 'level' && !u.level) errors.push({ row: u.row, column: 'level', ...problem('reports:rowErrors.levelNeedsLevel') });
      const seen = new Set([u._id]);
      for (let p: OrgUnit | undefined = parent; p; p = p.parent ? find(p.parent) : undefined) {
        if (seen.has(p._id)) {
          errors.push({ row: u.row, column: 'parent', ...problem('reports:rowErrors.cycle', { parent: u.parent }) });
          break;
        }
        seen.add(p._id);
      }
    }
    errors.sort((a, b) => a.row - b.row);
    return { units: [...incoming.values()].map(({ row: _row, ...u }) => u), errors };
  }

  private async write(units: OrgUnit[]): Promise<void> {
    const t = await this.load();
    const moved = units.some((u) => t.units.has(u._id) && t.units.get(u._id)!.parent !== u.parent);
    const now = new Date();
    await this.units.bulkWrite(
      units.map((u) => ({
        replaceOne: { filter: { _id: u._id }, replacement: { ...u, level: u.level ?? undefined, updatedAt: now }, upsert: true },
      })),
    );
    this.invalidate();
    // Moving a unit moves its people to other scopes: the summaries must be rebuilt.
    if (moved) for (const fn of this.listeners) fn('org-moved');
  }

  async importUnits(rows: Array<{ row: number; input: UnitInput }>): Promise<{ units: number; errors: RowError[] }> {
    const { units, errors } = await this.check(rows);
    if (errors.length) return { units: 0, errors };
    await this.write(units);
    return { units: units.length, errors: [] };
  }

  /** Units in display order (depth-first, by code), with their depth, for the admin page. */
  async outline(scope = ALL): Promise<Array<OrgUnit & { depth: number }>> {
    const t = await this.load();
    const out: Array<OrgUnit & { depth: number }> = [];
    const walk = (code: string, depth: number) => {
      const u = t.units.get(code);
      if (u) out.push({ ...u, depth });
      for (const c of [...(t.children.get(code) ?? [])].sort()) walk(c, u ? depth + 1 : depth);
    };
    walk(scope, 0);
    return out;
  }
}
