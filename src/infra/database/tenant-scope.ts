import { Injectable } from '@nestjs/common';
import type { Prisma } from './generated/client';
import { PrismaService } from './prisma.service';
import { DatabaseError, type QueryResult } from 'pg';
import { inSpan } from '../tracing/tracing';
import { inOneWrite, openingScope, uuidArrayLiteral, type Opening } from './scope-in-begin';

/**
 * The companies a caller (or a worker acting for a run) may touch. Every
 * repository method on tenant-owned rows takes one as its first argument and
 * filters by it; Postgres row-level security enforces the same set again.
 */
export interface TenantScope {
  readonly companyIds: readonly string[];
  /** Companies above the caller's, whose shared entities the caller may read and
   *  run (the catalog). Never writable. */
  readonly catalogCompanyIds?: readonly string[];
}

export type Tx = Prisma.TransactionClient;

/** Statements sent around Prisma have no Prisma span: they get one of their own. */
const STATEMENT_SPAN = 'pg.statement';
const spanAttributes = (name: string, scoped: boolean) => ({
  'db.system': 'postgresql',
  'db.query.name': name,
  'hirebuddha.db.scoped': scoped,
});

/** What the BEGIN of a transaction under `scope` carries (scope-in-begin.ts). */
function openingOf(scope: TenantScope, readOnly: boolean): Opening {
  return {
    companyIds: uuidArrayLiteral(scope.companyIds),
    catalogCompanyIds: uuidArrayLiteral(scope.catalogCompanyIds ?? []),
    readOnly,
  };
}

/**
 * Opens a transaction bound to a scope: `app.company_ids` is set for the
 * transaction only, in the same message as its BEGIN (see scope-in-begin.ts).
 */
@Injectable()
export class ScopedDb {
  constructor(private readonly prisma: PrismaService) {}

  run<T>(scope: TenantScope, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.open(scope, false, work);
  }

  /**
   * A READ ONLY transaction: Postgres refuses any write in it, and its COMMIT is
   * not waited for (scope-in-begin.ts), so a read costs one round trip per statement.
   */
  read<T>(scope: TenantScope, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.open(scope, true, work);
  }

  /**
   * One statement in a transaction of its own under `scope`, in one round trip: its
   * BEGIN (with the scope), the statement (a prepared statement of the connection)
   * and COMMIT are written together, since the pool pipelines, and Prisma is not in
   * the way. For the run lifecycle's batched writes (run-batches.ts); the rows come
   * as pg reads them (numeric and bigint as strings). The statement failing rolls
   * the transaction back (Postgres answers its COMMIT with ROLLBACK). `readOnly`
   * opens it READ ONLY (its COMMIT is then not waited for, as with `read`).
   */
  statement<R extends object>(
    scope: TenantScope,
    query: Prisma.Sql,
    options: { readOnly?: boolean } = {},
  ): Promise<R[]> {
    const prepared = this.prepared(query);
    return inSpan(STATEMENT_SPAN, spanAttributes(prepared.name, true), async () => {
      const client = await (await this.prisma.pool()).connect();
      const sent = openingScope.run(openingOf(scope, options.readOnly ?? false), () =>
        inOneWrite(client, () => [
          client.query({ text: 'BEGIN' }),
          client.query<R>(prepared),
          client.query({ text: 'COMMIT' }),
        ]),
      );
      const settled = await Promise.allSettled(sent);
      const failure = settled.find((outcome) => outcome.status === 'rejected');
      // Postgres refusing the statement leaves the connection sound; anything else (a
      // broken socket) must not hand it to the next caller.
      const broken = failure !== undefined && !(failure.reason instanceof DatabaseError);
      client.release(broken ? (failure.reason as Error) : undefined);
      if (failure) throw failure.reason;
      return (settled[1] as PromiseFulfilledResult<QueryResult<R>>).value.rows;
    });
  }

  /** One statement outside any transaction and scope (SECURITY DEFINER lookups), on
   *  the pool under Prisma; rows as pg reads them. */
  rows<R extends object>(query: Prisma.Sql): Promise<R[]> {
    const prepared = this.prepared(query);
    return inSpan(
      STATEMENT_SPAN,
      spanAttributes(prepared.name, false),
      async () => (await (await this.prisma.pool()).query<R>(prepared)).rows,
    );
  }

  private prepared(query: Prisma.Sql) {
    const text = query.text;
    return { name: this.prisma.statementName({ sql: text }), text, values: query.values };
  }

  private open<T>(scope: TenantScope, readOnly: boolean, work: (tx: Tx) => Promise<T>): Promise<T> {
    // The store is read once, by the BEGIN of this transaction; work inside runs
    // outside it so a nested transaction (another scope) cannot inherit it.
    return openingScope.run(openingOf(scope, readOnly), () =>
      this.prisma.$transaction((tx) => openingScope.exit(() => work(tx))),
    );
  }

  /** For authentication lookups that run before any scope exists (SECURITY DEFINER functions). */
  get unscoped(): PrismaService {
    return this.prisma;
  }
}
