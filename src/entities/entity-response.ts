import type { HierarchicalEntity } from '../infra/database/generated/client';
import type { TenantScope } from '../infra/database/tenant-scope';
import type { EntityResponse } from './dto/entity.dto';
import { aliasOf } from './entity-rules';

const objectOf = (value: unknown): object => (value && typeof value === 'object' ? value : {});

export function toEntityResponse(entity: HierarchicalEntity, scope: TenantScope): EntityResponse {
  return {
    id: entity.id,
    companyId: entity.companyId,
    parentId: entity.parentId,
    type: entity.type,
    name: entity.name,
    displayName: entity.displayName,
    description: entity.description,
    version: entity.version,
    status: entity.status,
    tags: entity.tags,
    alias: aliasOf(entity),
    readOnly: !scope.companyIds.includes(entity.companyId),
    identity: objectOf(entity.identity),
    hierarchy: objectOf(entity.hierarchy),
    logicGate: objectOf(entity.logicGate),
    planning: objectOf(entity.planning),
    capabilities: objectOf(entity.capabilities),
    governance: objectOf(entity.governance),
    ioContract: objectOf(entity.ioContract),
    observability: objectOf(entity.observability),
    metadataExtensions: objectOf(entity.metadataExtensions),
    createdBy: entity.createdBy,
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}
