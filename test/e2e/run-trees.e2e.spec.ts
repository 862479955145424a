import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { Client } from 'pg';
import type { Prisma } from '../../src/infra/database/generated/client';
import { JOB_OPTIONS } from '../../src/infra/queue/jobs';
import { startWorker } from '../support/app';
import type { TestDatabase } from '../support/database';
import { startTenantHarness, type TenantHarness } from '../support/tenant-harness';
import { waitForQueuesDrained } from '../support/queues';
import { createEntity } from '../factories/entities';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';
import { until } from '../support/wait';

describe('run trees (SKILL and PROCESS)', () => {
  let harness: TenantHarness;
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  let tenantId: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    harness = await startTenantHarness();
    ({ db, app, tenantId, headers } = harness);
    worker = harness.worker!;
  });

  afterAll(async () => {
    harness.worker = worker;
    await harness.close();
  });

  const parent = (
    type: 'SKILL' | 'PROCESS',
    data: { planning?: Prisma.InputJsonValue; logicGate?: Prisma.InputJsonValue } = {},
  ) =>
    db.admin.hierarchicalEntity.create({
      data: {
        companyId: tenantId,
        type,
        name: `${type}-${Math.random()}`,
        status: 'ACTIVE',
        planning: data.planning ?? {},
        logicGate: data.logicGate ?? {},
      },
    });
  const action = (parentId: string, alias: string, name: string, args: object, order?: number) =>
    createEntity(db.admin, {
      companyId: tenantId,
      type: 'ACTION',
      status: 'ACTIVE',
      parentId,
      name: `${alias}-${Math.random()}`,
      hierarchy: { alias, ...(order === undefined ? {} : { order }) },
      capabilities: { action: { kind: 'builtin', name, args } },
    });
  const run = async (entityId: string, input: unknown) => {
    const created = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${entityId}/runs`,
      headers,
      payload: { input },
    });
    expect(created.statusCode).toBe(202);
    await waitForQueuesDrained(worker, 30_000);
    const body = (
      await app.inject({ method: 'GET', url: `/api/v1/runs/${created.json().id}`, headers })
    ).json();
    return body;
  };

  it('answers concurrent reads of runs of two tenants, and of a missing run, each with its own', async () => {
    // GETs that arrive together share read transactions, one per caller scope.
    const other = await createCompany(db.admin, {
      type: 'TENANT',
      parentId: (await db.admin.company.findFirstOrThrow({ where: { type: 'APP' } })).id,
    });
    const otherHeaders = bearer(
      await login(app, (await createUser(db.admin, { companyId: other.id, role: 'member' })).email),
    );
    const tree = async (companyId: string) => {
      const entity = await createEntity(db.admin, { companyId, type: 'SKILL', status: 'ACTIVE' });
      const root = await db.admin.executionRun.create({
        data: {
          companyId,
          entityId: entity.id,
          status: 'RUNNING',
          traceId: 'c'.repeat(32),
          spanId: 'd'.repeat(16),
        },
      });
      const children = [];
      for (let i = 0; i < 2; i++)
        children.push(
          await db.admin.executionRun.create({
            data: {
              companyId,
              entityId: entity.id,
              parentRunId: root.id,
              rootRunId: root.id,
              status: 'QUEUED',
              traceId: 'c'.repeat(32),
              spanId: `${i}`.repeat(16),
            },
          }),
        );
      return { root, childIds: children.map((child) => child.id) };
    };
    const mine = await tree(tenantId);
    const theirs = await tree(other.id);
    const missing = '01930000-0000-7000-8000-0000000000cc';
    const asks = Array.from(
      { length: 30 },
      (_, i) =>
        [
          { headers, id: mine.root.id, expect: mine },
          { headers: otherHeaders, id: theirs.root.id, expect: theirs },
          { headers, id: theirs.root.id, expect: null },
          { headers: otherHeaders, id: missing, expect: null },
        ][i % 4],
    );
    const answers = await Promise.all(
      asks.map((ask) => app.inject({ method: 'GET', url: `/api/v1/runs/${ask.id}`, headers: ask.headers })),
    );
    answers.forEach((answer, i) => {
      const wanted = asks[i].expect;
      if (!wanted) return expect(answer.statusCode).toBe(404);
      expect(answer.statusCode).toBe(200);
      expect(answer.json().id).toBe(wanted.root.id);
      expect(answer.json().children.map((child: { id: string }) => child.id)).toEqual(wanted.childIds);
    });
  });

  it('runs a SKILL’s steps in order as child runs, each seeing the earlier outputs', async () => {
    const skill = await parent('SKILL', {
      planning: {
        strategy: 'sequential',
        steps: [
          { alias: 'greet', input: { name: '{{input.name}}' } },
          { alias: 'shout', input: { text: '{{steps.greet.output}}' } },
        ],
        output: { final: '{{steps.shout.output}}', first: '{{steps.greet.output}}' },
      },
    });
    await action(skill.id, 'greet', 'text.template', { template: 'hello {{input.name}}' });
    await action(skill.id, 'shout', 'json.transform', { expression: '$uppercase(text)' });

    const result = await run(skill.id, { name: 'ada' });
    expect(result).toMatchObject({
      status: 'COMPLETED',
      resultData: { final: 'HELLO ADA', first: 'hello ada' },
    });
    expect(result.children).toHaveLength(2);
    const children = await db.admin.executionRun.findMany({
      where: { parentRunId: result.id },
      orderBy: { id: 'asc' },
    });
    expect(children.map((c) => c.status)).toEqual(['COMPLETED', 'COMPLETED']);
    // One trace, one span per run, one root.
    expect(new Set(children.map((c) => c.traceId))).toEqual(new Set([result.traceId]));
    expect(new Set([result.spanId, ...children.map((c) => c.spanId)]).size).toBe(3);
    expect(children.every((c) => c.rootRunId === result.id)).toBe(true);
    expect(children[1].inputData).toEqual({ text: 'hello ada' });
    const statuses = (
      await db.admin.runEvent.findMany({ where: { runId: result.id }, orderBy: { id: 'asc' } })
    )
      .filter((e) => e.type === 'run.status')
      .map((e) => (e.data as { status: string }).status);
    expect(statuses).toEqual([
      'QUEUED',
      'RUNNING',
      'WAITING_CHILDREN',
      'RUNNING',
      'WAITING_CHILDREN',
      'RUNNING',
      'COMPLETED',
    ]);
  });

  it('runs a parallel PROCESS’s children at once and collects their outputs by alias', async () => {
    const process = await parent('PROCESS', { planning: { strategy: 'parallel' } });
    await action(process.id, 'a', 'math.evaluate', { expression: '1 + 1' });
    await action(process.id, 'b', 'math.evaluate', { expression: '2 * 3' });
    await action(process.id, 'c', 'text.template', { template: 'c' });
    const result = await run(process.id, {});
    expect(result).toMatchObject({ status: 'COMPLETED', resultData: { a: 2, b: 6, c: 'c' } });
    expect(await db.admin.executionRun.count({ where: { parentRunId: result.id } })).toBe(3);
  });

  it('a resume job whose parent went back to waiting meanwhile tries again and completes it', async () => {
    const process = await parent('PROCESS', { planning: { strategy: 'parallel' } });
    await action(process.id, 'a', 'math.evaluate', { expression: '1 + 1' });
    await action(process.id, 'b', 'text.template', { template: 'b' });
    const done = await run(process.id, {});
    expect(done.status).toBe('COMPLETED');
    const [child] = await db.admin.executionRun.findMany({ where: { parentRunId: done.id } });
    // The parent as a child's resume job finds it while the parent's own job still
    // plans: RUNNING, its children ended (its state records them).
    await db.admin.$executeRaw`UPDATE execution_runs SET status = 'RUNNING', completed_at = NULL,
      result_data = NULL WHERE id = ${done.id}::uuid`;
    const holder = new Client({ connectionString: db.adminUrl });
    await holder.connect();
    try {
      // The parent's row held: the resume job, carrying on, waits on it to save state.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM execution_runs WHERE id = $1 FOR UPDATE', [done.id]);
      const payload = { runId: done.id, companyId: tenantId, resumeAfter: child.id };
      await worker
        .get<Queue>(getQueueToken('execution'), { strict: false })
        .add('run.execute', payload, { ...JOB_OPTIONS['run.execute'](payload), jobId: `again-${done.id}` });
      await until('the resume job waiting on the row', async () => {
        const { rows } = await holder.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return Number(rows[0].n) > 0;
      });
      // The parent's own job, having read its children before they ended, goes to wait.
      await holder.query(`UPDATE execution_runs SET status = 'WAITING_CHILDREN' WHERE id = $1`, [done.id]);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    await waitForQueuesDrained(worker, 30_000);
    const parentRun = await db.admin.executionRun.findUniqueOrThrow({ where: { id: done.id } });
    expect(parentRun).toMatchObject({ status: 'COMPLETED', resultData: { a: 2, b: 'b' } });
  });

  it('follows the first matching route of a PROCESS', async () => {
    const process = await parent('PROCESS', {
      logicGate: {
        routes: [
          { when: { '>=': [{ var: 'input.score' }, 80] }, to: 'hire' },
          { when: true, to: 'reject' },
        ],
      },
    });
    await action(process.id, 'hire', 'text.template', { template: 'hired' });
    await action(process.id, 'reject', 'text.template', { template: 'rejected' });
    expect((await run(process.id, { score: 91 })).resultData).toBe('hired');
    expect((await run(process.id, { score: 12 })).resultData).toBe('rejected');
  });

  describe('limits', () => {
    it('refuses more children than RUN_MAX_FANOUT and deeper trees than RUN_MAX_DEPTH', async () => {
      const limited = await startWorker(db, { RUN_MAX_FANOUT: '2', RUN_MAX_DEPTH: '1' });
      await worker.close();
      try {
        const wide = await parent('PROCESS', { planning: { strategy: 'parallel' } });
        for (const alias of ['a', 'b', 'c']) await action(wide.id, alias, 'time.now', {});
        const created = await app.inject({
          method: 'POST',
          url: `/api/v1/entities/${wide.id}/runs`,
          headers,
          payload: { input: {} },
        });
        await waitForQueuesDrained(limited);
        const wideRun = await db.admin.executionRun.findUniqueOrThrow({ where: { id: created.json().id } });
        expect(wideRun).toMatchObject({ status: 'FAILED', errorCode: 'FANOUT_LIMIT_EXCEEDED' });
        expect(await db.admin.executionRun.count({ where: { parentRunId: wideRun.id } })).toBe(0);

        // PROCESS → SKILL → ACTION needs depth 2.
        const process = await parent('PROCESS');
        const skill = await db.admin.hierarchicalEntity.create({
          data: {
            companyId: tenantId,
            parentId: process.id,
            type: 'SKILL',
            name: `deep-${Math.random()}`,
            status: 'ACTIVE',
            hierarchy: { alias: 'inner' },
          },
        });
        await action(skill.id, 'leaf', 'time.now', {});
        const deep = await app.inject({
          method: 'POST',
          url: `/api/v1/entities/${process.id}/runs`,
          headers,
          payload: { input: {} },
        });
        await waitForQueuesDrained(limited);
        const root = await db.admin.executionRun.findUniqueOrThrow({ where: { id: deep.json().id } });
        expect(root).toMatchObject({ status: 'FAILED', errorCode: 'CHILD_FAILED' });
        const inner = await db.admin.executionRun.findFirstOrThrow({ where: { parentRunId: root.id } });
        expect(inner).toMatchObject({
          status: 'FAILED',
          errorCode: 'DEPTH_LIMIT_EXCEEDED',
          metadata: { depth: 1 },
        });
      } finally {
        await limited.close();
        worker = await startWorker(db);
      }
    });
  });

  it('shows a run tree nested, and retries an ended run as a new one', async () => {
    const process = await parent('PROCESS');
    const skill = await db.admin.hierarchicalEntity.create({
      data: {
        companyId: tenantId,
        parentId: process.id,
        type: 'SKILL',
        name: `tree-${Math.random()}`,
        status: 'ACTIVE',
        hierarchy: { alias: 'inner' },
      },
    });
    await action(skill.id, 'leaf', 'time.now', {});
    const result = await run(process.id, { n: 1 });
    expect(result.status).toBe('COMPLETED');
    const tree = await app.inject({ method: 'GET', url: `/api/v1/runs/${result.id}/tree`, headers });
    expect(tree.statusCode).toBe(200);
    expect(tree.json()).toMatchObject({
      id: result.id,
      status: 'COMPLETED',
      totalCostUsd: '0.000000',
      children: [{ entityId: skill.id, children: [{ status: 'COMPLETED', children: [] }] }],
    });

    const retried = await app.inject({ method: 'POST', url: `/api/v1/runs/${result.id}/retry`, headers });
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ entityId: process.id, status: 'QUEUED', inputData: { n: 1 } });
    expect(retried.json().id).not.toBe(result.id);
    const row = await db.admin.executionRun.findUniqueOrThrow({ where: { id: retried.json().id } });
    expect(row.metadata).toEqual({ retryOf: result.id });
    await waitForQueuesDrained(worker, 30_000);
    expect((await db.admin.executionRun.findUniqueOrThrow({ where: { id: row.id } })).status).toBe(
      'COMPLETED',
    );

    // Only an ended run can be retried.
    const waiting = await db.admin.executionRun.create({
      data: {
        companyId: tenantId,
        entityId: process.id,
        status: 'RUNNING',
        traceId: 'c'.repeat(32),
        spanId: 'd'.repeat(16),
      },
    });
    const refused = await app.inject({ method: 'POST', url: `/api/v1/runs/${waiting.id}/retry`, headers });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('RUN_NOT_FINISHED');
    await db.admin.executionRun.update({ where: { id: waiting.id }, data: { status: 'CANCELLED' } });
  });

  it('fails the parent when a step fails, and starts no later step', async () => {
    const skill = await parent('SKILL');
    await action(skill.id, 'first', 'math.evaluate', { expression: 'import({}, {})' }, 1);
    await action(skill.id, 'second', 'time.now', {}, 2);
    const result = await run(skill.id, {});
    expect(result).toMatchObject({ status: 'FAILED', errorCode: 'CHILD_FAILED' });
    expect(result.children).toHaveLength(1);
  });

  it('cancels a waiting parent and its unfinished children', async () => {
    await worker.close();
    try {
      const skill = await parent('SKILL');
      await action(skill.id, 'only', 'time.now', {});
      const created = (
        await app.inject({
          method: 'POST',
          url: `/api/v1/entities/${skill.id}/runs`,
          headers,
          payload: { input: {} },
        })
      ).json();
      const cancelled = await app.inject({
        method: 'POST',
        url: `/api/v1/runs/${created.id}/cancel`,
        headers,
      });
      expect(cancelled.json().status).toBe('CANCELLED');
    } finally {
      worker = await startWorker(db);
    }
    await waitForQueuesDrained(worker);
    // The parent's job found it cancelled: no child was ever started.
    expect(await db.admin.executionRun.count({ where: { parentRun: { status: 'CANCELLED' } } })).toBe(0);
  });
});
