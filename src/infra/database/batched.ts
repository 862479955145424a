import DataLoader from 'dataloader';
import type { TenantScope, Tx } from './tenant-scope';

/**
 * A loader that answers the calls made during one turn of the event loop with one
 * `load` of all their keys: requests that arrive together share a query instead of
 * each paying its own round trip and Prisma's per-query cost. Nothing is cached
 * between turns, so every call still reads the current state; a call waits at most
 * until the end of the turn it was made in. `keyOf` says which keys are the same.
 */
export function loaderPerTurn<K, V>(
  load: (keys: readonly K[]) => Promise<V[]>,
  keyOf: (key: K) => string = String,
): DataLoader<K, V> {
  // Equal keys in one batch (a client's parallel calls, jobs of one company) are
  // loaded once: `load` sees each distinct key once, every caller gets its answer.
  const loadDistinct = async (keys: readonly K[]): Promise<V[]> => {
    const distinct = new Map<string, K>();
    for (const key of keys) if (!distinct.has(keyOf(key))) distinct.set(keyOf(key), key);
    if (distinct.size === keys.length) return load(keys);
    const values = await load([...distinct.values()]);
    const byKey = new Map([...distinct.keys()].map((key, index) => [key, values[index]]));
    return keys.map((key) => byKey.get(keyOf(key)) as V);
  };
  return new DataLoader<K, V>(loadDistinct, {
    cache: false,
    batchScheduleFn: (send) => setImmediate(send),
    maxBatchSize: 100,
  });
}

/** Identifies a scope: reads batched together must share it exactly. */
const scopeKey = (scope: TenantScope) =>
  `${scope.companyIds.join(',')}|${(scope.catalogCompanyIds ?? []).join(',')}`;

/**
 * Reads by id under callers' scopes, batched per turn (loaderPerTurn): one read
 * transaction per distinct scope in the batch, since row-level security is set per
 * transaction. `read` gets the scope's distinct ids and returns what it found by id;
 * an id it did not find (missing, or outside the scope) answers null.
 */
export function readsByIdPerTurn<V>(
  open: <T>(scope: TenantScope, work: (tx: Tx) => Promise<T>) => Promise<T>,
  read: (tx: Tx, scope: TenantScope, ids: string[]) => Promise<Map<string, V>>,
): DataLoader<{ scope: TenantScope; id: string }, V | null> {
  return loaderPerTurn(
    async (keys: readonly { scope: TenantScope; id: string }[]) => {
      const groups = new Map<string, { scope: TenantScope; ids: string[]; found?: Map<string, V> }>();
      for (const { scope, id } of keys) {
        const group = groups.get(scopeKey(scope)) ?? { scope, ids: [] };
        group.ids.push(id);
        groups.set(scopeKey(scope), group);
      }
      await Promise.all(
        [...groups.values()].map(async (group) => {
          group.found = await open(group.scope, (tx) => read(tx, group.scope, group.ids));
        }),
      );
      return keys.map(({ scope, id }) => groups.get(scopeKey(scope))?.found?.get(id) ?? null);
    },
    ({ scope, id }) => `${scopeKey(scope)}|${id}`,
  );
}
