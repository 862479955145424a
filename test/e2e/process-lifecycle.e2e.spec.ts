import { TEST_JWT_SECRET } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort, spawnEntrypoint, waitForHttp, type Spawned } from '../support/processes';
import { testRedisUrl } from '../support/redis';

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref()),
  ]);

describe('process lifecycle', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const started: Spawned[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.appUrl,
      DATABASE_ADMIN_URL: db.adminUrl,
      REDIS_URL: testRedisUrl(),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
    };
  });

  afterAll(async () => {
    for (const { child } of started) child.kill('SIGKILL');
    await db.drop();
  });

  const start = (...args: Parameters<typeof spawnEntrypoint>) => {
    const spawned = spawnEntrypoint(...args);
    started.push(spawned);
    return spawned;
  };

  describe.each(['main.api', 'main.worker'] as const)('%s', (entry) => {
    it('refuses to start without a required variable and names it', async () => {
      const { REDIS_URL: _omitted, ...rest } = env;
      const process = start(entry, rest);
      expect(await within(process.exited, 20_000)).toBe(1);
      expect(process.output()).toContain('REDIS_URL: is required but not set');
    });

    it('refuses a malformed variable and names it', async () => {
      const process = start(entry, { ...env, DATABASE_URL: 'mysql://root@localhost/hb', PORT: 'http' });
      expect(await within(process.exited, 20_000)).toBe(1);
      expect(process.output()).toMatch(/DATABASE_URL: .*postgresql:\/\//);
      expect(process.output()).toContain('PORT:');
    });

    it('stops cleanly within 10 s of SIGTERM', async () => {
      const port = await freePort();
      const portVar = entry === 'main.api' ? 'PORT' : 'WORKER_HTTP_PORT';
      const process = start(entry, { ...env, [portVar]: String(port) });
      await waitForHttp(`http://127.0.0.1:${port}/health/ready`, 200, 40_000);

      const signalled = Date.now();
      process.child.kill('SIGTERM');
      expect(await within(process.exited, 10_000)).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(process.output()).toContain('stopped cleanly');
    }, 60_000);
  });
});
