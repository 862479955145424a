import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login, type Session, type World as TenancyWorld } from '../factories/tenancy';

type World = TenancyWorld & {
  victimEntityId?: string;
  victimRunId?: string;
  victimIntegrationId?: string;
  victimApprovalId?: string;
  victimDocumentId?: string;
};

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

const serialize = (row: unknown) =>
  JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));

/**
 * For every route of the OpenAPI document that takes an id: which resource it
 * addresses (by path prefix), the victim's instance of it, and how to read it back.
 * A new route under a prefix missing here fails the matrix until it is added.
 */
interface ResourceKind {
  victimId: (world: World) => string;
  snapshot: (db: TestDatabase, id: string) => Promise<unknown>;
}

const RESOURCES: Record<string, ResourceKind> = {
  '/api/v1/companies/{id}': {
    victimId: (world) => world.partners[0].tenants[0].company.id,
    snapshot: (db, id) => db.admin.company.findUnique({ where: { id } }),
  },
  '/api/v1/entities/{id}': {
    victimId: (world) => world.victimEntityId!,
    snapshot: (db, id) => db.admin.hierarchicalEntity.findUnique({ where: { id } }),
  },
  '/api/v1/runs/{id}': {
    victimId: (world) => world.victimRunId!,
    snapshot: (db, id) => db.admin.executionRun.findUnique({ where: { id } }),
  },
  '/api/v1/approvals/{id}': {
    victimId: (world) => world.victimApprovalId!,
    snapshot: (db, id) => db.admin.humanApproval.findUnique({ where: { id } }),
  },
  '/api/v1/documents/{id}': {
    victimId: (world) => world.victimDocumentId!,
    snapshot: (db, id) => db.admin.document.findUnique({ where: { id }, omit: { content: true } }),
  },
  '/api/v1/integrations/{id}': {
    victimId: (world) => world.victimIntegrationId!,
    snapshot: (db, id) => db.admin.integrationRegistry.findUnique({ where: { id } }),
  },
  '/api/v1/users/{id}': {
    victimId: (world) => world.partners[0].tenants[0].users.member.id,
    snapshot: (db, id) => db.admin.user.findUnique({ where: { id } }),
  },
};

/** A valid body per route, so validation passes and only scope can refuse. */
const BODIES: Record<string, object> = {
  'PATCH /api/v1/companies/{id}': { name: 'Taken over' },
  'PATCH /api/v1/users/{id}': { fullName: 'Taken over' },
  'PATCH /api/v1/entities/{id}': { description: 'Taken over' },
  'PATCH /api/v1/integrations/{id}': { internalCost: '0' },
  'POST /api/v1/entities/{id}/versions': { version: '9.9.9' },
  'POST /api/v1/entities/{id}/runs': { input: {}, test: true },
};

interface Route {
  method: Method;
  path: string;
  kind: ResourceKind;
}

function routesWithIds(document: { paths: Record<string, Record<string, unknown>> }): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    if (!path.includes('{id}')) continue;
    const prefix = Object.keys(RESOURCES).find((p) => path.startsWith(p));
    if (!prefix) throw new Error(`the isolation matrix has no resource for ${path}: add it to RESOURCES`);
    for (const method of Object.keys(operations)) {
      routes.push({ method: method.toUpperCase() as Method, path, kind: RESOURCES[prefix] });
    }
  }
  return routes;
}

