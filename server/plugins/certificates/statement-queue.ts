import type { XapiStatement } from '../../core/contracts/lrs';

/**
 * Issuing statements go to the LRS in batches, off the issuing path: one LRS write per batch
 * instead of one per certificate (a bulk issue of a whole cohort is mostly LRS writes
 * otherwise). Statement ids are derived from the certificate codes, so re-sending a batch
 * after a failure stores each statement once.
 */
export class StatementQueue {
  private pending: Array<{ code: string; statement: XapiStatement }> = [];
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly send: (statements: XapiStatement[]) => Promise<unknown>,
    private readonly onFailure: (codes: string[], err: unknown) => Promise<void>,
    private readonly opts: { maxBatch: number; maxDelayMs: number } = { maxBatch: 50, maxDelayMs: 200 },
  ) {}

  push(code: string, statement: XapiStatement): void {
    this.pending.push({ code, statement });
    if (this.pending.length >= this.opts.maxBatch) this.flushSoon(0);
    else this.flushSoon(this.opts.maxDelayMs);
  }

  private flushSoon(delay: number): void {
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sendBatch(), delay);
    this.timer.unref();
  }

  private sendBatch(): Promise<void> {
    this.timer = undefined;
    const batch = this.pending.splice(0, this.opts.maxBatch);
    if (this.pending.length) this.flushSoon(0);
    if (!batch.length) return Promise.resolve();
    const p = this.send(batch.map((b) => b.statement))
      .then(() => undefined)
      .catch((err) =>
        this.onFailure(
          batch.map((b) => b.code),
          err,
        ),
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  /** Sends everything queued and waits for it (shutdown, tests, benchmarks). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length) await this.sendBatch();
    await Promise.all([...this.inFlight]);
  }
}
