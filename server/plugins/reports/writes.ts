import { isDuplicateKey } from '../../core/db/connect';

/**
 * Runs single-document writes one after another. FerretDB 1.24 uses the `_id` index for a lone
 * update but not inside a multi-statement update command (a 50-update bulkWrite took ~600 ms
 * where 50 updateOne calls took ~50 ms), and parallel writers on its SQLite backend fail with
 * "database is locked" (SQLITE_BUSY) instead of queueing: so updates go one by one, and a write
 * refused for a transient reason is retried a few times. Inserts still go in bulk (insertMany).
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
