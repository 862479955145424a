import { Redis } from 'ioredis';
import { Client } from 'pg';
import { FakeAnthropic } from '../../tools/fake-anthropic';
import { createEntity } from '../factories/entities';
import { createCompany, createUser, PASSWORD } from '../factories/tenancy';

import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort, processEnv, spawnEntrypoint, waitForHttp, type Spawned } from '../support/processes';
import { flushTestRedis, testRedisUrl } from '../support/redis';

const CANARY = 'sk-ant-CANARY-7f3a9c2e51';
const CANARY_2 = 'sk-ant-CANARY-b81d04e6aa';

/**
 * An API key must never come back out: not in a response, a log line (at trace
 * level), a job, an event or any other row. The API and a worker run as real
 * processes so their whole output can be searched.
 */
describe('integration keys never leak', () => {
  let db: TestDatabase;
  const fake = new FakeAnthropic();
  const processes: Spawned[] = [];
  const bodies: string[] = [];
  let base = '';
  let fakeUrl = '';

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    fakeUrl = await fake.start();
    const apiPort = await freePort();
    const workerPort = await freePort();
    const env = processEnv(db, {
      LOG_LEVEL: 'trace',
      ANTHROPIC_BASE_URL: fakeUrl,
      EGRESS_ALLOW_PRIVATE_HOSTS: new URL(fakeUrl).host,
    });
    processes.push(spawnEntrypoint('main.api', { ...env, PORT: String(apiPort) }));
    processes.push(spawnEntrypoint('main.worker', { ...env, WORKER_HTTP_PORT: String(workerPort) }));
    base = `http://127.0.0.1:${apiPort}`;
    await waitForHttp(`${base}/health/ready`, 200, 40_000);
    await waitForHttp(`http://127.0.0.1:${workerPort}/health/ready`, 200, 40_000);
  }, 90_000);

  afterAll(async () => {
    for (const { child } of processes) child.kill('SIGKILL');
    await fake.stop();
    await db.drop();
  });

  const call = async (method: string, path: string, token?: string, body?: unknown, accept?: string) => {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(accept ? { accept } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    bodies.push(`${method} ${path} ${response.status} ${JSON.stringify([...response.headers])} ${text}`);
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  it('keeps the key out of every response, log line, job, event and row', async () => {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    const admin = await createUser(db.admin, { companyId: platform.id, role: 'app_admin' });
    const member = await createUser(db.admin, { companyId: tenant.id, role: 'tenant_admin' });
    const token = async (email: string) =>
      (await call('POST', '/auth/login', undefined, { email, password: PASSWORD })).json()
        .accessToken as string;
    const adminToken = await token(admin.email);
    const tenantToken = await token(member.email);

    const row = {
      providerName: 'anthropic',
      modelName: 'claude-sonnet-5-5',
      serviceSku: 'anthropic/claude-sonnet-5-5:input',
      componentType: 'llm',
      internalCost: '3',
      costUnit: '1M_tokens',
    };
    // Refused bodies carrying a key: the problem detail must not echo it.
    expect((await call('POST', '/integrations', adminToken, { ...row, apiKey: `${CANARY} x` })).status).toBe(
      400,
    );
    expect(
      (await call('POST', '/integrations', adminToken, { ...row, apiKey: CANARY, bogus: 1 })).status,
    ).toBe(400);
    const created = await call('POST', '/integrations', adminToken, { ...row, apiKey: CANARY });
    expect(created.status).toBe(201);
    const id = created.json().id as string;
    await call('GET', '/integrations', adminToken);
    await call('GET', '/integrations', tenantToken);
    await call('GET', `/integrations/${id}`, tenantToken);
    await call('PATCH', `/integrations/${id}`, adminToken, { internalCost: 3.5 });
    expect(
      (await call('PATCH', `/integrations/${id}`, adminToken, { baseUrl: 'https://example.org' })).status,
    ).toBe(422);
    expect(
      (await call('PATCH', `/integrations/${id}`, adminToken, { apiKey: CANARY_2, baseUrl: fakeUrl })).status,
    ).toBe(200);

    // A run that uses the key, read back through every run route.
    await call('PATCH', `/integrations/${id}`, adminToken, { apiKey: CANARY, baseUrl: null });
    const entity = await createEntity(db.admin, {
      companyId: tenant.id,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: {
        model: { name: 'claude-sonnet-5-5', maxTokens: 32 },
        action: { kind: 'llm', prompt: 'hi' },
      },
    });
    const run = await call('POST', `/entities/${entity.id}/runs`, tenantToken, { input: {} });
    expect(run.status).toBe(202);
    const runId = run.json().id as string;
    const deadline = Date.now() + 20_000;
    while ((await call('GET', `/runs/${runId}`, tenantToken)).json().status !== 'COMPLETED') {
      if (Date.now() > deadline) throw new Error('the run did not complete');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(
      String(fake.requests.at(-1)!.headers.authorization ?? fake.requests.at(-1)!.headers['x-api-key']),
    ).toContain(CANARY);
    for (const path of [
      `/runs/${runId}/llm-logs`,
      `/runs/${runId}/tool-logs`,
      `/runs/${runId}/events`,
      '/usage',
      '/usage/summary',
    ])
      await call('GET', path, tenantToken);
    await call('GET', '/usage', tenantToken, undefined, 'text/csv');
    await call('GET', '/openapi.json');
    await call('DELETE', `/integrations/${id}`, adminToken);

    // Responses.
    for (const body of bodies) {
      expect(body).not.toContain(CANARY);
      expect(body).not.toContain(CANARY_2);
    }
    // Log output of both processes, at trace level.
    for (const { output } of processes) {
      expect(output().length).toBeGreaterThan(0);
      expect(output()).not.toContain(CANARY);
      expect(output()).not.toContain(CANARY_2);
    }
    // Every Redis value: jobs, events, rate-limit counters.
    const redis = new Redis(testRedisUrl());
    let dumped = '';
    for (const key of await redis.keys('*')) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'zset'
                ? await redis.zrange(key, '0', '-1')
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : null;
      dumped += `${key} ${JSON.stringify(value)}\n`;
    }
    await redis.quit();
    expect(dumped).toContain('run.execute');
    expect(dumped).not.toContain(CANARY);
    // Every row of every table, the encrypted key column included.
    const pg = new Client({ connectionString: db.adminUrl });
    await pg.connect();
    const tables = await pg.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`,
    );
    for (const { name } of tables.rows) {
      const hits = await pg.query<{ count: string }>(
        `SELECT count(*) FROM "${name}" t WHERE t::text LIKE $1 OR t::text LIKE $2`,
        [`%${CANARY}%`, `%${CANARY_2}%`],
      );
      expect(`${name}: ${hits.rows[0].count}`).toBe(`${name}: 0`);
    }
    await pg.end();
  }, 90_000);
});
