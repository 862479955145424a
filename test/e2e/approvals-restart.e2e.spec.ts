import { spawn, type ChildProcess } from 'node:child_process';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Redis } from 'ioredis';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/processes';
import { waitForQueuesDrained } from '../support/queues';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login } from '../factories/tenancy';

/** A Redis of this test's own (the shared one serves the other files), without persistence. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return child;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      probe.disconnect();
    }
  }
}

describe('a paused run survives a restart of every worker and of Redis', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext | undefined;
  let redis: ChildProcess;
  let overrides: Record<string, string>;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    db = await createTestDatabase();
    overrides = {
      REDIS_URL: `redis://127.0.0.1:${port}/0`,
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await app.close();
    redis.kill('SIGKILL');
    await db.drop();
  });

  it('resumes after approval with new workers and a Redis that lost everything', async () => {
    const world = await createWorld(db.admin);
    const tenant = world.partners[0].tenants[0];
    const member = bearer(await login(app, tenant.users.member.email));
    const approver = bearer(await login(app, tenant.users.approver.email));
    const entity = await createEntity(db.admin, {
      companyId: tenant.company.id,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: {
        action: { kind: 'builtin', name: 'text.template', args: { template: 'after restart' } },
      },
    });
    await db.admin.hierarchicalEntity.update({
      where: { id: entity.id },
      data: { governance: { approvals: [{ trigger: 'before_run' }] } },
    });
    const created = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${entity.id}/runs`,
      headers: member,
      payload: { input: {} },
    });
    const runId = created.json().id as string;
    await waitForQueuesDrained(worker!, 30_000);
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } })).status).toBe(
      'AWAITING_APPROVAL',
    );

    // Every worker stops; Redis goes down without saving and comes back empty.
    await worker!.close();
    worker = undefined;
    const admin = new Redis({ port, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const exited = new Promise((resolve) => redis.once('exit', resolve));
    await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    admin.disconnect();
    await exited;
    redis = await startRedis(port);
    const fresh = new Redis({ port });
    expect(await fresh.dbsize()).toBe(0);
    fresh.disconnect();
    worker = await startWorker(db, overrides);

    const approval = await db.admin.humanApproval.findFirstOrThrow({ where: { runId } });
    const answered = await app.inject({
      method: 'POST',
      url: `/api/v1/approvals/${approval.id}/approve`,
      headers: approver,
      payload: {},
    });
    expect(answered.statusCode).toBe(200);
    await waitForQueuesDrained(worker, 30_000);
    expect(await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
      status: 'COMPLETED',
      resultData: 'after restart',
    });
    expect(await db.admin.toolInteractionLog.count({ where: { runId } })).toBe(1);
  }, 60_000);
});
