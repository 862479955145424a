import type { EntityStatus, EntityType, HierarchicalEntity } from '../infra/database/generated/client';

/** Rank of each entity type: a child's rank is strictly below its parent's, so an
 *  ACTION (rank 1) can have no children at all. */
export const ENTITY_RANK: Record<EntityType, number> = { ACTION: 1, SKILL: 2, AGENT: 3, PROCESS: 4 };

/** Allowed status transitions; everything else is refused. */
export const ENTITY_TRANSITIONS: Record<EntityStatus, readonly EntityStatus[]> = {
  DRAFT: ['ACTIVE', 'ARCHIVED'],
  ACTIVE: ['DEPRECATED', 'ARCHIVED'],
  DEPRECATED: ['ARCHIVED'],
  ARCHIVED: [],
};

/** Only drafts change in place; an ACTIVE version is immutable (a new version is made instead). */
export const isEditable = (status: EntityStatus) => status === 'DRAFT';

/** How a parent refers to a child (templates, steps, tools): `hierarchy.alias`, else
 *  the name in snake case. */
export function aliasOf(entity: Pick<HierarchicalEntity, 'name' | 'hierarchy'>): string {
  const hierarchy = entity.hierarchy as { alias?: unknown } | null;
  if (hierarchy && typeof hierarchy.alias === 'string') return hierarchy.alias;
  const slug = entity.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[a-z]/.test(slug) ? slug : `e_${slug}`;
}
