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
/** Handed-off entries one process keeps waiting for a free delivery slot, per slot; more go to the outbox for any worker. */
const HANDED_PER_SLOT = 16;

export class EventWorker {
  private running = false;
  private timer?: NodeJS.Timeout;
  private loops = new Set<Promise<void>>();
  private again = false;
  /** Entries of writes done here, leased to this worker and waiting for a slot (oldest first). */
  private handed: Array<{ c: Claimed; at: number }> = [];
  /** When a loop last claimed from the outbox, and when a claim last found nothing. */
  private lastLook = 0;
  private lastMiss = 0;

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
    await this.giveBack(this.handed.splice(0).map((h) => h.c));
  }

  /**
   * The entries of a write just done here: this worker leases them at once and delivers them as
   * soon as a slot is free, so the follow-up starts without a claim or a poll (the writer does not
   * wait for the delivery). When the worker is off or already has plenty waiting, they are
   * released to the outbox instead, for whichever worker looks first.
   */
  async handOff(ids: string[]): Promise<void> {
    if (!this.running || this.handed.length >= this.s.concurrency * HANDED_PER_SLOT) {
      await this.outbox.release(ids);
      this.wake();
      return;
    }
    const taken = await this.outbox.releaseTo(ids);
    if (!this.running) return await this.giveBack(taken); // stopped meanwhile
    const at = Date.now();
    for (const c of taken) this.handed.push({ c, at });
    for (let i = 0; i < taken.length; i++) this.tick();
  }

  /** Leased entries this worker will not deliver become claimable at once. */
  private async giveBack(list: Claimed[]): Promise<void> {
    for (const c of list)
      await this.outbox.defer(c, 0).catch((err: unknown) => this.log.warn({ err }, 'events: could not give an entry back'));
  }

  /** The next handed-off entry still leased to this worker (its lease renewed if it waited long). */
  private async nextHanded(): Promise<Claimed | undefined> {
    for (let h = this.handed.shift(); h; h = this.handed.shift()) {
      if (Date.now() - h.at < this.s.leaseMs / 3 || (await this.outbox.extend(h.c))) return h.c;
    }
    return undefined;
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

  /**
   * One delivery loop. Entries handed off here go first, but the outbox is still claimed from
   * at least every poll interval (other processes' entries, retries, overflow), at once after a
   * `wake`, and whenever nothing is handed — except right after a claim found nothing: on the
   * embedded engine an empty claim takes the outbox's write lock like a found one, and ending
   * every handed delivery with one made a claim per entry that found nothing.
   */
  private async loop(): Promise<void> {
    while (this.running) {
      let claimed: Claimed | undefined;
      try {
        const now = Date.now();
        if (this.handed.length && !this.again && now - this.lastLook < this.s.pollMs) claimed = await this.nextHanded();
        if (!claimed) {
          if (!this.again && !this.handed.length && now - this.lastMiss < this.s.pollMs) return;
          this.again = false;
          this.lastLook = now;
          claimed = await this.outbox.claim();
          if (!claimed) {
            this.lastMiss = Date.now();
            claimed = await this.nextHanded();
          }
          if (!claimed) {
            if (this.again) continue; // something was recorded while this claim looked
            return;
          }
        }
      } catch (err) {
        this.log.warn({ err }, 'events: could not claim work');
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
    const started = Date.now();
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
        for (const [i, consumer] of e.pending.entries()) {
          const handler = this.hooks.subscriber(e.event, consumer);
          try {
            if (!handler) throw new Error(`no consumer "${consumer}" of ${e.event} in this process`);
            await handler(payload);
            // Struck off so a crash after it does not repeat it; the last one is struck off by `complete` or `failed`.
            if (i < e.pending.length - 1) await this.outbox.consumerDone(c, consumer);
          } catch (err) {
            still.push(consumer);
            error = { consumer, message: (err as Error)?.message ?? String(err) };
            this.log.warn({ err, event: e.event, key: e.key, consumer, attempt: e.attempts + 1 }, 'events: a consumer failed');
          }
        }
      } finally {
        clearInterval(renew);
      }
      if (!still.length) {
        await this.outbox.complete(c);
        // Where the time goes (LOG_LEVEL=debug): waiting to be delivered vs delivering.
        this.log.debug(
          { event: e.event, waitedMs: started - new Date(e.createdAt).getTime(), ms: Date.now() - started },
          'events: delivered',
        );
        return;
      }
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
