import { Injectable } from '@nestjs/common';
import semver from 'semver';
import type { EntityStatus, HierarchicalEntity, Prisma } from '../infra/database/generated/client';
import { NotFound, ValidationFailed } from '../infra/http/domain-error';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import type { TenantScope } from '../infra/database/tenant-scope';
import { inScope, requireRole, type Caller } from '../tenancy/caller';
import { CONFIG_BLOCKS } from './config/block-schemas';
import { validateEntityConfig, type EntityConfigInput } from './config/validate-config';
import type {
  CreateEntityDto,
  EntityFieldsDto,
  EntityResponse,
  EntityTreeResponse,
  ListEntitiesQuery,
  NewVersionDto,
  UpdateEntityDto,
} from './dto/entity.dto';
import {
  CatalogReadOnly,
  EntityHasChildren,
  EntityImmutable,
  InvalidHierarchy,
  InvalidTransition,
  UnknownTool,
  VersionNotGreater,
} from './entities.errors';
import { EntitiesRepository, type VersionedEntity } from './entities.repository';
import { toEntityResponse } from './entity-response';
import { aliasOf, ENTITY_RANK, ENTITY_TRANSITIONS, isEditable } from './entity-rules';

/** The configuration blocks, as the request body names them. */
const BLOCKS = CONFIG_BLOCKS;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function blocksOf(source: Partial<Record<(typeof BLOCKS)[number], unknown>>): EntityConfigInput {
  return Object.fromEntries(BLOCKS.filter((b) => source[b] !== undefined).map((b) => [b, source[b]]));
}

/** The blocks of a stored entity, overlaid with the ones a request changes. */
function mergedBlocks(entity: HierarchicalEntity | null, changes: EntityFieldsDto): EntityConfigInput {
  const stored = entity ? blocksOf(entity) : {};
  return { ...stored, ...blocksOf(changes) };
}

@Injectable()
export class EntitiesService {
  constructor(private readonly entities: EntitiesRepository) {}

  async list(caller: Caller, query: ListEntitiesQuery): Promise<Page<EntityResponse>> {
    const rows = await this.entities.list(caller.scope, query, keyset(query));
    return toPage(rows, query, (row) => toEntityResponse(row, caller.scope));
  }

  async get(caller: Caller, id: string): Promise<HierarchicalEntity> {
    return (await this.getVersioned(caller, id)).entity;
  }

  /** get, with the row's version: a run's creation checks it is still the row read. */
  async getVersioned(caller: Caller, id: string): Promise<VersionedEntity> {
    const found = await this.entities.findVisibleVersioned(caller.scope, id);
    if (!found) throw new NotFound('Entity');
    return found;
  }

  /** The exact entity row a run executes, read in the run's scope (worker side). */
  findForRun(scope: TenantScope, id: string): Promise<HierarchicalEntity | null> {
    return this.entities.findVisible(scope, id);
  }

  /** Entities by id visible in a run's scope (an agent's shared tools), in one query. */
  findManyForRun(scope: TenantScope, ids: string[]): Promise<HierarchicalEntity[]> {
    return this.entities.findMany(scope, ids);
  }

  /** The live children of an entity, read in a run's scope (worker side). */
  childrenForRun(scope: TenantScope, id: string): Promise<HierarchicalEntity[]> {
    return this.entities.findChildren(scope, id);
  }

  /** An entity the caller may change: in scope (404 otherwise), not from the catalog. */
  private async getOwn(caller: Caller, id: string): Promise<HierarchicalEntity> {
    const entity = await this.get(caller, id);
    if (!inScope(caller, entity.companyId)) throw new CatalogReadOnly();
    requireRole(caller, 'member');
    return entity;
  }

  async create(caller: Caller, dto: CreateEntityDto): Promise<HierarchicalEntity> {
    const companyId = dto.companyId ?? caller.companyId;
    if (!inScope(caller, companyId)) throw new NotFound('Company');
    requireRole(caller, 'member');
    const candidate = { type: dto.type, name: dto.name, hierarchy: dto.hierarchy ?? {} };
    await this.checkPlacement(caller, candidate, companyId, dto.parentId ?? null, null);
    await this.checkConfig(caller, dto.type, mergedBlocks(null, dto), []);
    return this.entities.create(caller.scope, {
      companyId,
      type: dto.type,
      name: dto.name,
      version: dto.version ?? '1.0.0',
      parentId: dto.parentId ?? null,
      createdBy: caller.userId,
      ...this.fields(dto),
    });
  }

