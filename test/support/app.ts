import { Module, type DynamicModule, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiModule } from '../../src/app/api.module';
import { WorkerModule } from '../../src/app/worker.module';
import { configureHttpApp, createFastifyAdapter } from '../../src/app/http-app';
import { AppConfig, loadEnv } from '../../src/infra/config/config';
import type { Env } from '../../src/infra/config/env.schema';
import type { TestDatabase } from './database';
import { testRedisUrl } from './redis';

export const TEST_JWT_SECRET = 'test-only-jwt-secret-0123456789abcdef0123';
/** Test-only master key of secrets at rest (32 bytes). */
export const TEST_ENCRYPTION_KEYS = `test1:${Buffer.alloc(32, 7).toString('base64')}`;

/** The environment a test app boots with: the file's database clone, the test Redis. */
export function testConfig(
  db: Pick<TestDatabase, 'adminUrl' | 'appUrl'>,
  overrides: Partial<Record<keyof Env, string>> = {},
): AppConfig {
  return new AppConfig(
    loadEnv({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.appUrl,
      DATABASE_ADMIN_URL: db.adminUrl,
      REDIS_URL: testRedisUrl(),
      DATABASE_POOL_SIZE: '4',
      JWT_SECRET: TEST_JWT_SECRET,
      ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      ...overrides,
    }),
  );
}

export interface StartApiOptions {
  overrides?: Partial<Record<keyof Env, string>>;
  /** Extra controllers mounted beside the real ones (to exercise infrastructure). */
  controllers?: Type[];
}

/** Boots the real API module graph in-process; requests go through `app.inject`. */
export async function startApi(
  db: TestDatabase,
  options: StartApiOptions = {},
): Promise<NestFastifyApplication> {
  const config = testConfig(db, options.overrides);
  let root: DynamicModule = ApiModule.forRoot(config);
  if (options.controllers?.length) {
    @Module({})
    class TestRootModule {}
    root = { module: TestRootModule, imports: [root], controllers: options.controllers };
  }
  const app = await NestFactory.create<NestFastifyApplication>(root, createFastifyAdapter(config), {
    logger: false,
  });
  configureHttpApp(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** Boots the real worker module graph in-process: its BullMQ processors consume the
 *  queues of the test Redis database. */
export async function startWorker(
  db: TestDatabase,
  overrides: StartApiOptions['overrides'] = {},
): Promise<INestApplicationContext> {
  const worker = await NestFactory.createApplicationContext(WorkerModule.forRoot(testConfig(db, overrides)), {
    logger: false,
    // A module graph that cannot be built throws (with the reason) instead of exiting.
    abortOnError: false,
  });
  await worker.init();
  return worker;
}
