import type {
  EntityStatus,
  EntityType,
  HierarchicalEntity,
  Prisma,
  PrismaClient,
} from '../../src/infra/database/generated/client';

let counter = 0;

/** A registry row written directly (owner connection), for tests that need one. */
export function createEntity(
  prisma: PrismaClient,
  data: {
    companyId: string;
    type: EntityType;
    name?: string;
    status?: EntityStatus;
    parentId?: string | null;
    version?: string;
    shared?: boolean;
    capabilities?: Prisma.InputJsonValue;
    hierarchy?: Prisma.InputJsonValue;
  },
): Promise<HierarchicalEntity> {
  const defaultCapabilities =
    data.type === 'ACTION' ? { action: { kind: 'builtin', name: 'time.now', args: {} } } : {};
  return prisma.hierarchicalEntity.create({
    data: {
      companyId: data.companyId,
      type: data.type,
      name: data.name ?? `${data.type.toLowerCase()}_${Date.now().toString(36)}_${counter++}`,
      status: data.status ?? 'DRAFT',
      parentId: data.parentId ?? null,
      version: data.version ?? '1.0.0',
      capabilities: data.capabilities ?? defaultCapabilities,
      hierarchy: data.hierarchy ?? {},
      metadataExtensions: data.shared ? { shared: true } : {},
    },
  });
}
