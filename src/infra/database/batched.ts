import DataLoader from 'dataloader';
import type { TenantScope, Tx } from './tenant-scope';

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
  return loaderPerTurn(async (keys: readonly { scope: TenantScope; id: string }[]) => {
    const groups = new Map<string, { scope: TenantScope; ids: Set<string>; found?: Map<string, V> }>();
    for (const { scope, id } of keys) {
      const group = groups.get(scopeKey(scope)) ?? { scope, ids: new Set<string>() };
      group.ids.add(id);
      groups.set(scopeKey(scope), group);
    }
    await Promise.all(
      [...groups.values()].map(async (group) => {
        group.found = await open(group.scope, (tx) => read(tx, group.scope, [...group.ids]));
      }),
    );
    return keys.map(({ scope, id }) => groups.get(scopeKey(scope))?.found?.get(id) ?? null);
  });
}
