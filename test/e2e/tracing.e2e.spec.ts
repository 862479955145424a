import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { FakeOtlpCollector, type CollectedSpan } from '../support/otlp-collector';
import { freePort, processEnv, spawnEntrypoint, waitForHttp, type Spawned } from '../support/processes';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login, PASSWORD } from '../factories/tenancy';

const SPAN_KIND = { SERVER: 2, PRODUCER: 4, CONSUMER: 5 } as const;

const newTraceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
};

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('trace context', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db.drop();
  });

  describe('with tracing off (no OTLP endpoint)', () => {
    let app: NestFastifyApplication;
    let headers: Record<string, string>;
    let entityId: string;

    beforeAll(async () => {
      app = await startApi(db);
      const world = await createWorld(db.admin);
      const tenant = world.partners[0].tenants[0];
      headers = bearer(await login(app, tenant.users.member.email));
      entityId = (
        await createEntity(db.admin, { companyId: tenant.company.id, type: 'ACTION', status: 'ACTIVE' })
      ).id;
    });

    afterAll(async () => {
      await app.close();
    });

    const post = (extra: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/entities/${entityId}/runs`,
        headers: { ...headers, ...extra },
        payload: { input: {} },
      });

    it("continues the request's traceparent: the run has its trace id and a span of its own", async () => {
      const parent = newTraceparent();
      const response = await post({ traceparent: parent.header });
      expect(response.statusCode).toBe(202);
      const run = response.json<{ traceId: string; spanId: string }>();
      expect(run.traceId).toBe(parent.traceId);
      expect(run.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(run.spanId).not.toBe(parent.spanId);
    });

    it('starts a new trace without a traceparent, or with a malformed one', async () => {
      const plain = (await post({})).json<{ traceId: string }>();
      const malformed = (await post({ traceparent: '00-nothex-0000-01' })).json<{ traceId: string }>();
      const zeros = (await post({ traceparent: `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01` })).json<{
        traceId: string;
      }>();
      for (const run of [plain, malformed, zeros]) {
        expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(run.traceId).not.toBe('0'.repeat(32));
      }
      expect(new Set([plain.traceId, malformed.traceId, zeros.traceId]).size).toBe(3);
    });
  });

  describe('with an OTLP endpoint (API and worker processes)', () => {
    const collector = new FakeOtlpCollector();
    const anthropic = new FakeAnthropic();
    const processes: Spawned[] = [];
    let apiUrl: string;

    beforeAll(async () => {
      const endpoint = await collector.start();
      const anthropicUrl = await anthropic.start();
      const env = processEnv(db, {
        ANTHROPIC_API_KEY: 'sk-test',
        ANTHROPIC_BASE_URL: anthropicUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      });
      const [apiPort, workerPort] = [await freePort(), await freePort()];
      processes.push(
        spawnEntrypoint('main.api', { ...env, PORT: String(apiPort), OTEL_SERVICE_NAME: 'hb-api' }),
        spawnEntrypoint('main.worker', {
          ...env,
          WORKER_HTTP_PORT: String(workerPort),
          OTEL_SERVICE_NAME: 'hb-worker',
        }),
      );
      apiUrl = `http://127.0.0.1:${apiPort}`;
      await waitForHttp(`${apiUrl}/health/ready`, 200, 40_000);
      await waitForHttp(`http://127.0.0.1:${workerPort}/health/ready`, 200, 40_000);
    }, 90_000);

    afterAll(async () => {
      for (const { child } of processes) child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
      await anthropic.stop();
      await collector.stop();
    });

    it('exports one connected trace: HTTP, run, queue producer and consumer, queries, model and tool calls', async () => {
      const world = await createWorld(db.admin);
      const tenant = world.partners[0].tenants[0];
      // A SKILL of a model step and a builtin tool step: two child runs.
      const skill = await db.admin.hierarchicalEntity.create({
        data: { companyId: tenant.company.id, type: 'SKILL', name: 'traced', status: 'ACTIVE' },
      });
      await db.admin.hierarchicalEntity.createMany({
        data: [
          {
            companyId: tenant.company.id,
            parentId: skill.id,
            type: 'ACTION',
            name: 'ask',
            status: 'ACTIVE',
            hierarchy: { alias: 'ask', order: 0 },
            capabilities: {
              model: { name: 'claude-sonnet-5-5', maxTokens: 32 },
              action: { kind: 'llm', prompt: 'hi' },
            },
          },
          {
            companyId: tenant.company.id,
            parentId: skill.id,
            type: 'ACTION',
            name: 'clock',
            status: 'ACTIVE',
            hierarchy: { alias: 'clock', order: 1 },
            capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
          },
        ],
      });
      anthropic.fallback = { text: 'hello' };

      const loggedIn = await fetch(`${apiUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: tenant.users.member.email, password: PASSWORD }),
      });
      const { accessToken } = (await loggedIn.json()) as { accessToken: string };
      const parent = newTraceparent();
      const created = await fetch(`${apiUrl}/api/v1/entities/${skill.id}/runs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          traceparent: parent.header,
        },
        body: JSON.stringify({ input: {} }),
      });
      expect(created.status).toBe(202);
      const run = (await created.json()) as { id: string; traceId: string; spanId: string };
      expect(run.traceId).toBe(parent.traceId);

      await until(async () => {
        const { status } = await db.admin.executionRun.findUniqueOrThrow({ where: { id: run.id } });
        return status === 'COMPLETED' ? status : undefined;
      }, 40_000);
      const children = await db.admin.executionRun.findMany({ where: { parentRunId: run.id } });
      expect(children).toHaveLength(2);
      for (const child of children) expect(child.traceId).toBe(parent.traceId);

      const inTrace = (): CollectedSpan[] => collector.spans.filter((s) => s.traceId === parent.traceId);
      const has = (test: (span: CollectedSpan) => boolean) => inTrace().some(test);
      // Queries through Prisma, or the batched statements sent around it (ScopedDb).
      const isQuery = (span: CollectedSpan) =>
        span.name.startsWith('prisma:') || span.name === 'pg.statement';
      // Spans arrive in batches, once a second per process; wait for all kinds, then
      // for the trace to be connected (every parent exported).
      const spans = await until(() => {
        const spans = inTrace();
        const ids = new Set([...spans.map((s) => s.spanId), parent.spanId]);
        const complete =
          has((s) => s.kind === SPAN_KIND.SERVER && s.name === 'POST /api/v1/entities/:id/runs') &&
          has((s) => s.spanId === run.spanId) &&
          children.every((child) => has((s) => s.spanId === child.spanId)) &&
          has((s) => s.kind === SPAN_KIND.PRODUCER && s.service === 'hb-api') &&
          has((s) => s.kind === SPAN_KIND.CONSUMER && s.service === 'hb-worker') &&
          has((s) => s.name === 'run.execute') &&
          has((s) => isQuery(s) && s.service === 'hb-api') &&
          has((s) => isQuery(s) && s.service === 'hb-worker') &&
          has((s) => s.scope === 'com.anthropic.sdk.typescript') &&
          has((s) => s.name === 'tool time.now') &&
          spans.every((s) => ids.has(s.parentSpanId));
        return complete ? spans : undefined;
      }, 20_000);

      // The request's span is the child of the caller's; the run's span hangs below it.
      const server = spans.find((s) => s.kind === SPAN_KIND.SERVER && s.name.startsWith('POST'))!;
      expect(server.parentSpanId).toBe(parent.spanId);
      expect(spans.find((s) => s.spanId === run.spanId)!.parentSpanId).toBe(server.spanId);
      // Each child run's span hangs below a run.execute of the parent run (created
      // inside its transaction, so a Prisma span may sit between them).
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const ancestors = (span: CollectedSpan): CollectedSpan[] => {
        const up = byId.get(span.parentSpanId);
        return up ? [up, ...ancestors(up)] : [];
      };
      for (const child of children) {
        const chain = ancestors(byId.get(child.spanId)!);
        expect(chain.some((s) => s.name === 'run.execute')).toBe(true);
        expect(chain.at(-1)).toBe(server);
      }
      // The model call was made inside the trace and told the provider so.
      const sdkSpan = spans.find((s) => s.scope === 'com.anthropic.sdk.typescript')!;
      expect(anthropic.requests.some((r) => String(r.headers.traceparent).includes(sdkSpan.spanId))).toBe(
        true,
      );
    }, 120_000);
  });
});
