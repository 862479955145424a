import type { WorkerOptions } from 'bullmq';
import type { AppConfig } from '../config/config';
import type { QueueName } from './queue-names';

/** Where @nestjs/bullmq keeps a processor's worker options (its @Processor second argument). */
const WORKER_OPTIONS = 'bullmq:worker_metadata';

/**
 * Sets a processor's BullMQ worker options from config, in its constructor: the worker
 * is built after providers exist, from the class's metadata, and config is known only
 * then. A queue left out of WORKER_QUEUES gets a worker that never starts, so a
 * process can be given one role (e.g. ingestion only) and scaled apart.
 */
export function configureWorker(
  processor: object,
  queue: QueueName,
  config: AppConfig,
  options: Partial<WorkerOptions> = {},
): void {
  Reflect.defineMetadata(
    WORKER_OPTIONS,
    { ...options, autorun: config.env.WORKER_QUEUES.includes(queue) },
    processor,
  );
}
