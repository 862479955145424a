import { isUniqueViolation } from '../infra/database/prisma-errors';
import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  Prisma,
  type EntityStatus,
  type EntityType,
  type HierarchicalEntity,
} from '../infra/database/generated/client';
import { readsByIdPerTurn } from '../infra/database/batched';
import { ENTITY_FIELDS, entityOf, visibleTo } from './entity-rows';
import { ScopedDb, type TenantScope } from '../infra/database/tenant-scope';
import { EntityVersionExists } from './entities.errors';

/**
 * An entity row with its version: the id of the transaction that wrote this version
 * of the row (Postgres' `xmin`), which every update of the row changes. A statement can
 * check that the row is still the one read (see insertRootRuns).
 */
export interface VersionedEntity {
  entity: HierarchicalEntity;
  version: string;
}

export interface EntityFilters {
  type?: EntityType;
  status?: EntityStatus;
  parentId?: string;
  name?: string;
  tag?: string;
  q?: string;
  catalog?: 'include' | 'exclude' | 'only';
}

export type EntityData = Omit<
  Prisma.HierarchicalEntityUncheckedCreateInput,
  'id' | 'createdAt' | 'updatedAt'
>;

/** Rows the caller may see: their scope, plus shared entities of the companies above. */
export function visible(
  scope: TenantScope,
  catalog: EntityFilters['catalog'] = 'include',
): Prisma.HierarchicalEntityWhereInput {
  const own = { companyId: { in: [...scope.companyIds] } };
  const shared = {
    companyId: { in: [...(scope.catalogCompanyIds ?? [])] },
    metadataExtensions: { path: ['shared'], equals: true },
  };
  if (catalog === 'exclude') return own;
  if (catalog === 'only') return shared;
  return { OR: [own, shared] };
}

const idRow = z.object({ id: z.string() });

const json = z.custom<Prisma.JsonValue>(() => true);
/** A raw hierarchical_entities row, as recursive queries return it, in Prisma's shape. */
const entityRow = z
  .object({
    id: z.string(),
    company_id: z.string(),
    parent_id: z.string().nullable(),
    type: z.enum(['ACTION', 'SKILL', 'AGENT', 'PROCESS']),
    name: z.string(),
    display_name: z.string().nullable(),
    description: z.string().nullable(),
    version: z.string(),
    status: z.enum(['DRAFT', 'ACTIVE', 'DEPRECATED', 'ARCHIVED']),
    tags: z.array(z.string()),
    identity: json,
    hierarchy: json,
    logic_gate: json,
    planning: json,
    capabilities: json,
    governance: json,
    io_contract: json,
    observability: json,
    metadata_extensions: json,
    created_by: z.string().nullable(),
    created_at: z.date(),
    updated_at: z.date(),
  })
  .transform((row): HierarchicalEntity => ({
    id: row.id,
    companyId: row.company_id,
    parentId: row.parent_id,
    type: row.type,
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    version: row.version,
    status: row.status,
    tags: row.tags,
    identity: row.identity,
    hierarchy: row.hierarchy,
    logicGate: row.logic_gate,
    planning: row.planning,
    capabilities: row.capabilities,
    governance: row.governance,
    ioContract: row.io_contract,
    observability: row.observability,
    metadataExtensions: row.metadata_extensions,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }));

@Injectable()
export class EntitiesRepository {
  constructor(private readonly db: ScopedDb) {}

  list(
    scope: TenantScope,
    filters: EntityFilters,
    page: { take: number; afterId?: string },
  ): Promise<HierarchicalEntity[]> {
    const where: Prisma.HierarchicalEntityWhereInput = {
      AND: [
        visible(scope, filters.catalog),
        {
          type: filters.type,
          status: filters.status,
          parentId: filters.parentId,
          name: filters.name,
          tags: filters.tag ? { has: filters.tag } : undefined,
          id: page.afterId ? { gt: page.afterId } : undefined,
        },
        filters.q
          ? {
              OR: [
                { name: { contains: filters.q, mode: 'insensitive' } },
                { displayName: { contains: filters.q, mode: 'insensitive' } },
                { description: { contains: filters.q, mode: 'insensitive' } },
              ],
            }
          : {},
      ],
    };
    return this.db.read(scope, (tx) =>
      tx.hierarchicalEntity.findMany({ where, orderBy: { id: 'asc' }, take: page.take }),
    );
  }

  /** The entity if the scope sees it (own or catalog). Reads of one scope that arrive
   *  together share one statement (readsByIdPerTurn), read-only, sent around Prisma
   *  in one round trip (ScopedDb.statement): a POST of a run makes this read unless
   *  it remembers the row (RunsService.create). */
  async findVisible(scope: TenantScope, id: string): Promise<HierarchicalEntity | null> {
    return (await this.visibleReads.load({ scope, id }))?.entity ?? null;
  }

