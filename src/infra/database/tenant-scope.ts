import { Injectable } from '@nestjs/common';
import type { Prisma } from './generated/client';
import { PrismaService } from './prisma.service';

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

/** Postgres array literal of uuids; ids come from our own rows, never from input. */
function uuidArray(ids: readonly string[]): string {
  return `{${ids.join(',')}}`;
}

/**
 * Opens a transaction bound to a scope: `app.company_ids` is set for the
 * transaction only (set_config(..., true)), so pooled connections never carry a
 * previous caller's scope.
 */
@Injectable()
export class ScopedDb {
  constructor(private readonly prisma: PrismaService) {}

  run<T>(scope: TenantScope, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT set_config('app.company_ids', ${uuidArray(scope.companyIds)}, true),
        set_config('app.catalog_company_ids', ${uuidArray(scope.catalogCompanyIds ?? [])}, true)`;
      return work(tx);
    });
  }

  /** For authentication lookups that run before any scope exists (SECURITY DEFINER functions). */
  get unscoped(): PrismaService {
    return this.prisma;
  }
}
