/** The canonical Activity definition: what statements said about it, later ones refining earlier. */
import type { Model } from 'mongoose';
import { isDuplicateKey } from '../../core/db/connect';
import type { ActivityDoc } from './activity.model';
import type { Obj } from './validate/primitives';
import { parseExact, stringifyExact } from './exact-json';

const LANG_MAPS = ['name', 'description'];

/** Later values win; language maps and extensions are merged key by key. */
export function mergeDefinition(old: Obj, next: Obj): Obj {
  const out: Obj = { ...old };
  for (const [k, v] of Object.entries(next)) {
    if ((LANG_MAPS.includes(k) || k === 'extensions') && old[k] && typeof old[k] === 'object')
      out[k] = { ...(old[k] as Obj), ...(v as Obj) };
    else out[k] = v;
  }
  return out;
}

function definitionsIn(s: Obj, into: Map<string, Obj>): void {
  const visit = (a: Obj | undefined) => {
    if (!a || (a.objectType ?? 'Activity') !== 'Activity' || typeof a.id !== 'string') return;
    const def = (a.definition as Obj | undefined) ?? {};
    into.set(a.id, mergeDefinition(into.get(a.id) ?? {}, def));
  };
  visit(s.object as Obj);
  const ca = (s.context as Obj | undefined)?.contextActivities as Obj | undefined;
  for (const v of Object.values(ca ?? {})) for (const a of Array.isArray(v) ? v : [v]) visit(a as Obj);
  if ((s.object as Obj).objectType === 'SubStatement') definitionsIn(s.object as Obj, into);
}

export class ActivitiesService {
  /** Last definition text written per activity: a course's statements repeat the same definition. */
  private readonly seen = new Map<string, string>();

  constructor(private readonly activities: Model<ActivityDoc>) {}

  async learnFrom(statements: Obj[]): Promise<void> {
    for (const [id, def, text] of this.unwritten(statements)) {
      await this.merge(id, def);
      if (this.seen.size > 10_000) this.seen.clear();
      this.seen.set(id, text);
    }
  }

  /** Whether `learnFrom` would write anything for these statements. */
  wouldLearn(statements: Obj[]): boolean {
    return this.unwritten(statements).length > 0;
  }

  /** The definitions the statements carry that this process has not written as they are. */
  private unwritten(statements: Obj[]): Array<[string, Obj, string]> {
    const defs = new Map<string, Obj>();
    for (const s of statements) definitionsIn(s, defs);
    return [...defs].flatMap(([id, def]): Array<[string, Obj, string]> => {
      const text = stringifyExact(def);
      return this.seen.get(id) === text ? [] : [[id, def, text]];
    });
  }

  /** Compare-and-set on the definition text, so concurrent batches merging one activity lose nothing. */
  private async merge(id: string, def: Obj): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const existing = await this.activities.findById(id).lean();
      const merged = stringifyExact(mergeDefinition(existing ? (parseExact(existing.definition) as Obj) : {}, def));
      if (existing?.definition === merged) return;
      try {
        if (!existing) {
          await this.activities.create({ _id: id, definition: merged, updated: new Date() });
          return;
        }
        const r = await this.activities.updateOne(
          { _id: id, definition: existing.definition },
          { $set: { definition: merged, updated: new Date() } },
        );
        if (r.matchedCount === 1) return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
  }

  /** The activity with its definition, numbers kept as sent (write it with stringifyExact). */
  async get(id: string): Promise<Obj> {
    const doc = await this.activities.findById(id).lean();
    const definition = doc ? (parseExact(doc.definition) as Obj) : {};
    return Object.keys(definition).length ? { objectType: 'Activity', id, definition } : { objectType: 'Activity', id };
  }
}