  async update(caller: Caller, id: string, dto: UpdateEntityDto): Promise<HierarchicalEntity> {
    const entity = await this.getOwn(caller, id);
    if (!isEditable(entity.status)) throw new EntityImmutable(entity.status);
    const parentId = dto.parentId === undefined ? entity.parentId : dto.parentId;
    const hierarchy = (dto.hierarchy ?? entity.hierarchy) as Prisma.JsonValue;
    await this.checkPlacement(
      caller,
      { type: entity.type, name: entity.name, hierarchy },
      entity.companyId,
      parentId,
      entity.id,
    );
    const children = await this.entities.findChildren(caller.scope, entity.id);
    await this.checkConfig(caller, entity.type, mergedBlocks(entity, dto), children.map(aliasOf));
    const updated = await this.entities.updateIfStatus(caller.scope, id, ['DRAFT'], {
      parentId,
      ...this.fields(dto),
    });
    if (!updated) throw new EntityImmutable('non-draft');
    return updated;
  }

  async activate(caller: Caller, id: string): Promise<HierarchicalEntity> {
    const entity = await this.getOwn(caller, id);
    // Children may have come or gone since the last edit: templates and steps must
    // still point at real aliases when the entity becomes runnable.
    const children = await this.entities.findChildren(caller.scope, entity.id);
    await this.checkConfig(caller, entity.type, mergedBlocks(entity, {}), children.map(aliasOf));
    return this.transition(caller, entity, 'ACTIVE');
  }

  async deprecate(caller: Caller, id: string): Promise<HierarchicalEntity> {
    return this.transition(caller, await this.getOwn(caller, id), 'DEPRECATED');
  }

  /** Soft delete: the row stays (runs record the exact entity), ARCHIVED. */
  async archive(caller: Caller, id: string): Promise<void> {
    const entity = await this.getOwn(caller, id);
    if (entity.status === 'ARCHIVED') return;
    if (await this.entities.countLiveChildren(caller.scope, id)) throw new EntityHasChildren();
    await this.transition(caller, entity, 'ARCHIVED');
  }

  async newVersion(caller: Caller, id: string, dto: NewVersionDto): Promise<HierarchicalEntity> {
    const source = await this.getOwn(caller, id);
    const versions = await this.entities.versionsOf(caller.scope, source.companyId, source.name);
    const latest = versions.sort(semver.rcompare)[0];
    if (latest && !semver.gt(dto.version, latest)) throw new VersionNotGreater(latest);
    const parentId = dto.parentId === undefined ? source.parentId : dto.parentId;
    const hierarchy = (dto.hierarchy ?? source.hierarchy) as Prisma.JsonValue;
    await this.checkPlacement(
      caller,
      { type: source.type, name: source.name, hierarchy },
      source.companyId,
      parentId,
      null,
    );
    const blocks = mergedBlocks(source, dto);
    // Steps, routes and templates of the new version may name the source's children.
    const children = await this.entities.findChildren(caller.scope, source.id);
    await this.checkConfig(caller, source.type, blocks, children.map(aliasOf));
    return this.entities.create(caller.scope, {
      companyId: source.companyId,
      type: source.type,
      name: source.name,
      version: dto.version,
      parentId,
      createdBy: caller.userId,
      displayName: dto.displayName ?? source.displayName,
      description: dto.description ?? source.description,
      tags: dto.tags ?? source.tags,
      ...(blocks as Record<string, Prisma.InputJsonValue>),
    });
  }

