import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import { type Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { RETENTION_SCHEDULER } from '../../src/execution/maintenance.processor';
import { JOB_OPTIONS, Jobs } from '../../src/infra/queue/jobs';
import { RetentionService, type RetentionReport } from '../../src/execution/retention/retention.service';
import type { RunStatus } from '../../src/infra/database/generated/client';
import { startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis, testRedisUrl } from '../support/redis';
import { createEntity } from '../factories/entities';
import { createCompany } from '../factories/tenancy';

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

/**
 * Old and recent rows of finished and unfinished run trees in two companies, pruned
 * with the default retention (30 days of events, 90 of logs, 7 of jobs): exactly the
 * old rows of finished trees go; unfinished trees, recent rows and the usage ledger stay.
 */
describe('retention pruning', () => {
  let db: TestDatabase;
  let redis: Redis;
  const ids: Record<string, string> = {};
  let kept: { events: string[]; llm: string[]; tool: string[] };
  let pruned: { events: string[]; llm: string[]; tool: string[] };
  let usageBefore: { logs: number; daily: number };

  const withWorker = async (
    overrides: Record<string, string>,
    work: (worker: INestApplicationContext) => Promise<void>,
  ) => {
    const worker = await startWorker(db, { RECONCILE_INTERVAL_MS: '600000', ...overrides });
    try {
      await work(worker);
    } finally {
      await worker.close();
    }
  };
  // The maintenance queue left out: no scheduled pruning races the one a test calls.
  const noSchedule = { WORKER_QUEUES: 'execution' };

  const remaining = async () => ({
    events: (await db.admin.runEvent.findMany({ select: { id: true } })).map((e) => e.id.toString()),
    llm: (await db.admin.llmInteractionLog.findMany({ select: { id: true } })).map((l) => l.id),
    tool: (await db.admin.toolInteractionLog.findMany({ select: { id: true } })).map((l) => l.id),
  });

  beforeAll(async () => {
    await flushTestRedis();
    redis = new Redis(testRedisUrl());
    db = await createTestDatabase();
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenants = [
      (await createCompany(db.admin, { type: 'TENANT', parentId: platform.id })).id,
      (await createCompany(db.admin, { type: 'TENANT', parentId: platform.id })).id,
    ];
    const entity = await createEntity(db.admin, { companyId: tenants[0], type: 'ACTION', status: 'ACTIVE' });
    const otherEntity = await createEntity(db.admin, {
      companyId: tenants[1],
      type: 'ACTION',
      status: 'ACTIVE',
    });

    let span = 0;
    const run = async (
      name: string,
      status: RunStatus,
      completedDaysAgo: number | null,
      parent?: string,
      companyId = tenants[0],
    ) => {
      const row = await db.admin.executionRun.create({
        data: {
          companyId,
          entityId: companyId === tenants[0] ? entity.id : otherEntity.id,
          status,
          parentRunId: parent ? ids[parent] : null,
          rootRunId: parent ? ids[parent] : null,
          startedAt: daysAgo(200),
          completedAt: completedDaysAgo === null ? null : daysAgo(completedDaysAgo),
          traceId: 'a'.repeat(32),
          spanId: (span++).toString(16).padStart(16, '0'),
        },
      });
      ids[name] = row.id;
    };
    await run('oldDone', 'COMPLETED', 40);
    await run('oldDoneChild', 'COMPLETED', 41, 'oldDone');
    await run('recentDone', 'COMPLETED', 10);
    await run('waiting', 'AWAITING_APPROVAL', null);
    // Ended long ago, but its tree has not: its parent waits for an approval.
    await run('waitingChild', 'COMPLETED', 100, 'waiting');
    // Cancelled without a completion time: when it last changed counts.
    await run('cancelled', 'CANCELLED', null);
    await db.admin
      .$executeRaw`UPDATE execution_runs SET updated_at = ${daysAgo(45)} WHERE id = ${ids.cancelled}::uuid`;
    await run('otherOld', 'FAILED', 60, undefined, tenants[1]);

    const companyOf = (name: string) => (name === 'otherOld' ? tenants[1] : tenants[0]);
    const rootOf = (name: string) => ({ oldDoneChild: 'oldDone', waitingChild: 'waiting' })[name] ?? name;
    const event = async (name: string, days: number) =>
      (
        await db.admin.runEvent.create({
          data: {
            companyId: companyOf(name),
            runId: ids[name],
            rootRunId: ids[rootOf(name)],
            type: 'run.status',
            createdAt: daysAgo(days),
          },
        })
      ).id.toString();
    let step = 0;
    const llm = async (name: string, days: number) =>
      (
        await db.admin.llmInteractionLog.create({
          data: {
            companyId: companyOf(name),
            runId: ids[name],
            stepKey: `llm-${step++}`,
            providerName: 'anthropic',
            modelName: 'claude-sonnet-5-5',
            createdAt: daysAgo(days),
          },
        })
      ).id;
    const tool = async (name: string, days: number) =>
      (
        await db.admin.toolInteractionLog.create({
          data: {
            companyId: companyOf(name),
            runId: ids[name],
            stepKey: `tool-${step++}`,
            toolName: 'time.now',
            toolKind: 'builtin',
            createdAt: daysAgo(days),
          },
        })
      ).id;

    pruned = {
      events: [
        await event('oldDone', 41),
        await event('oldDone', 40),
        await event('oldDoneChild', 42),
        await event('cancelled', 46),
        await event('otherOld', 61),
      ],
      llm: [await llm('oldDone', 100), await llm('recentDone', 95), await llm('otherOld', 91)],
      tool: [await tool('oldDoneChild', 100)],
    };
    kept = {
      events: [await event('recentDone', 11), await event('waiting', 150), await event('waitingChild', 101)],
      llm: [await llm('waiting', 150), await llm('waitingChild', 120), await llm('recentDone', 30)],
      tool: [await tool('oldDone', 50), await tool('waiting', 150)],
    };

    // The billing ledger, older than any retention.
    const sku = await db.admin.integrationRegistry.create({
      data: {
        companyId: platform.id,
        providerName: 'anthropic',
        modelName: 'claude-sonnet-5-5',
        serviceSku: 'anthropic/claude-sonnet-5-5:input',
        componentType: 'llm',
        internalCost: '3',
        costUnit: 'TOKENS_1M',
      },
    });
    await db.admin.usageLog.create({
      data: {
        companyId: tenants[0],
        runId: ids.oldDone,
        skuId: sku.id,
        serviceSku: sku.serviceSku,
        timestamp: daysAgo(400),
        rawQuantity: '1000',
        calculatedCost: '0.003',
        idempotencyKey: `${ids.oldDone}:action:${sku.serviceSku}`,
      },
    });
    await db.admin.usageDaily.create({
      data: {
        companyId: tenants[0],
        day: daysAgo(400),
        skuId: sku.id,
        entityId: entity.id,
        quantity: '1000',
        costUsd: '0.003',
        calls: 1,
      },
    });
    usageBefore = { logs: await db.admin.usageLog.count(), daily: await db.admin.usageDaily.count() };
  });

  afterAll(async () => {
    redis.disconnect();
    await db.drop();
  });

  /** Three finished execution jobs, two of them made to look 8 days old. */
  const finishedJobs = async (worker: INestApplicationContext) => {
    const queue = worker.get<Queue>(getQueueToken('execution'), { strict: false });
    const jobIds = [`old-a-${Date.now()}`, `old-b-${Date.now()}`, `new-${Date.now()}`];
    // Payloads naming no run: the executor finds nothing and completes the job.
    for (const jobId of jobIds)
      await queue.add(
        'run.execute',
        { runId: '00000000-0000-7000-8000-000000000000', companyId: ids.oldDone },
        { jobId },
      );
    await waitForQueuesDrained(worker);
    for (const jobId of jobIds) expect(await (await queue.getJob(jobId))!.getState()).toBe('completed');
    // The completed set is scored by finish time.
    for (const jobId of jobIds.slice(0, 2))
      await redis.zadd('hb:execution:completed', 'XX', daysAgo(8).getTime(), jobId);
    return { queue, old: jobIds.slice(0, 2), recent: jobIds[2] };
  };

  it('keeps everything when every retention is 0', async () => {
    const before = await remaining();
    await withWorker(
      { RETENTION_RUN_EVENTS_DAYS: '0', RETENTION_INTERACTION_LOGS_DAYS: '0', RETENTION_JOBS_DAYS: '0' },
      async (worker) => {
        const jobs = await finishedJobs(worker);
        const report = await worker.get(RetentionService).prune();
        expect(report).toEqual<RetentionReport>({ runEvents: 0, llmLogs: 0, toolLogs: 0, jobs: {} });
        for (const jobId of jobs.old) expect(await jobs.queue.getJob(jobId)).toBeDefined();
      },
    );
    expect(await remaining()).toEqual(before);
  });

  it('prunes exactly the old rows of finished run trees and old finished jobs, in batches', async () => {
    await withWorker(noSchedule, async (worker) => {
      const jobs = await finishedJobs(worker);
      // Batches of 2 rows: each kind needs more than one statement.
      const report = await worker.get(RetentionService).prune(new Date(), 2);
      expect(report).toMatchObject({
        runEvents: pruned.events.length,
        llmLogs: pruned.llm.length,
        toolLogs: pruned.tool.length,
      });
      // The zero-retention test's old jobs are 8 days old too.
      expect(report.jobs).toEqual({ execution: 4 });
      for (const jobId of jobs.old) expect(await jobs.queue.getJob(jobId)).toBeUndefined();
      expect(await jobs.queue.getJob(jobs.recent)).toBeDefined();
    });
    const after = await remaining();
    expect(after.events.sort()).toEqual([...kept.events].sort());
    expect(after.llm.sort()).toEqual([...kept.llm].sort());
    expect(after.tool.sort()).toEqual([...kept.tool].sort());
    expect({ logs: await db.admin.usageLog.count(), daily: await db.admin.usageDaily.count() }).toEqual(
      usageBefore,
    );
    expect(await db.admin.executionRun.count()).toBe(Object.keys(ids).length);
  });

  it('runs as a scheduled job on the maintenance queue and returns what it pruned', async () => {
    const stale = await db.admin.runEvent.create({
      data: {
        companyId: (await db.admin.executionRun.findUniqueOrThrow({ where: { id: ids.oldDone } })).companyId,
        runId: ids.oldDone,
        rootRunId: ids.oldDone,
        type: 'run.status',
        createdAt: daysAgo(39),
      },
    });
    await withWorker({ RETENTION_INTERVAL_MS: '3600000' }, async (worker) => {
      const maintenance = worker.get<Queue>(getQueueToken('maintenance'), { strict: false });
      const scheduler = (await maintenance.getJobSchedulers()).find(
        (s) => (s.key ?? s.id) === RETENTION_SCHEDULER,
      );
      expect(scheduler).toMatchObject({ name: Jobs.PruneRetention.name, every: 3_600_000 });
      const events = new QueueEvents('maintenance', { connection: { url: testRedisUrl() }, prefix: 'hb' });
      try {
        await events.waitUntilReady();
        const job = await maintenance.add(
          Jobs.PruneRetention.name,
          {},
          JOB_OPTIONS['maintenance.retention']({}),
        );
        const result = (await job.waitUntilFinished(events, 15_000)) as RetentionReport;
        expect(result).toMatchObject({ llmLogs: 0, toolLogs: 0 });
        // The scheduler's own first run may have pruned it already.
        expect(result.runEvents).toBeLessThanOrEqual(1);
      } finally {
        await events.close();
      }
    });
    expect(await db.admin.runEvent.findUnique({ where: { id: stale.id } })).toBeNull();
  });
});