  /** findVisible with the row's version (see VersionedEntity). */
  findVisibleVersioned(scope: TenantScope, id: string): Promise<VersionedEntity | null> {
    return this.visibleReads.load({ scope, id });
  }

  private readonly visibleReads = readsByIdPerTurn(async (scope, ids) => {
    const rows = await this.db.statement<Record<string, unknown> & { rowVersion: string }>(
      scope,
      Prisma.sql`SELECT ${ENTITY_FIELDS}, e.xmin::text AS "rowVersion" FROM hierarchical_entities AS e
                  WHERE e.id = ANY (${ids}::uuid[]) AND ${visibleTo(scope)}`,
      { readOnly: true },
    );
    return new Map(
      rows.map((row) => {
        const entity = entityOf(row)!;
        return [entity.id, { entity, version: row.rowVersion }];
      }),
    );
  });

  findChildren(scope: TenantScope, parentId: string): Promise<HierarchicalEntity[]> {
    return this.db.read(scope, (tx) =>
      tx.hierarchicalEntity.findMany({
        where: { parentId, status: { not: 'ARCHIVED' } },
        orderBy: { id: 'asc' },
      }),
    );
  }

  /** Ids of `id` and every entity above it, in one recursive query (cycle checks). */
  async lineageIds(scope: TenantScope, id: string): Promise<string[]> {
    const rows = await this.db.read(
      scope,
      (tx) => tx.$queryRaw<unknown[]>`
        WITH RECURSIVE up AS (
          SELECT id, parent_id, 1 AS depth FROM hierarchical_entities WHERE id = ${id}::uuid
          UNION ALL
          SELECT e.id, e.parent_id, up.depth + 1 FROM hierarchical_entities e JOIN up ON e.id = up.parent_id
           WHERE up.depth < 64
        )
        SELECT id FROM up`,
    );
    return z
      .array(idRow)
      .parse(rows)
      .map((row) => row.id);
  }

  /** The entity and all its descendants visible to the caller, in one recursive query. */
  async subtree(scope: TenantScope, id: string): Promise<HierarchicalEntity[]> {
    const rows = await this.db.read(
      scope,
      (tx) => tx.$queryRaw<unknown[]>`
        WITH RECURSIVE down AS (
          SELECT e.*, 1 AS depth FROM hierarchical_entities e WHERE e.id = ${id}::uuid
          UNION ALL
          SELECT e.*, down.depth + 1 FROM hierarchical_entities e JOIN down ON e.parent_id = down.id
           WHERE down.depth < 64
        )
        SELECT id, company_id, parent_id, type::text, name, display_name, description, version, status::text,
               tags, identity, hierarchy, logic_gate, planning, capabilities, governance, io_contract,
               observability, metadata_extensions, created_by, created_at, updated_at
          FROM down ORDER BY id`,
    );
    return z.array(entityRow).parse(rows);
  }

  findMany(scope: TenantScope, ids: string[]): Promise<HierarchicalEntity[]> {
    return this.db.read(scope, (tx) =>
      tx.hierarchicalEntity.findMany({
        where: { AND: [{ id: { in: ids } }, visible(scope)] },
        orderBy: { id: 'asc' },
      }),
    );
  }

  versionsOf(scope: TenantScope, companyId: string, name: string): Promise<string[]> {
    return this.db
      .read(scope, (tx) =>
        tx.hierarchicalEntity.findMany({ where: { companyId, name }, select: { version: true } }),
      )
      .then((rows) => rows.map((row) => row.version));
  }

  countLiveChildren(scope: TenantScope, id: string): Promise<number> {
    return this.db.read(scope, (tx) =>
      tx.hierarchicalEntity.count({ where: { parentId: id, status: { not: 'ARCHIVED' } } }),
    );
  }

  async create(scope: TenantScope, data: EntityData): Promise<HierarchicalEntity> {
    try {
      return await this.db.run(scope, (tx) =>
        tx.hierarchicalEntity.create({ data: { id: uuidv7(), ...data } }),
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new EntityVersionExists();
      throw error;
    }
  }

  /** Changes a row only while it still has one of the `from` statuses (a conditional
   *  update): null when another request changed its status first. */
  async updateIfStatus(
    scope: TenantScope,
    id: string,
    from: EntityStatus[],
    data: Prisma.HierarchicalEntityUncheckedUpdateManyInput,
  ): Promise<HierarchicalEntity | null> {
    return this.db.run(scope, async (tx) => {
      const { count } = await tx.hierarchicalEntity.updateMany({
        where: { id, status: { in: from }, companyId: { in: [...scope.companyIds] } },
        data,
      });
      return count ? tx.hierarchicalEntity.findUnique({ where: { id } }) : null;
    });
  }
}
