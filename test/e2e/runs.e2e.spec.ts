import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EntitiesRepository } from '../../src/entities/entities.repository';
import { ExecutionProcessor } from '../../src/execution/execution.processor';
import { IngestionProcessor } from '../../src/knowledge/ingestion.processor';
import { RunEventsBus } from '../../src/execution/run-events.bus';
import { startWorker } from '../support/app';
import type { TestDatabase } from '../support/database';
import { startTenantHarness, type TenantHarness } from '../support/tenant-harness';
import { waitForQueuesDrained } from '../support/queues';
import { createEntity } from '../factories/entities';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';

describe('runs', () => {
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

  const builtin = (name: string, args: object, extra: Partial<Parameters<typeof createEntity>[1]> = {}) =>
    createEntity(db.admin, {
      companyId: tenantId,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { action: { kind: 'builtin', name, args } },
      ...extra,
    });
  const start = (entityId: string, body: object, extraHeaders: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/entities/${entityId}/runs`,
      headers: { ...headers, ...extraHeaders },
      payload: body,
    });
  const runOf = async (id: string) =>
    (await app.inject({ method: 'GET', url: `/api/v1/runs/${id}`, headers })).json();
  const finished = async (id: string) => {
    await waitForQueuesDrained(worker);
    return runOf(id);
  };

  it('queues a run (202) and a worker completes an ACTION builtin, logging the tool call', async () => {
    const entity = await builtin('text.template', {
      template: 'Hello {{input.name}}, from {{context.team}}',
    });
    const created = await start(entity.id, { input: { name: 'Ada' }, context: { team: 'ops' } });
    expect(created.statusCode).toBe(202);
    expect(created.json()).toMatchObject({ status: 'QUEUED', entityId: entity.id, companyId: tenantId });
    expect(created.json().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(created.json().spanId).toMatch(/^[0-9a-f]{16}$/);

    const run = await finished(created.json().id);
    expect(run).toMatchObject({ status: 'COMPLETED', resultData: 'Hello Ada, from ops', errorCode: null });
    expect(run.executionTimeMs).toBeGreaterThanOrEqual(0);
    const logs = (
      await app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/tool-logs`, headers })
    ).json().items;
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      stepKey: 'action',
      toolName: 'text.template',
      toolKind: 'builtin',
      status: 'success',
      outputPayload: 'Hello Ada, from ops',
    });
    const events = await db.admin.runEvent.findMany({ where: { runId: run.id }, orderBy: { id: 'asc' } });
    expect(
      events.map((e) => (e.type === 'run.status' ? (e.data as { status: string }).status : e.type)),
    ).toEqual(['QUEUED', 'RUNNING', 'tool.call', 'COMPLETED']);
  });

  it.each([
    ['json.transform', { expression: '$sum(items.price)' }, { items: [{ price: 2 }, { price: 3.5 }] }, 5.5],
    ['math.evaluate', { expression: 'sqrt(x) * 2', scope: { x: '{{input.x}}' } }, { x: 16 }, 8],
  ])('runs the %s builtin', async (name, args, input, expected) => {
    const entity = await builtin(name, args);
    const run = await finished((await start(entity.id, { input })).json().id);
    expect(run).toMatchObject({ status: 'COMPLETED', resultData: expected });
  });

  it('builds the execution worker with the lock and stalled-check timings of its config', async () => {
    const tuned = await startWorker(db, {
      EXECUTION_LOCK_DURATION_MS: '12345',
      EXECUTION_STALLED_INTERVAL_MS: '23456',
    });
    try {
      const { worker: bull } = tuned.get(ExecutionProcessor, { strict: false });
      expect(bull.opts).toMatchObject({ lockDuration: 12_345, stalledInterval: 23_456 });
    } finally {
      await tuned.close();
    }
  });

  it('runs only the queues of its WORKER_QUEUES role', async () => {
    const ingestOnly = await startWorker(db, { WORKER_QUEUES: 'ingestion' });
    try {
      expect(ingestOnly.get(ExecutionProcessor, { strict: false }).worker.isRunning()).toBe(false);
      expect(ingestOnly.get(IngestionProcessor, { strict: false }).worker.isRunning()).toBe(true);
    } finally {
      await ingestOnly.close();
    }
  });

  it('refuses mathjs functions that reach outside the expression', async () => {
    const entity = await builtin('math.evaluate', { expression: 'import({}, {})' });
    const run = await finished((await start(entity.id, { input: {} })).json().id);
    expect(run).toMatchObject({ status: 'FAILED', errorCode: 'TOOL_ERROR' });
  });

  it('skips a run whose logic gate is false', async () => {
    const entity = await createEntity(db.admin, {
      companyId: tenantId,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
    });
    await db.admin.hierarchicalEntity.update({
      where: { id: entity.id },
      data: { logicGate: { when: { '>': [{ var: 'input.score' }, 50] } } },
    });
    const low = await finished((await start(entity.id, { input: { score: 10 } })).json().id);
    expect(low.status).toBe('SKIPPED');
    const high = await finished((await start(entity.id, { input: { score: 90 } })).json().id);
    expect(high.status).toBe('COMPLETED');
  });

  it('validates the input contract at creation (400) and the output contract at the end', async () => {
    const entity = await builtin('text.template', { template: '{{input.name}}' });
    await db.admin.hierarchicalEntity.update({
      where: { id: entity.id },
      data: {
        ioContract: {
          input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
          output: { type: 'number' },
        },
      },
    });
    const bad = await start(entity.id, { input: { name: 42 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].pointer).toBe('/input/name');
    expect(await db.admin.executionRun.count({ where: { entityId: entity.id } })).toBe(0);

    const run = await finished((await start(entity.id, { input: { name: 'not a number' } })).json().id);
    expect(run).toMatchObject({ status: 'FAILED', errorCode: 'OUTPUT_CONTRACT_VIOLATION' });
  });

  it('decides each run on its entity row as it is now, though the API remembers rows it has read', async () => {
    const entity = await builtin('text.template', { template: '{{input.name}}' });
    const runsOf = () => db.admin.executionRun.count({ where: { entityId: entity.id } });
    const reads = jest.spyOn(app.get(EntitiesRepository), 'findVisibleVersioned');
    expect((await start(entity.id, { input: { name: 42 } })).statusCode).toBe(202);
    expect((await start(entity.id, { input: { name: 43 } })).statusCode).toBe(202);
    // The second run was decided on the row remembered from the first.
    expect(reads).toHaveBeenCalledTimes(1);
    // Changed behind the API's back: the remembered row no longer matches.
    await db.admin.hierarchicalEntity.update({
      where: { id: entity.id },
      data: { ioContract: { input: { type: 'object', properties: { name: { type: 'string' } } } } },
    });
    const refused = await start(entity.id, { input: { name: 42 } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors[0].pointer).toBe('/input/name');
    expect((await start(entity.id, { input: { name: 'Ada' } })).statusCode).toBe(202);
    // And back: a refusal decided on a remembered row is decided again on a fresh read.
    await db.admin.hierarchicalEntity.update({ where: { id: entity.id }, data: { ioContract: {} } });
    expect((await start(entity.id, { input: { name: 7 } })).statusCode).toBe(202);
    const keyed = await start(entity.id, { input: { name: 'Ada' } }, { 'idempotency-key': 'remembered' });
    expect(keyed.statusCode).toBe(202);
    await db.admin.hierarchicalEntity.update({ where: { id: entity.id }, data: { status: 'ARCHIVED' } });
    // Not even the run of an earlier request with the same key: the row is read first.
    const keyedAgain = await start(
      entity.id,
      { input: { name: 'Ada' } },
      { 'idempotency-key': 'remembered' },
    );
    expect(keyedAgain.statusCode).toBe(409);
    expect(keyedAgain.json().code).toBe('ENTITY_NOT_RUNNABLE');
    const archived = await start(entity.id, { input: { name: 'Ada' } });
    expect(archived.statusCode).toBe(409);
    expect(archived.json().code).toBe('ENTITY_NOT_RUNNABLE');
    expect(await runsOf()).toBe(5);

    // Another tenant never gets an answer decided on this tenant's row.
    const platform = await db.admin.company.findFirstOrThrow({ where: { type: 'APP' } });
    const other = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    const outsider = bearer(
      await login(app, (await createUser(db.admin, { companyId: other.id, role: 'member' })).email),
    );
    await db.admin.hierarchicalEntity.update({ where: { id: entity.id }, data: { status: 'ACTIVE' } });
    expect((await start(entity.id, { input: { name: 'Ada' } })).statusCode).toBe(202);
    const foreign = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${entity.id}/runs`,
      headers: outsider,
      payload: { input: { name: 'Ada' } },
    });
    expect(foreign.statusCode).toBe(404);
    expect(await runsOf()).toBe(6);
    reads.mockRestore();
    await waitForQueuesDrained(worker);
  });

  it('runs a DRAFT only as a test run, and never an ARCHIVED entity', async () => {
    const draft = await builtin('time.now', {}, { status: 'DRAFT' });
    const refused = await start(draft.id, { input: {} });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('ENTITY_NOT_RUNNABLE');
    expect((await start(draft.id, { input: {}, test: true })).statusCode).toBe(202);
    const archived = await builtin('time.now', {}, { status: 'ARCHIVED' });
    expect((await start(archived.id, { input: {}, test: true })).statusCode).toBe(409);
  });

  it('returns the same run for the same Idempotency-Key and body, 409 for another body', async () => {
    const entity = await builtin('time.now', {});
    const first = await start(entity.id, { input: { a: 1, b: 2 } }, { 'idempotency-key': 'order-7' });
    const again = await start(entity.id, { input: { b: 2, a: 1 } }, { 'idempotency-key': 'order-7' });
    expect(again.statusCode).toBe(202);
    expect(again.json().id).toBe(first.json().id);
    const other = await start(entity.id, { input: { a: 2 } }, { 'idempotency-key': 'order-7' });
    expect(other.statusCode).toBe(409);
    const parallel = await Promise.all(
      Array.from({ length: 10 }, () => start(entity.id, { input: {} }, { 'idempotency-key': 'burst' })),
    );
    expect(new Set(parallel.map((r) => r.json().id)).size).toBe(1);
    await waitForQueuesDrained(worker);
    expect(
      await db.admin.executionRun.count({ where: { idempotencyKey: { in: ['order-7', 'burst'] } } }),
    ).toBe(2);
  });

  /** An app admin's headers, and an entity of a suspended tenant they can see. */
  const suspendedTenant = async () => {
    const platform = await db.admin.company.findFirstOrThrow({ where: { type: 'APP' } });
    const admin = bearer(
      await login(app, (await createUser(db.admin, { companyId: platform.id, role: 'app_admin' })).email),
    );
    const suspended = await createCompany(db.admin, {
      type: 'TENANT',
      parentId: platform.id,
      status: 'suspended',
    });
    const entity = await createEntity(db.admin, {
      companyId: suspended.id,
      type: 'ACTION',
      status: 'ACTIVE',
    });
    return { admin, entity };
  };

  it('refuses runs of a suspended company with 423', async () => {
    const { admin, entity } = await suspendedTenant();
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${entity.id}/runs`,
      headers: admin,
      payload: { input: {} },
    });
    expect(response.statusCode).toBe(423);
  });

  it('gives each of runs posted together its own answer: keys, refusals and scopes', async () => {
    const { admin, entity: refusedEntity } = await suspendedTenant();
    const entity = await builtin('time.now', {});
    await worker.close();
    const post = (entityId: string, body: object, extra: Record<string, string> = {}) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/entities/${entityId}/runs`,
        headers: { ...headers, ...extra },
        payload: body,
      });
    // Sent in one turn, so they are written by one batch per scope.
    const [keyed, plain, refused, byAdmin] = await Promise.all([
      Promise.all(
        Array.from({ length: 4 }, () => post(entity.id, { input: {} }, { 'idempotency-key': 'turn' })),
      ),
      Promise.all(Array.from({ length: 3 }, () => post(entity.id, { input: { n: 1 } }))),
      post(refusedEntity.id, { input: {} }, admin),
      post(entity.id, { input: { by: 'admin' } }, admin),
    ]);
    // The row a batch returns is the run as it is read back.
    expect(plain[0].json()).toEqual(await runOf(plain[0].json().id));
    worker = await startWorker(db);

    expect([...keyed, ...plain, byAdmin].map((response) => response.statusCode)).toEqual(Array(8).fill(202));
    expect(new Set(keyed.map((response) => response.json().id)).size).toBe(1);
    expect(new Set(plain.map((response) => response.json().id)).size).toBe(3);
    expect(refused.statusCode).toBe(423);
    expect(refused.json().code).toBe('COMPANY_SUSPENDED');
    expect(byAdmin.json()).toMatchObject({ companyId: tenantId, status: 'QUEUED' });

    const ids = [keyed[0], ...plain, byAdmin].map((response) => response.json().id as string);
    expect(await db.admin.executionRun.count({ where: { entityId: entity.id } })).toBe(5);
    expect(await db.admin.executionRun.count({ where: { entityId: refusedEntity.id } })).toBe(0);
    const queuedEvents = await db.admin.runEvent.findMany({
      where: { runId: { in: ids }, type: 'run.status', data: { path: ['status'], equals: 'QUEUED' } },
    });
    expect(queuedEvents.map((event) => event.runId).sort()).toEqual([...ids].sort());
    // The worker claims and ends them together too; each keeps its own row, log and events.
    for (const id of ids) expect((await finished(id)).status).toBe('COMPLETED');
    for (const id of ids) {
      const events = await db.admin.runEvent.findMany({ where: { runId: id }, orderBy: { id: 'asc' } });
      expect(events.map((event) => [event.type, (event.data as { status?: string }).status])).toEqual([
        ['run.status', 'QUEUED'],
        ['run.status', 'RUNNING'],
        ['tool.call', 'success'],
        ['run.status', 'COMPLETED'],
      ]);
      expect(await db.admin.toolInteractionLog.count({ where: { runId: id } })).toBe(1);
    }
  });

  it('runs a catalog entity in the caller’s company, and no longer once it is unshared', async () => {
    const platform = await db.admin.company.findFirstOrThrow({ where: { type: 'APP' } });
    const shared = () =>
      createEntity(db.admin, {
        companyId: platform.id,
        type: 'ACTION',
        status: 'ACTIVE',
        shared: true,
        capabilities: { action: { kind: 'builtin', name: 'math.evaluate', args: { expression: '6 * 7' } } },
      });
    const kept = await shared();
    const withdrawn = await shared();
    await worker.close();
    const first = await start(kept.id, { input: {} });
    const second = await start(withdrawn.id, { input: {} });
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(first.json().companyId).toBe(tenantId);
    // Unshared while its run waits: the worker no longer sees it.
    await db.admin.hierarchicalEntity.update({
      where: { id: withdrawn.id },
      data: { metadataExtensions: {} },
    });
    expect((await start(withdrawn.id, { input: {} })).statusCode).toBe(404);
    worker = await startWorker(db);

    expect(await finished(first.json().id)).toMatchObject({ status: 'COMPLETED', resultData: 42 });
    expect(await finished(second.json().id)).toMatchObject({
      status: 'FAILED',
      errorCode: 'ENTITY_NOT_FOUND',
    });
  });

  it('cancels a queued run; cancelling again is 409', async () => {
    await worker.close();
    try {
      const entity = await builtin('time.now', {});
      const run = (await start(entity.id, { input: {} })).json();
      const cancelled = await app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/cancel`, headers });
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json().status).toBe('CANCELLED');
      expect(
        (await app.inject({ method: 'POST', url: `/api/v1/runs/${run.id}/cancel`, headers })).statusCode,
      ).toBe(409);
    } finally {
      worker = await startWorker(db);
    }
    // The job still in the queue finds the run cancelled and does nothing.
    await waitForQueuesDrained(worker);
    expect(await db.admin.toolInteractionLog.count({ where: { run: { status: 'CANCELLED' } } })).toBe(0);
  });

  describe('event stream', () => {
    const parse = (body: string) =>
      body
        .trim()
        .split('\n\n')
        .map((chunk) =>
          Object.fromEntries(
            chunk
              .split('\n')
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
          ),
        )
        .map((e) => ({ id: e.id, event: e.event, data: JSON.parse(e.data) }));

    it('replays a finished run’s events and closes; resumes after Last-Event-ID', async () => {
      const entity = await builtin('time.now', {});
      const run = await finished((await start(entity.id, { input: {} })).json().id);
      const response = await app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/events`, headers });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/text\/event-stream/);
      const events = parse(response.body);
      expect(events.map((e) => (e.event === 'run.status' ? e.data.status : e.event))).toEqual([
        'QUEUED',
        'RUNNING',
        'tool.call',
        'COMPLETED',
      ]);
      const resumed = await app.inject({
        method: 'GET',
        url: `/api/v1/runs/${run.id}/events`,
        headers: { ...headers, 'last-event-id': events[1].id },
      });
      expect(parse(resumed.body).map((e) => e.id)).toEqual(events.slice(2).map((e) => e.id));
    });

    it('a run inside a tree streams its own subtree only, not its parent’s or siblings’', async () => {
      const root = await createEntity(db.admin, { companyId: tenantId, type: 'SKILL', status: 'ACTIVE' });
      const middle = await createEntity(db.admin, {
        companyId: tenantId,
        type: 'SKILL',
        status: 'ACTIVE',
        parentId: root.id,
      });
      await createEntity(db.admin, {
        companyId: tenantId,
        type: 'ACTION',
        status: 'ACTIVE',
        parentId: middle.id,
      });
      await createEntity(db.admin, {
        companyId: tenantId,
        type: 'ACTION',
        status: 'ACTIVE',
        parentId: root.id,
      });
      const run = await finished((await start(root.id, { input: {} })).json().id);
      expect(run.status).toBe('COMPLETED');
      const runs = await db.admin.executionRun.findMany({ where: { rootRunId: run.id } });
      const middleRun = runs.find((r) => r.entityId === middle.id)!;
      const leaf = runs.find((r) => r.parentRunId === middleRun.id)!;
      expect(runs).toHaveLength(4);

      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/runs/${middleRun.id}/events`,
        headers,
      });
      const events = parse(response.body);
      expect(new Set(events.map((e) => e.data.runId))).toEqual(new Set([middleRun.id, leaf.id]));
      const own = events.filter((e) => e.data.runId === middleRun.id && e.event === 'run.status');
      expect(own.map((e) => e.data.status)).toEqual([
        'QUEUED',
        'RUNNING',
        'WAITING_CHILDREN',
        'RUNNING',
        'COMPLETED',
      ]);
      // Every event of the subtree, in order, and resumable inside it.
      const all = await db.admin.runEvent.findMany({
        where: { runId: { in: [middleRun.id, leaf.id] } },
        orderBy: { id: 'asc' },
      });
      expect(events.map((e) => e.id)).toEqual(all.map((e) => String(e.id)));
      const resumed = await app.inject({
        method: 'GET',
        url: `/api/v1/runs/${middleRun.id}/events`,
        headers: { ...headers, 'last-event-id': events[1].id },
      });
      expect(parse(resumed.body).map((e) => e.id)).toEqual(events.slice(2).map((e) => e.id));
    });

    it('streams live until the run ends, descendants included', async () => {
      await worker.close();
      const skill = await db.admin.hierarchicalEntity.create({
        data: { companyId: tenantId, type: 'SKILL', name: `live-${Math.random()}`, status: 'ACTIVE' },
      });
      await createEntity(db.admin, {
        companyId: tenantId,
        type: 'ACTION',
        status: 'ACTIVE',
        parentId: skill.id,
      });
      const run = (await start(skill.id, { input: {} })).json();
      const streaming = app.inject({ method: 'GET', url: `/api/v1/runs/${run.id}/events`, headers });
      await new Promise((resolve) => setTimeout(resolve, 300));
      worker = await startWorker(db);
      const events = parse((await streaming).body);
      const statuses = events.filter((e) => e.event === 'run.status');
      expect(statuses.at(-1)).toMatchObject({ data: { runId: run.id, status: 'COMPLETED' } });
      expect(new Set(events.map((e) => e.data.runId)).size).toBe(2);
    });

    it('wakes a waiting stream by Redis pub/sub, across processes, before its fallback poll', async () => {
      // The API's bus waits; a worker-side bus (another connection) publishes.
      const listening = app.get(RunEventsBus, { strict: false });
      const publishing = worker.get(RunEventsBus, { strict: false });
      const root = '01930000-0000-7000-8000-0000000000aa';
      const second = '01930000-0000-7000-8000-0000000000ab';
      const woken = Promise.all([listening.wait(root, 60_000), listening.wait(second, 60_000)]).then(
        () => 'woken',
      );
      const other = listening.wait('01930000-0000-7000-8000-0000000000bb', 300).then(() => 'timed out');
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Two trees in one turn: one message names both.
      publishing.publish(root);
      publishing.publish(second);
      expect(
        await Promise.race([woken, new Promise((resolve) => setTimeout(() => resolve('not woken'), 10_000))]),
      ).toBe('woken');
      expect(await other).toBe('timed out');
    });

    it('answers 404 for a run out of scope before streaming anything', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/runs/01930000-0000-7000-8000-000000000000/events',
        headers,
      });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    });
  });

  it('lists runs with filters', async () => {
    const entity = await builtin('time.now', {});
    const run = await finished((await start(entity.id, { input: {} })).json().id);
    const list = (
      await app.inject({ method: 'GET', url: `/api/v1/runs?entityId=${entity.id}&rootOnly=true`, headers })
    ).json();
    expect(list.items.map((r: { id: string }) => r.id)).toEqual([run.id]);
    const none = (
      await app.inject({ method: 'GET', url: `/api/v1/runs?entityId=${entity.id}&status=FAILED`, headers })
    ).json();
    expect(none.items).toEqual([]);
  });
});
