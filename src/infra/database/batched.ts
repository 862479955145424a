import DataLoader from 'dataloader';

/**
 * A loader that answers the calls made during one turn of the event loop with one
 * `load` of all their keys: requests that arrive together share a query instead of
 * each paying its own round trip and Prisma's per-query cost. Nothing is cached
 * between turns, so every call still reads the current state; a call waits at most
 * until the end of the turn it was made in.
 */
export function loaderPerTurn<K, V>(load: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
  return new DataLoader<K, V>(load, {
    cache: false,
    batchScheduleFn: (send) => setImmediate(send),
    maxBatchSize: 100,
  });
}
