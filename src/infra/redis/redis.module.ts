import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../config/config';

/** A general-purpose Redis connection (health checks, rate limits, pub/sub
 *  publishing). BullMQ opens its own connections from the same URL. */
export const REDIS = Symbol('REDIS');

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new Redis(config.env.REDIS_URL, {
          // Fail commands fast while Redis is down instead of queueing them forever,
          // so readiness can say so and requests do not hang.
          maxRetriesPerRequest: 1,
          commandTimeout: 2_000,
          // Commands issued in the same tick (event publishes of concurrent runs, rate
          // limit checks) share one socket write: writes are what cost on busy cores.
          enableAutoPipelining: true,
        }),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
