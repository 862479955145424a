import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startApi } from '../support/app';
import { baseEnv } from '../support/env';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_REDIS_DB } from '../support/redis';

async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('readiness', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db.drop();
  });

  describe('with Redis behind a proxy the test controls', () => {
    const redis = new URL(baseEnv.redisUrl);
    const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    let app: NestFastifyApplication;
    const ready = () => app.inject({ method: 'GET', url: '/health/ready' });

    beforeAll(async () => {
      const port = await proxy.start();
      app = await startApi(db, { overrides: { REDIS_URL: `redis://127.0.0.1:${port}/${TEST_REDIS_DB}` } });
    });

    afterAll(async () => {
      await app.close();
      await proxy.stop();
    });

    it('is ready when Postgres and Redis answer', async () => {
      const response = await eventually(ready, (r) => r.statusCode === 200);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up' } });
    });

    it('flips to 503 naming Redis when Redis becomes unreachable, and back when it returns', async () => {
      await proxy.stop();
      const down = await eventually(ready, (r) => r.statusCode === 503);
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({ status: 'unavailable', checks: { postgres: 'up', redis: 'down' } });

      // Liveness is about the process, not its dependencies.
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

      await proxy.start();
      const up = await eventually(ready, (r) => r.statusCode === 200, 15_000);
      expect(up.statusCode).toBe(200);
    });
  });

  it('answers 503 naming Postgres when the database is unreachable', async () => {
    const unreachable = new URL(db.appUrl);
    unreachable.port = '1'; // nothing listens on port 1
    const app = await startApi(db, { overrides: { DATABASE_URL: unreachable.toString() } });
    try {
      const response = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ status: 'unavailable', checks: { postgres: 'down', redis: 'up' } });
    } finally {
      await app.close();
    }
  });
});
