import { AsyncLocalStorage } from 'node:async_hooks';
import type { PoolClient, QueryConfig } from 'pg';

/**
 * The scope of the transaction being opened, handed from ScopedDb.run to the
 * connection that sends its BEGIN. Row-level security reads `app.company_ids` and
 * `app.catalog_company_ids`; setting them in the same message as BEGIN spares every
 * scoped transaction a round trip to Postgres (on two shared cores, round trips are
 * what a request costs most).
 */
export const openingScope = new AsyncLocalStorage<{ companyIds: string; catalogCompanyIds: string }>();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres array literal of uuids. Refuses anything else: it is spliced into SQL text. */
export function uuidArrayLiteral(ids: readonly string[]): string {
  for (const id of ids) if (!UUID.test(id)) throw new Error(`not a uuid: ${JSON.stringify(id)}`);
  return `{${ids.join(',')}}`;
}

type Query = (config: unknown, ...rest: unknown[]) => unknown;

/**
 * Patches one pooled connection: the driver adapter opens transactions with a bare
 * `BEGIN`; when a scope is being opened, that message becomes
 * `BEGIN; SELECT set_config(…, true), set_config(…, true)`, sent with the simple
 * protocol (no parameters: the values are validated uuid literals). `true` makes the
 * settings local to the transaction, so a pooled connection never carries a
 * previous caller's scope.
 */
export function setScopeWithBegin(client: PoolClient): void {
  const query = client.query.bind(client) as Query;
  (client as unknown as { query: Query }).query = (config, ...rest) => {
    const scope = openingScope.getStore();
    if (scope && typeof config === 'object' && config !== null && (config as QueryConfig).text === 'BEGIN') {
      const { name: _unnamed, values: _none, ...plain } = config as QueryConfig;
      return query(
        {
          ...plain,
          text: `BEGIN; SELECT set_config('app.company_ids', '${scope.companyIds}', true), set_config('app.catalog_company_ids', '${scope.catalogCompanyIds}', true)`,
        },
        ...rest,
      );
    }
    return query(config, ...rest);
  };
}
