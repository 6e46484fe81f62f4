/**
 * Runs single-document writes a few at a time. FerretDB 1.24 uses the `_id` index for a lone
 * update but not inside a multi-statement update command (a 50-update bulkWrite took ~600 ms
 * where 50 updateOne calls took ~50 ms), so updates are sent one by one; inserts still go in bulk.
 */
export async function eachWrite<T>(items: T[], write: (item: T) => Promise<unknown>, concurrency = 8): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await write(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
