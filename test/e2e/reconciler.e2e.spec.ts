import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { Reconciler } from '../../src/execution/engine/reconciler';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { until } from '../support/wait';
import { createEntity } from '../factories/entities';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';

describe('run reconciler', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let tenantId: string;
  let headers: Record<string, string>;
  const overrides = {
    RECONCILE_INTERVAL_MS: '600000',
    LOGIN_LIMIT_PER_EMAIL: '1000',
    LOGIN_LIMIT_PER_IP: '1000',
  };

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    app = await startApi(db, { overrides });
    const platform = await createCompany(db.admin, { type: 'APP' });
    tenantId = (await createCompany(db.admin, { type: 'TENANT', parentId: platform.id })).id;
    headers = bearer(
      await login(app, (await createUser(db.admin, { companyId: tenantId, role: 'member' })).email),
    );
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const withWorker = async (work: (worker: INestApplicationContext) => Promise<void>) => {
    const worker = await startWorker(db, overrides);
    try {
      await work(worker);
    } finally {
      await worker.close();
    }
  };
  const executionQueue = () => app.get<Queue>(getQueueToken('execution'), { strict: false });
  /** Posts a run of the entity through the API; its response body, once its job is
   *  in Redis (the API answers before it adds the job). */
  const postRun = async (entityId: string): Promise<{ id: string }> => {
    const run = (
      await app.inject({
        method: 'POST',
        url: `/api/v1/entities/${entityId}/runs`,
        headers,
        payload: { input: {} },
      })
    ).json<{ id: string }>();
    await until(
      `the job of run ${run.id}`,
      async () => (await executionQueue().getJob(run.id)) !== undefined,
      5_000,
      10,
    );
    return run;
  };
  const statusOf = async (id: string) =>
    (await db.admin.executionRun.findUniqueOrThrow({ where: { id } })).status;

  it('registers one repeatable sweep', async () => {
    await withWorker(async (worker) => {
      const maintenance = worker.get<Queue>(getQueueToken('maintenance'), { strict: false });
      const schedulers = await maintenance.getJobSchedulers();
      expect(schedulers.map((s) => s.key ?? s.id)).toContain('reconcile-runs');
    });
  });

  it('queues again a run whose job Redis lost, and the run completes', async () => {
    const entity = await createEntity(db.admin, {
      companyId: tenantId,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { action: { kind: 'builtin', name: 'text.template', args: { template: 'recovered' } } },
    });
    const run = await postRun(entity.id);
    // Redis loses the job (a flush, a failover without persistence).
    await flushTestRedis();
    expect(await executionQueue().getJob(run.id)).toBeUndefined();

    await withWorker(async (worker) => {
      await waitForQueuesDrained(worker);
      expect(await statusOf(run.id)).toBe('QUEUED');
      const report = await worker.get(Reconciler).reconcile(0);
      expect(report.requeued).toContain(run.id);
      await waitForQueuesDrained(worker);
    });
    const after = await db.admin.executionRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(after).toMatchObject({ status: 'COMPLETED', resultData: 'recovered' });
    expect(await db.admin.toolInteractionLog.count({ where: { runId: run.id } })).toBe(1);
  });

  it('adds one recovery job however many sweeps find the run before it runs', async () => {
    const entity = await createEntity(db.admin, { companyId: tenantId, type: 'ACTION', status: 'ACTIVE' });
    const run = await postRun(entity.id);
    await flushTestRedis();
    await withWorker(async (worker) => {
      const queue = worker.get<Queue>(getQueueToken('execution'), { strict: false });
      // Paused: the recovery job waits (as one deferred by the fairness cap would).
      await queue.pause();
      const reconciler = worker.get(Reconciler);
      expect((await reconciler.reconcile(0)).requeued).toContain(run.id);
      expect((await reconciler.reconcile(0)).requeued).not.toContain(run.id);
      const waiting = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
      expect(waiting.filter((job) => (job.data as { runId: string }).runId === run.id)).toHaveLength(1);
      await queue.resume();
      await waitForQueuesDrained(worker);
    });
    expect(await statusOf(run.id)).toBe('COMPLETED');
  });

  it('leaves runs with a live job alone', async () => {
    const entity = await createEntity(db.admin, { companyId: tenantId, type: 'ACTION', status: 'ACTIVE' });
    const run = await postRun(entity.id);
    await withWorker(async (worker) => {
      // Paused: the job waits in the queue, alive.
      await worker.get<Queue>(getQueueToken('execution'), { strict: false }).pause();
      const report = await worker.get(Reconciler).reconcile(0);
      expect(report.requeued).not.toContain(run.id);
      await worker.get<Queue>(getQueueToken('execution'), { strict: false }).resume();
      await waitForQueuesDrained(worker);
    });
    expect(await statusOf(run.id)).toBe('COMPLETED');
  });

  it('fails a run past its maxDurationMs with DURATION_EXCEEDED', async () => {
    const entity = await createEntity(db.admin, { companyId: tenantId, type: 'ACTION', status: 'ACTIVE' });
    await db.admin.hierarchicalEntity.update({
      where: { id: entity.id },
      data: { governance: { budget: { maxDurationMs: 1000 } } },
    });
    const run = await db.admin.executionRun.create({
      data: {
        companyId: tenantId,
        entityId: entity.id,
        status: 'RUNNING',
        startedAt: new Date(Date.now() - 3_600_000),
        traceId: 'c'.repeat(32),
        spanId: 'd'.repeat(16),
      },
    });
    await withWorker(async (worker) => {
      const report = await worker.get(Reconciler).reconcile(60_000);
      expect(report.expired).toContain(run.id);
    });
    expect(await db.admin.executionRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({
      status: 'FAILED',
      errorCode: 'DURATION_EXCEEDED',
    });
  });

  it('wakes a parent whose children all ended but whose wake-up was lost', async () => {
    const skill = await db.admin.hierarchicalEntity.create({
      data: { companyId: tenantId, type: 'SKILL', name: `s-${Math.random()}`, status: 'ACTIVE' },
    });
    await createEntity(db.admin, {
      companyId: tenantId,
      type: 'ACTION',
      status: 'ACTIVE',
      parentId: skill.id,
      capabilities: { action: { kind: 'builtin', name: 'text.template', args: { template: 'child done' } } },
    });
    const run = await postRun(skill.id);
    await withWorker(async (worker) => {
      await waitForQueuesDrained(worker);
    });
    expect(await statusOf(run.id)).toBe('COMPLETED');
    // Simulate the lost wake-up: put the parent back to waiting after its child ended.
    await db.admin.executionRun.update({
      where: { id: run.id },
      data: { status: 'WAITING_CHILDREN', resultData: undefined },
    });
    await withWorker(async (worker) => {
      const report = await worker.get(Reconciler).reconcile(0);
      expect(report.resumed).toContain(run.id);
      await waitForQueuesDrained(worker);
    });
    expect(await statusOf(run.id)).toBe('COMPLETED');
  });
});
