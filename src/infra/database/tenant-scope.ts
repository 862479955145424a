import { Injectable } from '@nestjs/common';
import type { Prisma } from './generated/client';
import { PrismaService } from './prisma.service';
import { openingScope, uuidArrayLiteral } from './scope-in-begin';

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

  private open<T>(scope: TenantScope, readOnly: boolean, work: (tx: Tx) => Promise<T>): Promise<T> {
    const opening = {
      companyIds: uuidArrayLiteral(scope.companyIds),
      catalogCompanyIds: uuidArrayLiteral(scope.catalogCompanyIds ?? []),
      readOnly,
    };
    // The store is read once, by the BEGIN of this transaction; work inside runs
    // outside it so a nested transaction (another scope) cannot inherit it.
    return openingScope.run(opening, () =>
      this.prisma.$transaction((tx) => openingScope.exit(() => work(tx))),
    );
  }

  /** For authentication lookups that run before any scope exists (SECURITY DEFINER functions). */
  get unscoped(): PrismaService {
    return this.prisma;
  }
}
