import type { Person } from './person.model';
import type { Summary, SummaryModel } from './store.model';
import type { OrgService } from './org.service';
import type { WriteGate } from './write-gate';

export type PersonState = Pick<Person, 'active' | 'unit' | 'institution' | 'level' | 'tier' | 'decisionMaker' | 'trained'> & {
  trainedAt?: Date | null;
};

export const dayKey = (d: Date) => `d${d.toISOString().slice(0, 10).replace(/-/g, '')}`;

/**
 * What people add to the summary documents, scope by scope. The per-event update adds
 * (new state − old state); the background rebuild adds every person once — the same function
 * for both, so the two can never disagree about what a figure means.
 */
export class Tally {
  readonly scopes = new Map<string, Map<string, number>>();
  constructor(private readonly org: OrgService) {}

  async add(p: PersonState, sign: 1 | -1): Promise<void> {
    if (!p.active) return; // inactive people leave the denominator
    const k = p.trained ? sign : 0;
    for (const scope of await this.org.scopesOf(p.unit)) {
      const m = this.scopes.get(scope) ?? new Map<string, number>();
      this.scopes.set(scope, m);
      const inc = (path: string, n: number) => n && m.set(path, (m.get(path) ?? 0) + n);
      const count = (prefix: string) => {
        inc(`${prefix}.t`, sign);
        inc(`${prefix}.k`, k);
      };
      count('all');
      if (p.decisionMaker) count('dm');
      count(`level.${p.level}`);
      count(`tier.${p.tier}`);
      const kind = await this.org.kindOf(scope);
      // Inside an institution the breakdown is by unit; above it, by institution.
      count(kind === 'institution' || kind === 'unit' ? `unit.${p.unit}` : `institution.${p.institution}`);
      if (p.trained && p.trainedAt) inc(`days.${dayKey(new Date(p.trainedAt))}`, sign);
    }
  }

  async change(before: PersonState | undefined, after: PersonState | undefined): Promise<void> {
    if (before) await this.add(before, -1);
    if (after) await this.add(after, 1);
  }

  get empty(): boolean {
    return [...this.scopes.values()].every((m) => [...m.values()].every((n) => n === 0));
  }
}

export class SummaryService {
  constructor(
    private readonly summaries: SummaryModel,
    private readonly org: OrgService,
    /** Every writer of people and summaries passes here; a rebuild closes it for its last step. */
    readonly gate: WriteGate,
  ) {}

  tally(): Tally {
    return new Tally(this.org);
  }

  /** Applies a tally as `$inc`s: one atomic update per scope document, so concurrent changes add up. */
  async apply(t: Tally): Promise<void> {
    const ops: Array<{ scope: string; $inc: Record<string, number> }> = [];
    for (const [scope, m] of t.scopes) {
      const $inc: Record<string, number> = {};
      for (const [path, n] of m) if (n) $inc[path] = n;
      if (Object.keys($inc).length) ops.push({ scope, $inc });
    }
    await this.summaries.bulkWrite(ops.map((o) => ({ updateOne: { filter: { _id: o.scope }, update: { $inc: o.$inc }, upsert: true } })));
  }

  /** Replaces every summary with a full tally (the background rebuild). */
  async replaceAll(t: Tally): Promise<void> {
    const docs: Array<Record<string, unknown> & { _id: string }> = [];
    for (const [scope, m] of t.scopes) {
      const doc: Record<string, unknown> & { _id: string } = { _id: scope };
      for (const [path, n] of m) {
        if (!n) continue;
        const parts = path.split('.');
        let o: Record<string, unknown> = doc;
        for (const part of parts.slice(0, -1)) o = (o[part] ??= {}) as Record<string, unknown>;
        o[parts[parts.length - 1]] = n;
      }
      docs.push(doc);
    }
    await this.summaries.bulkWrite(
      docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc as unknown as Summary, upsert: true } })),
    );
    await this.summaries.deleteMany({ _id: { $nin: docs.map((d) => d._id) } });
  }

  async all(): Promise<Summary[]> {
    return this.summaries.find({}, { all: 1 }).lean<Summary[]>();
  }

  async get(scope: string): Promise<Summary> {
    return (await this.summaries.findById(scope).lean<Summary>()) ?? { _id: scope };
  }
}