  async tree(caller: Caller, id: string): Promise<EntityTreeResponse> {
    await this.get(caller, id);
    const rows = await this.entities.subtree(caller.scope, id);
    const nodes = new Map(
      rows.map((row) => [
        row.id,
        { ...toEntityResponse(row, caller.scope), children: [] as EntityTreeResponse[] },
      ]),
    );
    for (const node of nodes.values()) {
      if (node.id !== id && node.parentId) nodes.get(node.parentId)?.children.push(node);
    }
    return nodes.get(id)!;
  }

  private async transition(
    caller: Caller,
    entity: HierarchicalEntity,
    to: EntityStatus,
  ): Promise<HierarchicalEntity> {
    const from = (Object.keys(ENTITY_TRANSITIONS) as EntityStatus[]).filter((s) =>
      ENTITY_TRANSITIONS[s].includes(to),
    );
    if (!from.includes(entity.status)) throw new InvalidTransition(entity.status, to);
    const updated = await this.entities.updateIfStatus(caller.scope, entity.id, from, { status: to });
    if (!updated) throw new InvalidTransition('its current status', to);
    return updated;
  }

  /** Hierarchy rules: same company, strictly decreasing rank, the parent's
   *  allowedChildTypes, a live parent, no cycle, a unique alias among siblings. */
  private async checkPlacement(
    caller: Caller,
    child: { type: HierarchicalEntity['type']; name: string; hierarchy: Prisma.JsonValue },
    companyId: string,
    parentId: string | null,
    selfId: string | null,
  ): Promise<void> {
    if (!parentId) return;
    const parent = await this.entities.findVisible(caller.scope, parentId);
    if (!parent || !inScope(caller, parent.companyId)) throw new NotFound('Parent entity');
    if (parent.companyId !== companyId)
      throw new InvalidHierarchy('Parent and child must belong to the same company.');
    if (ENTITY_RANK[child.type] >= ENTITY_RANK[parent.type]) {
      throw new InvalidHierarchy(
        `A ${child.type} cannot sit under a ${parent.type}: a child ranks strictly below its parent.`,
      );
    }
    const allowed = (parent.hierarchy as { allowedChildTypes?: unknown } | null)?.allowedChildTypes;
    if (Array.isArray(allowed) && !allowed.includes(child.type)) {
      throw new InvalidHierarchy(`The parent allows only ${allowed.join(', ')} children.`);
    }
    if (parent.status === 'ARCHIVED') throw new InvalidHierarchy('The parent is archived.');
    if (selfId && (await this.entities.lineageIds(caller.scope, parentId)).includes(selfId)) {
      throw new InvalidHierarchy('An entity cannot be placed under itself or its own descendant.');
    }
    const siblings = (await this.entities.findChildren(caller.scope, parentId)).filter(
      (s) => s.id !== selfId,
    );
    const alias = aliasOf({ name: child.name, hierarchy: child.hierarchy });
    if (siblings.some((s) => aliasOf(s) === alias)) {
      throw new InvalidHierarchy(`The parent already has a child with the alias "${alias}".`);
    }
  }

  /** Block schemas, JSONLogic, templates and aliases (400 with pointers), then tools
   *  that name other entities must be ones the caller can see (422). */
  private async checkConfig(
    caller: Caller,
    type: HierarchicalEntity['type'],
    blocks: EntityConfigInput,
    childAliases: string[],
  ): Promise<void> {
    const errors = validateEntityConfig(blocks, { type, childAliases });
    if (errors.length) throw new ValidationFailed(errors, 'The entity configuration is not valid.');
    const tools = (blocks.capabilities as { tools?: unknown } | undefined)?.tools;
    const ids = Array.isArray(tools)
      ? tools.filter((t): t is string => typeof t === 'string' && UUID.test(t))
      : [];
    if (!ids.length) return;
    const found = new Set((await this.entities.findMany(caller.scope, ids)).map((e) => e.id));
    const missing = ids.find((toolId) => !found.has(toolId));
    if (missing) throw new UnknownTool(`/capabilities/tools/${(tools as string[]).indexOf(missing)}`);
  }

  private fields(dto: EntityFieldsDto) {
    return {
      displayName: dto.displayName,
      description: dto.description,
      tags: dto.tags,
      ...(blocksOf(dto) as Record<string, Prisma.InputJsonValue>),
    };
  }
}
