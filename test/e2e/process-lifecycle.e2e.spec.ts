import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { createEntity } from '../factories/entities';
import { createCompany } from '../factories/tenancy';

import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort, processEnv, spawnEntrypoint, waitForHttp, type Spawned } from '../support/processes';
import { flushTestRedis, testRedisUrl } from '../support/redis';

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref()),
  ]);

describe('process lifecycle', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const started: Spawned[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    env = processEnv(db, {
      LOG_LEVEL: 'info',
    });
  });

  afterAll(async () => {
    for (const { child } of started) child.kill('SIGKILL');
    await db.drop();
  });

  const start = (...args: Parameters<typeof spawnEntrypoint>) => {
    const spawned = spawnEntrypoint(...args);
    started.push(spawned);
    return spawned;
  };

  describe.each(['main.api', 'main.worker'] as const)('%s', (entry) => {
    it('refuses to start without a required variable and names it', async () => {
      const { REDIS_URL: _omitted, ...rest } = env;
      const process = start(entry, rest);
      expect(await within(process.exited, 20_000)).toBe(1);
      expect(process.output()).toContain('REDIS_URL: is required but not set');
    });

    it('refuses a malformed variable and names it', async () => {
      const process = start(entry, { ...env, DATABASE_URL: 'mysql://root@localhost/hb', PORT: 'http' });
      expect(await within(process.exited, 20_000)).toBe(1);
      expect(process.output()).toMatch(/DATABASE_URL: .*postgresql:\/\//);
      expect(process.output()).toContain('PORT:');
    });

    it('stops cleanly within 10 s of SIGTERM', async () => {
      const port = await freePort();
      const portVar = entry === 'main.api' ? 'PORT' : 'WORKER_HTTP_PORT';
      const process = start(entry, { ...env, [portVar]: String(port) });
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`, 200, 40_000);

      const signalled = Date.now();
      process.child.kill('SIGTERM');
      expect(await within(process.exited, 10_000)).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(process.output()).toContain('stopped cleanly');
    }, 60_000);
  });
});

describe('worker shutdown with a job in flight', () => {
  let db: TestDatabase;
  let slow: Server;
  let port = 0;
  let hits = 0;
  const started: Spawned[] = [];

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    // An HTTP action target that takes 1.5 s to answer: the job is active meanwhile.
    slow = createServer((_request, response) => {
      hits++;
      setTimeout(() => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"slow":true}');
      }, 1_500);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    port = (slow.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const { child } of started) child.kill('SIGKILL');
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
    await db.drop();
  });

  const startRun = async (graceMs: number) => {
    const workerPort = await freePort();
    const worker = spawnEntrypoint(
      'main.worker',
      processEnv(db, {
        LOG_LEVEL: 'info',
        WORKER_HTTP_PORT: String(workerPort),
        SHUTDOWN_GRACE_MS: String(graceMs),
        EGRESS_ALLOW_PRIVATE_HOSTS: `127.0.0.1:${port}`,
      }),
    );
    started.push(worker);
    await waitForHttp(`http://127.0.0.1:${workerPort}/health/ready`, 200, 40_000);
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    const entity = await createEntity(db.admin, {
      companyId: tenant.id,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { action: { kind: 'http', method: 'GET', url: `http://127.0.0.1:${port}/slow` } },
    });
    const run = await db.admin.executionRun.create({
      data: { companyId: tenant.id, entityId: entity.id, traceId: 'e'.repeat(32), spanId: 'f'.repeat(16) },
    });
    const queue = new Queue('execution', { connection: { url: testRedisUrl() }, prefix: 'hb' });
    await queue.add('run.execute', { runId: run.id, companyId: tenant.id }, { jobId: run.id });
    await queue.close();
    // Wait until the worker is inside the HTTP call.
    const before = hits;
    const deadline = Date.now() + 15_000;
    while (hits === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hits).toBe(before + 1);
    return { worker, runId: run.id };
  };

  it('lets the active job finish before exiting on SIGTERM', async () => {
    const { worker, runId } = await startRun(8_000);
    worker.child.kill('SIGTERM');
    expect(await within(worker.exited, 10_000)).toBe(0);
    const run = await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: 'COMPLETED', resultData: { status: 200, body: { slow: true } } });
  }, 60_000);

  it('exits anyway once the grace period is over, leaving the run to be recovered', async () => {
    const { worker, runId } = await startRun(300);
    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    expect(await within(worker.exited, 10_000)).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(1_400);
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } })).status).toBe('RUNNING');
  }, 60_000);
});
