import { randomUUID } from 'node:crypto';
import { isDuplicateKey } from '../../core/db/connect';
import type { Logger } from '../../core/log';
import type { Person, PersonModel } from './person.model';
import type { Job, JobModel } from './store.model';
import type { SettingsService } from './settings.service';
import type { SummaryService } from './summary.service';
import { verdictChanged, verdictUpdate, type TrainedService } from './trained.service';
import type { Verdict } from './trained-rule';

const JOB_ID = 'recompute';
const PERSON_FIELDS = {
  userId: 1,
  institution: 1,
  unit: 1,
  level: 1,
  tier: 1,
  decisionMaker: 1,
  active: 1,
  trained: 1,
  trainedAt: 1,
  expiresAt: 1,
  missing: 1,
  hoursShort: 1,
};

/**
 * The background recompute: after a rule change or a learning-path change every person is
 * re-evaluated, and the summaries are rebuilt from the people (also after org units move).
 * State lives in one job document so the settings page can show progress and a restarted
 * server resumes a queued job.
 */
export class RecomputeService {
  private running?: Promise<void>;

  constructor(
    private readonly jobs: JobModel,
    private readonly people: PersonModel,
    private readonly settings: SettingsService,
    private readonly summaries: SummaryService,
    private readonly trained: TrainedService,
    private readonly log: Logger,
    private readonly leaseMs: number,
  ) {}

  async status(): Promise<Job | undefined> {
    return (await this.jobs.findById(JOB_ID).lean<Job>()) ?? undefined;
  }

  /**
   * Queues a recompute (or asks the running one to go again) and starts it in the background.
   * Every step is a conditional update of the one job document, so requests arriving at several
   * processes at once neither run it twice nor get lost.
   */
  async request(reason: string, evaluate = true): Promise<void> {
    for (let tries = 0; tries < 20; tries++) {
      const job = await this.status();
      if (job?.status === 'running') {
        const r = await this.jobs.updateOne(
          { _id: JOB_ID, status: 'running', owner: job.owner },
          { $set: { again: true, reason: `${job.reason}, ${reason}`, ...(evaluate ? { evaluate: true } : {}) } },
        );
        if (r.matchedCount) break;
      } else if (job?.status === 'queued') {
        const r = await this.jobs.updateOne(
          { _id: JOB_ID, status: 'queued' },
          { $set: { reason: job.reason === reason ? reason : `${job.reason}, ${reason}`, ...(evaluate ? { evaluate: true } : {}) } },
        );
        if (r.matchedCount) break;
      } else {
        const fresh = { status: 'queued', reason, evaluate, again: false, total: 0, done: 0, changed: 0, queuedAt: new Date() };
        try {
          const r = await this.jobs.updateOne(
            { _id: JOB_ID, status: { $in: ['done', 'failed'] } },
            { $set: fresh, $unset: { owner: 1, until: 1 } },
            { upsert: !job },
          );
          if (r.matchedCount || r.upsertedCount) break;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // another process created it first: look again
        }
      }
    }
    void this.kick();
  }

