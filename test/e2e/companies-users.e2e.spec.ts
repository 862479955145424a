import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { createWorld, sessions, type World } from '../factories/tenancy';

describe('companies and users', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let world: World;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    app = await startApi(db, { overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' } });
    world = await createWorld(db.admin);
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const as = sessions(() => app);
  const call = async (
    user: { email: string },
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
  ) => app.inject({ method, url: `/api/v1${url}`, headers: await as(user), payload });

  const [p1, p2] = [0, 1].map((i) => () => world.partners[i]);

  it('answers 400, not 500, to null for fields that cannot be null', async () => {
    const tenant = p1().tenants[0];
    for (const payload of [{ name: null }, { status: null }, { allowUnverifiedLogin: null }])
      expect(
        (await call(world.appAdmin, 'PATCH', `/companies/${tenant.company.id}`, payload)).statusCode,
      ).toBe(400);
    for (const payload of [{ fullName: null }, { email: null }, { role: null }, { isActive: null }])
      expect(
        (await call(tenant.users.tenant_admin, 'PATCH', `/users/${tenant.users.member.id}`, payload))
          .statusCode,
      ).toBe(400);
  });

  describe('company tree', () => {
    it('lists exactly the companies in scope for each role', async () => {
      const ids = async (user: { email: string }) =>
        ((await call(user, 'GET', '/companies?limit=200')).json().items as { id: string }[])
          .map((c) => c.id)
          .sort();
      expect(await ids(world.appAdmin)).toHaveLength(7);
      expect(await ids(p1().admin)).toEqual(
        [p1().company.id, ...p1().tenants.map((t) => t.company.id)].sort(),
      );
      expect(await ids(p1().tenants[0].users.viewer)).toEqual([p1().tenants[0].company.id]);
    });

    it('pages with an opaque cursor', async () => {
      const first = (await call(world.appAdmin, 'GET', '/companies?limit=3')).json();
      expect(first.items).toHaveLength(3);
      const second = (
        await call(world.appAdmin, 'GET', `/companies?limit=3&cursor=${first.nextCursor}`)
      ).json();
      const third = (
        await call(world.appAdmin, 'GET', `/companies?limit=3&cursor=${second.nextCursor}`)
      ).json();
      const all = [...first.items, ...second.items, ...third.items].map((c: { id: string }) => c.id);
      expect(new Set(all).size).toBe(7);
      expect(third.nextCursor).toBeNull();
      expect((await call(world.appAdmin, 'GET', '/companies?cursor=%%%')).statusCode).toBe(400);
    });

    it('returns the subtree nested, in one call', async () => {
      const tree = (await call(world.appAdmin, 'GET', `/companies/${world.app.id}/tree`)).json();
      expect(tree.children.map((c: { id: string }) => c.id).sort()).toEqual(
        world.partners.map((p) => p.company.id).sort(),
      );
      expect(tree.children[0].children).toHaveLength(2);
      const partnerTree = (await call(p1().admin, 'GET', `/companies/${p1().company.id}/tree`)).json();
      expect(partnerTree.children).toHaveLength(2);
    });

    it('enforces APP > PARTNER > TENANT placement with 422', async () => {
      const tenantUnderTenant = await call(world.appAdmin, 'POST', '/companies', {
        name: 'Nested',
        type: 'TENANT',
        parentId: p1().tenants[0].company.id,
      });
      expect(tenantUnderTenant.statusCode).toBe(422);
      expect(tenantUnderTenant.json().code).toBe('INVALID_PLACEMENT');
      const partnerUnderPartner = await call(world.appAdmin, 'POST', '/companies', {
        name: 'Nested',
        type: 'PARTNER',
        parentId: p1().company.id,
      });
      expect(partnerUnderPartner.statusCode).toBe(422);
      const secondApp = await call(world.appAdmin, 'POST', '/companies', {
        name: 'App 2',
        type: 'APP',
        parentId: world.app.id,
      });
      expect(secondApp.statusCode).toBe(422);
    });

    it('lets a partner admin create a tenant under its partner only', async () => {
      const created = await call(p1().admin, 'POST', '/companies', {
        name: 'New tenant',
        type: 'TENANT',
        parentId: p1().company.id,
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        type: 'TENANT',
        parentId: p1().company.id,
        status: 'active',
        monthlyBudgetUsd: null,
      });
      const foreign = await call(p1().admin, 'POST', '/companies', {
        name: 'Sneaky',
        type: 'TENANT',
        parentId: p2().company.id,
      });
      expect(foreign.statusCode).toBe(404);
      const byTenantAdmin = await call(p1().tenants[0].users.tenant_admin, 'POST', '/companies', {
        name: 'Sub',
        type: 'TENANT',
        parentId: p1().tenants[0].company.id,
      });
      expect(byTenantAdmin.statusCode).toBe(403);
    });

    it('lets only an admin above a company suspend it or set its budget', async () => {
      const tenant = p1().tenants[1].company;
      const self = await call(p1().tenants[1].users.tenant_admin, 'PATCH', `/companies/${tenant.id}`, {
        status: 'suspended',
      });
      expect(self.statusCode).toBe(403);
      const ownBudget = await call(p1().admin, 'PATCH', `/companies/${p1().company.id}`, {
        monthlyBudgetUsd: '10',
      });
      expect(ownBudget.statusCode).toBe(403);
      const budget = await call(p1().admin, 'PATCH', `/companies/${tenant.id}`, { monthlyBudgetUsd: 1500.5 });
      expect(budget.statusCode).toBe(200);
      expect(budget.json().monthlyBudgetUsd).toBe('1500.5');
      const cleared = await call(p1().admin, 'PATCH', `/companies/${tenant.id}`, { monthlyBudgetUsd: null });
      expect(cleared.json().monthlyBudgetUsd).toBeNull();
      const bad = await call(p1().admin, 'PATCH', `/companies/${tenant.id}`, { monthlyBudgetUsd: '-3' });
      expect(bad.statusCode).toBe(400);
      const renamed = await call(p1().tenants[1].users.tenant_admin, 'PATCH', `/companies/${tenant.id}`, {
        name: 'Renamed',
      });
      expect(renamed.json().name).toBe('Renamed');
    });
  });

  describe('users', () => {
    it('lets a tenant admin create users at or below their role in their tenant', async () => {
      const admin = p1().tenants[0].users.tenant_admin;
      const created = await call(admin, 'POST', '/users', {
        email: 'New.Person@Example.test',
        fullName: 'New Person',
        password: 'long-enough-password',
        companyId: p1().tenants[0].company.id,
        role: 'approver',
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        email: 'new.person@example.test',
        role: 'approver',
        isActive: true,
      });
      expect(created.body).not.toMatch(/password/i);
      const duplicate = await call(admin, 'POST', '/users', {
        email: 'NEW.PERSON@example.test',
        fullName: 'Again',
        password: 'long-enough-password',
        companyId: p1().tenants[0].company.id,
        role: 'viewer',
      });
      expect(duplicate.statusCode).toBe(409);
      expect(duplicate.json().code).toBe('EMAIL_TAKEN');
    });

    it('never lists a password hash', async () => {
      const list = await call(world.appAdmin, 'GET', '/users?limit=200');
      expect(list.statusCode).toBe(200);
      expect(list.json().items.length).toBeGreaterThan(10);
      expect(list.body).not.toMatch(/passwordHash|argon2/);
    });

    describe('escalation attempts are refused and change nothing', () => {
      const snapshot = () => db.admin.user.findMany({ orderBy: { id: 'asc' } });

      it.each([
        [
          'a member changes their own role',
          () => [
            p1().tenants[0].users.member,
            'PATCH',
            `/users/${p1().tenants[0].users.member.id}`,
            { role: 'tenant_admin' },
          ],
          403,
        ],
        [
          'a tenant admin changes their own role',
          () => [
            p1().tenants[0].users.tenant_admin,
            'PATCH',
            `/users/${p1().tenants[0].users.tenant_admin.id}`,
            { role: 'viewer' },
          ],
          403,
        ],
        [
          'a tenant admin deactivates themselves',
          () => [
            p1().tenants[0].users.tenant_admin,
            'PATCH',
            `/users/${p1().tenants[0].users.tenant_admin.id}`,
            { isActive: false },
          ],
          403,
        ],
        [
          'a tenant admin grants partner_admin',
          () => [
            p1().tenants[0].users.tenant_admin,
            'PATCH',
            `/users/${p1().tenants[0].users.member.id}`,
            { role: 'partner_admin' },
          ],
          403,
        ],
        [
          'an approver promotes a member',
          () => [
            p1().tenants[0].users.approver,
            'PATCH',
            `/users/${p1().tenants[0].users.member.id}`,
            { role: 'approver' },
          ],
          403,
        ],
        [
          'a tenant admin creates an app_admin',
          () => [
            p1().tenants[0].users.tenant_admin,
            'POST',
            '/users',
            {
              email: 'x1@example.test',
              fullName: 'X',
              password: 'long-enough-password',
              companyId: p1().tenants[0].company.id,
              role: 'app_admin',
            },
          ],
          403,
        ],
        [
          'a tenant admin creates a user in a foreign tenant',
          () => [
            p1().tenants[0].users.tenant_admin,
            'POST',
            '/users',
            {
              email: 'x2@example.test',
              fullName: 'X',
              password: 'long-enough-password',
              companyId: p1().tenants[1].company.id,
              role: 'member',
            },
          ],
          404,
        ],
        [
          'a partner admin creates a user under another partner',
          () => [
            p1().admin,
            'POST',
            '/users',
            {
              email: 'x3@example.test',
              fullName: 'X',
              password: 'long-enough-password',
              companyId: p2().tenants[0].company.id,
              role: 'member',
            },
          ],
          404,
        ],
        [
          'a partner admin makes a tenant user a partner_admin',
          () => [p1().admin, 'PATCH', `/users/${p1().tenants[0].users.member.id}`, { role: 'partner_admin' }],
          422,
        ],
        [
          'an admin moves a user to another company',
          () => [
            world.appAdmin,
            'PATCH',
            `/users/${p1().tenants[0].users.member.id}`,
            { companyId: p2().tenants[0].company.id },
          ],
          400,
        ],
        [
          'a tenant admin deactivates a partner admin',
          () => [p1().tenants[0].users.tenant_admin, 'DELETE', `/users/${p1().admin.id}`, undefined],
          404,
        ],
        [
          'a viewer creates a user',
          () => [
            p1().tenants[0].users.viewer,
            'POST',
            '/users',
            {
              email: 'x4@example.test',
              fullName: 'X',
              password: 'long-enough-password',
              companyId: p1().tenants[0].company.id,
              role: 'viewer',
            },
          ],
          403,
        ],
      ] as const)('%s', async (_name, attempt, status) => {
        const [user, method, url, payload] = attempt() as unknown as [
          { email: string },
          'PATCH' | 'POST' | 'DELETE',
          string,
          object | undefined,
        ];
        await as(user); // logging in writes lastLoginAt: do it before the snapshot
        const before = await snapshot();
        const response = await call(user, method, url, payload);
        expect(response.statusCode).toBe(status);
        expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(await snapshot()).toEqual(before);
      });
    });

    it('lets a user rename themselves but not others below admin', async () => {
      const member = p2().tenants[0].users.member;
      const self = await call(member, 'PATCH', `/users/${member.id}`, { fullName: 'Renamed Me' });
      expect(self.statusCode).toBe(200);
      const other = await call(member, 'PATCH', `/users/${p2().tenants[0].users.viewer.id}`, {
        fullName: 'Nope',
      });
      expect(other.statusCode).toBe(403);
    });

    it('soft-deletes with DELETE: the user stays, inactive', async () => {
      const viewer = p2().tenants[1].users.viewer;
      const response = await call(p2().tenants[1].users.tenant_admin, 'DELETE', `/users/${viewer.id}`);
      expect(response.statusCode).toBe(204);
      expect((await db.admin.user.findUniqueOrThrow({ where: { id: viewer.id } })).isActive).toBe(false);
    });
  });
});
