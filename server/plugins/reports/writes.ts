import { isDuplicateKey } from '../../core/db/connect';

/**
 * Runs single-document writes one after another. FerretDB 1.24 runs a multi-statement update
 * command far slower than the same updates sent one by one (200 replaceOnes in one bulkWrite took
 * over 45 s at 20,000 documents, one by one 0.2 s), and parallel writers gain little on its
 * SQLite backend (one writer at a time: 2.1 ms per update alone, 1.75 ms with 4 in flight) while
 * under load they were refused with "database is locked" (SQLITE_BUSY). So updates go one by
 * one, and a write refused for a transient reason is retried a few times. Inserts still go in
 * bulk (insertMany).
 */
export async function eachWrite<T>(items: T[], write: (item: T) => Promise<unknown>): Promise<void> {
  for (const item of items) await retrying(() => write(item));
}

export async function retrying<R>(fn: () => Promise<R>, attempts = 4): Promise<R> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const server = (err as { name?: string }).name === 'MongoServerError';
      if (!server || isDuplicateKey(err) || i >= attempts) throw err;
      await new Promise((ok) => setTimeout(ok, 50 * 2 ** i));
    }
  }
}
