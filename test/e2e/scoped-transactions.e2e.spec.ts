import { Prisma } from '../../src/infra/database/generated/client';
import { PrismaService } from '../../src/infra/database/prisma.service';
import { openingScope, uuidArrayLiteral } from '../../src/infra/database/scope-in-begin';
import { ScopedDb, type TenantScope } from '../../src/infra/database/tenant-scope';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createEntity } from '../factories/entities';
import { createCompany } from '../factories/tenancy';

/**
 * Scoped transactions on the wire (scope-in-begin.ts): BEGIN is held back and written
 * with the first statement, a read's COMMIT is not waited for. On a pool of ONE
 * connection every transaction follows the previous one on the same socket, so a
 * scope or a COMMIT out of order would show here.
 */
describe('scoped transactions', () => {
  let db: TestDatabase;
  let prisma: PrismaService;
  let scoped: ScopedDb;
  const tenants: { scope: TenantScope; runIds: string[] }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService(testConfig(db, { DATABASE_POOL_SIZE: '1' }));
    scoped = new ScopedDb(prisma);
    const app = await createCompany(db.admin, { type: 'APP' });
    for (let t = 0; t < 2; t++) {
      const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: app.id });
      const entity = await createEntity(db.admin, { companyId: tenant.id, type: 'ACTION', status: 'ACTIVE' });
      const runIds: string[] = [];
      for (let i = 0; i < 3; i++) {
        const run = await db.admin.executionRun.create({
          data: {
            companyId: tenant.id,
            entityId: entity.id,
            status: 'QUEUED',
            traceId: 'a'.repeat(32),
            spanId: 'b'.repeat(16),
          },
        });
        runIds.push(run.id);
      }
      tenants.push({ scope: { companyIds: [tenant.id] }, runIds });
    }
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  const visibleRuns = (scope: TenantScope) =>
    scoped.read(scope, async (tx) =>
      (await tx.executionRun.findMany({ select: { id: true } })).map((run) => run.id).sort(),
    );

  it('interleaved reads and writes of two tenants on one connection each see only their own rows', async () => {
    const [a, b] = tenants;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const tenant = i % 2 ? b : a;
        // Every third is a write transaction, so reads' COMMITs also precede writes.
        if (i % 3 === 0)
          return scoped.run(tenant.scope, async (tx) => {
            await tx.executionRun.updateMany({
              where: { id: tenant.runIds[0] },
              data: { totalTokens: { increment: 1 } },
            });
            return {
              tenant,
              ids: (await tx.executionRun.findMany({ select: { id: true } })).map((run) => run.id).sort(),
            };
          });
        return visibleRuns(tenant.scope).then((ids) => ({ tenant, ids }));
      }),
    );
    for (const { tenant, ids } of results) expect(ids).toEqual([...tenant.runIds].sort());
    const writes = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 === 0);
    const counts = await db.admin.executionRun.findMany({
      where: { id: { in: [a.runIds[0], b.runIds[0]] } },
      select: { id: true, totalTokens: true },
    });
    const expected = (tenant: number) => writes.filter((i) => i % 2 === tenant).length;
    expect(counts.find((run) => run.id === a.runIds[0])?.totalTokens).toBe(BigInt(expected(0)));
    expect(counts.find((run) => run.id === b.runIds[0])?.totalTokens).toBe(BigInt(expected(1)));
  });

  it('a read transaction refuses writes and changes nothing', async () => {
    const [a] = tenants;
    await expect(
      scoped.read(a.scope, (tx) =>
        tx.executionRun.updateMany({ where: { id: a.runIds[1] }, data: { status: 'FAILED' } }),
      ),
    ).rejects.toThrow(/read-only transaction/);
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: a.runIds[1] } })).status).toBe(
      'QUEUED',
    );
    // The connection is healthy afterwards.
    expect(await visibleRuns(a.scope)).toEqual([...a.runIds].sort());
  });

  it('a read commits on its own: the connection is not left idle in a transaction', async () => {
    await visibleRuns(tenants[0].scope);
    const states = async () =>
      (
        await db.admin.$queryRaw<{ state: string }[]>`
          SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hirebuddha'`
      ).map((row) => row.state);
    const deadline = Date.now() + 2_000;
    while ((await states()).some((state) => state !== 'idle') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await states()).toEqual(['idle']);
  });

  it('a failed statement rolls its write transaction back, and the connection serves the next one', async () => {
    const [a] = tenants;
    await expect(
      scoped.run(a.scope, async (tx) => {
        await tx.executionRun.updateMany({ where: { id: a.runIds[2] }, data: { status: 'FAILED' } });
        await tx.$executeRaw`SELECT 1/0`;
      }),
    ).rejects.toThrow(/division by zero/);
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: a.runIds[2] } })).status).toBe(
      'QUEUED',
    );
    expect(await visibleRuns(a.scope)).toEqual([...a.runIds].sort());
  });

  it('a connection killed between transactions is replaced; the next read and write succeed', async () => {
    const [a] = tenants;
    await visibleRuns(a.scope);
    await db.admin.$queryRaw`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'hirebuddha'`;
    // The pool may hand out the dead connection once: its BEGIN and first statement
    // fail together, and the connection is dropped.
    const retried = async <T>(work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch {
        return work();
      }
    };
    expect(await retried(() => visibleRuns(a.scope))).toEqual([...a.runIds].sort());
    const moved = await retried(() =>
      scoped.run(a.scope, (tx) =>
        tx.executionRun.updateMany({ where: { id: a.runIds[1] }, data: { totalTokens: { increment: 5 } } }),
      ),
    );
    expect(moved.count).toBe(1);
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: a.runIds[1] } })).totalTokens).toBe(
      5n,
    );
  });

  it('an isolation level joins the held BEGIN, ahead of the scope', async () => {
    const [a] = tenants;
    const opening = {
      companyIds: uuidArrayLiteral(a.scope.companyIds),
      catalogCompanyIds: uuidArrayLiteral([]),
      readOnly: false,
    };
    const seen = await openingScope.run(opening, () =>
      prisma.$transaction(
        async (tx) => ({
          isolation: (
            await tx.$queryRaw<{ level: string }[]>`SELECT current_setting('transaction_isolation') AS level`
          )[0].level,
          runs: (await tx.executionRun.findMany({ select: { id: true } })).map((run) => run.id).sort(),
        }),
        { isolationLevel: 'Serializable' },
      ),
    );
    expect(seen).toEqual({ isolation: 'serializable', runs: [...a.runIds].sort() });
  });

  it('a transaction that sends no statement leaves nothing behind', async () => {
    await scoped.read(tenants[0].scope, () => Promise.resolve());
    await scoped.run(tenants[1].scope, () => Promise.resolve());
    expect(await visibleRuns(tenants[1].scope)).toEqual([...tenants[1].runIds].sort());
  });

  describe('one statement around Prisma (ScopedDb.statement)', () => {
    const statusOf = async (id: string) =>
      (await db.admin.executionRun.findUniqueOrThrow({ where: { id } })).status;

    it('runs under its scope alone, interleaved with Prisma transactions on the same connection', async () => {
      const [a, b] = tenants;
      const seen = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 3 === 2
            ? visibleRuns(b.scope)
            : scoped
                .statement<{ id: string }>(
                  i % 2 ? b.scope : a.scope,
                  Prisma.sql`SELECT id::text AS id FROM execution_runs`,
                )
                .then((rows) => rows.map((row) => row.id).sort()),
        ),
      );
      seen.forEach((ids, i) => expect(ids).toEqual([...(i % 3 === 2 || i % 2 ? b : a).runIds].sort()));
    });

    it('commits what it wrote, and writes nothing outside its scope', async () => {
      const [a, b] = tenants;
      const moved = await scoped.statement<{ id: string }>(
        a.scope,
        Prisma.sql`UPDATE execution_runs SET status = 'CANCELLED'
                    WHERE id = ANY (${[a.runIds[0], b.runIds[0]]}::uuid[]) RETURNING id::text AS id`,
      );
      expect(moved).toEqual([{ id: a.runIds[0] }]);
      expect(await statusOf(a.runIds[0])).toBe('CANCELLED');
      expect(await statusOf(b.runIds[0])).toBe('QUEUED');
    });

    it('a statement Postgres refuses rolls back whole, and the connection serves the next one', async () => {
      const [, b] = tenants;
      await expect(
        scoped.statement(
          b.scope,
          Prisma.sql`WITH moved AS (UPDATE execution_runs SET status = 'CANCELLED' WHERE id = ${b.runIds[1]}::uuid RETURNING id)
                     SELECT (SELECT count(*) FROM moved) / 0 AS boom`,
        ),
      ).rejects.toThrow(/division by zero/);
      expect(await statusOf(b.runIds[1])).toBe('QUEUED');
      expect(await visibleRuns(b.scope)).toEqual([...b.runIds].sort());
    });
  });
});
