/**
 * The delivery worker: every process runs one. It claims due outbox entries (atomically, with a
 * lease), hands each to its pending consumers in turn, and applies the one retry policy: a
 * consumer that throws is logged and tried again after a doubling delay, up to
 * `EVENTS_MAX_ATTEMPTS`; then the entry is `failed` and waits on the admin page. The other
 * consumers of the same entry are not held back: they are delivered and struck off the list.
 */
import type { Logger } from '../log';
import type { Hooks } from './hooks';
import { decodePayload, type Claimed, type Outbox } from './outbox';
import { envNumber } from '../config';

export interface WorkerSettings {
  /** How often an idle worker looks for work recorded by other processes (ms). */
  pollMs: number;
  /** Entries delivered at once by this process. */
  concurrency: number;
  /** First retry delay (ms); it doubles with each attempt, up to five minutes. */
  retryMs: number;
  maxAttempts: number;
  leaseMs: number;
  keepDays: number;
}

export function workerSettings(env: Readonly<Record<string, string | undefined>>): WorkerSettings {
  const num = (name: string, def: number, min: number) => envNumber(env, name, def, min);
  return {
    pollMs: num('EVENTS_POLL_MS', 250, 10),
    concurrency: Math.floor(num('EVENTS_CONCURRENCY', 4, 1)),
    retryMs: num('EVENTS_RETRY_MS', 2000, 10),
    maxAttempts: Math.floor(num('EVENTS_MAX_ATTEMPTS', 5, 1)),
    leaseMs: num('EVENTS_LEASE_SECONDS', 60, 1) * 1000,
    keepDays: num('EVENTS_KEEP_DAYS', 7, 0),
  };
}

const MAX_BACKOFF_MS = 5 * 60_000;

export class EventWorker {
  private running = false;
  private timer?: NodeJS.Timeout;
  private loops = new Set<Promise<void>>();
  private again = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly hooks: Hooks,
    private readonly s: WorkerSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await Promise.all([...this.loops]);
  }

  /** Something was recorded here: look now rather than at the next poll. */
  wake(): void {
    if (!this.running) return;
    this.again = true;
    this.tick();
  }

  /**
   * Starts one more delivery loop (up to `concurrency`). More join only when a loop found work:
   * on the embedded engine every claim, found or not, takes the outbox's write lock, so starting
   * them all at each wake-up made three empty claims per recorded event compete with delivery.
   */
  private tick(): void {
    clearTimeout(this.timer);
    if (!this.running || this.loops.size >= this.s.concurrency) return;
    const loop: Promise<void> = this.loop().finally(() => {
      this.loops.delete(loop);
      if (this.running && this.loops.size === 0) this.schedule();
    });
    this.loops.add(loop);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), this.s.pollMs);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.again = false;
      let claimed: Claimed | undefined;
      try {
        claimed = await this.outbox.claim();
      } catch (err) {
        this.log.warn({ err }, 'events: could not claim work');
        return;
      }
      if (!claimed) {
        if (this.again) continue; // something was recorded while this claim looked
        return;
      }
      this.tick();
      await this.deliver(claimed);
    }
  }

  /**
   * Delivers until every entry has had its first delivery (CLI commands, tests); entries waiting
   * for a retry or given up are left to the worker and the page.
   */
  async drain(): Promise<void> {
    for (;;) {
      const c = await this.outbox.claim();
      if (!c) {
        if (!(await this.outbox.unsettled())) return;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      await this.deliver(c);
    }
  }

  async deliver(c: Claimed): Promise<void> {
    const e = c.entry;
    try {
      if (await this.outbox.blockedByEarlier(e)) return await this.outbox.defer(c, 50);
      let payload = decodePayload(e.payload);
      if (c.unconfirmed) {
        const recover = this.hooks.recoverer(e.event);
        payload = recover ? await recover(payload) : payload;
        this.log.warn(
          { event: e.event, key: e.key, delivered: payload !== undefined },
          'events: delivering an occurrence whose write was never confirmed',
        );
        if (payload === undefined) return await this.outbox.complete(c);
      }
      const renew = setInterval(() => void this.outbox.extend(c).catch(() => {}), Math.max(1000, this.s.leaseMs / 3));
      renew.unref();
      const still: string[] = [];
      let error: { consumer: string; message: string } | undefined;
      try {
        for (const consumer of e.pending) {
          const handler = this.hooks.subscriber(e.event, consumer);
          try {
            if (!handler) throw new Error(`no consumer "${consumer}" of ${e.event} in this process`);
            await handler(payload);
            if (e.pending.length > 1) await this.outbox.consumerDone(c, consumer);
          } catch (err) {
            still.push(consumer);
            error = { consumer, message: (err as Error)?.message ?? String(err) };
            this.log.warn({ err, event: e.event, key: e.key, consumer, attempt: e.attempts + 1 }, 'events: a consumer failed');
          }
        }
      } finally {
        clearInterval(renew);
      }
      if (!still.length) return await this.outbox.complete(c);
      const attempts = e.attempts + 1;
      const giveUp = attempts >= this.s.maxAttempts;
      if (giveUp)
        this.log.error(
          { event: e.event, key: e.key, consumers: still, error },
          'events: delivery failed for good (see the failed deliveries page)',
        );
      const retryAt = giveUp ? undefined : new Date(Date.now() + Math.min(MAX_BACKOFF_MS, this.s.retryMs * 2 ** (attempts - 1)));
      await this.outbox.failed(c, still, error!, retryAt);
    } catch (err) {
      // The outbox itself failed (database gone?): the lease expires and someone delivers it later.
      this.log.error({ err, event: e.event, key: e.key }, 'events: could not deliver');
    }
  }
}
