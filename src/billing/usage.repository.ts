import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Prisma, type UsageLog } from '../infra/database/generated/client';
import { ScopedDb, type TenantScope } from '../infra/database/tenant-scope';
import type { SummaryGroup } from './dto/usage.dto';

export interface UsageFilters {
  companyIds: readonly string[];
  from?: string;
  to?: string;
  runId?: string;
  skuId?: string;
}

export interface SummaryRow {
  key: string;
  label: string | null;
  quantity: string;
  cost: string;
}

const summaryRow = z.object({
  key: z.string(),
  label: z.string().nullable(),
  quantity: z.string(),
  cost: z.string(),
});

/** Each grouping reads usage_daily (one row per company, day, SKU and entity) by its
 *  primary key's leading columns, so the cost of a summary follows the number of
 *  days and groups in the range, not the number of ledger rows. */
const GROUP_SQL: Record<SummaryGroup, { select: Prisma.Sql; join: Prisma.Sql; group: Prisma.Sql }> = {
  company: {
    select: Prisma.sql`d.company_id::text AS key, NULL::text AS label`,
    join: Prisma.empty,
    group: Prisma.sql`d.company_id`,
  },
  sku: {
    select: Prisma.sql`d.sku_id::text AS key, min(r.service_sku) AS label`,
    join: Prisma.sql`LEFT JOIN integration_registry r ON r.id = d.sku_id`,
    group: Prisma.sql`d.sku_id`,
  },
  entity: {
    select: Prisma.sql`d.entity_id::text AS key, min(e.name) AS label`,
    join: Prisma.sql`LEFT JOIN hierarchical_entities e ON e.id = d.entity_id`,
    group: Prisma.sql`d.entity_id`,
  },
  day: {
    select: Prisma.sql`to_char(d.day, 'YYYY-MM-DD') AS key, NULL::text AS label`,
    join: Prisma.empty,
    group: Prisma.sql`d.day`,
  },
};

@Injectable()
export class UsageRepository {
  constructor(private readonly db: ScopedDb) {}

  list(
    scope: TenantScope,
    filters: UsageFilters,
    page: { take: number; afterId?: string },
  ): Promise<UsageLog[]> {
    return this.db.read(scope, (tx) =>
      tx.usageLog.findMany({
        where: {
          companyId: { in: [...filters.companyIds] },
          runId: filters.runId,
          skuId: filters.skuId,
          timestamp: filters.from || filters.to ? { gte: filters.from, lt: filters.to } : undefined,
          id: page.afterId ? { gt: page.afterId } : undefined,
        },
        orderBy: { id: 'asc' },
        take: page.take,
      }),
    );
  }

  async summarize(
    scope: TenantScope,
    companyIds: readonly string[],
    range: { from: Date; to: Date },
    group: SummaryGroup,
  ): Promise<SummaryRow[]> {
    const sql = GROUP_SQL[group];
    const rows = await this.db.read(
      scope,
      (tx) => tx.$queryRaw<unknown[]>`
        SELECT ${sql.select}, sum(d.quantity)::text AS quantity, sum(d.cost_usd)::text AS cost
          FROM usage_daily d ${sql.join}
         WHERE d.company_id = ANY (${[...companyIds]}::uuid[])
           AND d.day >= ${range.from}::date AND d.day < ${range.to}::date
         GROUP BY ${sql.group}
         ORDER BY 1`,
    );
    return z.array(summaryRow).parse(rows);
  }
}
