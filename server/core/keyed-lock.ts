/**
 * Serialises work per key inside this process (a registration's progress, a person's "trained"
 * status), so two concurrent updates of one document do not overwrite each other. FerretDB has no
 * transactions and only `_id` filters are indexed, so a compare-and-set filter would scan the
 * collection.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
