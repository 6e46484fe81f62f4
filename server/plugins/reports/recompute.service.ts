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
  ) {}

  async status(): Promise<Job | undefined> {
    return (await this.jobs.findById(JOB_ID).lean<Job>()) ?? undefined;
  }

  /** Queues a recompute (or asks the running one to go again) and starts it in the background. */
  async request(reason: string, evaluate = true): Promise<void> {
    const job = await this.status();
    if (job?.status === 'running') {
      await this.jobs.updateOne(
        { _id: JOB_ID },
        { $set: { again: true, evaluate: job.evaluate || evaluate, reason: `${job.reason}, ${reason}` } },
      );
    } else {
      await this.jobs.replaceOne(
        { _id: JOB_ID },
        {
          _id: JOB_ID,
          status: 'queued',
          reason,
          evaluate: evaluate || (job?.status === 'queued' && job.evaluate),
          again: false,
          total: 0,
          done: 0,
          changed: 0,
          queuedAt: new Date(),
        },
        { upsert: true },
      );
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

  private async loop(): Promise<void> {
    for (;;) {
      const job = await this.status();
      if (!job || job.status !== 'queued') return;
      await this.jobs.updateOne(
        { _id: JOB_ID },
        {
          $set: {
            status: 'running',
            startedAt: new Date(),
            done: 0,
            changed: 0,
            written: 0,
            seconds: {},
            total: await this.people.estimatedDocumentCount(),
          },
        },
      );
      try {
        await this.run(job.evaluate);
        const after = await this.status();
        await this.jobs.updateOne(
          { _id: JOB_ID },
          after?.again ? { $set: { status: 'queued', again: false } } : { $set: { status: 'done', finishedAt: new Date() } },
        );
      } catch (err) {
        await this.jobs.updateOne({ _id: JOB_ID }, { $set: { status: 'failed', finishedAt: new Date(), error: (err as Error).message } });
        throw err;
      }
    }
  }

  /**
   * Re-evaluates everyone and rebuilds the summaries: (1) everyone's satisfied courses in one
   * streamed pass, (2) everyone's document in one read, judged in memory and tallied, (3) the
   * changed verdicts written one by one, (4) with the write gate held, the people other writers
   * touched meanwhile re-evaluated and re-counted, and every summary replaced.
   */
  private async run(evaluate: boolean): Promise<void> {
    const watch = this.summaries.gate.watch();
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
      for (const { p, v } of changes) {
        // Someone else re-evaluated this person meanwhile (fresher progress): step 4 settles them.
        if (!watch.ids.has(p._id)) await this.people.updateOne({ _id: p._id }, verdictUpdate(v, now));
        if (++written % 1000 === 0) await this.progress(everyone.length, changes.length, written);
      }
      step('write');
      const announce: Array<{ p: Person; v: Verdict }> = [];
      const settled = new Set<string>(); // people step 4 re-evaluated: announced from there, if at all

      await this.summaries.gate.exclusive(async () => {
        for (const id of watch.ids) {
          settled.add(id);
          const r = await this.trained.refresh(id, facts, rule, new Date());
          await tally.change(counted.get(id), r?.after);
          if (r?.changed && r.verdict.trained && !r.before.trained) announce.push({ p: r.after, v: r.verdict });
        }
        await this.summaries.replaceAll(tally);
      });
      step('summaries');
      for (const c of changes) if (c.v.trained && !c.p.trained && !settled.has(c.p._id)) announce.push(c);
      for (const { p, v } of announce) await this.trained.announce(p, v);
      step('announce');
      await this.progress(everyone.length, changes.length, written, seconds);
      this.log.info({ people: everyone.length, changed: changes.length, touchedMeanwhile: watch.ids.size, seconds }, 'recompute finished');
    } finally {
      watch.stop();
    }
  }

  private progress(done: number, changed: number, written: number, seconds?: Record<string, number>): Promise<unknown> {
    return this.jobs.updateOne({ _id: JOB_ID }, { $set: { done, changed, written, ...(seconds && { seconds }) } });
  }
}
