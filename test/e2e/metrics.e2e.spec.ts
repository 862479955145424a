import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startHealthServer } from '../../src/infra/health/health-server';
import { HealthService } from '../../src/infra/health/health.service';
import { Metrics } from '../../src/infra/metrics/metrics';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/processes';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login } from '../factories/tenancy';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The value of one sample line, e.g. hb_runs_finished_total{status="COMPLETED",...}. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('metrics', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const anthropic = new FakeAnthropic();

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const overrides = {
      ANTHROPIC_API_KEY: 'sk-test',
      ANTHROPIC_BASE_URL: await anthropic.start(),
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await anthropic.stop();
    await db.drop();
  });

  it('moves the request, run, token and cost counters after runs, with bounded labels', async () => {
    const world = await createWorld(db.admin);
    await db.admin.integrationRegistry.create({
      data: {
        companyId: world.app.id,
        providerName: 'anthropic',
        modelName: 'claude-sonnet-5-5',
        serviceSku: 'anthropic/claude-sonnet-5-5:output',
        componentType: 'llm',
        internalCost: '15',
        costUnit: 'TOKENS_1M',
      },
    });
    const tenant = world.partners[0].tenants[0];
    const headers = bearer(await login(app, tenant.users.member.email));
    const workerMetrics = worker.get(Metrics, { strict: false });
    const before = await workerMetrics.scrape();
    const completedBefore = sample(before.body, 'hb_runs_finished_total', {
      status: 'COMPLETED',
      entity_type: 'ACTION',
    });

    const llm = await createEntity(db.admin, {
      companyId: tenant.company.id,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: {
        model: { name: 'claude-sonnet-5-5', maxTokens: 32 },
        action: { kind: 'llm', prompt: 'hi' },
      },
    });
    anthropic.reply({ text: 'hello', usage: { output_tokens: 40 } });
    for (const entityId of [llm.id]) {
      const created = await app.inject({
        method: 'POST',
        url: `/api/v1/entities/${entityId}/runs`,
        headers,
        payload: { input: {} },
      });
      expect(created.statusCode).toBe(202);
    }
    await waitForQueuesDrained(worker, 30_000);

    const after = (await workerMetrics.scrape()).body;
    expect(sample(after, 'hb_runs_finished_total', { status: 'COMPLETED', entity_type: 'ACTION' })).toBe(
      completedBefore + 1,
    );
    expect(
      sample(after, 'hb_llm_tokens_total', { sku: 'anthropic/claude-sonnet-5-5:output' }),
    ).toBeGreaterThanOrEqual(40);
    expect(
      sample(after, 'hb_usage_cost_usd_total', { sku: 'anthropic/claude-sonnet-5-5:output' }),
    ).toBeCloseTo(0.0006, 6);
    expect(after).toContain('hb_run_duration_seconds_bucket');
    expect(after).toMatch(/hb_queue_jobs\{queue="execution",state="waiting"\} \d+/);

    const api = await app.inject({ method: 'GET', url: '/metrics' });
    expect(api.statusCode).toBe(200);
    expect(api.headers['content-type']).toContain('text/plain');
    expect(
      sample(api.body, 'hb_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/entities/:id/runs',
        status: '202',
      }),
    ).toBeGreaterThanOrEqual(1);
    // No sample line carries an id: label values are bounded.
    for (const text of [api.body, after])
      for (const line of text.split('\n').filter((l) => l.startsWith('hb_'))) expect(line).not.toMatch(UUID);
  });

  it('serves a worker’s metrics on its own port', async () => {
    const port = await freePort();
    const server = await startHealthServer(
      worker.get(HealthService, { strict: false }),
      port,
      '127.0.0.1',
      worker.get(Metrics, { strict: false }),
    );
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('hb_runs_finished_total');
    } finally {
      server.close();
    }
  });
});
