import DataLoader from 'dataloader';
import type { TenantScope } from './tenant-scope';

/**
 * How long a batch gathers calls before it is sent:
 * - `turn`: the calls of one turn of the event loop (sent at setImmediate). Requests
 *   arrive on their own sockets, each in its own callback; a turn gathers those that
 *   arrived together.
 * - `tick`: the calls of one callback and the promise jobs it starts (sent at
 *   process.nextTick). A worker's jobs come in one Redis reply (their completions went
 *   out in one write) and start, and later end, within one such callback: sending at
 *   once spares every job a wait for the end of the turn on each statement.
 */
export type BatchWindow = 'turn' | 'tick';

const SEND: Record<BatchWindow, (send: () => void) => void> = {
  turn: (send) => setImmediate(send),
  // After the promise jobs queued so far (a call made outright by the callback must
  // not leave before those its promise jobs make), as DataLoader does by default.
  tick: (send) => void Promise.resolve().then(() => process.nextTick(send)),
};

/**
 * A loader that answers the calls made during one turn of the event loop with one
 * `load` of all their keys: requests that arrive together share a query instead of
 * each paying its own round trip and Prisma's per-query cost. Nothing is cached
 * between turns, so every call still reads the current state; a call waits at most
 * until the end of the turn it was made in (`window`: see BatchWindow). `keyOf`,
 * when given, says which keys are the same; without it every call is its own (writes).
 */
export function loaderPerTurn<K, V>(
  load: (keys: readonly K[]) => Promise<(V | Error)[]>,
  keyOf?: (key: K) => string,
  window: BatchWindow = 'turn',
): DataLoader<K, V> {
  // Equal keys in one batch (a client's parallel calls, jobs of one company) are
  // loaded once: `load` sees each distinct key once, every caller gets its answer.
  const loadDistinct = async (keys: readonly K[]): Promise<(V | Error)[]> => {
    if (!keyOf) return load(keys);
    const distinct = new Map<string, K>();
    for (const key of keys) if (!distinct.has(keyOf(key))) distinct.set(keyOf(key), key);
    if (distinct.size === keys.length) return load(keys);
    const values = await load([...distinct.values()]);
    const byKey = new Map([...distinct.keys()].map((key, index) => [key, values[index]]));
    return keys.map((key) => byKey.get(keyOf(key))!);
  };
  return new DataLoader<K, V>(loadDistinct, {
    cache: false,
    batchScheduleFn: SEND[window],
    maxBatchSize: 100,
  });
}

/** Identifies a scope: reads batched together must share it exactly. */
export const scopeKey = (scope: TenantScope) =>
  `${scope.companyIds.join(',')}|${(scope.catalogCompanyIds ?? []).join(',')}`;

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/** Work of one turn under callers' scopes: each key carries the scope it runs in. */
type Scoped = { scope: TenantScope };

/**
 * Calls made under callers' scopes, batched per turn (loaderPerTurn), grouped by
 * scope: `work` runs once per distinct scope in the batch (in a transaction of that
 * scope, since row-level security is set per transaction). It gets the scope's keys
 * and answers each, in order; an Error answers that key's call by rejecting it, and
 * leaves the others of the batch alone. When `work` fails for a batch, each of its
 * keys is tried again alone, so only the calls that fail on their own fail.
 */
export function byScopePerTurn<K extends Scoped, V>(
  work: (scope: TenantScope, keys: K[]) => Promise<(V | Error)[]>,
  keyOf?: (key: K) => string,
  window: BatchWindow = 'turn',
): DataLoader<K, V> {
  return loaderPerTurn<K, V>(
    async (keys: readonly K[]) => {
      const groups = new Map<string, { scope: TenantScope; keys: K[]; answers?: (V | Error)[] }>();
      for (const key of keys) {
        const group = groups.get(scopeKey(key.scope)) ?? { scope: key.scope, keys: [] };
        group.keys.push(key);
        groups.set(scopeKey(key.scope), group);
      }
      await Promise.all(
        [...groups.values()].map(async (group) => {
          try {
            group.answers = await work(group.scope, group.keys);
          } catch (error) {
            // The batch failed whole (its transaction rolled back, nothing was written).
            // One bad call (a row Postgres refuses) must not fail the calls that merely
            // arrived with it: each is tried again on its own.
            group.answers =
              group.keys.length === 1
                ? [asError(error)]
                : await Promise.all(
                    group.keys.map((key) => work(group.scope, [key]).then((one) => one[0], asError)),
                  );
          }
        }),
      );
      const answers = new Map<K, V | Error>();
      for (const group of groups.values())
        group.keys.forEach((key, i) => answers.set(key, group.answers![i]));
      return keys.map((key) => answers.get(key)!);
    },
    keyOf,
    window,
  );
}

/**
 * Reads by id under callers' scopes, batched per turn (byScopePerTurn): `read` runs
 * once per scope (in a transaction of that scope) with its distinct ids, and returns
 * what it found by id; an id it did not find (missing, or outside the scope) answers
 * null.
 */
export function readsByIdPerTurn<V>(
  read: (scope: TenantScope, ids: string[]) => Promise<Map<string, V>>,
): DataLoader<{ scope: TenantScope; id: string }, V | null> {
  return byScopePerTurn(
    async (scope, keys: { scope: TenantScope; id: string }[]) => {
      const found = await read(
        scope,
        keys.map((key) => key.id),
      );
      return keys.map((key) => found.get(key.id) ?? null);
    },
    ({ scope, id }) => `${scopeKey(scope)}|${id}`,
  );
}
