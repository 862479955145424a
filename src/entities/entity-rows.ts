import { Prisma, type HierarchicalEntity } from '../infra/database/generated/client';
import { selectAs } from '../infra/database/select-as';
import type { TenantScope } from '../infra/database/tenant-scope';

/** An entity's columns by Prisma field, for raw statements that return entities. */
const ENTITY_COLUMNS: Record<keyof HierarchicalEntity, string> = {
  id: 'id::text',
  companyId: 'company_id::text',
  parentId: 'parent_id::text',
  type: 'type',
  name: 'name',
  displayName: 'display_name',
  description: 'description',
  version: 'version',
  status: 'status',
  tags: 'tags',
  identity: 'identity',
  hierarchy: 'hierarchy',
  logicGate: 'logic_gate',
  planning: 'planning',
  capabilities: 'capabilities',
  governance: 'governance',
  ioContract: 'io_contract',
  observability: 'observability',
  metadataExtensions: 'metadata_extensions',
  createdBy: 'created_by::text',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};

/** Every column of entity `e`, as `entity.<field>` (it may share a row with a run's). */
export const ENTITY_FIELDS = selectAs('e', ENTITY_COLUMNS, 'entity.');

/** Each field with the name it has in a row (a hot path: every claimed run has one). */
const ENTITY_NAMES = Object.keys(ENTITY_COLUMNS).map((field) => [field, `entity.${field}`] as const);

/** The entity of a row selecting ENTITY_FIELDS (null when a join found none). Every
 *  field is text, JSON, an array or a date, which pg reads as Prisma does. */
export function entityOf(row: Record<string, unknown>): HierarchicalEntity | null {
  if (row['entity.id'] === null || row['entity.id'] === undefined) return null;
  const entity: Record<string, unknown> = {};
  for (const [field, name] of ENTITY_NAMES) entity[field] = row[name];
  return entity as HierarchicalEntity;
}

/** Entity `e` is visible to `scope`: its own company's, or shared by a company of its
 *  catalog (the SQL of EntitiesRepository's `visible`). */
export function visibleTo(scope: TenantScope): Prisma.Sql {
  return Prisma.sql`(e.company_id = ANY (${[...scope.companyIds]}::uuid[])
    OR (e.company_id = ANY (${[...(scope.catalogCompanyIds ?? [])]}::uuid[])
        AND e.metadata_extensions -> 'shared' = 'true'::jsonb))`;
}
