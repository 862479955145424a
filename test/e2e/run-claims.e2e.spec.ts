import { claimRuns } from '../../src/execution/run-batches';
import { PrismaService } from '../../src/infra/database/prisma.service';
import { ScopedDb, type TenantScope } from '../../src/infra/database/tenant-scope';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createEntity } from '../factories/entities';
import { createCompany } from '../factories/tenancy';

/**
 * A worker's claim statement (claimRuns) for a batch of runs of several entities: each
 * entity's columns travel once, on its first run's row, and every run still gets its
 * own entity, or none where the scope does not see it.
 */
describe('run claims', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let scoped: ScopedDb;
  let scope: TenantScope;
  const entityIds = { own: '', shared: '', hidden: '' };
  const runIds: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService(testConfig(db));
    scoped = new ScopedDb(prisma);
    const app = await createCompany(db.admin, { type: 'APP' });
    const partner = await createCompany(db.admin, { type: 'PARTNER', parentId: app.id });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: partner.id });
    const other = await createCompany(db.admin, { type: 'TENANT', parentId: partner.id });
    scope = { companyIds: [tenant.id], catalogCompanyIds: [partner.id] };
    const own = await createEntity(db.admin, {
      companyId: tenant.id,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { action: { kind: 'builtin', name: 'math.evaluate', args: { expression: '1 + 1' } } },
    });
    const shared = await createEntity(db.admin, {
      companyId: partner.id,
      type: 'ACTION',
      status: 'ACTIVE',
      shared: true,
      capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
    });
    // Another tenant's entity: a run of the tenant pointing at it must not see it.
    const hidden = await createEntity(db.admin, { companyId: other.id, type: 'ACTION', status: 'ACTIVE' });
    Object.assign(entityIds, { own: own.id, shared: shared.id, hidden: hidden.id });
    // Interleaved, so no entity's runs are all first or all last in the batch.
    for (const entityId of [own.id, shared.id, hidden.id, own.id, shared.id, own.id, hidden.id]) {
      const run = await db.admin.executionRun.create({
        data: {
          companyId: tenant.id,
          entityId,
          status: 'QUEUED',
          traceId: 'a'.repeat(32),
          spanId: 'b'.repeat(16),
        },
      });
      runIds.push(run.id);
    }
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  it('gives every run of a batch its own entity, read once per entity, and none where the scope does not see it', async () => {
    const claimed = await claimRuns(scoped, scope, runIds);
    expect(claimed.map((found) => found.run.id).sort()).toEqual([...runIds].sort());
    const rows = await db.admin.hierarchicalEntity.findMany({
      where: { id: { in: Object.values(entityIds) } },
    });
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const found of claimed) {
      expect(found.started).toBe(true);
      expect(found.run.status).toBe('QUEUED'); // the row as it was
      if (found.run.entityId === entityIds.hidden) {
        expect(found.entity).toBeNull();
      } else {
        // The whole row, as Prisma reads it.
        expect(found.entity).toEqual(byId.get(found.run.entityId));
      }
    }
    const ofOwn = claimed.filter((found) => found.run.entityId === entityIds.own);
    expect(ofOwn).toHaveLength(3);
    expect(ofOwn[0].entity?.capabilities).toEqual({
      action: { kind: 'builtin', name: 'math.evaluate', args: { expression: '1 + 1' } },
    });
    // The first run's entity is shared by the batch's other runs of that entity.
    expect(new Set(ofOwn.map((found) => found.entity)).size).toBe(1);

    const again = await claimRuns(scoped, scope, runIds);
    expect(again.every((found) => !found.started && found.run.status === 'RUNNING')).toBe(true);
    expect(again.filter((found) => found.entity !== null)).toHaveLength(5);
  });
});
