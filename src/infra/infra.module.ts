import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggerModule } from './logging/logger.module';
import { MetricsModule } from './metrics/metrics';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';

/** Everything both processes need, domain-free. */
@Module({})
export class InfraModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: InfraModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule,
        DatabaseModule,
        RedisModule,
        QueueModule,
        HealthModule,
        MetricsModule,
      ],
      exports: [HealthModule],
    };
  }
}
