import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Prisma, type ComponentType, type IntegrationRegistry } from '../infra/database/generated/client';
import { ScopedDb, type TenantScope } from '../infra/database/tenant-scope';

export interface IntegrationFilters {
  componentType?: ComponentType;
  provider?: string;
  companyId?: string;
}

/** Rows a scope may read: its own companies' and the catalog above it (RLS agrees). */
function visible(scope: TenantScope): Prisma.IntegrationRegistryWhereInput {
  return { companyId: { in: [...scope.companyIds, ...(scope.catalogCompanyIds ?? [])] } };
}

@Injectable()
export class IntegrationsRepository {
  constructor(private readonly db: ScopedDb) {}

  list(
    scope: TenantScope,
    filters: IntegrationFilters,
    page: { take: number; afterId?: string },
  ): Promise<IntegrationRegistry[]> {
    return this.db.read(scope, (tx) =>
      tx.integrationRegistry.findMany({
        where: {
          AND: [visible(scope), filters.companyId ? { companyId: filters.companyId } : {}],
          componentType: filters.componentType,
          providerName: filters.provider,
          id: page.afterId ? { gt: page.afterId } : undefined,
        },
        orderBy: { id: 'asc' },
        take: page.take,
      }),
    );
  }

  findVisible(scope: TenantScope, id: string): Promise<IntegrationRegistry | null> {
    return this.db.read(scope, (tx) =>
      tx.integrationRegistry.findFirst({ where: { id, ...visible(scope) } }),
    );
  }

  create(
    scope: TenantScope,
    data: Omit<Prisma.IntegrationRegistryUncheckedCreateInput, 'id'>,
  ): Promise<IntegrationRegistry> {
    return this.db.run(scope, (tx) => tx.integrationRegistry.create({ data: { ...data, id: uuidv7() } }));
  }

  update(
    scope: TenantScope,
    id: string,
    data: Prisma.IntegrationRegistryUncheckedUpdateInput,
  ): Promise<IntegrationRegistry> {
    return this.db.run(scope, (tx) => tx.integrationRegistry.update({ where: { id }, data }));
  }

  async delete(scope: TenantScope, id: string): Promise<void> {
    await this.db.run(scope, (tx) => tx.integrationRegistry.delete({ where: { id } }));
  }

  /**
   * The active rows of these SKUs along a company lineage (the run's company first,
   * then each company above it), for prices and credentials: the nearest row wins.
   */
  lineageRows(
    scope: TenantScope,
    lineage: readonly string[],
    where: Prisma.IntegrationRegistryWhereInput,
  ): Promise<IntegrationRegistry[]> {
    return this.db.read(scope, async (tx) => {
      const rows = await tx.integrationRegistry.findMany({
        where: { ...where, status: 'active', companyId: { in: [...lineage] } },
      });
      const rank = (row: IntegrationRegistry) => lineage.indexOf(row.companyId);
      return rows.sort((a, b) => rank(a) - rank(b));
    });
  }
}
