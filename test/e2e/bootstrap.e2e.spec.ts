import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { login } from '../factories/tenancy';

describe('first-start bootstrap', () => {
  let db: TestDatabase;
  const overrides = {
    BOOTSTRAP_ADMIN_EMAIL: 'Root@Example.test',
    BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap-password-42',
  };

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
  });

  afterAll(() => db.drop());

  it('creates the APP company and its app_admin on an empty database, once, even with replicas starting together', async () => {
    expect(await db.admin.company.count()).toBe(0);
    const apps = await Promise.all([
      startApi(db, { overrides }),
      startApi(db, { overrides }),
      startApi(db, { overrides }),
    ]);
    try {
      expect(await db.admin.company.count({ where: { type: 'APP' } })).toBe(1);
      const admins = await db.admin.user.findMany({ where: { role: 'app_admin' } });
      expect(admins.map((a) => a.email)).toEqual(['root@example.test']);
      const session = await login(apps[0], 'root@example.test', 'bootstrap-password-42');
      expect(session.user.role).toBe('app_admin');
    } finally {
      for (const app of apps) await app.close();
    }
    const again = await startApi(db, {
      overrides: { ...overrides, BOOTSTRAP_ADMIN_EMAIL: 'other@example.test' },
    });
    await again.close();
    expect(await db.admin.user.count()).toBe(1);
  });
});
