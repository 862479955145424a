import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { baseEnv } from '../support/env';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis, TEST_REDIS_DB, testRedisUrl } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/wait';
import { createEntity } from '../factories/entities';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';

/**
 * POST /entities/:id/runs answers once the run is written to Postgres, the record of
 * runs; its job goes to Redis after the answer. With Redis unreachable the API still
 * accepts runs, and their jobs arrive once Redis is back, also when the API is shutting
 * down meanwhile.
 */
describe('run intake with Redis behind a proxy the test controls', () => {
  const redisUrl = new URL(baseEnv.redisUrl);
  const proxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let closed = false;
  let queue: Queue;
  let connection: Redis;
  let entityId: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const port = await proxy.start();
    app = await startApi(db, { overrides: { REDIS_URL: `redis://127.0.0.1:${port}/${TEST_REDIS_DB}` } });
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    headers = bearer(
      await login(app, (await createUser(db.admin, { companyId: tenant.id, role: 'member' })).email),
    );
    entityId = (await createEntity(db.admin, { companyId: tenant.id, type: 'ACTION', status: 'ACTIVE' })).id;
    // The test reads the queue on Redis directly, not through the proxy.
    connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    queue = new Queue('execution', { connection, prefix: 'hb' });
  });

  afterAll(async () => {
    if (!closed) await app?.close();
    await proxy.stop();
    await queue?.close();
    connection?.disconnect();
    await db?.drop();
  });

  const post = async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${entityId}/runs`,
      headers,
      payload: { input: {} },
    });
    expect(response.statusCode).toBe(202);
    return response.json<{ id: string; status: string }>();
  };
  const statusOf = async (id: string) =>
    (await db.admin.executionRun.findUniqueOrThrow({ where: { id } })).status;
  const jobOf = (id: string) => queue.getJob(id);

  it('accepts a run while Redis is unreachable, and its job arrives once Redis is back', async () => {
    await proxy.stop();
    const started = Date.now();
    const run = await post();
    // Answered without waiting for Redis (which would wait until it is back).
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(run.status).toBe('QUEUED');
    expect(await statusOf(run.id)).toBe('QUEUED');
    expect(await jobOf(run.id)).toBeUndefined();

    await proxy.start();
    await until('the job in Redis', async () => (await jobOf(run.id)) !== undefined, 20_000);
    expect((await jobOf(run.id))!.data).toEqual({ runId: run.id, companyId: expect.any(String) });

    // And it runs: one job, one completed run.
    const worker = await startWorker(db);
    try {
      await until('the run completed', async () => (await statusOf(run.id)) === 'COMPLETED', 20_000);
      await waitForQueuesDrained(worker);
    } finally {
      await worker.close();
    }
    expect(await db.admin.toolInteractionLog.count({ where: { runId: run.id } })).toBe(1);
  });

  it('sends the jobs of runs it answered before its connection closes at shutdown', async () => {
    await proxy.stop();
    const run = await post();
    closed = true;
    const closing = app.close();
    // Redis comes back while the API is shutting down.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await proxy.start();
    await closing;
    expect(await jobOf(run.id)).toBeDefined();
    expect(await statusOf(run.id)).toBe('QUEUED');
  });
});
