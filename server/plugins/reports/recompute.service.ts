import type { Logger } from '../../core/log';
import type { Person, PersonModel } from './person.model';
import type { Job, JobModel } from './store.model';
import type { SettingsService } from './settings.service';
import type { SummaryService } from './summary.service';
import { verdictChanged, verdictUpdate, type TrainedService } from './trained.service';
import { eachWrite, retrying } from './writes';

const JOB_ID = 'recompute';
const BATCH = 500;
const CONCURRENCY = 16;

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
        { $set: { status: 'running', startedAt: new Date(), done: 0, changed: 0, total: await this.people.estimatedDocumentCount() } },
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

  private async run(evaluate: boolean): Promise<void> {
    const rule = await this.settings.rule();
    const facts = this.trained.facts();
    const tally = this.summaries.tally();
    const now = new Date();
    let done = 0;
    let changed = 0;
    let batch: Person[] = [];
    const flush = async () => {
      const writes: Array<{ updateOne: { filter: { _id: string }; update: ReturnType<typeof verdictUpdate> } }> = [];
      const announced: Array<Promise<void>> = [];
      for (let i = 0; i < batch.length; i += CONCURRENCY) {
        await Promise.all(
          batch.slice(i, i + CONCURRENCY).map(async (p) => {
            if (evaluate) {
              const v = await facts.verdict(p, rule, now);
              if (verdictChanged(p, v)) {
                writes.push({ updateOne: { filter: { _id: p._id }, update: verdictUpdate(v, now) } });
                if (v.trained && !p.trained) announced.push(this.trained.announce(p, v));
                p = { ...p, trained: v.trained, trainedAt: v.trainedAt };
              }
            }
            await tally.add(p, 1);
          }),
        );
      }
      await eachWrite(writes, (w) => this.people.updateOne(w.updateOne.filter, w.updateOne.update));
      await Promise.all(announced);
      done += batch.length;
      changed += writes.length;
      batch = [];
      await retrying(() => this.jobs.updateOne({ _id: JOB_ID }, { $set: { done, changed } }));
    };
    // Read everyone first (only the fields the rule and the tally need), then write: on the embedded
    // engine, updates made while a cursor is open on the same collection wait on it (~30 ms each).
    const everyone = await this.people
      .find(
        {},
        {
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
        },
      )
      .lean<Person[]>();
    for (let i = 0; i < everyone.length; i += BATCH) {
      batch = everyone.slice(i, i + BATCH);
      await flush();
    }
    await this.summaries.replaceAll(tally);
    this.log.info({ done, changed }, 'recompute finished');
  }
}
