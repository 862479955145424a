import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Prisma } from '../../src/infra/database/generated/client';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';

describe('LLM and HTTP actions', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const anthropic = new FakeAnthropic();
  let target: Server;
  let targetHits = 0;
  let targetPort = 0;
  let tenantId: string;
  let headers: Record<string, string>;
  let overrides: Record<string, string>;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    target = createServer((request, response) => {
      targetHits++;
      if (request.url === '/nul') {
        // Postgres stores no NUL (U+0000) in text or jsonb; some services send them.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ text: 'a\u0000b', ['k\u0000']: 1 }));
        return;
      }
      if (request.url === '/redirect') {
        response.writeHead(302, { location: 'http://127.0.0.1:1/secret' });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, path: request.url, method: request.method }));
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as AddressInfo).port;
    overrides = {
      ANTHROPIC_API_KEY: 'sk-test-key',
      ANTHROPIC_BASE_URL: await anthropic.start(),
      LLM_MAX_RETRIES: '2',
      EGRESS_ALLOW_PRIVATE_HOSTS: `127.0.0.1:${targetPort}`,
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
    const platform = await createCompany(db.admin, { type: 'APP' });
    tenantId = (await createCompany(db.admin, { type: 'TENANT', parentId: platform.id })).id;
    headers = bearer(
      await login(app, (await createUser(db.admin, { companyId: tenantId, role: 'member' })).email),
    );
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await anthropic.stop();
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
    await db.drop();
  });

  const entity = (
    capabilities: Prisma.InputJsonValue,
    extra: {
      identity?: Prisma.InputJsonValue;
      observability?: Prisma.InputJsonValue;
      governance?: Prisma.InputJsonValue;
    } = {},
  ) =>
    createEntity(db.admin, { companyId: tenantId, type: 'ACTION', status: 'ACTIVE', capabilities }).then(
      (e) => db.admin.hierarchicalEntity.update({ where: { id: e.id }, data: extra }),
    );
  const run = async (entityId: string, input: unknown, w = worker) => {
    const created = await app.inject({
      method: 'POST',
      url: `/api/v1/entities/${entityId}/runs`,
      headers,
      payload: { input },
    });
    expect(created.statusCode).toBe(202);
    await waitForQueuesDrained(w, 30_000);
    return (await app.inject({ method: 'GET', url: `/api/v1/runs/${created.json().id}`, headers })).json();
  };
  const llmLogs = async (runId: string) =>
    (await app.inject({ method: 'GET', url: `/api/v1/runs/${runId}/llm-logs`, headers })).json().items;

  describe('LLM', () => {
    it('calls the Messages API through the real SDK and logs tokens, latency and the request id', async () => {
      anthropic.reply({
        text: 'Paris',
        usage: {
          input_tokens: 30,
          output_tokens: 2,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 50,
        },
      });
      const e = await entity(
        {
          model: { name: 'claude-sonnet-5-5', maxTokens: 64 },
          action: { kind: 'llm', prompt: 'Capital of {{input.country}}?' },
        },
        { identity: { instructions: 'You answer for {{context.team}} in one word.' } },
      );
      const before = anthropic.requests.length;
      const result = await run(e.id, { country: 'France' });
      expect(result).toMatchObject({ status: 'COMPLETED', resultData: 'Paris', totalTokens: 182 });
      const request = anthropic.requests[before];
      expect(String(request.headers['x-api-key'] ?? request.headers.authorization)).toContain('sk-test-key');
      expect(request.body).toMatchObject({
        model: 'claude-sonnet-5-5',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Capital of France?' }],
      });
      expect(request.body.system).toEqual([
        { type: 'text', text: 'You answer for  in one word.', cache_control: { type: 'ephemeral' } },
      ]);
      const [log] = await llmLogs(result.id);
      expect(log).toMatchObject({
        stepKey: 'action',
        modelName: 'claude-sonnet-5-5',
        inputTokens: 30,
        outputTokens: 2,
        cacheReadTokens: 100,
        cacheWriteTokens: 50,
        stopReason: 'end_turn',
      });
      expect(log.providerRequestId).toMatch(/^req_/);
      expect(log.promptPayload.messages[0].content).toBe('Capital of France?');
    });

    it('retries a 429 (the SDK’s backoff) and then succeeds, with one log row', async () => {
      anthropic.reply({ status: 429, retryAfterSeconds: 0 }, { text: 'after retry' });
      const e = await entity({ action: { kind: 'llm', prompt: 'hi' } });
      const before = anthropic.requests.length;
      const result = await run(e.id, {});
      expect(result).toMatchObject({ status: 'COMPLETED', resultData: 'after retry' });
      expect(anthropic.requests.length - before).toBe(2);
      expect(await llmLogs(result.id)).toHaveLength(1);
    });

    it('stores a model answer with NUL characters (as U+FFFD), calling and billing the model once', async () => {
      anthropic.reply({ text: 'a\u0000b', usage: { input_tokens: 7, output_tokens: 3 } });
      const e = await entity({ action: { kind: 'llm', prompt: 'hi' } });
      const before = anthropic.requests.length;
      const result = await run(e.id, {});
      expect(result).toMatchObject({ status: 'COMPLETED', resultData: 'a\ufffdb', totalTokens: 10 });
      expect(anthropic.requests.length - before).toBe(1);
      const logs = await llmLogs(result.id);
      expect(logs).toHaveLength(1);
      expect(logs[0].responsePayload.text).toBe('a\ufffdb');
    });

    it('fails fast on 401, without retries', async () => {
      anthropic.reply({ status: 401 });
      const e = await entity({ action: { kind: 'llm', prompt: 'hi' } });
      const before = anthropic.requests.length;
      const result = await run(e.id, {});
      expect(result).toMatchObject({ status: 'FAILED', errorCode: 'PROVIDER_AUTH' });
      expect(anthropic.requests.length - before).toBe(1);
    });

    it('honours observability: no prompts logged when logPrompts is false; redacted values blanked', async () => {
      anthropic.reply({ text: 'noted' }, { text: 'your ssn is 123-45-6789' });
      const quiet = await entity(
        { action: { kind: 'llm', prompt: 'secret {{input.x}}' } },
        { observability: { logPrompts: false } },
      );
      const quietRun = await run(quiet.id, { x: 'abc' });
      expect((await llmLogs(quietRun.id))[0].promptPayload).toBeNull();
      const redacting = await entity(
        { action: { kind: 'llm', prompt: 'ssn {{input.ssn}}' } },
        { observability: { redact: ['/input/ssn'] } },
      );
      const redactedRun = await run(redacting.id, { ssn: '123-45-6789' });
      const [log] = await llmLogs(redactedRun.id);
      expect(JSON.stringify(log)).not.toContain('123-45-6789');
      expect(log.promptPayload.messages[0].content).toBe('ssn [REDACTED]');
      expect(log.responsePayload.text).toBe('your ssn is [REDACTED]');
    });

    it('fails with NO_CREDENTIALS when no key is configured', async () => {
      const keyless = await startWorker(db, { ...overrides, ANTHROPIC_API_KEY: '' });
      await worker.close();
      try {
        const e = await entity({ action: { kind: 'llm', prompt: 'hi' } });
        expect(await run(e.id, {}, keyless)).toMatchObject({ status: 'FAILED', errorCode: 'NO_CREDENTIALS' });
      } finally {
        await keyless.close();
        worker = await startWorker(db, overrides);
      }
    });
  });

  describe('AGENT', () => {
    const agentWithAdder = async (maxIterations = 5) => {
      const agent = await db.admin.hierarchicalEntity.create({
        data: {
          companyId: tenantId,
          type: 'AGENT',
          name: `agent-${Math.random()}`,
          status: 'ACTIVE',
          identity: { instructions: 'Use your tools.' },
          planning: { strategy: 'react', maxIterations },
          capabilities: { model: { name: 'claude-sonnet-5-5', maxTokens: 256 } },
        },
      });
      await db.admin.hierarchicalEntity.create({
        data: {
          companyId: tenantId,
          parentId: agent.id,
          type: 'ACTION',
          name: `adder-${Math.random()}`,
          description: 'Adds two numbers',
          status: 'ACTIVE',
          hierarchy: { alias: 'add' },
          ioContract: {
            input: {
              type: 'object',
              properties: { a: { type: 'number' }, b: { type: 'number' } },
              required: ['a', 'b'],
            },
          },
          capabilities: {
            action: {
              kind: 'builtin',
              name: 'math.evaluate',
              args: { expression: 'a + b', scope: { a: '{{input.a}}', b: '{{input.b}}' } },
            },
          },
        },
      });
      return agent;
    };

    it('offers children as tools, runs each tool call as a child run, and feeds the result back', async () => {
      anthropic.reply(
        { text: 'I will add them.', toolUse: [{ name: 'add', input: { a: 2, b: 3 } }] },
        { text: 'The sum is 5.' },
      );
      const agent = await agentWithAdder();
      const before = anthropic.requests.length;
      const result = await run(agent.id, { question: 'What is 2 + 3?' });
      expect(result).toMatchObject({ status: 'COMPLETED', resultData: 'The sum is 5.' });

      const [first, second] = anthropic.requests.slice(before);
      expect(first.body.tools).toEqual([
        expect.objectContaining({
          name: 'add',
          description: 'Adds two numbers',
          input_schema: expect.objectContaining({ required: ['a', 'b'] }),
        }),
      ]);
      expect(second.body.messages.at(-1)).toEqual({
        role: 'user',
        content: [expect.objectContaining({ type: 'tool_result', content: '5', is_error: false })],
      });
      const children = await db.admin.executionRun.findMany({ where: { parentRunId: result.id } });
      expect(children).toHaveLength(1);
      expect(children[0]).toMatchObject({ status: 'COMPLETED', inputData: { a: 2, b: 3 }, resultData: 5 });
      expect(result.dynamicPlan).toEqual([
        expect.objectContaining({ tool: 'add', input: { a: 2, b: 3 }, reason: 'I will add them.' }),
      ]);
      expect(await llmLogs(result.id)).toHaveLength(2);
    });

    it('ends with MAX_ITERATIONS_EXCEEDED when the model keeps calling tools', async () => {
      anthropic.reply(
        { toolUse: [{ name: 'add', input: { a: 1, b: 1 } }] },
        { toolUse: [{ name: 'add', input: { a: 1, b: 2 } }] },
      );
      const agent = await agentWithAdder(2);
      const result = await run(agent.id, {});
      expect(result).toMatchObject({ status: 'FAILED', errorCode: 'MAX_ITERATIONS_EXCEEDED' });
      expect(await db.admin.executionRun.count({ where: { parentRunId: result.id } })).toBe(2);
    });

    it('fails when the model calls a tool the agent does not have', async () => {
      anthropic.reply({ toolUse: [{ name: 'rm_rf', input: {} }] });
      const agent = await agentWithAdder();
      expect(await run(agent.id, {})).toMatchObject({ status: 'FAILED', errorCode: 'UNKNOWN_TOOL' });
    });
  });

  describe('HTTP', () => {
    it('calls an allowed host and returns status and parsed body, logged as a tool call', async () => {
      const e = await entity({
        action: {
          kind: 'http',
          method: 'POST',
          url: `http://127.0.0.1:${targetPort}/hook/{{input.id}}`,
          body: { id: '{{input.id}}' },
        },
      });
      const result = await run(e.id, { id: 'abc' });
      expect(result).toMatchObject({
        status: 'COMPLETED',
        resultData: { status: 200, body: { ok: true, path: '/hook/abc', method: 'POST' } },
      });
      const logs = (
        await app.inject({ method: 'GET', url: `/api/v1/runs/${result.id}/tool-logs`, headers })
      ).json().items;
      expect(logs[0]).toMatchObject({ toolKind: 'http', status: 'success' });
    });

    it.each([
      'http://127.0.0.1:1/',
      'http://127.1:1/',
      'http://0x7f000001:1/',
      'http://[::1]:1/',
      'http://[::ffff:127.0.0.1]:1/',
      'http://169.254.169.254/latest/meta-data/',
      'file:///etc/passwd',
    ])('refuses %s and logs the refusal', async (url) => {
      const e = await entity({ action: { kind: 'http', method: 'GET', url } });
      const result = await run(e.id, {});
      expect(result).toMatchObject({ status: 'FAILED', errorCode: 'EGRESS_REFUSED' });
      const logs = (
        await app.inject({ method: 'GET', url: `/api/v1/runs/${result.id}/tool-logs`, headers })
      ).json().items;
      expect(logs[0]).toMatchObject({ toolKind: 'http', status: 'error' });
    });

    it('stores a response with NUL characters (as U+FFFD) and calls the host once', async () => {
      const e = await entity({
        action: { kind: 'http', method: 'GET', url: `http://127.0.0.1:${targetPort}/nul` },
      });
      const hits = targetHits;
      const result = await run(e.id, {});
      expect(result).toMatchObject({
        status: 'COMPLETED',
        resultData: { status: 200, body: { text: 'a\ufffdb', ['k\ufffd']: 1 } },
      });
      expect(targetHits - hits).toBe(1);
      const logs = (
        await app.inject({ method: 'GET', url: `/api/v1/runs/${result.id}/tool-logs`, headers })
      ).json().items;
      expect(logs).toHaveLength(1);
    });

    it('refuses a redirect from an allowed host into loopback', async () => {
      const e = await entity({
        action: { kind: 'http', method: 'GET', url: `http://127.0.0.1:${targetPort}/redirect` },
      });
      const hits = targetHits;
      const result = await run(e.id, {});
      expect(result).toMatchObject({ status: 'FAILED', errorCode: 'EGRESS_REFUSED' });
      expect(targetHits - hits).toBe(1);
    });
  });
});
