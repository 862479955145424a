import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  Prisma,
  type Company,
  type CompanyStatus,
  type CompanyType,
} from '../infra/database/generated/client';
import { loaderPerTurn } from '../infra/database/batched';
import { ScopedDb, type TenantScope } from '../infra/database/tenant-scope';

export interface CompanyFilters {
  type?: CompanyType;
  parentId?: string;
  status?: CompanyStatus;
}

const lineageRow = z.object({ id: z.string(), ancestors: z.array(z.string()), suspended: z.boolean() });

const subtreeRow = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['APP', 'PARTNER', 'TENANT']),
  parent_id: z.string().nullable(),
  status: z.enum(['active', 'suspended']),
  logo_url: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  created_at: z.date(),
  updated_at: z.date(),
});

@Injectable()
export class CompaniesRepository {
  constructor(private readonly db: ScopedDb) {}

  list(
    scope: TenantScope,
    filters: CompanyFilters,
    page: { take: number; afterId?: string },
  ): Promise<Company[]> {
    return this.db.read(scope, (tx) =>
      tx.company.findMany({
        where: {
          id: { in: [...scope.companyIds], ...(page.afterId ? { gt: page.afterId } : {}) },
          type: filters.type,
          parentId: filters.parentId,
          status: filters.status,
        },
        orderBy: { id: 'asc' },
        take: page.take,
      }),
    );
  }

  findById(scope: TenantScope, id: string): Promise<Company | null> {
    if (!scope.companyIds.includes(id)) return Promise.resolve(null);
    return this.db.read(scope, (tx) => tx.company.findUnique({ where: { id } }));
  }

  /** The new company joins the transaction's scope so INSERT ... RETURNING can read
   *  it back; RLS still requires its parent to be in the caller's scope. */
  create(
    scope: TenantScope,
    data: { name: string; type: CompanyType; parentId: string; logoUrl?: string },
  ): Promise<Company> {
    const id = uuidv7();
    return this.db.run({ companyIds: [...scope.companyIds, id] }, (tx) =>
      tx.company.create({ data: { id, ...data } }),
    );
  }

  /**
   * Applies a change; suspending also ends every session of the company's users and
   * of the companies below it, in the same transaction.
   */
  update(scope: TenantScope, id: string, data: Prisma.CompanyUpdateInput): Promise<Company> {
    return this.db.run(scope, async (tx) => {
      const company = await tx.company.update({ where: { id }, data });
      if (data.status === 'suspended') {
        await tx.$executeRaw`
          UPDATE refresh_tokens SET revoked_at = now()
           WHERE revoked_at IS NULL
             AND user_id IN (SELECT id FROM users WHERE company_id IN (SELECT company_subtree(${id}::uuid)))`;
      }
      return company;
    });
  }

  /** The companies above `companyId` and whether any of them (or it) is suspended:
   *  what a worker needs before every job of a run. Jobs that start together share
   *  one query, one lookup per company (loaderPerTurn). */
  lineage(companyId: string): Promise<{ ancestors: string[]; suspended: boolean }> {
    return this.lineages.load(companyId.toLowerCase());
  }

  private readonly lineages = loaderPerTurn(async (companyIds: readonly string[]) => {
    const rows = await this.db.rows(Prisma.sql`
      SELECT c.id::text AS id, ARRAY(SELECT company_ancestors(c.id)) AS ancestors,
             company_lineage_suspended(c.id) AS suspended
        FROM unnest(${[...companyIds]}::uuid[]) AS c(id)`);
    const found = new Map(
      z
        .array(lineageRow)
        .parse(rows)
        .map(({ id, ...lineage }) => [id, lineage]),
    );
    return companyIds.map((id) => found.get(id) ?? { ancestors: [], suspended: false });
  }, String);

  /** The company and everything below it that is in scope, in one recursive query. */
  async subtree(scope: TenantScope, rootId: string): Promise<Company[]> {
    const rows = await this.db.read(
      scope,
      (tx) => tx.$queryRaw<unknown[]>`
        WITH RECURSIVE tree AS (
          SELECT * FROM companies WHERE id = ${rootId}::uuid
          UNION ALL
          SELECT c.* FROM companies c JOIN tree t ON c.parent_id = t.id
        )
        SELECT id, name, type, parent_id, status, logo_url, settings, created_at, updated_at
          FROM tree WHERE id = ANY (${[...scope.companyIds]}::uuid[]) ORDER BY id`,
    );
    return z
      .array(subtreeRow)
      .parse(rows)
      .map((row) => ({
        id: row.id,
        name: row.name,
        type: row.type,
        parentId: row.parent_id,
        status: row.status,
        logoUrl: row.logo_url,
        settings: row.settings as Prisma.JsonValue,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      }));
  }
}