  /** Runs queued work if none runs in this process; resolves when the queue is empty. */
  kick(): Promise<void> {
    this.running ??= this.loop()
      .catch((err) => this.log.error({ err }, 'recompute failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves when this process has no recompute running (tests, CLI). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Claims the queued job (or one whose process died while running it: its lease expired) with
   * one atomic update, so only one process runs it.
   */
  private async claim(owner: string): Promise<Job | undefined> {
    const now = new Date();
    const job = await this.jobs
      .findOneAndUpdate(
        { _id: JOB_ID, $or: [{ status: 'queued' }, { status: 'running', until: { $lte: now } }] },
        {
          $set: {
            status: 'running',
            owner,
            until: new Date(now.getTime() + this.leaseMs),
            again: false,
            startedAt: now,
            done: 0,
            changed: 0,
            written: 0,
            seconds: {},
            total: await this.people.estimatedDocumentCount(),
          },
        },
        { returnDocument: 'before' },
      )
      .lean<Job>();
    if (job?.status === 'running') this.log.warn({ reason: job.reason }, 'recompute: taking over a run whose process stopped');
    return job ?? undefined;
  }

  private async loop(): Promise<void> {
    const owner = randomUUID();
    let job = await this.claim(owner);
    while (job) {
      const renew = setInterval(
        () =>
          void this.jobs
            .updateOne({ _id: JOB_ID, owner }, { $set: { until: new Date(Date.now() + this.leaseMs) } })
            .catch((err: unknown) => this.log.warn({ err }, 'recompute: could not renew its lease')),
        this.leaseMs / 3,
      );
      renew.unref();
      try {
        await this.run(job.evaluate);
      } catch (err) {
        await this.jobs.updateOne(
          { _id: JOB_ID, owner },
          { $set: { status: 'failed', finishedAt: new Date(), error: (err as Error).message } },
        );
        throw err;
      } finally {
        clearInterval(renew);
      }
      // Asked again while running: run again (the flag is read and cleared in one update).
      const again = await this.jobs.updateOne({ _id: JOB_ID, owner, again: true }, { $set: { status: 'queued', again: false } });
      if (!again.modifiedCount) {
        const done = await this.jobs.updateOne(
          { _id: JOB_ID, owner, again: { $ne: true } },
          { $set: { status: 'done', finishedAt: new Date() }, $unset: { owner: 1, until: 1 } },
        );
        if (done.modifiedCount) return;
        await this.jobs.updateOne({ _id: JOB_ID, owner }, { $set: { status: 'queued', again: false } });
      }
      job = await this.claim(owner);
    }
  }

  /**
   * Re-evaluates everyone and rebuilds the summaries: (1) everyone's satisfied courses in one
   * streamed pass, (2) everyone's document in one read, judged in memory and tallied, (3) the
   * changed verdicts written one by one, (4) with the write gate held, the people other writers
   * touched meanwhile re-evaluated and re-counted, and every summary replaced.
   */
  private async run(evaluate: boolean): Promise<void> {
    const watch = await this.summaries.gate.watch();
    const seconds: Record<string, number> = {}; // per step, shown on the settings page and by the bench
    let started = Date.now();
    const step = (name: string) => {
      seconds[name] = (Date.now() - started) / 1000;
      started = Date.now();
    };
    try {
      const rule = await this.settings.rule();
      const facts = this.trained.facts();
      const now = new Date();
      const satisfied = evaluate ? await this.trained.satisfiedIndex() : undefined;
      step('progress');
      // Read everyone first (only the fields the rule and the tally need), then write: on the embedded
      // engine, updates made while a cursor is open on the same collection wait on it (~30 ms each).
      const everyone = await this.people.find({}, PERSON_FIELDS).lean<Person[]>();
      const wasTrained = new Set(everyone.filter((p) => p.trained).map((p) => p._id));
      const tally = this.summaries.tally();
      const counted = new Map<string, Person>(); // what the tally holds for each person
      const changes: Array<{ p: Person; v: Verdict }> = [];
      for (const p of everyone) {
        let state = p;
        if (satisfied) {
          const v = await facts.verdict(p, rule, now, satisfied.of(p.userId));
          if (verdictChanged(p, v)) {
            changes.push({ p, v });
            state = { ...p, trained: v.trained, trainedAt: v.trainedAt };
          }
        }
        counted.set(p._id, state);
        await tally.add(state, 1);
      }
      step('evaluate');
      await this.progress(everyone.length, changes.length, 0, seconds);

      let written = 0;
      let touched = await watch.ids();
      for (const { p, v } of changes) {
        // Someone else re-evaluated this person meanwhile (fresher progress): step 4 settles them.
        if (!touched.has(p._id)) await this.people.updateOne({ _id: p._id }, verdictUpdate(v, now));
        if (++written % 1000 === 0) {
          await this.progress(everyone.length, changes.length, written);
          touched = await watch.ids();
        }
      }
      step('write');
      const announce: Array<{ p: Person; v: Verdict }> = [];
      const settled = new Set<string>(); // people step 4 re-evaluated: announced from there, if at all

      let touchedMeanwhile = 0;
      await this.summaries.gate.exclusive(async () => {
        const ids = await watch.ids();
        touchedMeanwhile = ids.size;
        for (const id of ids) {
          settled.add(id);
          const r = await this.trained.refresh(id, facts, rule, new Date());
          await tally.change(counted.get(id), r?.after);
          // Announced if trained now and not before this run: the writer that touched them may have
          // found our verdict already written and so seen no change (announcing is idempotent).
          if (r?.verdict.trained && (!r.before.trained || !wasTrained.has(id))) announce.push({ p: r.after, v: r.verdict });
        }
        await this.summaries.replaceAll(tally);
      });
      step('summaries');
      for (const c of changes) if (c.v.trained && !c.p.trained && !settled.has(c.p._id)) announce.push(c);
      for (const { p, v } of announce) await this.trained.announce(p, v);
      step('announce');
      await this.progress(everyone.length, changes.length, written, seconds);
      this.log.info({ people: everyone.length, changed: changes.length, touchedMeanwhile, seconds }, 'recompute finished');
    } finally {
      await watch.stop();
    }
  }

  private progress(done: number, changed: number, written: number, seconds?: Record<string, number>): Promise<unknown> {
    return this.jobs.updateOne({ _id: JOB_ID }, { $set: { done, changed, written, ...(seconds && { seconds }) } });
  }
}
