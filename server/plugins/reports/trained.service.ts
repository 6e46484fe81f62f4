import type { CatalogService } from '../../core/contracts/catalog';
import type { Hooks } from '../../core/services';
import type { Person, PersonModel, UserLinkModel } from './person.model';
import type { SettingsService } from './settings.service';
import type { SummaryService } from './summary.service';
import type { Locks } from '../../core/locks';
import { SatisfiedIndex } from './satisfied-index';
import { CatalogFacts, type TrainedRule, type Verdict } from './trained-rule';

export function verdictChanged(
  p: Pick<Person, 'trained' | 'missing' | 'hoursShort'> & { trainedAt?: Date | null; expiresAt?: Date | null },
  v: Verdict,
): boolean {
  const t = (d?: Date | null) => (d ? new Date(d).getTime() : 0);
  return (
    p.trained !== v.trained ||
    t(p.trainedAt) !== t(v.trainedAt) ||
    t(p.expiresAt) !== t(v.expiresAt) ||
    (p.hoursShort ?? 0) !== v.hoursShort ||
    (p.missing ?? []).join() !== v.missing.join()
  );
}

export function verdictUpdate(v: Verdict, now: Date) {
  const $set: Record<string, unknown> = { trained: v.trained, missing: v.missing, hoursShort: v.hoursShort, evaluatedAt: now };
  const $unset: Record<string, 1> = {};
  if (v.trainedAt) $set.trainedAt = v.trainedAt;
  else $unset.trainedAt = 1;
  if (v.expiresAt) $set.expiresAt = v.expiresAt;
  else $unset.expiresAt = 1;
  return Object.keys($unset).length ? { $set, $unset } : { $set };
}

/** One person re-evaluated: their document before, after (as stored now), and whether it changed. */
export interface Refreshed {
  before: Person;
  after: Person;
  verdict: Verdict;
  changed: boolean;
}

/**
 * Keeps each person's "trained" status (and what they still need) current as progress changes,
 * and the summaries with it. Evaluations of one person are serialised (a lease in the database,
 * so across processes too) so two progress events cannot both count the same change, and pass
 * the summaries' write gate so a rebuild knows whom they touched.
 */
export class TrainedService {
  constructor(
    private readonly people: PersonModel,
    private readonly links: UserLinkModel,
    private readonly settings: SettingsService,
    private readonly summaries: SummaryService,
    private readonly catalog: () => CatalogService,
    private readonly hooks: Hooks,
    private readonly locks: Locks,
  ) {}

  facts(): CatalogFacts {
    return new CatalogFacts(this.catalog());
  }

  /** Everyone's satisfied courses in one streamed pass (the full recompute). */
  satisfiedIndex(): Promise<SatisfiedIndex> {
    return SatisfiedIndex.load(this.catalog().satisfiedProgress());
  }

  /** A learner's progress changed: re-evaluate every roster entry of that user (an `_id` read). */
  async onProgress(userId: string): Promise<void> {
    const link = await this.links.findById(userId).lean();
    if (!link?.people.length) return;
    const rule = await this.settings.rule();
    const facts = this.facts();
    for (const id of link.people) await this.reevaluate(id, facts, rule);
  }

  /** Re-evaluates one person and moves the summaries with them; true if anything changed. */
  reevaluate(id: string, facts: CatalogFacts, rule: TrainedRule, now = new Date()): Promise<boolean> {
    return this.locks.exclusive(`reports.person|${id}`, async () => {
      const r = await this.summaries.gate.write([id], async () => {
        const r = await this.refresh(id, facts, rule, now);
        if (r?.changed) {
          const t = this.summaries.tally();
          await t.change(r.before, r.after);
          await this.summaries.apply(t);
        }
        return r;
      });
      if (r?.changed && r.verdict.trained && !r.before.trained) await this.announce(r.after, r.verdict);
      return !!r?.changed;
    });
  }

  /**
   * Evaluates one person from their stored progress and stores the verdict if it changed, without
   * touching the summaries: the caller counts the change (or holds the write gate, as a rebuild does).
   */
  async refresh(id: string, facts: CatalogFacts, rule: TrainedRule, now: Date): Promise<Refreshed | undefined> {
    const before = await this.people.findById(id).lean<Person>();
    if (!before) return undefined;
    const verdict = await facts.verdict(before, rule, now);
    const changed = verdictChanged(before, verdict);
    if (changed) await this.people.updateOne({ _id: id }, verdictUpdate(verdict, now));
    const { trained, trainedAt, expiresAt, missing, hoursShort } = verdict;
    const after: Person = changed ? { ...before, trained, trainedAt, expiresAt, missing, hoursShort } : before;
    return { before, after, verdict, changed };
  }

  async announce(p: Pick<Person, 'userId' | 'tier'>, v: Verdict): Promise<void> {
    if (p.userId && v.trainedAt)
      await this.hooks.emit('reports.person.trained', { userId: p.userId, tier: p.tier, trainedAt: v.trainedAt, courseIds: v.courseIds });
  }

  /** Validity rule: people whose oldest counted course just expired (background sweep, a scan is fine). */
  async sweepExpired(now = new Date()): Promise<number> {
    const rule = await this.settings.rule();
    const facts = this.facts();
    // Ids first, then writes: on the embedded engine an update waits while a cursor is open on its collection.
    const due = await this.people.find({ expiresAt: { $lte: now } }, { _id: 1 }).lean<Array<{ _id: string }>>();
    let n = 0;
    for (const p of due) if (await this.reevaluate(p._id, facts, rule, now)) n++;
    return n;
  }
}
