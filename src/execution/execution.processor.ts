import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { AppConfig } from '../infra/config/config';
import type { JobPayloads } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { configureWorker } from '../infra/queue/worker-options';
import { RunExecutor } from './engine/run-executor';

/** Consumes the execution queue: parse the payload, hand the run to the executor. */
@Processor(QueueName.Execution)
export class ExecutionProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly executor: RunExecutor,
    private readonly config: AppConfig,
  ) {
    super();
    configureWorker(ExecutionProcessor, QueueName.Execution, config, {
      lockDuration: config.env.EXECUTION_LOCK_DURATION_MS,
      stalledInterval: config.env.EXECUTION_STALLED_INTERVAL_MS,
    });
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.env.EXECUTION_CONCURRENCY;
  }

  async process(job: Job<JobPayloads['run.execute']>): Promise<void> {
    await this.executor.execute(job.data.runId, job.data.companyId);
  }
}
