import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';
import { startApi, startWorker, type StartApiOptions } from './app';
import { createTestDatabase, type TestDatabase } from './database';
import { flushTestRedis } from './redis';

export interface TenantHarness {
  db: TestDatabase;
  app: NestFastifyApplication;
  /** Started unless `worker: false`; tests may close and replace it. */
  worker?: INestApplicationContext;
  tenantId: string;
  /** Bearer headers of a member of the tenant. */
  headers: Record<string, string>;
  close(): Promise<void>;
}

/** The usual world of a run test: a fresh database, the API, a worker, one tenant
 *  under the APP company, and a signed-in member. */
export async function startTenantHarness(
  options: { overrides?: StartApiOptions['overrides']; worker?: boolean } = {},
): Promise<TenantHarness> {
  await flushTestRedis();
  const overrides = { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000', ...options.overrides };
  const db = await createTestDatabase();
  const app = await startApi(db, { overrides });
  const platform = await createCompany(db.admin, { type: 'APP' });
  const tenantId = (await createCompany(db.admin, { type: 'TENANT', parentId: platform.id })).id;
  const headers = bearer(
    await login(app, (await createUser(db.admin, { companyId: tenantId, role: 'member' })).email),
  );
  const harness: TenantHarness = {
    db,
    app,
    tenantId,
    headers,
    worker: options.worker === false ? undefined : await startWorker(db, overrides),
    async close() {
      await harness.worker?.close();
      await app.close();
      await db.drop();
    },
  };
  return harness;
}
