import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { rotateKeys } from '../../src/billing/key-rotation';
import { Reconciler } from '../../src/execution/engine/reconciler';
import { Envelope, parseMasterKeys } from '../../src/infra/crypto/envelope';
import { Prisma } from '../../src/infra/database/generated/client';
import { JOB_OPTIONS, Jobs } from '../../src/infra/queue/jobs';
import { QueueName } from '../../src/infra/queue/queue-names';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { startApi, startWorker, TEST_ENCRYPTION_KEYS } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login, type World } from '../factories/tenancy';

const PLATFORM_KEY = 'sk-platform-canary-0001';
const PARTNER_KEY = 'sk-partner-canary-0002';
const TENANT_KEY = 'sk-tenant-canary-0003';
const MODEL = 'claude-sonnet-5-5';
// Sonnet-tier prices per million tokens: input, output, cache read, cache write.
const PRICES = { input: '3', output: '15', cache_read: '0.30', cache_write: '3.75' };

describe('billing: registry, credentials, ledger, budgets, reports', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const platform = new FakeAnthropic();
  const byok = new FakeAnthropic();
  let byokUrl: string;
  let world: World;
  let h: Record<string, Record<string, string>>;
  let overrides: Record<string, string>;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const platformUrl = await platform.start();
    byokUrl = await byok.start();
    overrides = {
      ANTHROPIC_BASE_URL: platformUrl,
      EGRESS_ALLOW_PRIVATE_HOSTS: new URL(byokUrl).host,
      EXECUTION_CONCURRENCY: '50',
      LLM_MAX_RETRIES: '0',
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
    world = await createWorld(db.admin);
    const [p0, p1] = world.partners;
    const as = async (email: string) => bearer(await login(app, email));
    h = {
      app: await as(world.appAdmin.email),
      p0: await as(p0.admin.email),
      p1: await as(p1.admin.email),
      t1: await as(p0.tenants[0].users.tenant_admin.email),
      t1member: await as(p0.tenants[0].users.member.email),
      t2: await as(p0.tenants[1].users.tenant_admin.email),
      t3: await as(p1.tenants[0].users.tenant_admin.email),
      t4: await as(p1.tenants[1].users.tenant_admin.email),
    };
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await platform.stop();
    await byok.stop();
    await db.drop();
  });

  const tenant = (i: 1 | 2 | 3 | 4) => world.partners[i <= 2 ? 0 : 1].tenants[(i - 1) % 2].company.id;
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: object, payload?: object) =>
    app.inject({ method, url: `/api/v1${url}`, headers: headers as Record<string, string>, payload });
  const llmEntity = (
    companyId: string,
    model = MODEL,
    governance: Prisma.InputJsonObject = {},
    maxTokens = 64,
  ) =>
    createEntity(db.admin, {
      companyId,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { model: { name: model, maxTokens }, action: { kind: 'llm', prompt: 'x' } },
    }).then((e) => db.admin.hierarchicalEntity.update({ where: { id: e.id }, data: { governance } }));
  const post = async (entityId: string, headers: object) => {
    const created = await api('POST', `/entities/${entityId}/runs`, headers, { input: {} });
    expect(created.statusCode).toBe(202);
    return created.json().id as string;
  };
  const settle = async (runId: string, headers: object, w = worker) => {
    await waitForQueuesDrained(w, 30_000);
    return (await api('GET', `/runs/${runId}`, headers)).json();
  };
  const run = async (entityId: string, headers: object) => settle(await post(entityId, headers), headers);
  const usageSum = async (where: Prisma.UsageLogWhereInput) =>
    (await db.admin.usageLog.aggregate({ where, _sum: { calculatedCost: true } }))._sum.calculatedCost ??
    new Prisma.Decimal(0);
  const catalog = async (
    model: string,
    prices: Record<string, string>,
    unit = '1M_tokens',
    apiKey?: string,
  ) => {
    for (const [kind, internalCost] of Object.entries(prices)) {
      const response = await api('POST', '/integrations', h.app, {
        providerName: 'anthropic',
        modelName: model,
        serviceSku: `anthropic/${model}:${kind}`,
        componentType: 'llm',
        internalCost,
        costUnit: unit,
        ...(apiKey && kind === 'input' ? { apiKey } : {}),
      });
      expect(response.statusCode).toBe(201);
    }
  };

  it('fails a run with NO_CREDENTIALS when no company above it or the platform has a key', async () => {
    const before = platform.requests.length;
    const result = await run((await llmEntity(tenant(2))).id, h.t2);
    expect(result).toMatchObject({ status: 'FAILED', errorCode: 'NO_CREDENTIALS' });
    expect(platform.requests.length).toBe(before);
  });

  it('keeps the registry: catalog rows inherited downward, keys never shown, writes only where allowed', async () => {
    await catalog(MODEL, PRICES, '1M_tokens', PLATFORM_KEY);
    const list = await api('GET', '/integrations?provider=anthropic', h.t1);
    expect(list.statusCode).toBe(200);
    const rows = list.json().items as Record<string, unknown>[];
    expect(rows.map((r) => r.serviceSku).sort()).toEqual(
      Object.keys(PRICES)
        .map((k) => `anthropic/${MODEL}:${k}`)
        .sort(),
    );
    const keyed = rows.find((r) => r.hasApiKey) as { id: string };
    expect(keyed).toMatchObject({ inherited: true, apiKeyLast4: '0001', internalCost: '3.0000000000' });
    expect(JSON.stringify(rows)).not.toContain(PLATFORM_KEY);
    expect(Object.keys(keyed)).not.toContain('apiKey');
    const stored = await db.admin.integrationRegistry.findUniqueOrThrow({
      where: { id: keyed.id },
    });
    expect(stored.encryptedApiKey).not.toContain(PLATFORM_KEY);
    expect(stored.apiKeyId).toBe('test1');

    // The catalog is read-only from below; members may not write; bad input is 4xx.
    expect((await api('PATCH', `/integrations/${keyed.id}`, h.t1, { internalCost: '0' })).json().code).toBe(
      'CATALOG_READ_ONLY',
    );
    const own = {
      providerName: 'anthropic',
      modelName: MODEL,
      serviceSku: `anthropic/${MODEL}:input`,
      componentType: 'llm',
      internalCost: 0.5,
      costUnit: '1M_tokens',
    };
    expect((await api('POST', '/integrations', h.t1member, own)).statusCode).toBe(403);
    expect((await api('POST', '/integrations', h.t1, { ...own, costUnit: 'per_banana' })).statusCode).toBe(
      400,
    );
    expect((await api('POST', '/integrations', h.t1, { ...own, internalCost: '-1' })).statusCode).toBe(400);
    expect((await api('POST', '/integrations', h.t1, { ...own, companyId: tenant(3) })).statusCode).toBe(404);
    const baseUrlWithoutKey = await api('POST', '/integrations', h.t1, { ...own, baseUrl: byokUrl });
    expect(baseUrlWithoutKey.statusCode).toBe(422);
    expect(baseUrlWithoutKey.json().code).toBe('API_KEY_REQUIRED');
    const privateBase = await api('POST', '/integrations', h.t1, {
      ...own,
      apiKey: TENANT_KEY,
      baseUrl: 'http://169.254.169.254/v1',
    });
    expect(privateBase.statusCode).toBe(422);
    expect(privateBase.json().code).toBe('BASE_URL_REFUSED');

    // null is refused where a field may only be absent, never answered with a 500.
    expect((await api('POST', '/integrations', h.t1, { ...own, apiKey: null })).statusCode).toBe(400);
    expect((await api('PATCH', `/integrations/${keyed.id}`, h.app, { internalCost: null })).statusCode).toBe(
      400,
    );
    expect((await api('PATCH', `/integrations/${keyed.id}`, h.app, { status: null })).statusCode).toBe(400);

    // Tenant 1 brings its own key, sent to its own endpoint.
    const created = await api('POST', '/integrations', h.t1, {
      ...own,
      apiKey: TENANT_KEY,
      baseUrl: byokUrl,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      hasApiKey: true,
      apiKeyLast4: '0003',
      internalCost: '0.5000000000',
    });
    expect(created.body).not.toContain(TENANT_KEY);
    expect((await api('POST', '/integrations', h.t1, own)).json().code).toBe('INTEGRATION_EXISTS');
    expect((await api('GET', `/integrations/${created.json().id}`, h.t3)).statusCode).toBe(404);
    const moved = await api('PATCH', `/integrations/${created.json().id}`, h.t1, {
      baseUrl: 'https://example.org',
    });
    expect(moved.json().code).toBe('API_KEY_REQUIRED');
    expect((await api('GET', `/integrations/${created.json().id}`, h.t1)).json().baseUrl).toBe(byokUrl);

    // Partner 2 brings a key for its tenants.
    const partnerRow = await api('POST', '/integrations', h.p1, {
      ...own,
      serviceSku: `anthropic/${MODEL}:output`,
      internalCost: '15',
      apiKey: PARTNER_KEY,
    });
    expect(partnerRow.statusCode).toBe(201);
  });

  it('resolves credentials tenant, then partner, then platform, and sends each key where it belongs', async () => {
    const auth = (fake: FakeAnthropic) => {
      const request = fake.requests.at(-1)!;
      return String(request.headers['x-api-key'] ?? request.headers.authorization);
    };
    expect((await run((await llmEntity(tenant(1))).id, h.t1)).status).toBe('COMPLETED');
    expect(auth(byok)).toContain(TENANT_KEY);
    expect((await run((await llmEntity(tenant(3))).id, h.t3)).status).toBe('COMPLETED');
    expect(auth(platform)).toContain(PARTNER_KEY);
    expect((await run((await llmEntity(tenant(2))).id, h.t2)).status).toBe('COMPLETED');
    expect(auth(platform)).toContain(PLATFORM_KEY);
  });

  it('checks a registry base URL again at call time, and does not let a keyless row undercut the key owner’s price', async () => {
    // The saved URL now points somewhere the egress guard refuses (as if DNS changed).
    const row = await db.admin.integrationRegistry.findFirstOrThrow({ where: { companyId: tenant(1) } });
    await db.admin.integrationRegistry.update({
      where: { id: row.id },
      data: { baseUrl: 'http://127.0.0.1:9/' },
    });
    const refused = await run((await llmEntity(tenant(1))).id, h.t1);
    expect(refused).toMatchObject({ status: 'FAILED', errorCode: 'EGRESS_REFUSED' });
    await db.admin.integrationRegistry.update({ where: { id: row.id }, data: { baseUrl: row.baseUrl } });

    // Tenant 3 calls on its partner's key: its own keyless zero-priced row is ignored.
    const cheap = await api('POST', '/integrations', h.t3, {
      providerName: 'anthropic',
      modelName: MODEL,
      serviceSku: `anthropic/${MODEL}:output`,
      componentType: 'llm',
      internalCost: '0',
      costUnit: '1M_tokens',
    });
    expect(cheap.statusCode).toBe(201);
    platform.reply({ text: 'x', usage: { input_tokens: 0, output_tokens: 1000 } });
    const billed = await run((await llmEntity(tenant(3))).id, h.t3);
    // 1000 output tokens at the partner's 15 per million.
    expect(billed).toMatchObject({ status: 'COMPLETED', totalCostUsd: '0.015000' });
    expect((await api('DELETE', `/integrations/${cheap.json().id}`, h.t3)).statusCode).toBe(204);
  });

  it('bills every token kind at the nearest price, once, and rolls costs up the run tree to the cent', async () => {
    const usage = {
      input_tokens: 1200,
      output_tokens: 350,
      cache_read_input_tokens: 10_000,
      cache_creation_input_tokens: 2048,
    };
    platform.reply({ text: 'a', usage });
    const single = await run((await llmEntity(tenant(2))).id, h.t2);
    expect(single).toMatchObject({ status: 'COMPLETED', totalCostUsd: '0.019530', totalTokens: 13_598 });
    const rows = await db.admin.usageLog.findMany({
      where: { runId: single.id },
      orderBy: { serviceSku: 'asc' },
    });
    expect(rows.map((r) => [r.serviceSku, r.rawQuantity.toString(), r.calculatedCost.toFixed(10)])).toEqual([
      [`anthropic/${MODEL}:cache_read`, '10000', '0.0030000000'],
      [`anthropic/${MODEL}:cache_write`, '2048', '0.0076800000'],
      [`anthropic/${MODEL}:input`, '1200', '0.0036000000'],
      [`anthropic/${MODEL}:output`, '350', '0.0052500000'],
    ]);
    const [log] = (await api('GET', `/runs/${single.id}/llm-logs`, h.t2)).json().items;
    expect(log.costUsd).toBe('0.019530');

    // A replayed step (the job retried after the call was logged) bills nothing more.
    await db.admin.executionRun.update({ where: { id: single.id }, data: { status: 'RUNNING' } });
    const queue = worker.get<Queue>(getQueueToken(QueueName.Execution), { strict: false });
    const payload = { runId: single.id, companyId: tenant(2), recovery: 'replay-test' };
    await queue.add(Jobs.ExecuteRun.name, payload, JOB_OPTIONS['run.execute'](payload));
    const replayed = await settle(single.id, h.t2);
    expect(replayed).toMatchObject({ status: 'COMPLETED', totalCostUsd: '0.019530', totalTokens: 13_598 });
    expect(await db.admin.usageLog.count({ where: { runId: single.id } })).toBe(4);

    // A SKILL of two LLM steps: the parent's totals are its children's, and the ledger's.
    const skill = await createEntity(db.admin, {
      companyId: tenant(2),
      type: 'SKILL',
      status: 'ACTIVE',
      capabilities: {},
    });
    for (const name of ['first', 'second'])
      await db.admin.hierarchicalEntity.update({
        where: { id: (await llmEntity(tenant(2))).id },
        data: { parentId: skill.id, name: `${name}_${skill.id.slice(-6)}` },
      });
    platform.reply({ text: 'one', usage: { input_tokens: 1000, output_tokens: 100 } });
    platform.reply({ text: 'two', usage: { input_tokens: 333, output_tokens: 77 } });
    const tree = await run(skill.id, h.t2);
    expect(tree.status).toBe('COMPLETED');
    const children = await db.admin.executionRun.findMany({ where: { parentRunId: tree.id } });
    const childCost = children.reduce((sum, c) => sum.add(c.totalCostUsd), new Prisma.Decimal(0));
    const ledger = await usageSum({ run: { rootRunId: tree.id } });
    // 1000 × 3 + 100 × 15 + 333 × 3 + 77 × 15 per million
    expect(ledger.toFixed(10)).toBe('0.0066540000');
    expect(childCost.toFixed(10)).toBe(ledger.toFixed(10));
    expect(tree.totalCostUsd).toBe(ledger.toFixed(6));
    expect(tree.totalTokens).toBe(1000 + 100 + 333 + 77);
  });

  it('bills priced tool calls per call or per thousand characters, once', async () => {
    for (const [sku, internalCost, costUnit] of [
      ['tool/clock', '0.002', 'call'],
      ['tool/writer', '0.5', '1K_chars'],
    ]) {
      const created = await api('POST', '/integrations', h.app, {
        providerName: 'internal',
        modelName: sku,
        serviceSku: sku,
        componentType: 'tool',
        internalCost,
        costUnit,
      });
      expect(created.statusCode).toBe(201);
    }
    const tool = (capabilities: Prisma.InputJsonObject) =>
      createEntity(db.admin, { companyId: tenant(2), type: 'ACTION', status: 'ACTIVE', capabilities });
    const clock = await run(
      (await tool({ action: { kind: 'builtin', name: 'time.now', sku: 'tool/clock' } })).id,
      h.t2,
    );
    expect(clock).toMatchObject({ status: 'COMPLETED', totalCostUsd: '0.002000' });
    const writer = await run(
      (
        await tool({
          action: {
            kind: 'builtin',
            name: 'text.template',
            args: { template: 'x'.repeat(98) },
            sku: 'tool/writer',
          },
        })
      ).id,
      h.t2,
    );
    // The JSON output is "xxx…" (98 + 2 quotes = 100 characters): 100 × 0.5 / 1000.
    expect(writer).toMatchObject({ status: 'COMPLETED', totalCostUsd: '0.050000' });
    const [log] = (await api('GET', `/runs/${writer.id}/tool-logs`, h.t2)).json().items;
    expect(log.costUsd).toBe('0.050000');
    const rows = await db.admin.usageLog.findMany({ where: { runId: writer.id } });
    expect(rows.map((r) => [r.serviceSku, r.rawQuantity.toString()])).toEqual([['tool/writer', '100']]);

    // Replayed from its log row: no second ledger row.
    await db.admin.executionRun.update({ where: { id: clock.id }, data: { status: 'RUNNING' } });
    const queue = worker.get<Queue>(getQueueToken(QueueName.Execution), { strict: false });
    const payload = { runId: clock.id, companyId: tenant(2), recovery: 'tool-replay' };
    await queue.add(Jobs.ExecuteRun.name, payload, JOB_OPTIONS['run.execute'](payload));
    expect(await settle(clock.id, h.t2)).toMatchObject({ status: 'COMPLETED', totalCostUsd: '0.002000' });
    expect(await db.admin.usageLog.count({ where: { runId: clock.id } })).toBe(1);
    expect(await db.admin.budgetReservation.count()).toBe(0);
  });

  it('refuses a call that could overshoot the run’s budget before making it', async () => {
    const before = platform.requests.length;
    const cheap = await run(
      (await llmEntity(tenant(2), MODEL, { budget: { maxCostUsd: '0.000001' } })).id,
      h.t2,
    );
    expect(cheap).toMatchObject({ status: 'FAILED', errorCode: 'BUDGET_EXCEEDED', totalCostUsd: '0.000000' });
    const short = await run((await llmEntity(tenant(2), MODEL, { budget: { maxTokens: 50 } }, 64)).id, h.t2);
    expect(short).toMatchObject({ status: 'FAILED', errorCode: 'BUDGET_EXCEEDED' });
    expect(platform.requests.length).toBe(before);
    expect(await db.admin.budgetReservation.count()).toBe(0);
  });

  it('holds 50 concurrent runs to a company budget that affords 10 calls', async () => {
    // Output-priced so a call's worst case is close to its real cost: 10 output tokens
    // at $1 per 1K = $0.01, plus 10 input tokens at $0.0001 per 1K.
    await catalog('race-model', { input: '0.0001', output: '1' }, '1K_tokens');
    const perCall = new Prisma.Decimal('0.010001');
    const budget = perCall.mul(10);
    const set = await api('PATCH', `/companies/${tenant(4)}`, h.app, { monthlyBudgetUsd: budget.toFixed(6) });
    expect(set.statusCode).toBe(200);
    const entity = await llmEntity(tenant(4), 'race-model', {}, 10);
    platform.fallback = { text: 'ok', usage: { input_tokens: 10, output_tokens: 10 } };
    const before = platform.requests.length;
    const ids = await Promise.all(Array.from({ length: 50 }, () => post(entity.id, h.t4)));
    await waitForQueuesDrained(worker, 60_000);
    platform.fallback = { text: 'ok' };

    const calls = platform.requests.length - before;
    const spent = await usageSum({ companyId: tenant(4) });
    expect(spent.lte(budget)).toBe(true);
    expect(calls).toBeGreaterThanOrEqual(9);
    expect(spent.toFixed(10)).toBe(perCall.mul(calls).toFixed(10));
    const runs = await db.admin.executionRun.findMany({ where: { id: { in: ids } } });
    expect(runs.filter((r) => r.status === 'COMPLETED')).toHaveLength(calls);
    expect(runs.filter((r) => r.errorCode === 'BUDGET_EXCEEDED')).toHaveLength(50 - calls);
    expect(await db.admin.budgetReservation.count()).toBe(0);
    const counters = await db.admin.companySpend.findMany({
      where: { companyId: { in: [tenant(4), world.partners[1].company.id] } },
    });
    for (const counter of counters) expect(counter.reservedUsd.toFixed(10)).toBe('0.0000000000');

    // Spent to the budget: new runs are refused up front (402)...
    await api('PATCH', `/companies/${tenant(4)}`, h.app, { monthlyBudgetUsd: spent.toFixed(6) });
    const refused = await api('POST', `/entities/${entity.id}/runs`, h.t4, { input: {} });
    expect(refused.statusCode).toBe(402);
    expect(refused.json().code).toBe('BUDGET_EXHAUSTED');
    // ...and a partner's budget counts its tenants' spend.
    await api('PATCH', `/companies/${tenant(4)}`, h.app, { monthlyBudgetUsd: null });
    await api('PATCH', `/companies/${world.partners[1].company.id}`, h.app, { monthlyBudgetUsd: '0.000001' });
    const byPartner = await api('POST', `/entities/${entity.id}/runs`, h.t4, { input: {} });
    expect(byPartner.statusCode).toBe(402);
    expect(byPartner.json().detail).toContain(world.partners[1].company.name);
    await api('PATCH', `/companies/${world.partners[1].company.id}`, h.app, { monthlyBudgetUsd: null });
  });

  it('gives back the reservation of a call whose worker died, once its timeout has passed', async () => {
    const entity = await llmEntity(tenant(3));
    const orphan = await db.admin.executionRun.create({
      data: {
        companyId: tenant(3),
        entityId: entity.id,
        status: 'RUNNING',
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
      },
    });
    // What a worker does before a call, then dies: a reservation that expires at once.
    const reserved = await db.admin.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT set_config('app.company_ids', ${`{${tenant(3)}}`}, true)`;
      const rows = await tx.$queryRaw<{ blocker: string | null }[]>`
        SELECT budget_reserve(${orphan.id}::uuid, 'action', 0.5, 1000, 0) AS blocker`;
      return rows[0];
    });
    expect(reserved.blocker).toBeNull();
    const held = await db.admin.companySpend.findMany({ where: { companyId: tenant(3) } });
    expect(held[0].reservedUsd.toFixed(2)).toBe('0.50');
    const report = await worker.get(Reconciler, { strict: false }).reconcile(3_600_000);
    expect(report.reservationsReleased).toBe(1);
    expect(await db.admin.budgetReservation.count()).toBe(0);
    const counters = await db.admin.companySpend.findMany({
      where: { companyId: { in: [tenant(3), world.partners[1].company.id, world.app.id] } },
    });
    for (const counter of counters) expect(counter.reservedUsd.toFixed(10)).toBe('0.0000000000');
    expect(
      (await db.admin.executionRun.findUniqueOrThrow({ where: { id: orphan.id } })).reservedUsd.toFixed(2),
    ).toBe('0.00');
    await db.admin.executionRun.update({ where: { id: orphan.id }, data: { status: 'CANCELLED' } });
  });

  it('refuses a key copied to another company’s row, and rotation keeps every key readable', async () => {
    const source = await db.admin.integrationRegistry.findFirstOrThrow({ where: { companyId: tenant(1) } });
    const copy = await api('POST', '/integrations', h.t2, {
      providerName: 'anthropic',
      modelName: MODEL,
      serviceSku: `anthropic/${MODEL}:input`,
      componentType: 'llm',
      internalCost: '3',
      costUnit: '1M_tokens',
      apiKey: 'sk-soon-overwritten',
    });
    expect(copy.statusCode).toBe(201);
    await db.admin.integrationRegistry.update({
      where: { id: copy.json().id },
      data: { encryptedApiKey: source.encryptedApiKey },
    });
    const before = platform.requests.length + byok.requests.length;
    const stolen = await run((await llmEntity(tenant(2))).id, h.t2);
    expect(stolen).toMatchObject({ status: 'FAILED', errorCode: 'CREDENTIALS_UNREADABLE' });
    expect(platform.requests.length + byok.requests.length).toBe(before);
    expect((await api('DELETE', `/integrations/${copy.json().id}`, h.t2)).statusCode).toBe(204);

    // Rotate to a new master key, then run with only the new key configured.
    const next = `test2:${Buffer.alloc(32, 9).toString('base64')}`;
    const report = await rotateKeys(
      db.admin,
      new Envelope(parseMasterKeys(`${next},${TEST_ENCRYPTION_KEYS}`)),
    );
    expect(report).toEqual({ rewrapped: 3, current: 0, unreadable: [] });
    expect(await db.admin.integrationRegistry.count({ where: { apiKeyId: 'test1' } })).toBe(0);
    await worker.close();
    worker = await startWorker(db, { ...overrides, ENCRYPTION_KEYS: next });
    expect((await run((await llmEntity(tenant(1))).id, h.t1)).status).toBe('COMPLETED');
    expect(
      String(byok.requests.at(-1)!.headers.authorization ?? byok.requests.at(-1)!.headers['x-api-key']),
    ).toContain(TENANT_KEY);
  });

  it('reports usage by company with the partner → tenant roll-up, by SKU, entity and day, and as CSV', async () => {
    const summary = async (headers: object, query: string) => {
      const response = await api('GET', `/usage/summary?${query}`, headers);
      expect(response.statusCode).toBe(200);
      return response.json<{
        totalCostUsd: string;
        rows: { key: string; label: string; costUsd: string }[];
      }>();
    };
    const p0 = world.partners[0].company;
    const platformView = await summary(h.app, 'groupBy=company');
    const partnerView = await summary(h.p0, 'groupBy=company');
    const partnerRow = platformView.rows.find((r) => r.key === p0.id)!;
    expect(partnerRow.label).toBe(p0.name);
    const tenants = partnerView.rows.reduce((sum, r) => sum.add(r.costUsd), new Prisma.Decimal(0));
    expect(partnerRow.costUsd).toBe(tenants.toFixed(10));
    expect(partnerView.rows.map((r) => r.key).sort()).toEqual([tenant(1), tenant(2)].sort());
    const ledgerTotal = await usageSum({});
    expect(platformView.totalCostUsd).toBe(ledgerTotal.toFixed(10));

    const bySku = await summary(h.app, 'groupBy=sku');
    expect(bySku.rows.map((r) => r.label)).toContain(`anthropic/${MODEL}:cache_write`);
    const byDay = await summary(h.t2, 'groupBy=day');
    expect(byDay.rows.map((r) => r.key)).toEqual([new Date().toISOString().slice(0, 10)]);
    expect(byDay.totalCostUsd).toBe((await usageSum({ companyId: tenant(2) })).toFixed(10));
    const byEntity = await summary(h.t2, 'groupBy=entity');
    expect(byEntity.totalCostUsd).toBe(byDay.totalCostUsd);
    const own = await summary(h.p0, 'groupBy=company&includeDescendants=false');
    expect(own.rows).toEqual([]);
    const empty = await summary(h.t2, 'from=2020-01-01&to=2020-02-01');
    expect(empty).toEqual({ totalCostUsd: '0.0000000000', rows: [] });

    expect((await api('GET', `/usage/summary?companyId=${tenant(1)}`, h.t3)).statusCode).toBe(404);
    expect((await api('GET', '/usage/summary', h.t1member)).statusCode).toBe(403);
    expect((await api('GET', '/usage/summary?from=2026-11-01T12:00:00Z', h.t2)).statusCode).toBe(400);
    expect((await api('GET', '/usage/summary?groupBy=planet', h.t2)).statusCode).toBe(400);

    const page = await api('GET', '/usage?limit=2', h.t2);
    expect(page.json().items).toHaveLength(2);
    expect(page.json().nextCursor).not.toBeNull();
    expect(page.json().items[0]).toMatchObject({
      companyId: tenant(2),
      calculatedCost: expect.stringMatching(/^\d+\.\d{10}$/),
    });
    const csv = await api('GET', '/usage', { ...h.t2, accept: 'text/csv' });
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe(
      'id,timestamp,companyId,runId,entityId,skuId,serviceSku,rawQuantity,calculatedCost',
    );
    expect(lines).toHaveLength(1 + (await db.admin.usageLog.count({ where: { companyId: tenant(2) } })));
    const summaryCsv = await api('GET', '/usage/summary?groupBy=day', { ...h.t2, accept: 'text/csv' });
    expect(summaryCsv.body.trim().split('\n')).toEqual([
      'key,label,quantity,costUsd',
      expect.stringContaining(byDay.rows[0].key),
    ]);
  });
});
