import { Injectable } from '@nestjs/common';
import { Prisma, type Company, type UsageLog } from '../infra/database/generated/client';
import { NotFound, ValidationFailed } from '../infra/http/domain-error';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import { inScope, requireRole, type Caller } from '../tenancy/caller';
import { CompaniesService } from '../tenancy/companies.service';
import type {
  ListUsageQuery,
  UsageRowResponse,
  UsageSummaryQuery,
  UsageSummaryResponse,
  UsageSummaryRow,
} from './dto/usage.dto';
import { UsageRepository } from './usage.repository';

const NO_ENTITY = '00000000-0000-0000-0000-000000000000';
const DAY_MS = 86_400_000;

export function toUsageResponse(row: UsageLog): UsageRowResponse {
  return {
    id: row.id,
    timestamp: row.timestamp.toISOString(),
    companyId: row.companyId,
    runId: row.runId,
    entityId: row.entityId,
    skuId: row.skuId,
    serviceSku: row.serviceSku,
    rawQuantity: row.rawQuantity.toString(),
    calculatedCost: row.calculatedCost.toFixed(10),
    logMetadata: row.logMetadata as object,
  };
}

/** A summary covers whole UTC days: a date, or a timestamp at 00:00 UTC. */
function utcDay(value: string, name: string): Date {
  const day = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(day.getTime()) || day.getTime() % DAY_MS !== 0)
    throw new ValidationFailed([
      {
        pointer: `/query/${name}`,
        message: `${name} must be a date or a midnight UTC timestamp (summaries cover whole days)`,
      },
    ]);
  return day;
}

/**
 * Usage reports, from the ledger (`/usage`) and from its daily roll-up
 * (`/usage/summary`). Billing data: tenant_admin or higher, in scope.
 */
@Injectable()
export class UsageService {
  constructor(
    private readonly usage: UsageRepository,
    private readonly companies: CompaniesService,
  ) {}

  private filters(caller: Caller, query: ListUsageQuery) {
    if (query.companyId && !inScope(caller, query.companyId)) throw new NotFound('Company');
    requireRole(caller, 'tenant_admin');
    return {
      companyIds: query.companyId ? [query.companyId] : caller.scope.companyIds,
      from: query.from,
      to: query.to,
      runId: query.runId,
      skuId: query.skuId,
    };
  }

  async list(caller: Caller, query: ListUsageQuery): Promise<Page<UsageRowResponse>> {
    const rows = await this.usage.list(caller.scope, this.filters(caller, query), keyset(query));
    return toPage(rows, query, toUsageResponse);
  }

  /** Every matching ledger row, in id order, a page at a time (CSV export). */
  async *all(caller: Caller, query: ListUsageQuery): AsyncGenerator<UsageRowResponse> {
    const filters = this.filters(caller, query);
    let afterId: string | undefined;
    for (;;) {
      const rows = await this.usage.list(caller.scope, filters, { take: 1_000, afterId });
      for (const row of rows) yield toUsageResponse(row);
      if (rows.length < 1_000) return;
      afterId = rows.at(-1)!.id;
    }
  }

  async summary(caller: Caller, query: UsageSummaryQuery): Promise<UsageSummaryResponse> {
    const rootId = query.companyId ?? caller.companyId;
    const companies = await this.companies.subtree(caller, rootId);
    requireRole(caller, 'tenant_admin');
    const now = new Date();
    const from = query.from
      ? utcDay(query.from, 'from')
      : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const to = query.to
      ? utcDay(query.to, 'to')
      : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    if (to <= from) throw new ValidationFailed([{ pointer: '/query/to', message: 'to must be after from' }]);
    const included =
      query.includeDescendants === false ? companies.filter((c) => c.id === rootId) : companies;
    const group = query.groupBy ?? 'company';
    const rows = await this.usage.summarize(
      caller.scope,
      included.map((c) => c.id),
      { from, to },
      group,
    );

    let result: UsageSummaryRow[];
    if (group === 'company') {
      // Each company below the root rolls up into the root's child it descends from.
      const byId = new Map(companies.map((c) => [c.id, c]));
      const top = (company: Company): Company => {
        let current = company;
        while (current.id !== rootId && current.parentId && current.parentId !== rootId) {
          const parent = byId.get(current.parentId);
          if (!parent) break;
          current = parent;
        }
        return current;
      };
      const totals = new Map<string, { label: string; quantity: Prisma.Decimal; cost: Prisma.Decimal }>();
      for (const row of rows) {
        const company = byId.get(row.key);
        if (!company) continue;
        const head = top(company);
        const entry = totals.get(head.id) ?? {
          label: head.name,
          quantity: new Prisma.Decimal(0),
          cost: new Prisma.Decimal(0),
        };
        entry.quantity = entry.quantity.add(row.quantity);
        entry.cost = entry.cost.add(row.cost);
        totals.set(head.id, entry);
      }
      result = [...totals].map(([key, entry]) => ({
        key,
        label: entry.label,
        quantity: entry.quantity.toString(),
        costUsd: entry.cost.toFixed(10),
      }));
    } else {
      result = rows.map((row) => ({
        key: row.key,
        label: row.label ?? (group === 'entity' && row.key === NO_ENTITY ? '(no entity)' : row.key),
        quantity: new Prisma.Decimal(row.quantity).toString(),
        costUsd: new Prisma.Decimal(row.cost).toFixed(10),
      }));
    }
    const total = result.reduce((sum, row) => sum.add(row.costUsd), new Prisma.Decimal(0));
    return { totalCostUsd: total.toFixed(10), rows: result };
  }
}
