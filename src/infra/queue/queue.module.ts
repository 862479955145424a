import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Global, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { AppConfig } from '../config/config';
import { tracingEnabled } from '../tracing/tracing';
import { ALL_QUEUES } from './queue-names';

/**
 * BullMQ connection and every queue as a producer. Both entrypoints import this;
 * only the worker's modules declare processors, so the API never consumes.
 */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // BullMQ's blocking connections need unlimited retries (its own guidance).
        connection: { url: config.env.REDIS_URL, maxRetriesPerRequest: null },
        prefix: 'hb',
        // Producer and consumer spans, with the trace context carried in the job: a
        // run's job continues the trace of the request that queued it.
        telemetry: tracingEnabled() ? new BullMQOtel({ tracerName: 'hirebuddha.queue' }) : undefined,
      }),
    }),
    BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
  ],
  exports: [BullModule],
})
export class QueueModule implements OnModuleInit {
  private readonly logger = new Logger('Queue');

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    // Connection errors are retried by ioredis; log them once through the app's
    // logger instead of letting BullMQ print raw stack traces.
    for (const name of ALL_QUEUES) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      queue.on('error', (error) => this.logger.warn(`queue ${name}: ${error.message}`));
    }
  }
}
