import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort, processEnv, spawnEntrypoint, waitForHttp, type Spawned } from '../support/processes';
import { flushTestRedis } from '../support/redis';
import { bearer, createWorld, login } from '../factories/tenancy';

/**
 * Chaos: two worker processes; the one running a multi-step run is killed with SIGKILL
 * while a model call is in flight. BullMQ's stalled check hands the job to the other
 * worker, which continues from what Postgres holds: every step ends with exactly one
 * interaction log row and one ledger row per token kind, and the run completes.
 */
describe('a worker killed mid-step', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const anthropic = new FakeAnthropic();
  const workers: Spawned[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const baseUrl = await anthropic.start();
    env = processEnv(db, {
      ANTHROPIC_API_KEY: 'sk-test',
      ANTHROPIC_BASE_URL: baseUrl,
      // A dead worker's job is taken over within a few seconds.
      EXECUTION_LOCK_DURATION_MS: '2000',
      EXECUTION_STALLED_INTERVAL_MS: '1000',
      LLM_MAX_RETRIES: '0',
    });
    app = await startApi(db, { overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' } });
  });

  afterAll(async () => {
    for (const { child } of workers) child.kill('SIGKILL');
    await app.close();
    await anthropic.stop();
    await db.drop();
  });

  const startWorkerProcess = async () => {
    const port = await freePort();
    const worker = spawnEntrypoint('main.worker', { ...env, WORKER_HTTP_PORT: String(port) });
    workers.push(worker);
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`, 200, 40_000);
    return worker;
  };

  it('completes the run on the other worker with one log row and one ledger row per step key', async () => {
    const world = await createWorld(db.admin);
    const tenant = world.partners[0].tenants[0].company.id;
    for (const [kind, cost] of [
      ['input', '3'],
      ['output', '15'],
    ])
      await db.admin.integrationRegistry.create({
        data: {
          companyId: world.app.id,
          providerName: 'anthropic',
          modelName: 'claude-sonnet-5-5',
          serviceSku: `anthropic/claude-sonnet-5-5:${kind}`,
          componentType: 'llm',
          internalCost: cost,
          costUnit: 'TOKENS_1M',
        },
      });
    // A SKILL of three LLM steps.
    const skill = await db.admin.hierarchicalEntity.create({
      data: { companyId: tenant, type: 'SKILL', name: 'three-steps', status: 'ACTIVE' },
    });
    for (const [order, alias] of ['one', 'two', 'three'].entries())
      await db.admin.hierarchicalEntity.create({
        data: {
          companyId: tenant,
          parentId: skill.id,
          type: 'ACTION',
          name: `step-${alias}`,
          status: 'ACTIVE',
          hierarchy: { alias, order },
          capabilities: {
            model: { name: 'claude-sonnet-5-5', maxTokens: 32 },
            action: { kind: 'llm', prompt: `step ${alias}` },
          },
        },
      });
    // The second step's first call hangs long enough to kill its worker during it.
    anthropic.reply({ text: 'first' }, { text: 'never delivered', delayMs: 600_000 });
    anthropic.fallback = { text: 'later' };

    const doomed = await startWorkerProcess();
    const headers = bearer(await login(app, world.partners[0].tenants[0].users.member.email));
    const created = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${skill.id}/runs`,
      headers,
      payload: { input: {} },
    });
    expect(created.statusCode).toBe(202);
    const runId = created.json().id as string;

    // Wait until the second step's call is in flight, then start the survivor and kill.
    const deadline = Date.now() + 30_000;
    while (anthropic.requests.length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(anthropic.requests.length).toBe(2);
    await startWorkerProcess();
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');

    const finish = Date.now() + 40_000;
    let status = '';
    while (Date.now() < finish) {
      status = (await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } })).status;
      if (status === 'COMPLETED' || status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('COMPLETED');

    const steps = await db.admin.executionRun.findMany({
      where: { parentRunId: runId },
      orderBy: { id: 'asc' },
    });
    expect(steps.map((s) => s.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    for (const step of steps) {
      const logs = await db.admin.llmInteractionLog.findMany({ where: { runId: step.id } });
      expect(logs.map((l) => l.stepKey)).toEqual(['action']);
      const usage = await db.admin.usageLog.findMany({ where: { runId: step.id } });
      expect(usage.map((u) => u.serviceSku).sort()).toEqual([
        'anthropic/claude-sonnet-5-5:input',
        'anthropic/claude-sonnet-5-5:output',
      ]);
    }
    // The killed call was made again by the survivor (4 calls for 3 steps), billed once.
    expect(anthropic.requests.length).toBe(4);
    const root = await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } });
    const ledger = await db.admin.usageLog.aggregate({
      where: { runId: { in: steps.map((s) => s.id) } },
      _sum: { calculatedCost: true },
    });
    expect(root.totalCostUsd.toFixed(10)).toBe(ledger._sum.calculatedCost!.toFixed(10));
    expect(await db.admin.budgetReservation.count()).toBe(0);
  }, 120_000);
});
