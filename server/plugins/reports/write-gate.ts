/**
 * Coordinates the writers of people and summaries with a full rebuild of the summaries, inside
 * this process. Writers (a progress event, a roster batch, the expiry sweep) say which people
 * they touch; a rebuild *watches* those ids while it evaluates a snapshot of everyone, then closes
 * with the gate held exclusively: it re-evaluates the watched people, corrects its tally and
 * replaces the summaries while no writer can slip an `$inc` in between. Writers are never
 * refused, only held for the close (seconds); their `$inc`s made before it are superseded by the
 * rebuilt documents, which already count their people's current state.
 */
export class WriteGate {
  private writers = 0;
  private drained: Array<() => void> = [];
  private closing?: Promise<void>;
  private readonly watches = new Set<Set<string>>();

  async write<T>(ids: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    while (this.closing) await this.closing;
    if (this.watches.size) for (const id of ids) for (const w of this.watches) w.add(id);
    this.writers++;
    try {
      return await fn();
    } finally {
      if (--this.writers === 0) for (const ok of this.drained.splice(0)) ok();
    }
  }

  /** Starts recording the ids writers touch from now on; `stop` when the rebuild is over. */
  watch(): { ids: Set<string>; stop: () => void } {
    const ids = new Set<string>();
    this.watches.add(ids);
    return { ids, stop: () => this.watches.delete(ids) };
  }

  /** Runs `fn` once the writers inside have finished, holding new ones at the door. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.closing) await this.closing;
    let open!: () => void;
    this.closing = new Promise<void>((ok) => (open = ok));
    try {
      while (this.writers > 0) await new Promise<void>((ok) => this.drained.push(ok));
      return await fn();
    } finally {
      this.closing = undefined;
      open();
    }
  }
}
