import type { CatalogService } from '../../core/contracts/catalog';
import type { Hooks } from '../../core/services';
import type { Person, PersonModel, UserLinkModel } from './person.model';
import type { SettingsService } from './settings.service';
import type { SummaryService } from './summary.service';
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

/**
 * Keeps each person's "trained" status (and what they still need) current as progress changes,
 * and the summaries with it. Evaluations of one person are serialised in this process so two
 * progress events cannot both count the same change.
 */
export class TrainedService {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly people: PersonModel,
    private readonly links: UserLinkModel,
    private readonly settings: SettingsService,
    private readonly summaries: SummaryService,
    private readonly catalog: () => CatalogService,
    private readonly hooks: Hooks,
  ) {}

  facts(): CatalogFacts {
    return new CatalogFacts(this.catalog());
  }

  /** A learner's progress changed: re-evaluate every roster entry of that user (an `_id` read). */
  async onProgress(userId: string): Promise<void> {
    const link = await this.links.findById(userId).lean();
    if (!link?.people.length) return;
    const rule = await this.settings.rule();
    const facts = this.facts();
    for (const id of link.people) await this.reevaluate(id, facts, rule);
  }

  reevaluate(id: string, facts: CatalogFacts, rule: TrainedRule, now = new Date()): Promise<boolean> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const run = prev.then(() => this.evaluateNow(id, facts, rule, now));
    const tail = run.catch(() => {});
    this.queues.set(id, tail);
    void tail.then(() => this.queues.get(id) === tail && this.queues.delete(id));
    return run;
  }

  private async evaluateNow(id: string, facts: CatalogFacts, rule: TrainedRule, now: Date): Promise<boolean> {
    const p = await this.people.findById(id).lean<Person>();
    if (!p) return false;
    const v = await facts.verdict(p, rule, now);
    if (!verdictChanged(p, v)) return false;
    await this.people.updateOne({ _id: id }, verdictUpdate(v, now));
    const t = this.summaries.tally();
    await t.change(p, { ...p, trained: v.trained, trainedAt: v.trainedAt });
    await this.summaries.apply(t);
    if (v.trained && !p.trained) await this.announce(p, v);
    return true;
  }

  async announce(p: Pick<Person, 'userId' | 'tier'>, v: Verdict): Promise<void> {
    if (p.userId && v.trainedAt)
      await this.hooks.emit('reports.person.trained', { userId: p.userId, tier: p.tier, trainedAt: v.trainedAt, courseIds: v.courseIds });
  }

  /** Validity rule: people whose oldest counted course just expired (background sweep, a scan is fine). */
  async sweepExpired(now = new Date()): Promise<number> {
    const rule = await this.settings.rule();
    const facts = this.facts();
    let n = 0;
    for await (const p of this.people
      .find({ expiresAt: { $lte: now } }, { _id: 1 })
      .lean<Array<{ _id: string }>>()
      .cursor()) {
      if (await this.reevaluate(p._id, facts, rule, now)) n++;
    }
    return n;
  }
}