describe('tenant isolation', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let world: World;
  let routes: Route[];

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    app = await startApi(db, { overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' } });
    world = await createWorld(db.admin);
    world.victimEntityId = (
      await createEntity(db.admin, { companyId: world.partners[0].tenants[0].company.id, type: 'SKILL' })
    ).id;
    const victimTenant = world.partners[0].tenants[0];
    // A finished run (with its terminal event), so its event stream ends for the in-scope check.
    const victimRun = await db.admin.executionRun.create({
      data: {
        companyId: victimTenant.company.id,
        entityId: world.victimEntityId,
        status: 'COMPLETED',
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
      },
    });
    await db.admin.runEvent.create({
      data: {
        companyId: victimTenant.company.id,
        runId: victimRun.id,
        rootRunId: victimRun.id,
        type: 'run.status',
        data: { status: 'COMPLETED' },
      },
    });
    world.victimRunId = victimRun.id;
    // A tenant's own key for a SKU (a bring-your-own-key row).
    world.victimIntegrationId = (
      await db.admin.integrationRegistry.create({
        data: {
          companyId: victimTenant.company.id,
          providerName: 'anthropic',
          modelName: 'claude-sonnet-5-5',
          serviceSku: 'anthropic/claude-sonnet-5-5:input',
          componentType: 'llm',
          internalCost: '3',
          costUnit: 'TOKENS_1M',
        },
      })
    ).id;
    // An answered approval of the victim's run: answering it again would be 409 in scope,
    // so the matrix compares 404 outside against an unchanged row.
    world.victimApprovalId = (
      await db.admin.humanApproval.create({
        data: {
          companyId: victimTenant.company.id,
          runId: victimRun.id,
          checkpoint: 'before_run',
          stepKey: 'approval-before_run',
          status: 'APPROVED',
        },
      })
    ).id;
    world.victimDocumentId = (
      await db.admin.document.create({
        data: {
          companyId: victimTenant.company.id,
          filename: 'victim.txt',
          mimeType: 'text/plain',
          sizeBytes: 6,
          contentHash: 'a'.repeat(64),
          uploadStatus: 'READY',
        },
      })
    ).id;
    routes = routesWithIds((await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json());
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it('covers the id routes of the OpenAPI document', () => {
    const covered = routes.map((r) => `${r.method} ${r.path}`);
    expect(covered).toEqual(
      expect.arrayContaining([
        'GET /api/v1/companies/{id}',
        'PATCH /api/v1/companies/{id}',
        'GET /api/v1/companies/{id}/tree',
        'GET /api/v1/users/{id}',
        'PATCH /api/v1/users/{id}',
        'DELETE /api/v1/users/{id}',
        'GET /api/v1/entities/{id}',
        'PATCH /api/v1/entities/{id}',
        'DELETE /api/v1/entities/{id}',
        'POST /api/v1/entities/{id}/activate',
        'POST /api/v1/entities/{id}/versions',
        'POST /api/v1/entities/{id}/deprecate',
        'GET /api/v1/entities/{id}/tree',
        'POST /api/v1/entities/{id}/runs',
        'GET /api/v1/runs/{id}',
        'GET /api/v1/runs/{id}/tool-logs',
        'GET /api/v1/runs/{id}/llm-logs',
        'GET /api/v1/runs/{id}/events',
        'POST /api/v1/runs/{id}/cancel',
        'GET /api/v1/approvals/{id}',
        'POST /api/v1/approvals/{id}/approve',
        'POST /api/v1/approvals/{id}/reject',
        'GET /api/v1/integrations/{id}',
        'PATCH /api/v1/integrations/{id}',
        'DELETE /api/v1/integrations/{id}',
        'GET /api/v1/documents/{id}',
        'DELETE /api/v1/documents/{id}',
      ]),
    );
  });

  it('answers 404 to every caller outside the resource’s scope, on every id route, and changes nothing', async () => {
    const [victimPartner, otherPartner] = world.partners;
    const sibling = victimPartner.tenants[1];
    // Everyone who must not see the victim tenant (partner 1's first tenant): the other
    // partner and all its users, and every user of the sibling tenant.
    const foreign = [
      otherPartner.admin,
      ...otherPartner.tenants.flatMap((t) => Object.values(t.users)),
      ...Object.values(sibling.users),
    ];
    const sessions: Session[] = [];
    for (const user of foreign) sessions.push(await login(app, user.email));

    const failures: string[] = [];
    for (const route of routes) {
      const id = route.kind.victimId(world);
      const url = route.path.replace('{id}', id);
      const body = BODIES[`${route.method} ${route.path}`];
      for (const [index, session] of sessions.entries()) {
        const before = await route.kind.snapshot(db, id);
        const response = await app.inject({
          method: route.method,
          url,
          headers: bearer(session),
          payload: body,
        });
        const after = await route.kind.snapshot(db, id);
        if (response.statusCode !== 404 || serialize(before) !== serialize(after)) {
          failures.push(
            `${route.method} ${route.path} as ${foreign[index].role} of another scope: ${response.statusCode}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('still serves the same routes to a caller inside the scope (the matrix is not vacuous)', async () => {
    const admin = await login(app, world.partners[0].admin.email);
    for (const route of routes.filter((r) => r.method === 'GET')) {
      const url = route.path.replace('{id}', route.kind.victimId(world));
      expect((await app.inject({ method: 'GET', url, headers: bearer(admin) })).statusCode).toBe(200);
    }
  });

  describe('row-level security alone', () => {
    let client: Client;

    beforeAll(async () => {
      client = new Client({ connectionString: db.appUrl });
      await client.connect();
    });

    afterAll(async () => {
      await client.end();
    });

    const inTransaction = async <T>(scope: string[] | null, work: () => Promise<T>): Promise<T> => {
      await client.query('BEGIN');
      try {
        if (scope)
          await client.query(`SELECT set_config('app.company_ids', $1, true)`, [`{${scope.join(',')}}`]);
        return await work();
      } finally {
        await client.query('ROLLBACK');
      }
    };

    it('shows a query that forgets its WHERE only the rows of the scope', async () => {
      const tenant = world.partners[0].tenants[0];
      const rows = await inTransaction([tenant.company.id], () =>
        client.query<{ company_id: string }>('SELECT company_id FROM users'),
      );
      expect(rows.rowCount).toBe(4);
      expect(new Set(rows.rows.map((r) => r.company_id))).toEqual(new Set([tenant.company.id]));
      const companies = await inTransaction([tenant.company.id], () =>
        client.query('SELECT id FROM companies'),
      );
      expect(companies.rows).toEqual([{ id: tenant.company.id }]);
    });

    it('denies everything when no scope is set', async () => {
      expect((await inTransaction(null, () => client.query('SELECT id FROM users'))).rowCount).toBe(0);
      expect((await inTransaction(null, () => client.query('SELECT id FROM companies'))).rowCount).toBe(0);
      expect((await client.query('SELECT id FROM users')).rowCount).toBe(0);
    });

    it('cannot update or insert rows of another company', async () => {
      const mine = world.partners[0].tenants[0];
      const theirs = world.partners[1].tenants[0];
      const updated = await inTransaction([mine.company.id], () =>
        client.query(`UPDATE users SET full_name = 'pwned' WHERE company_id = $1`, [theirs.company.id]),
      );
      expect(updated.rowCount).toBe(0);
      await expect(
        inTransaction([mine.company.id], () =>
          client.query(
            `INSERT INTO users (id, company_id, email, full_name, role) VALUES (gen_random_uuid(), $1, 'x@y.test', 'X', 'member')`,
            [theirs.company.id],
          ),
        ),
      ).rejects.toThrow(/row-level security/);
    });
  });
});
