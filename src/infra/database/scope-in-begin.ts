import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';
import type { PoolClient, QueryConfig, QueryResult } from 'pg';

/**
 * What the transaction being opened needs on the wire, handed from ScopedDb to the
 * connection that sends its BEGIN: the scope row-level security reads
 * (`app.company_ids`, `app.catalog_company_ids`) and whether it only reads.
 */
export interface Opening {
  companyIds: string;
  catalogCompanyIds: string;
  readOnly: boolean;
}

export const openingScope = new AsyncLocalStorage<Opening>();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres array literal of uuids. Refuses anything else: it is spliced into SQL text. */
export function uuidArrayLiteral(ids: readonly string[]): string {
  for (const id of ids) if (!UUID.test(id)) throw new Error(`not a uuid: ${JSON.stringify(id)}`);
  return `{${ids.join(',')}}`;
}

/** pg's query: a promise, or nothing when the caller passed a callback. */
type Query = (config: unknown, ...rest: unknown[]) => Promise<QueryResult> | undefined;

/** What the driver adapter reads of a BEGIN's or a fire-and-forget COMMIT's result. */
const NOTHING: QueryResult = { command: '', rowCount: 0, oid: 0, rows: [], fields: [] };

function textOf(config: unknown): string | undefined {
  return typeof config === 'object' && config !== null ? (config as QueryConfig).text : undefined;
}

function beginText(opening: Opening | undefined, isolation = ''): string {
  const mode = `${isolation}${opening?.readOnly ? ' READ ONLY' : ''}`;
  if (!opening) return `BEGIN${mode}`;
  return (
    `BEGIN${mode}; ` +
    `SELECT set_config('app.company_ids', '${opening.companyIds}', true), ` +
    `set_config('app.catalog_company_ids', '${opening.catalogCompanyIds}', true)`
  );
}

const SET_ISOLATION = /^SET TRANSACTION (ISOLATION LEVEL [A-Z ]+)$/;

/** The socket under a pooled connection (pg keeps it on its protocol connection). */
const socketOf = (client: PoolClient) =>
  (client as unknown as { connection: { stream: Writable } }).connection.stream;

/** Runs `send` with the connection's socket corked: the messages of every query it
 *  starts go out in one write (pipeline mode does not wait between them). */
export function inOneWrite<T>(client: PoolClient, send: () => T): T {
  const socket = socketOf(client);
  socket.cork();
  try {
    return send();
  } finally {
    socket.uncork();
  }
}

/**
 * Patches one pooled connection (the pool runs pg in pipeline mode) so a transaction
 * costs fewer round trips and fewer socket writes; on two shared cores those are
 * what a request costs most.
 *
 * - The scope rides with BEGIN: `BEGIN; SELECT set_config(…, true), …` in one
 *   simple-protocol message (no parameters: the values are validated uuid literals;
 *   `true` keeps them local to the transaction, so a pooled connection never carries
 *   a previous caller's scope).
 * - BEGIN is held back and written together with the transaction's first statement,
 *   in one write and without a round trip in between. That statement's result waits
 *   for BEGIN's, and fails with it.
 * - A READ ONLY transaction's COMMIT is not waited for: Postgres refuses any write in
 *   it, so there is nothing its COMMIT could lose. It is written with the
 *   connection's next statement (the pool hands the connection on at once) or at the
 *   next turn of the event loop, whichever comes first.
 * - A transaction that sent no statement sends nothing.
 */
export function setScopeWithBegin(client: PoolClient): void {
  const query = client.query.bind(client) as Query;
  const socket = socketOf(client);
  let opening: QueryConfig | undefined;
  let openingScopeOf: Opening | undefined;
  let closing: QueryConfig | undefined;
  let readOnly = false;

  const flushClosing = () => {
    if (!closing) return;
    const commit = closing;
    closing = undefined;
    query(commit)?.catch(() => undefined);
  };

  (client as unknown as { query: Query }).query = (config, ...rest) => {
    const text = textOf(config);
    if (text === 'BEGIN') {
      const scope = openingScope.getStore();
      const { name: _unnamed, values: _none, ...plain } = config as QueryConfig;
      readOnly = scope?.readOnly ?? false;
      openingScopeOf = scope;
      opening = { ...plain, text: beginText(scope) };
      return Promise.resolve(NOTHING);
    }
    // The isolation level must precede the scope's SELECT: it joins the held BEGIN.
    const isolation = opening && text ? SET_ISOLATION.exec(text) : null;
    if (opening && isolation) {
      opening = { ...opening, text: beginText(openingScopeOf, ` ${isolation[1]}`) };
      return Promise.resolve(NOTHING);
    }
    if ((text === 'COMMIT' || text === 'ROLLBACK') && opening) {
      opening = undefined;
      readOnly = false;
      return Promise.resolve(NOTHING);
    }
    if (text === 'COMMIT' && readOnly) {
      readOnly = false;
      closing = config as QueryConfig;
      setImmediate(flushClosing);
      return Promise.resolve(NOTHING);
    }
    if (text === 'COMMIT' || text === 'ROLLBACK') readOnly = false;

    // Everything held back goes out with this statement in one write (pg corks each
    // message it writes; nested corks flush at the outermost uncork).
    socket.cork();
    let begun: Promise<unknown> | undefined;
    let sent: Promise<QueryResult> | undefined;
    try {
      flushClosing();
      if (opening) {
        begun = query(opening);
        opening = undefined;
        // Its outcome reaches the caller through this statement's answer (below).
        begun?.catch(() => undefined);
      }
      sent = query(config, ...rest);
    } finally {
      socket.uncork();
    }
    // Callback-style callers (pg-pool's own query) get no promise; they never open
    // transactions, so there is no BEGIN to wait for.
    if (!begun || !sent) return sent;
    // Answers come in order, but a failed BEGIN must not leave this one unhandled.
    sent.catch(() => undefined);
    return begun.then(() => sent);
  };
}
