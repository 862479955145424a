import { Redis } from 'ioredis';
import { baseEnv, TEST_SLOT } from './env';

/** Tests use their own Redis database so a developer's queues (db 0) are untouched;
 *  each test slot has its own. */
export const TEST_REDIS_DB = 1 + TEST_SLOT;

export function testRedisUrl(): string {
  const url = new URL(baseEnv.redisUrl);
  url.pathname = `/${TEST_REDIS_DB}`;
  return url.toString();
}

/** Empties the test Redis database (queues, rate-limit counters) before a file runs. */
export async function flushTestRedis(): Promise<void> {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    redis.disconnect();
  }
}
